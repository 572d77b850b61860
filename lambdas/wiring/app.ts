/**
 * lambdas/wiring/ builds the adapters from the configuration: the only place that constructs AWS
 * SDK and Stripe clients, one module per function so that each deployed bundle imports only the
 * SDK clients its function uses (ingress.ts: SQS; status.ts: DynamoDB; this one: the API and
 * worker functions). SDK clients take their endpoint from the SDK's own `AWS_ENDPOINT_URL`
 * support (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), so the
 * same code reaches AWS, moto or LocalStack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoOrderStore } from '../adapters/dynamodb/order-store.js';
import { EventBridgePublisher } from '../adapters/eventbridge/publisher.js';
import { SchedulerTimers } from '../adapters/scheduler/timers.js';
import { DigestSecretComparer, SystemClock, UlidIds } from '../adapters/system.js';
import type { Deps } from '../app/index.js';
import { type ConfigNeed, loadConfig } from '../config.js';
import { measuredPublisher } from '../handlers/observability.js';
import type { Clock } from '../ports/index.js';
import { stripeKeys } from './keys.js';

/** The SDK clients of the API and worker functions; the sandbox passes its own (e.g. counted by the benchmarks). */
export interface AppSdkClients {
  dynamodb: DynamoDBClient;
  scheduler: SchedulerClient;
  eventbridge: EventBridgeClient;
}

export const appSdkClients = (): AppSdkClients => ({
  dynamodb: new DynamoDBClient({}),
  scheduler: new SchedulerClient({}),
  eventbridge: new EventBridgeClient({}),
});

export const APP_NEEDS: readonly ConfigNeed[] = ['store', 'timers', 'events', 'stripe'];

/** Everything the use cases need (API and worker functions). */
export async function appDeps(
  env?: Record<string, string | undefined>,
  clock: Clock = new SystemClock(),
  clients: AppSdkClients = appSdkClients(),
): Promise<Deps> {
  const config = loadConfig(APP_NEEDS, env);
  const keys = await stripeKeys(config);
  // Loaded here, not at the top, so the ingress bundle never evaluates stripe-node.
  const { StripeGateway, createStripeClient } = await import('../adapters/stripe/gateway.js');
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
    secrets: new DigestSecretComparer(),
    settings: {
      paymentApi: config.paymentApi,
      paymentExpirySeconds: config.paymentExpirySeconds,
      wechatAppId: config.wechatAppId,
    },
  };
}

/** CORS origins for the browser-safe route. */
export const corsOrigins = (env?: Record<string, string | undefined>): string[] => loadConfig([], env).corsOrigins;
