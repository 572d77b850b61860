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
import type { Order, PaymentApi } from '../../lambdas/domain/index.js';
import type { PaymentGateway, WorkMessage } from '../../lambdas/ports/index.js';
import type { EventObj, RefundObj, StripeSim } from '../../scripts/stripe-sim/index.js';
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

/** A charge as the money checks need it (a source's or a PaymentIntent's). */
interface ChargeView {
  id: string;
  status: string;
}

/**
 * Everything Stripe (the simulator) holds about payments, read once and indexed: the money
 * checks of a thousand orders read it once instead of copying the simulator's state per order.
 */
export class StripeMoney {
  private readonly sourceCharges = new Map<string, ChargeView[]>();
  private readonly intentCharges = new Map<string, ChargeView[]>();
  private readonly refundsByCharge = new Map<string, RefundObj[]>();
  private readonly sourceStatus = new Map<string, string>();
  private readonly intentStatus = new Map<string, string>();

  constructor(sim: StripeSim) {
    const push = <V>(m: Map<string, V[]>, k: string, v: V) => {
      const list = m.get(k);
      if (list) list.push(v);
      else m.set(k, [v]);
    };
    for (const c of sim.charges()) push(this.sourceCharges, c.source.id, { id: c.id, status: c.status });
    for (const c of sim.paymentIntentCharges())
      push(this.intentCharges, c.payment_intent, { id: c.id, status: c.status });
    for (const r of sim.refunds()) push(this.refundsByCharge, r.charge, r);
    for (const src of sim.sources()) this.sourceStatus.set(src.id, src.status);
    for (const pi of sim.paymentIntents()) this.intentStatus.set(pi.id, pi.status);
  }

  /** What Stripe holds about one order's payment object: its status, its charges (and the succeeded ones), their refunds. */
  of(order: Pick<Order, 'id' | 'payment'>) {
    const p = order.payment;
    const charges =
      (p.api === 'sources' ? this.sourceCharges.get(p.sourceId) : this.intentCharges.get(p.paymentIntentId)) ?? [];
    return {
      api: p.api,
      /** The source's or the PaymentIntent's status at Stripe. */
      objectStatus: p.api === 'sources' ? this.sourceStatus.get(p.sourceId) : this.intentStatus.get(p.paymentIntentId),
      charges,
      succeeded: charges.filter((c) => c.status === 'succeeded'),
      refunds: charges.flatMap((c) => this.refundsByCharge.get(c.id) ?? []),
    };
  }
}

const moneyFrom = (s: StripeSim | StripeMoney) => (s instanceof StripeMoney ? s : new StripeMoney(s));

/** What Stripe holds about one order's payment (its source or its PaymentIntent). */
export function moneyOf(sim: StripeSim | StripeMoney, order: Pick<Order, 'id' | 'payment'>) {
  return moneyFrom(sim).of(order);
}

/** PaymentIntent statuses in which someone could still pay it. */
const LIVE_INTENT = new Set([
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'requires_capture',
]);

/**
 * Money invariants of one order against Stripe; the list of violations (empty = fine):
 * - at most one charge per source (single-use), at most one succeeded charge per source or
 *   PaymentIntent: at most one successful payment kept per order;
 * - a succeeded charge ⇒ the order is paid with that charge, or Stripe has a refund of it;
 * - paid ⇒ Stripe has that succeeded charge; refunded ⇒ Stripe has a refund of its charge;
 * - at most one refund per charge;
 * - PaymentIntents: a paid order's PaymentIntent succeeded; an order that ended unpaid leaves no
 *   PaymentIntent anyone could still pay.
 * `sim` may be a StripeMoney read once for many orders.
 */
export function moneyViolations(
  order: Pick<Order, 'id' | 'status' | 'chargeId' | 'payment'>,
  sim: StripeSim | StripeMoney,
): string[] {
  const { charges, succeeded, refunds, objectStatus } = moneyOf(sim, order);
  const v: string[] = [];
  const tag = `${order.id} (${order.payment.api}, ${order.status})`;
  if (order.payment.api === 'sources' && charges.length > 1) v.push(`${tag}: ${charges.length} charges for one source`);
  if (succeeded.length > 1) v.push(`${tag}: ${succeeded.length} succeeded charges`);
  const ok = succeeded[0];
  if (ok) {
    const refunded = refunds.filter((r) => r.charge === ok.id);
    if (refunded.length > 1) v.push(`${tag}: ${refunded.length} refunds of ${ok.id}`);
    if (order.status === 'paid' && order.chargeId !== ok.id)
      v.push(`${tag}: paid with ${order.chargeId}, not ${ok.id}`);
    if (order.status === 'paid' && refunded.length > 0) v.push(`${tag}: paid but its charge ${ok.id} was refunded`);
    if (order.status === 'refunded' && refunded.length === 0) v.push(`${tag}: refunded but Stripe has no refund`);
    if (order.status !== 'paid' && order.status !== 'refunded' && refunded.length === 0)
      v.push(`${tag}: charge ${ok.id} succeeded and was never refunded`);
  } else if (order.status === 'paid') v.push(`${tag}: paid without a succeeded charge`);
  if (order.payment.api === 'payment_intents') {
    if (objectStatus === undefined) v.push(`${tag}: Stripe has no PaymentIntent ${order.payment.paymentIntentId}`);
    if (order.status === 'paid' && objectStatus !== 'succeeded')
      v.push(`${tag}: paid but its PaymentIntent is ${objectStatus}`);
    if (TERMINAL.has(order.status) && objectStatus !== undefined && LIVE_INTENT.has(objectStatus))
      v.push(`${tag}: its PaymentIntent is left ${objectStatus}`);
  }
  return v;
}

// ------------------------------------------------------------------ scripted orders over the sandbox

/**
 * What the customer, the merchant and Stripe do with an order, and the state that implies. On
 * PaymentIntents: `paid` the customer pays, `declined` the customer declines, `expired` nobody
 * pays (the -pending timer cancels the PaymentIntent), `charge_declined` the payment is
 * processing and then fails, `merchant_canceled`, and `cancel_race` (below). `deadline_missed`
 * exists on Sources only.
 */
export type Script =
  | 'paid'
  | 'declined'
  | 'charge_declined'
  | 'expired'
  | 'deadline_missed'
  | 'merchant_canceled'
  /**
   * Sources: the customer authorizes and the merchant cancels a moment later, racing the charge.
   * PaymentIntents: the customer pays and the merchant cancels at random moments, racing at Stripe.
   */
  | 'cancel_race'
  /**
   * PaymentIntents: the customer declines, then tries again and pays, racing the cancel the
   * failed order sends to Stripe: failed (the cancel got there first), refunded (the payment
   * arrived for a failed order), or paid (Stripe's success was processed before the decline).
   */
  | 'declined_then_paid';

export const FINAL_STATUS: Record<Exclude<Script, 'cancel_race' | 'declined_then_paid'>, string> = {
  paid: 'paid',
  declined: 'failed',
  charge_declined: 'failed',
  expired: 'canceled',
  deadline_missed: 'canceled',
  merchant_canceled: 'canceled',
};

/** Order bodies per API: WeChat Pay (usd) and Alipay (cny), the API named explicitly. */
export const ORDER_BODIES_OF: Record<PaymentApi, readonly Record<string, unknown>[]> = {
  sources: [
    { amount: 1099, currency: 'usd', paymentMethod: 'wechat', stripeApi: 'sources' },
    {
      amount: 5000,
      currency: 'cny',
      paymentMethod: 'alipay',
      returnUrl: 'https://shop.example/return',
      stripeApi: 'sources',
    },
  ],
  payment_intents: [
    { amount: 1099, currency: 'usd', paymentMethod: 'wechat', stripeApi: 'payment_intents' },
    {
      amount: 5000,
      currency: 'cny',
      paymentMethod: 'alipay',
      returnUrl: 'https://shop.example/return',
      stripeApi: 'payment_intents',
    },
  ],
};

export interface Scripted {
  id: string;
  api: PaymentApi;
  /** The source id (Sources) or the PaymentIntent id (PaymentIntents). */
  paymentId: string;
  script: Script;
  /** cancel_race: what POST /orders/{id}/cancel answered. */
  cancelStatus?: number;
  /**
   * cancel_race and declined_then_paid on PaymentIntents: whether Stripe took the customer's
   * payment (false: our cancel got there first).
   */
  customerPaid?: boolean;
}

/** The scripted order from an API answer of POST /orders. */
export function scripted(body: unknown, script: Script): Scripted {
  const o = body as { id: string; payment: { api: PaymentApi; sourceId?: string; paymentIntentId?: string } };
  const paymentId = o.payment.api === 'sources' ? o.payment.sourceId : o.payment.paymentIntentId;
  if (!paymentId) throw new Error(`order ${o.id} has no payment object: ${JSON.stringify(o.payment)}`);
  return { id: o.id, api: o.payment.api, paymentId, script };
}

/**
 * The statuses an order may end in. A cancel that won the race (200) ends canceled — on Sources
 * or refunded when a charge in flight still succeeded; on PaymentIntents the PaymentIntent was
 * canceled first, so nobody could pay. One that lost it (409: the order was paid) ends paid.
 */
export function allowedFinal(o: Scripted): string[] {
  if (o.script === 'declined_then_paid') return o.customerPaid ? ['refunded', 'paid'] : ['failed'];
  if (o.script !== 'cancel_race') return [FINAL_STATUS[o.script]];
  if (o.cancelStatus !== 200) return ['paid'];
  return o.api === 'sources' ? ['canceled', 'refunded'] : ['canceled'];
}

/**
 * What the customer and the merchant do for a PaymentIntents order (`expired`: nothing), through
 * the simulator's controls and the storefront API. `cancel(id)` is the merchant's
 * POST /orders/{id}/cancel and answers its status. The race waits `raceDelaysMs` (customer,
 * merchant) before each acts.
 */
export async function actOnIntent(
  sim: StripeSim,
  o: Scripted,
  cancel: (orderId: string) => Promise<number>,
  raceDelaysMs: [number, number] = [0, 0],
): Promise<void> {
  const id = o.paymentId;
  switch (o.script) {
    case 'paid':
      sim.authorizePaymentIntent(id);
      return;
    case 'declined':
      sim.failPaymentIntent(id);
      return;
    case 'charge_declined':
      sim.authorizePaymentIntent(id, { processing: true });
      sim.failProcessingPaymentIntent(id);
      return;
    case 'merchant_canceled': {
      const status = await cancel(o.id);
      if (status !== 200) throw new Error(`cancel ${o.id} → ${status}`);
      return;
    }
    case 'cancel_race': {
      const customer = (async () => {
        await sleep(raceDelaysMs[0]);
        try {
          sim.authorizePaymentIntent(id);
          o.customerPaid = true;
        } catch (e) {
          // The merchant's cancel reached Stripe first: the PaymentIntent is canceled, nobody can pay it.
          if (!refusedAsCanceled(e)) throw e;
          o.customerPaid = false;
        }
      })();
      const merchant = (async () => {
        await sleep(raceDelaysMs[1]);
        const status = await cancel(o.id);
        if (status !== 200 && status !== 409) throw new Error(`cancel ${o.id} → ${status}`);
        o.cancelStatus = status;
      })();
      await Promise.all([customer, merchant]);
      return;
    }
    case 'declined_then_paid': {
      const type = sim.failPaymentIntent(id).allowed_payment_method_types?.[0] ?? 'wechat_pay';
      await sleep(raceDelaysMs[0]);
      // The customer tries again in the wallet (a client-side confirm), then pays.
      const retry = await customerConfirm(sim.url, id, type);
      if (retry.status !== 200) {
        if (!retry.body.includes('payment_intent_unexpected_state'))
          throw new Error(`confirm ${id} → ${retry.status} ${retry.body}`);
        o.customerPaid = false;
        return;
      }
      try {
        sim.authorizePaymentIntent(id);
        o.customerPaid = true;
      } catch (e) {
        if (!refusedAsCanceled(e)) throw e;
        o.customerPaid = false;
      }
      return;
    }
    case 'expired':
    case 'deadline_missed':
      return;
  }
}

/** The simulator's control refused the customer's payment because the PaymentIntent is canceled (409). */
const refusedAsCanceled = (e: unknown): boolean =>
  (e as { status?: unknown }).status === 409 && /is canceled/.test((e as Error).message);

/**
 * The customer's client confirms a PaymentIntent again (as Stripe.js does, with an idempotency
 * key), retrying what Stripe or the network failed (the fault runs inject 500, 429, hangs and
 * lost answers on every call).
 */
async function customerConfirm(simUrl: string, id: string, type: string): Promise<{ status: number; body: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${simUrl}/v1/payment_intents/${id}/confirm`, {
        method: 'POST',
        headers: {
          Authorization: 'Bearer sk_test_customer',
          'Content-Type': 'application/x-www-form-urlencoded',
          'Idempotency-Key': `customer-confirm-${id}`,
        },
        body: `payment_method_data[type]=${type}${type === 'wechat_pay' ? '&payment_method_options[wechat_pay][client]=web' : ''}`,
      });
      const body = await res.text();
      if ((res.status < 500 && res.status !== 429) || attempt >= 20) return { status: res.status, body };
    } catch (e) {
      if (attempt >= 20) throw e;
    }
    await sleep(50 * attempt);
  }
}

/** The race of a PaymentIntents order is consistent: the merchant got 200 exactly when the customer could not pay. */
export function raceConsistent(o: Scripted): boolean {
  return o.api !== 'payment_intents' || o.script !== 'cancel_race' || (o.cancelStatus === 200) === !o.customerPaid;
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
