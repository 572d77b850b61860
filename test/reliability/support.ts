/**
 * Helpers of the reliability suite: I/O metering with crash injection on the real adapters
 * (AWS SDK client middleware, a Proxy around the Stripe gateway), SQS records as Lambda builds
 * them, queue depths, bounded parallelism, and the money invariants every test checks.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { parseOrder } from '../../lambdas/adapters/dynamodb/order-store.js';
import { TABLE_SCHEMA } from '../../lambdas/adapters/dynamodb/schema.js';
import { encodeWorkMessage } from '../../lambdas/adapters/messages.js';
import { type StripeEventLike, translateStripeEvent } from '../../lambdas/adapters/stripe/events.js';
import type { Order } from '../../lambdas/domain/index.js';
import type { PaymentGateway, WorkMessage } from '../../lambdas/ports/index.js';
import type { EventObj, StripeSim } from '../../scripts/stripe-sim/index.js';
import { sourceIdOf } from '../support/orders.js';
import { Crash } from '../support/world.js';

export { Crash };

/** One I/O call that completed (with an answer or an error). */
export interface IoCall {
  /** `dynamodb.PutItem`, `scheduler.CreateSchedule`, `stripe.charge`… */
  what: string;
  ok: boolean;
  /** For EventBridge PutEvents: the detail types sent. */
  detailTypes?: string[];
}

/**
 * Counts every I/O call made through the metered clients while `active`, and throws a Crash
 * right after the call whose 1-based number is in `crashPoints` completed (the call had its
 * effect, the process died before it could use the answer). Numbers count across deliveries,
 * so `[3, 5]` crashes after the third call, then after the second call of the redelivery.
 */
export class IoMeter {
  calls: IoCall[] = [];
  active = false;
  crashPoints: number[] = [];
  crashes = 0;

  reset(crashPoints: number[] = []): void {
    this.calls = [];
    this.crashPoints = crashPoints;
    this.crashes = 0;
  }

  /** Records a completed call; throws the Crash when it is a chosen one. */
  completed(call: IoCall): void {
    if (!this.active) return;
    this.calls.push(call);
    if (this.crashPoints.includes(this.calls.length)) {
      this.crashes += 1;
      throw new Crash(this.calls.length, call.what);
    }
  }
}

/** The part of an AWS SDK v3 client the meter needs (its middleware stack). */
interface WithMiddleware {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority?: 'high' | 'low' | 'normal' },
    ): void;
  };
}

/**
 * Meters an SDK client: outermost middleware (`initialize`), so one call is one logical request
 * whatever the SDK retried below it.
 */
export function meterAwsClient(client: unknown, service: string, meter: IoMeter): void {
  (client as WithMiddleware).middlewareStack.add(
    (next, context) => async (args) => {
      const what = `${service}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
      const entries = (args.input as { Entries?: { DetailType?: string }[] } | undefined)?.Entries;
      const detailTypes =
        service === 'eventbridge' && Array.isArray(entries) ? entries.map((e) => e.DetailType ?? '') : undefined;
      let out: unknown;
      try {
        out = await next(args);
      } catch (e) {
        meter.completed({ what, ok: false, ...(detailTypes ? { detailTypes } : {}) });
        throw e;
      }
      meter.completed({ what, ok: true, ...(detailTypes ? { detailTypes } : {}) });
      return out;
    },
    { step: 'initialize', name: `ioMeter-${service}`, priority: 'high' },
  );
}

/** The gateway, metered: every Stripe call counts once it resolved or rejected. */
export function meterGateway(gateway: PaymentGateway, meter: IoMeter): PaymentGateway {
  return new Proxy(gateway, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const what = `stripe.${String(prop)}`;
        let out: unknown;
        try {
          out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (e) {
          meter.completed({ what, ok: false });
          throw e;
        }
        meter.completed({ what, ok: true });
        return out;
      };
    },
  });
}

/**
 * An error named like DynamoDB's throttling answer, shaped like an SDK v3 service exception.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html#Programming.Errors.MessagesAndCodes
 */
export function throttlingError(): Error {
  const e = new Error('The level of configured provisioned throughput for the table was exceeded (injected).');
  e.name = 'ProvisionedThroughputExceededException';
  Object.assign(e, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return e;
}

/** The work message the ingress would enqueue for a Stripe event. */
export function workMessageOf(e: EventObj): WorkMessage {
  const t = translateStripeEvent(JSON.parse(JSON.stringify(e)) as StripeEventLike);
  if (t.kind !== 'event') throw new Error(`event ${e.id} was not translated: ${t.reason}`);
  return { groupId: t.event.orderId ?? t.event.sourceId ?? t.event.id, dedupId: t.event.id, event: t.event };
}

/** The Lambda SQS record of a message, as the event source mapping builds it (`receiveCount` from 1). */
export function sqsRecord(m: WorkMessage, queueArn: string, receiveCount = 1): SQSRecord {
  const messageId = randomUUID();
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: encodeWorkMessage(m),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: now,
      MessageGroupId: m.groupId,
      MessageDeduplicationId: m.dedupId,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** Messages in a queue: visible + in flight + delayed. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>) {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `check` returns something truthy; throws with `what` after `timeoutMs`. */
/** Stripe cancels chargeable sources at 23:45 CST (15:45 UTC), and an order's deadline is capped there. */
const DAILY_CUTOFF_UTC_SECONDS = 15 * 3600 + 45 * 60;
const DAY_SECONDS = 86_400;

/**
 * Moves the sandbox clock, if needed, so that the next `seconds` do not cross the daily 23:45 CST
 * cut-off: a test that authorizes a source and then advances the clock must not depend on the
 * time of day it runs at.
 */
export async function clearOfDailyCutoff(
  sandbox: { clock: { now(): Date }; advanceClock(seconds: number): Promise<Date> },
  seconds: number,
): Promise<void> {
  const secondOfDay = Math.floor(sandbox.clock.now().getTime() / 1000) % DAY_SECONDS;
  const untilCutoff = (DAILY_CUTOFF_UTC_SECONDS - secondOfDay + DAY_SECONDS) % DAY_SECONDS;
  if (untilCutoff <= seconds + 60) await sandbox.advanceClock(untilCutoff + 120);
}

export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    await sleep(everyMs);
  }
}

/** What Stripe holds about one source: its charges (by status) and the refunds of those charges. */
export function moneyOf(sim: StripeSim, sourceId: string) {
  const charges = sim.charges().filter((c) => c.source.id === sourceId);
  const ids = new Set(charges.map((c) => c.id));
  const refunds = sim.refunds().filter((r) => ids.has(r.charge));
  return {
    charges,
    succeeded: charges.filter((c) => c.status === 'succeeded'),
    refunds,
  };
}

/**
 * Money invariants of one order against Stripe; the list of violations (empty = fine):
 * - at most one charge per source (single-use), at most one succeeded;
 * - a succeeded charge ⇒ the order is paid with that charge, or refunded with a refund of it;
 * - paid ⇒ Stripe has that succeeded charge; refunded ⇒ Stripe has a refund of its charge;
 * - at most one refund per charge.
 */
export function moneyViolations(order: Pick<Order, 'id' | 'status' | 'chargeId' | 'payment'>, sim: StripeSim) {
  const { charges, succeeded, refunds } = moneyOf(sim, sourceIdOf(order));
  const v: string[] = [];
  const tag = `${order.id} (${order.status})`;
  if (charges.length > 1) v.push(`${tag}: ${charges.length} charges for one source`);
  if (succeeded.length > 1) v.push(`${tag}: ${succeeded.length} succeeded charges`);
  const ok = succeeded[0];
  if (ok) {
    const refunded = refunds.filter((r) => r.charge === ok.id);
    if (refunded.length > 1) v.push(`${tag}: ${refunded.length} refunds of ${ok.id}`);
    if (order.status === 'paid' && order.chargeId !== ok.id)
      v.push(`${tag}: paid with ${order.chargeId}, not ${ok.id}`);
    if (order.status === 'refunded' && refunded.length === 0) v.push(`${tag}: refunded but Stripe has no refund`);
    if (order.status !== 'paid' && order.status !== 'refunded' && refunded.length === 0)
      v.push(`${tag}: charge ${ok.id} succeeded and was never refunded`);
  } else if (order.status === 'paid') v.push(`${tag}: paid without a succeeded charge`);
  return v;
}

// ------------------------------------------------------------------ scripted orders over the sandbox

/** What the customer, the merchant and Stripe do with an order, and the state that implies. */
export type Script =
  | 'paid'
  | 'declined'
  | 'charge_declined'
  | 'expired'
  | 'deadline_missed'
  | 'merchant_canceled'
  /** The customer authorizes and the merchant cancels a moment later, racing the charge. */
  | 'cancel_race';

export const FINAL_STATUS: Record<Exclude<Script, 'cancel_race'>, string> = {
  paid: 'paid',
  declined: 'failed',
  charge_declined: 'failed',
  expired: 'canceled',
  deadline_missed: 'canceled',
  merchant_canceled: 'canceled',
};

export const ORDER_BODIES = [
  { amount: 1099, currency: 'usd', paymentMethod: 'wechat' },
  { amount: 5000, currency: 'cny', paymentMethod: 'alipay', returnUrl: 'https://shop.example/return' },
] as const;

export interface Scripted {
  id: string;
  sourceId: string;
  script: Script;
  /** cancel_race: what POST /orders/{id}/cancel answered. */
  cancelStatus?: number;
}

/**
 * The statuses an order may end in. A cancel that won the race (200) ends canceled, or refunded
 * when a charge in flight still succeeded; one that lost it (409: the order was paid) ends paid.
 */
export function allowedFinal(o: Scripted): string[] {
  if (o.script !== 'cancel_race') return [FINAL_STATUS[o.script]];
  return o.cancelStatus === 200 ? ['canceled', 'refunded'] : ['paid'];
}

/** The status of each order (strongly consistent reads, 100 keys a call). */
export async function statusesOf(
  dynamodb: DynamoDBClient,
  tableName: string,
  ids: readonly string[],
): Promise<Map<string, Pick<Order, 'id' | 'status' | 'chargeId' | 'payment'>>> {
  const out = new Map<string, Pick<Order, 'id' | 'status' | 'chargeId' | 'payment'>>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys: Record<string, AttributeValue>[] | undefined = ids
      .slice(i, i + 100)
      .map((id) => ({ [TABLE_SCHEMA.partitionKey]: { S: id } }));
    while (keys && keys.length > 0) {
      const r: BatchGetItemCommandOutput = await dynamodb.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of r.Responses?.[tableName] ?? []) {
        const o = parseOrder(item);
        out.set(o.id, o);
      }
      keys = r.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return out;
}

export const TERMINAL = new Set(['paid', 'failed', 'canceled', 'refunded']);

/** Counts of each value. */
export function histogram(values: Iterable<string>): Record<string, number> {
  const h: Record<string, number> = {};
  for (const v of values) h[v] = (h[v] ?? 0) + 1;
  return Object.fromEntries(Object.entries(h).sort(([a], [b]) => a.localeCompare(b)));
}

/** Deterministic shuffle (Fisher–Yates) with a given random source. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
