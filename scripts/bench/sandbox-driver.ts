/**
 * Drives a running sandbox (scripts/sandbox/start.ts) the way the storefront, the customer and
 * Stripe's test controls do: over its HTTP endpoints, plus a direct, uncounted read of the
 * order table to see an order's state without going through (and being counted as) the API.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { parseOrder } from '../../lambdas/adapters/dynamodb/order-store.js';
import { TABLE_SCHEMA } from '../../lambdas/adapters/dynamodb/schema.js';
import type { Sandbox } from '../sandbox/start.js';
import { progress, sleep } from './stats.js';

export type StripeApi = 'sources' | 'payment_intents';

/** An order as POST /orders answered it: its id, the customer's secret and its Stripe object. */
export interface CreatedOrder {
  id: string;
  clientSecret: string;
  api: StripeApi;
  /** The source (Sources) or the PaymentIntent (PaymentIntents) the order pays with. */
  paymentObjectId: string;
}

export interface SourceOrder extends CreatedOrder {
  api: 'sources';
  sourceId: string;
}

export interface IntentOrder extends CreatedOrder {
  api: 'payment_intents';
  paymentIntentId: string;
}

/** A WeChat Pay order (on PaymentIntents: the web client, a QR code), on the Stripe API given. */
export const orderBody = (stripeApi: StripeApi) =>
  ({ amount: 1099, currency: 'usd', paymentMethod: 'wechat', stripeApi }) as const;

interface CreateOrderAnswer {
  id: string;
  clientSecret: string;
  payment: { api: 'sources'; sourceId: string } | { api: 'payment_intents'; paymentIntentId: string };
}

export class SandboxDriver {
  /** Not instrumented: the bench's own reads are not the system's requests. */
  private readonly ddb: DynamoDBClient;

  constructor(readonly sandbox: Sandbox) {
    this.ddb = new DynamoDBClient({ endpoint: sandbox.awsEndpoint, region: process.env.AWS_REGION ?? 'us-east-1' });
  }

  /** 503 answers to POST /orders that were retried (with the same Idempotency-Key, as the API asks). */
  createRetries = 0;

  /**
   * POST /orders as a storefront does, naming the Stripe API explicitly (the deployment's
   * default is PaymentIntents), with an Idempotency-Key (Stripe's convention); retries a 503.
   */
  async createOrder(stripeApi: StripeApi): Promise<CreatedOrder> {
    const key = `bench-${randomUUID()}`;
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${this.sandbox.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': this.sandbox.apiKey, 'idempotency-key': key },
        body: JSON.stringify(orderBody(stripeApi)),
      });
      const body = (await res.json()) as CreateOrderAnswer;
      if (res.status === 201) {
        if (body.payment.api !== stripeApi) {
          throw new Error(`POST /orders asked for ${stripeApi}, got ${JSON.stringify(body.payment)}`);
        }
        const paymentObjectId = body.payment.api === 'sources' ? body.payment.sourceId : body.payment.paymentIntentId;
        return { id: body.id, clientSecret: body.clientSecret, api: body.payment.api, paymentObjectId };
      }
      if (res.status !== 503 || attempt >= 4) throw new Error(`POST /orders → ${res.status} ${JSON.stringify(body)}`);
      this.createRetries += 1;
      progress(`POST /orders answered 503 (a sandbox dependency was briefly unavailable); retrying with the same key`);
      await sleep(250 * attempt);
    }
  }

  /** An order on the legacy Sources API (`stripeApi: 'sources'`). */
  async createSourceOrder(): Promise<SourceOrder> {
    const o = await this.createOrder('sources');
    return { ...o, api: 'sources', sourceId: o.paymentObjectId };
  }

  /** An order on the PaymentIntents API (`stripeApi: 'payment_intents'`). */
  async createIntentOrder(): Promise<IntentOrder> {
    const o = await this.createOrder('payment_intents');
    return { ...o, api: 'payment_intents', paymentIntentId: o.paymentObjectId };
  }

  /** GET /orders/{id} with the API key; the status, or undefined when not 200. */
  async apiStatus(id: string): Promise<string | undefined> {
    const res = await fetch(`${this.sandbox.url}/orders/${id}`, { headers: { 'x-api-key': this.sandbox.apiKey } });
    const body = (await res.json()) as { status?: string };
    return res.status === 200 ? body.status : undefined;
  }

  /** The customer's browser: GET /orders/{id}/status?client_secret=… (no API key). */
  async customerStatus(o: CreatedOrder): Promise<string> {
    const res = await fetch(
      `${this.sandbox.url}/orders/${o.id}/status?client_secret=${encodeURIComponent(o.clientSecret)}`,
    );
    const body = (await res.json()) as { status?: string };
    if (res.status !== 200) throw new Error(`GET /orders/${o.id}/status → ${res.status}`);
    return body.status ?? '';
  }

  /** A Stripe simulator control, e.g. `POST /_sim/sources/src_…/authorize` or `/_sim/payment_intents/pi_…/fail`. */
  async sim(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.sandbox.simUrl}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const parsed = (await res.json()) as unknown;
    if (res.status !== 200) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(parsed)}`);
    return parsed;
  }

  /** The order as stored (read directly, uncounted). */
  async stored(id: string): Promise<{ status: string; history: { type: string }[] } | undefined> {
    const out = await this.ddb.send(
      new GetItemCommand({
        TableName: this.sandbox.resources.tableName,
        Key: { [TABLE_SCHEMA.partitionKey]: { S: id } },
        ConsistentRead: true,
      }),
    );
    return out.Item ? parseOrder(out.Item) : undefined;
  }

  /** Waits until every order satisfies `done` (read from the table every 250 ms). */
  async waitAll(
    ids: readonly string[],
    done: (o: { status: string; history: { type: string }[] }) => boolean,
    what: string,
    timeoutMs = 120_000,
  ): Promise<void> {
    const end = Date.now() + timeoutMs;
    const left = new Set(ids);
    while (left.size > 0) {
      for (const id of [...left]) {
        const o = await this.stored(id);
        if (o && done(o)) left.delete(id);
      }
      if (left.size === 0) return;
      if (Date.now() > end) throw new Error(`${left.size} of ${ids.length} orders never reached ${what}`);
      await sleep(250);
    }
  }

  /**
   * Waits until nothing moves: no webhook in flight, no handler request, no worker invocation
   * and no schedule fired for `quietMs` (longer than the poller's 1 s long poll and the 2 s
   * redelivery delay of a failed record).
   */
  async quiesce(handlerRequests: () => number, quietMs = 3000): Promise<void> {
    const { sim, events, schedules } = this.sandbox;
    const snapshot = () =>
      JSON.stringify([handlerRequests(), events.stats(), schedules.fired(), sim?.deliveries().length ?? 0]);
    for (;;) {
      await sim?.webhooksIdle();
      const before = snapshot();
      await sleep(quietMs);
      if (snapshot() === before) return;
    }
  }

  close(): void {
    this.ddb.destroy();
  }
}
