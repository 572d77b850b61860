/**
 * Counts the AWS requests the handlers send, through the sandbox's `instrument` hook: a
 * middleware on each SDK client's stack (initialize step, so one count per command, not per
 * HTTP retry) tallies commands by service and name into the current "bucket" (one per
 * lifecycle), and for DynamoDB also the capacity consumed.
 *
 * DynamoDB capacity: the middleware sets `ReturnConsumedCapacity: 'TOTAL'` and records what the
 * endpoint says, but moto answers a constant (1.0, or 0.5) whatever the item size and without
 * index writes, so the figures used are computed from the item sizes with DynamoDB's published
 * rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations):
 * - write: 1 WRU per 1 KB of the larger of the old and the new item, rounded up (transactional:
 *   2 per KB); a failed condition still consumes 1 WRU per KB of the existing item (min 1);
 * - plus each global secondary index entry written, by the index's projection in TABLE_SCHEMA:
 *   KEYS_ONLY entries once, when the item is created (their keys never change); ALL on every put;
 *   1 WRU per KB of the index entry (the projected attributes + 100 bytes);
 * - read: GetItem 1 RRU per 4 KB strongly consistent (0.5 eventually), a missing item still 1
 *   (0.5); Query: the returned items' total size per 4 KB, 0.5 per 4 KB on a GSI (eventually
 *   consistent), at least one unit.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from '../../lambdas/adapters/dynamodb/schema.js';

export interface Tally {
  calls: number;
  errors: number;
  /** Entries in batch-style calls (PutEvents, SendMessageBatch, TransactWriteItems). */
  entries: number;
  /** Computed DynamoDB read / write request units. */
  rru: number;
  wru: number;
  /** What the endpoint reported in ConsumedCapacity (moto: constant per call). */
  reportedCapacity: number;
}

type Listener = (service: string, command: string, input: Record<string, unknown>, output: unknown) => void;

type Item = Record<string, AttributeValue>;

const READ_COMMANDS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITE_COMMANDS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);
const GSI_OVERHEAD_BYTES = 100;
const KB = 1024;
const READ_UNIT = 4 * KB;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** DynamoDB's number size: about one byte per two significant digits, plus one. */
function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((s, x) => s + utf8(x), 0);
  if (v.NS) return v.NS.reduce((s, x) => s + numberSize(x), 0);
  if (v.BS) return v.BS.reduce((s, x) => s + x.length, 0);
  if (v.L) return 3 + v.L.reduce((s, x) => s + valueSize(x) + 1, 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + utf8(k) + valueSize(x) + 1, 0);
  return 0;
}

export const itemSize = (item: Item): number =>
  Object.entries(item).reduce((s, [k, v]) => s + utf8(k) + valueSize(v), 0);

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));
const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / READ_UNIT)) * (consistent ? 1 : 0.5);

interface Known {
  size: number;
  sourceId: string | undefined;
}

export class RequestCounter {
  private bucket = 'setup';
  private readonly buckets = new Map<string, Map<string, Tally>>();
  /** Last known size and index keys of each item, for "the larger of old and new" and index writes. */
  private readonly items = new Map<string, Known>();
  private readonly listeners: Listener[] = [];

  setBucket(name: string): void {
    this.bucket = name;
  }

  /** Tallies of one bucket, by `service:Command`. */
  tallies(bucket: string): Record<string, Tally> {
    return Object.fromEntries(this.buckets.get(bucket) ?? []);
  }

  /** Commands sent so far, all buckets (to tell when the system is quiet). */
  total(): number {
    let n = 0;
    for (const b of this.buckets.values()) for (const t of b.values()) n += t.calls;
    return n;
  }

  /** Called after each successful command (e.g. to see `order.paid` reach the bus). */
  onSuccess(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** The sandbox's `instrument` hook. */
  readonly instrument = (client: { middlewareStack: unknown }, service: string): void => {
    const stack = client.middlewareStack as {
      add(
        mw: (
          next: (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
          context: { commandName?: string },
        ) => (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
        options: { step: 'initialize'; name: string; override?: boolean },
      ): void;
    };
    stack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const bucket = this.bucket;
        let input = args.input;
        if (service === 'dynamodb' && (READ_COMMANDS.has(command) || WRITE_COMMANDS.has(command))) {
          input = { ...input, ReturnConsumedCapacity: 'TOTAL' };
        }
        try {
          const out = await next({ ...args, input });
          this.record(bucket, service, command, input, out.output, undefined);
          for (const l of this.listeners) l(service, command, input, out.output);
          return out;
        } catch (e) {
          this.record(bucket, service, command, input, undefined, e);
          throw e;
        }
      },
      { step: 'initialize', name: 'benchRequestCounter', override: true },
    );
  };

  private tally(bucket: string, key: string): Tally {
    let b = this.buckets.get(bucket);
    if (!b) {
      b = new Map();
      this.buckets.set(bucket, b);
    }
    let t = b.get(key);
    if (!t) {
      t = { calls: 0, errors: 0, entries: 0, rru: 0, wru: 0, reportedCapacity: 0 };
      b.set(key, t);
    }
    return t;
  }

  private record(
    bucket: string,
    service: string,
    command: string,
    input: Record<string, unknown>,
    output: unknown,
    error: unknown,
  ): void {
    const t = this.tally(bucket, `${service}:${command}`);
    t.calls += 1;
    if (error !== undefined) t.errors += 1;
    const entries = (input.Entries ?? input.TransactItems) as unknown[] | undefined;
    t.entries += Array.isArray(entries) ? entries.length : 1;
    if (service !== 'dynamodb') return;
    const o = (output ?? {}) as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] };
    const reported = Array.isArray(o.ConsumedCapacity)
      ? o.ConsumedCapacity
      : o.ConsumedCapacity
        ? [o.ConsumedCapacity]
        : [];
    t.reportedCapacity += reported.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
    const units = this.capacity(command, input, output as Record<string, unknown> | undefined, error);
    t.rru += units.rru;
    t.wru += units.wru;
  }

  private capacity(
    command: string,
    input: Record<string, unknown>,
    output: Record<string, unknown> | undefined,
    error: unknown,
  ): { rru: number; wru: number } {
    const pkOf = (item: Item | undefined) => item?.[TABLE_SCHEMA.partitionKey]?.S;
    switch (command) {
      case 'GetItem': {
        if (error !== undefined) return { rru: 0, wru: 0 };
        const item = output?.Item as Item | undefined;
        const size = item ? itemSize(item) : 0;
        const pk = pkOf(input.Key as Item);
        if (item && pk) this.items.set(pk, { size, sourceId: item[TABLE_SCHEMA.bySourceIndex.partitionKey]?.S });
        return { rru: readUnits(size, input.ConsistentRead === true), wru: 0 };
      }
      case 'Query': {
        if (error !== undefined) return { rru: 0, wru: 0 };
        const items = (output?.Items ?? []) as Item[];
        const size = items.reduce((s, i) => s + itemSize(i), 0);
        const consistent = input.ConsistentRead === true && input.IndexName === undefined;
        return { rru: readUnits(size, consistent), wru: 0 };
      }
      case 'PutItem':
        return { rru: 0, wru: this.put(input.Item as Item, error, 1) };
      case 'TransactWriteItems': {
        let wru = 0;
        for (const op of (input.TransactItems ?? []) as { Put?: { Item: Item } }[]) {
          if (op.Put) wru += this.put(op.Put.Item, error, 2);
          else wru += 2;
        }
        return { rru: 0, wru };
      }
      default:
        return WRITE_COMMANDS.has(command) ? { rru: 0, wru: 1 } : { rru: 0, wru: 0 };
    }
  }

  /** WRU of one put: the table write (× `factor` in a transaction) and the index entries it writes. */
  private put(item: Item, error: unknown, factor: number): number {
    const pk = item[TABLE_SCHEMA.partitionKey]?.S ?? '';
    const old = this.items.get(pk);
    const size = itemSize(item);
    if (error !== undefined) {
      // A failed condition consumes the write of the existing item's size (at least one unit); no index write.
      return (error as { name?: string }).name === 'ConditionalCheckFailedException' ||
        (error as { name?: string }).name === 'TransactionCanceledException'
        ? writeUnits(old?.size ?? 0) * factor
        : 0;
    }
    let wru = writeUnits(Math.max(size, old?.size ?? 0)) * factor;
    // Index entries: a KEYS_ONLY index is written when its key appears or changes (its keys never
    // change after creation here); an ALL index on every put of the item.
    for (const index of [TABLE_SCHEMA.recentIndex, TABLE_SCHEMA.bySourceIndex] as const) {
      const key = item[index.partitionKey]?.S;
      if (key === undefined) continue;
      const keysOnly = index.projection === 'KEYS_ONLY';
      if (keysOnly && old !== undefined) continue;
      const sortKey = 'sortKey' in index ? (item[index.sortKey]?.S ?? '') : '';
      const entry = keysOnly ? utf8(pk) + utf8(key) + utf8(sortKey) + 3 * 16 : size;
      wru += writeUnits(entry + GSI_OVERHEAD_BYTES);
    }
    this.items.set(pk, { size, sourceId: item[TABLE_SCHEMA.bySourceIndex.partitionKey]?.S });
    return wru;
  }
}
