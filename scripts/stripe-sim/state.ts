/**
 * The simulator's state: the stores of every object, the clock, and event emission.
 *
 * Why one place: every resource module (resources/*.ts) reads and changes the same objects,
 * and every change Stripe would announce becomes an event here: stored for
 * `GET /v1/events/{id}`, and queued for signed delivery by the WebhookSender, ordered per
 * source or PaymentIntent (the `orderKey`). https://docs.stripe.com/api/events ·
 * https://docs.stripe.com/webhooks#event-ordering
 * The simulator never reads the wall clock for Stripe's own times: `clock` may be shared with
 * the sandbox and advanced (clock.ts).
 */

import { type AdvanceableClock, HOUR_MS, OffsetClock, realClock, type SimClock, unixSeconds } from './clock.js';
import {
  type AnyChargeObj,
  clone,
  type EventObj,
  type EventType,
  newId,
  type RefundObj,
  type SourceObj,
} from './objects.js';
import type { ApiRequestRecord, ChargeOutcome, FaultSettings, StripeSimOptions } from './options.js';
import type { PaymentIntentObj, PaymentMethodObj } from './payment-intent-objects.js';
import { type DeliveryRecord, seededRandom, WebhookSender } from './webhooks.js';

export interface SourceRec {
  obj: SourceObj;
  chargeableAtMs?: number;
  cancelAtMs?: number;
  outcome: ChargeOutcome;
  failureCode?: string;
}

export interface PaymentIntentRec {
  obj: PaymentIntentObj;
  /** When the current attempt started waiting for the customer (simulator clock, ms). */
  actionSinceMs?: number;
  /** `return_url` of the latest confirmation: where Alipay's page sends the customer back. */
  returnUrl: string | null;
}

/** What an event records of the API request that caused it (null for Stripe's own doings). */
export interface RequestInfo {
  requestId: string | null;
  idempotencyKey: string | null;
}

export const NO_REQUEST: RequestInfo = { requestId: null, idempotencyKey: null };

export interface StoredAnswer {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
  createdMs: number;
}

const DEFAULT_SECRET = 'whsec_local_sandbox';
/** Idempotency keys are kept 24 hours. https://docs.stripe.com/api/idempotent_requests */
export const IDEMPOTENCY_TTL_MS = 24 * HOUR_MS;
const MAX_REQUEST_RECORDS = 10_000;

export function defaultFaults(): FaultSettings {
  return { rate: 0, modes: ['500'], hangMs: 30_000 };
}

export class SimState {
  /** The server's own URL, once listening. */
  url = '';
  webhookUrl: string | undefined;
  readonly publicBaseUrl: string | undefined;
  readonly clock: SimClock & { advance?(seconds: number): void };
  readonly sender: WebhookSender;
  faults: FaultSettings = defaultFaults();

  readonly sources = new Map<string, SourceRec>();
  /** Charges of both APIs, in creation order. */
  readonly charges = new Map<string, AnyChargeObj>();
  readonly refunds = new Map<string, RefundObj>();
  readonly events = new Map<string, EventObj>();
  readonly paymentIntents = new Map<string, PaymentIntentRec>();
  readonly paymentMethods = new Map<string, PaymentMethodObj>();
  readonly idempotency = new Map<string, StoredAnswer>();
  deliveries: DeliveryRecord[] = [];
  requests: ApiRequestRecord[] = [];

  constructor(
    opts: StripeSimOptions,
    /** `api_version` of the events. */
    readonly apiVersion: string,
    readonly log: (line: string) => void,
  ) {
    this.clock = opts.clock ?? (new OffsetClock() as AdvanceableClock);
    this.webhookUrl = opts.webhookUrl || undefined;
    this.publicBaseUrl = opts.publicBaseUrl?.replace(/\/+$/, '');
    const chaos = opts.webhookChaos;
    this.sender = new WebhookSender({
      url: () => this.webhookUrl,
      secret: opts.webhookSecret ?? DEFAULT_SECRET,
      signatureClock: opts.signatureClock ?? realClock,
      retryBaseMs: opts.webhookRetryBaseMs ?? 500,
      maxAttempts: opts.webhookMaxAttempts ?? 8,
      timeoutMs: opts.webhookTimeoutMs ?? 10_000,
      strictOrder: opts.webhookStrictOrder ?? true,
      ...(opts.webhookConcurrency !== undefined ? { concurrency: opts.webhookConcurrency } : {}),
      ...(chaos
        ? {
            chaos: {
              maxCopies: chaos.maxCopies,
              maxDelayMs: chaos.maxDelayMs,
              random: chaos.seed !== undefined ? seededRandom(chaos.seed) : Math.random,
            },
          }
        : {}),
      onAttempt: (r) => {
        this.deliveries.push(r);
        this.log(`webhook ${r.type} ${r.eventId} attempt ${r.attempt} → ${r.status}${r.error ? ` (${r.error})` : ''}`);
      },
      onDelivered: (e) => {
        const stored = this.events.get(e.id);
        if (stored) stored.pending_webhooks = 0;
      },
      onGiveUp: (e) => this.log(`webhook ${e.type} ${e.id}: gave up`),
    });
  }

  /** Base URL of the customer-facing pages (authorize, QR images). */
  baseUrl(): string {
    return this.publicBaseUrl ?? this.url;
  }

  nowMs(): number {
    return this.clock.now().getTime();
  }

  nowSeconds(): number {
    return unixSeconds(this.clock.now());
  }

  /**
   * Records an event with a snapshot of `object` and queues its delivery behind the earlier
   * events of `orderKey` (a source id or a PaymentIntent id).
   */
  emit(
    type: EventType,
    object: EventObj['data']['object'],
    orderKey: string,
    info: RequestInfo | null = NO_REQUEST,
  ): EventObj {
    const delivering = this.webhookUrl !== undefined;
    const event: EventObj = {
      id: newId('evt'),
      object: 'event',
      api_version: this.apiVersion,
      created: this.nowSeconds(),
      data: { object: clone(object) },
      livemode: false,
      pending_webhooks: delivering ? 1 : 0,
      request: { id: info?.requestId ?? null, idempotency_key: info?.idempotencyKey ?? null },
      type,
    };
    this.events.set(event.id, event);
    if (delivering) this.sender.enqueue(clone(event), orderKey);
    return event;
  }

  recordRequest(r: ApiRequestRecord): void {
    this.requests.push(r);
    if (this.requests.length > MAX_REQUEST_RECORDS) this.requests.splice(0, this.requests.length - MAX_REQUEST_RECORDS);
  }

  /** Forgets idempotency keys older than 24 h. */
  sweepIdempotencyKeys(): void {
    const now = this.nowMs();
    for (const [k, v] of this.idempotency) if (now - v.createdMs > IDEMPOTENCY_TTL_MS) this.idempotency.delete(k);
  }

  reset(): void {
    this.sources.clear();
    this.charges.clear();
    this.refunds.clear();
    this.events.clear();
    this.paymentIntents.clear();
    this.paymentMethods.clear();
    this.idempotency.clear();
    this.deliveries = [];
    this.requests = [];
    this.faults = defaultFaults();
  }
}
