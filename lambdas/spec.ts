/**
 * Settings of the AWS resources: the one definition the Lambda code (lambdas/), the CDK stack
 * (lib/stack.ts) and the local sandbox (scripts/) read, so the sandbox creates exactly what the
 * stack deploys and the code uses what both create. Plain data: it imports nothing, so every
 * layer may read it and imports still run one way (lambdas/ never imports lib/).
 */
export const WORKER = {
  timeoutSeconds: 30,
  memoryMb: 512,
  /** Records per invocation. Small: one FIFO group's records are processed in order. */
  batchSize: 10,
} as const;

export const QUEUE = {
  fifo: true,
  /** On, because EventBridge Scheduler cannot set a deduplication id when it targets a FIFO queue. */
  contentBasedDeduplication: true,
  /** AWS: at least six times the function timeout for an SQS event source.
   * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html */
  visibilityTimeoutSeconds: 6 * WORKER.timeoutSeconds,
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  /** The maximum, 14 days: Stripe retries webhooks for 3 days, give operators time beyond that. */
  retentionSeconds: 14 * 24 * 3600,
} as const;

export const SCHEDULER = {
  /** Scheduler retries delivery to SQS, then sends the event to its DLQ.
   * https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-retry-policy.html */
  maximumRetryAttempts: 10,
  maximumEventAgeSeconds: 3600,
  timezone: 'UTC',
} as const;

export const API = {
  /** API Gateway REST payloads are limited to 10 MB; Stripe events are far smaller: refuse above 256 KB. */
  maxWebhookBytes: 256 * 1024,
  throttle: { rateLimit: 50, burstLimit: 100 },
  statusThrottle: { rateLimit: 20, burstLimit: 40 },
  /** The webhook endpoint's own stage; above it API Gateway answers 429 and Stripe retries later. */
  webhookThrottle: { rateLimit: 50, burstLimit: 100 },
  /** Path of the Stripe webhook route (on the webhook HTTP API). */
  webhookPath: '/webhooks/stripe',
} as const;

export const NAMES = {
  /** EventBridge `source` of order lifecycle events. */
  eventSource: 'orders.orchestrator',
} as const;

/**
 * The order table's keys and indexes (the adapter: lambdas/adapters/dynamodb/order-store.ts).
 */
export const TABLE_SCHEMA = {
  /** Order items: `pk` = order id. Idempotency items: `pk` = `idem#<Idempotency-Key>`. */
  partitionKey: 'pk',
  /**
   * Stripe source or PaymentIntent id → order, for webhooks without `metadata.order_id`. Keys
   * only: the worker re-reads the item. The attribute is named `sourceId` for both APIs because
   * renaming an index key replaces the index of every deployed table.
   */
  bySourceIndex: { name: 'bySourceId', partitionKey: 'sourceId', projection: 'KEYS_ONLY' },
  /**
   * Orders of one UTC day (`day` = yyyy-mm-dd) by creation time, for the operator view. No scans.
   * Keys only: its keys never change after creation, so an order's updates cost no index writes
   * (an ALL projection would copy every update of the item into the index).
   */
  recentIndex: { name: 'byDay', partitionKey: 'day', sortKey: 'createdAt', projection: 'KEYS_ONLY' },
} as const;
