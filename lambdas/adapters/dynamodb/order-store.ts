/**
 * OrderStore on one DynamoDB table (keys and indexes: ./schema.ts).
 *
 * Order item:        pk = order id, sourceId (the source's or the PaymentIntent's id), status, version (N), createdAt, day (UTC yyyy-mm-dd
 *                    of createdAt), doc (B: the whole Order as gzip-compressed JSON; read it with
 *                    `base64 -d | gunzip`). Items written as plain JSON (doc: S) are still read.
 *
 * Why compressed: on-demand writes are billed per started 1 KB of item size, and a transaction
 * costs two units per KB; the order's JSON (history, outbox) passes 1 KB after its first event and
 * reaches 2–3 KB at the end, gzip keeps it near a third of that. Reads are billed per 4 KB.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * Idempotency item:  pk = `idem#<Idempotency-Key>`, orderId, request.
 *
 * Every write is conditional (optimistic concurrency): a create on the absence of the key, an
 * update on the version that was read. A failed condition is the port's ConflictError.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate
 * An order created with an idempotency key is written in one transaction with its key record,
 * each put conditional on absence: both are written or neither.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */

import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { type Order, paymentObjectId, type SourcePayment } from '../../domain/index.js';
import type { IdempotencyRecord, OrderStore } from '../../ports/index.js';
import { toAwsPortError } from '../aws-errors.js';
import { TABLE_SCHEMA } from './schema.js';

type Item = Record<string, AttributeValue>;

const IDEM_PREFIX = 'idem#';
/** How far back `listRecent` walks, in UTC days including today. */
const RECENT_DAYS = 7;
const DAY_MS = 86_400_000;

const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

export interface DynamoOrderStoreOptions {
  /** Today's date for `listRecent`; injectable for tests and the sandbox clock. */
  now?: () => Date;
}

export class DynamoOrderStore implements OrderStore {
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoOrderStoreOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async get(orderId: string, options: { consistent?: boolean } = {}): Promise<Order | undefined> {
    const item = await this.getItem(orderId, options.consistent ?? true);
    return item && parseOrder(item);
  }

  /**
   * By source or PaymentIntent id. The index is eventually consistent and keys only: find the pk
   * there, then read the item strongly. (Its attribute keeps the name `sourceId` for both APIs:
   * renaming an index key means replacing the index of a deployed table.)
   */
  async getByPaymentId(sourceId: string): Promise<Order | undefined> {
    const out = await this.send('Query bySourceId', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE_SCHEMA.bySourceIndex.name,
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': TABLE_SCHEMA.bySourceIndex.partitionKey },
          ExpressionAttributeValues: { ':s': { S: sourceId } },
          Limit: 1,
        }),
      ),
    );
    const pk = out.Items?.[0]?.[TABLE_SCHEMA.partitionKey]?.S;
    return pk === undefined ? undefined : this.get(pk);
  }

  async getByIdempotencyKey(key: string): Promise<IdempotencyRecord | undefined> {
    const item = await this.getItem(IDEM_PREFIX + key);
    if (!item) return undefined;
    return { key, orderId: item.orderId?.S ?? '', request: item.request?.S ?? '' };
  }

  async create(order: Order, idempotency?: IdempotencyRecord): Promise<void> {
    const absent = {
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': TABLE_SCHEMA.partitionKey },
    };
    if (!idempotency) {
      await this.send(`PutItem ${order.id}`, () =>
        this.client.send(new PutItemCommand({ TableName: this.tableName, Item: orderItem(order), ...absent })),
      );
      return;
    }
    const idemItem: Item = {
      [TABLE_SCHEMA.partitionKey]: { S: IDEM_PREFIX + idempotency.key },
      orderId: { S: idempotency.orderId },
      request: { S: idempotency.request },
    };
    await this.send(`TransactWriteItems ${order.id}`, () =>
      this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: orderItem(order), ...absent } },
            { Put: { TableName: this.tableName, Item: idemItem, ...absent } },
          ],
        }),
      ),
    );
  }

  /** A whole-item put, conditional on the stored version; a missing item fails the condition too. */
  async update(order: Order, expectedVersion: number): Promise<void> {
    await this.send(`PutItem ${order.id} v${expectedVersion}`, () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: orderItem(order),
          ConditionExpression: '#v = :expected',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
        }),
      ),
    );
  }

  /**
   * Newest first through the byDay index (keys only): today (UTC), then the days before, at most
   * RECENT_DAYS; then the items by BatchGetItem (up to 100 keys a call). No scan.
   */
  async listRecent(limit: number): Promise<Order[]> {
    const keys: string[] = [];
    if (!(limit > 0)) return [];
    const today = this.now().getTime();
    for (let d = 0; d < RECENT_DAYS && keys.length < limit; d++) {
      const day = utcDay(new Date(today - d * DAY_MS));
      let startKey: Item | undefined;
      do {
        const page = await this.send(`Query byDay ${day}`, () =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: TABLE_SCHEMA.recentIndex.name,
              KeyConditionExpression: '#d = :d',
              ExpressionAttributeNames: { '#d': TABLE_SCHEMA.recentIndex.partitionKey },
              ExpressionAttributeValues: { ':d': { S: day } },
              ScanIndexForward: false,
              Limit: limit - keys.length,
              ExclusiveStartKey: startKey,
            }),
          ),
        );
        for (const item of page.Items ?? []) {
          const pk = item[TABLE_SCHEMA.partitionKey]?.S;
          if (pk !== undefined && keys.length < limit) keys.push(pk);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey && keys.length < limit);
    }
    const byId = new Map<string, Order>();
    // BatchGetItem takes at most 100 keys and may return some unprocessed; ask again for those.
    // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Item[] | undefined = keys
        .slice(i, i + 100)
        .map((pk) => ({ [TABLE_SCHEMA.partitionKey]: { S: pk } }));
      for (let attempt = 0; pending && pending.length > 0 && attempt < 5; attempt++) {
        const request: Item[] = pending;
        const out = await this.send('BatchGetItem', () =>
          this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: request } } })),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const order = parseOrder(item);
          byId.set(order.id, order);
        }
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined;
      }
    }
    return keys.flatMap((k) => byId.get(k) ?? []);
  }

  private async getItem(pk: string, consistent = true): Promise<Item | undefined> {
    const out = await this.send(`GetItem ${pk}`, () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [TABLE_SCHEMA.partitionKey]: { S: pk } },
          ConsistentRead: consistent,
        }),
      ),
    );
    return out.Item;
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw toAwsPortError(e, `DynamoDB ${what} (${this.tableName})`);
    }
  }
}

function orderItem(order: Order): Item {
  const item: Item = {
    [TABLE_SCHEMA.partitionKey]: { S: order.id },
    status: { S: order.status },
    version: { N: String(order.version) },
    [TABLE_SCHEMA.recentIndex.sortKey]: { S: order.createdAt },
    [TABLE_SCHEMA.recentIndex.partitionKey]: { S: utcDay(new Date(order.createdAt)) },
    doc: { B: gzipSync(JSON.stringify(order)) },
  };
  // An index key attribute cannot be an empty string: leave it out, the order is just not indexed.
  const paymentId = paymentObjectId(order.payment);
  if (paymentId) item[TABLE_SCHEMA.bySourceIndex.partitionKey] = { S: paymentId };
  return item;
}

/** The Order of an order item, compressed (doc: B) or plain (doc: S). */
export function parseOrder(item: Item): Order {
  const doc = item.doc;
  const json = doc?.B ? gunzipSync(doc.B).toString('utf8') : doc?.S;
  if (json === undefined)
    throw new Error(`Order item ${item[TABLE_SCHEMA.partitionKey]?.S ?? '?'} has no doc attribute.`);
  const order = JSON.parse(json) as Order;
  // Orders written before the PaymentIntents path existed have no `payment.api`: all were Sources orders.
  const legacy = order.payment as Omit<SourcePayment, 'api'> & { api?: string };
  if (legacy.api === undefined) order.payment = { ...legacy, api: 'sources' };
  return order;
}
