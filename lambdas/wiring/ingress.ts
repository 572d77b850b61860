/**
 * The ingress function's dependencies: the queue and the signing secrets, no Stripe SDK, no
 * DynamoDB. A module of its own because esbuild keeps every import of an external package: the
 * deployed bundle (`@aws-sdk/*` external, taken from the Lambda runtime) would otherwise load
 * the clients of the other functions at every cold start.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { isLiveKey } from '../adapters/secrets/stripe-keys.js';
import { SqsWorkQueue } from '../adapters/sqs/work-queue.js';
import { SystemClock } from '../adapters/system.js';
import { loadConfig } from '../config.js';
import type { IngressDeps } from '../handlers/deps.js';
import type { Clock } from '../ports/index.js';
import { stripeKeys } from './keys.js';

export async function ingressDeps(
  env?: Record<string, string | undefined>,
  clock: Clock = new SystemClock(),
  sqs: SQSClient = new SQSClient({}),
): Promise<IngressDeps> {
  const config = loadConfig(['queue', 'stripe'], env);
  const keys = await stripeKeys(config);
  return {
    queue: new SqsWorkQueue(sqs, config.queueUrl),
    webhookSecrets: keys.webhookSecrets,
    livemode: isLiveKey(keys.secretKey),
    clock,
  };
}
