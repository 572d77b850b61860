/**
 * Builds the adapters from the configuration: the only place that constructs AWS SDK and
 * Stripe clients. SDK clients take their endpoint from the SDK's own `AWS_ENDPOINT_URL`
 * support (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), so the
 * same code reaches AWS, moto or LocalStack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoOrderStore } from './adapters/dynamodb/order-store.js';
import { EventBridgePublisher } from './adapters/eventbridge/publisher.js';
import { SchedulerTimers } from './adapters/scheduler/timers.js';
import { isLiveKey, loadStripeKeys } from './adapters/secrets/stripe-keys.js';
import { SqsWorkQueue } from './adapters/sqs/work-queue.js';
import { SystemClock, UlidIds } from './adapters/system.js';
import type { Deps } from './app/index.js';
import { type Config, type ConfigNeed, loadConfig } from './config.js';
import type { IngressDeps } from './handlers/deps.js';
import { measuredPublisher } from './handlers/observability.js';
import type { Clock } from './ports/index.js';

/** The SDK clients the adapters use; the sandbox passes its own (e.g. counted by the benchmarks). */
export interface AwsSdkClients {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  scheduler: SchedulerClient;
  eventbridge: EventBridgeClient;
}

export const awsSdkClients = (): AwsSdkClients => ({
  dynamodb: new DynamoDBClient({}),
  sqs: new SQSClient({}),
  scheduler: new SchedulerClient({}),
  eventbridge: new EventBridgeClient({}),
});

const stripeKeys = (config: Config) =>
  loadStripeKeys(config.stripeKeys, { extensionPort: config.secretsExtensionPort, sessionToken: config.sessionToken });

/** The ingress needs only the queue and the signing secrets: no Stripe SDK, no DynamoDB. */
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

/** The status function reads orders, nothing else. */
export async function statusDeps(
  env?: Record<string, string | undefined>,
  dynamodb: DynamoDBClient = new DynamoDBClient({}),
): Promise<{ store: DynamoOrderStore }> {
  const config = loadConfig(['store'], env);
  return { store: new DynamoOrderStore(dynamodb, config.tableName) };
}

export const APP_NEEDS: readonly ConfigNeed[] = ['store', 'timers', 'events', 'stripe'];

/** Everything the use cases need (API and worker functions). */
export async function appDeps(
  env?: Record<string, string | undefined>,
  clock: Clock = new SystemClock(),
  clients: Omit<AwsSdkClients, 'sqs'> = awsSdkClients(),
): Promise<Deps> {
  const config = loadConfig(APP_NEEDS, env);
  const keys = await stripeKeys(config);
  // Loaded here, not at the top, so the ingress bundle never evaluates stripe-node.
  const { StripeGateway, createStripeClient } = await import('./adapters/stripe/gateway.js');
  const stripe = createStripeClient({
    secretKey: keys.secretKey,
    timeoutMs: config.stripeTimeoutMs,
    maxNetworkRetries: config.stripeMaxNetworkRetries,
    endpoint: config.stripeEndpoint,
  });
  return {
    store: new DynamoOrderStore(clients.dynamodb, config.tableName, { now: () => clock.now() }),
    timers: new SchedulerTimers(clients.scheduler, {
      groupName: config.scheduleGroup,
      queueArn: config.queueArn,
      roleArn: config.schedulerRoleArn,
      dlqArn: config.schedulerDlqArn,
    }),
    gateway: new StripeGateway(stripe),
    publisher: measuredPublisher(new EventBridgePublisher(clients.eventbridge, config.eventBusName), () => clock.now()),
    clock,
    ids: new UlidIds(clock),
  };
}

/** CORS origins for the browser-safe route. */
export const corsOrigins = (env?: Record<string, string | undefined>): string[] => loadConfig([], env).corsOrigins;
