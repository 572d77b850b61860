/**
 * The order table's keys and indexes: the one definition the adapter, the CDK stack
 * (lib/) and the sandbox's table creation all read.
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
