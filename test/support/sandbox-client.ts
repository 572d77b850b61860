/** A scripted client of a running sandbox, over its documented HTTP endpoints only. */

/** `payment` of an order on the legacy Sources API. */
export interface SourcePaymentJson {
  api: 'sources';
  sourceId: string;
  qrCodeUrl?: string;
  redirectUrl?: string;
}

/** `payment` of an order on the PaymentIntents API. */
export interface IntentPaymentJson {
  api: 'payment_intents';
  paymentIntentId: string;
  client?: 'web' | 'ios' | 'android';
  qrCodeData?: string;
  qrCodeImageDataUrl?: string;
  hostedInstructionsUrl?: string;
  redirectUrl?: string;
  nativeUrl?: string;
  nativeData?: string;
}

/** An order as the API answers it; `payment` is a Sources payment unless said otherwise. */
export interface OrderJson<P = SourcePaymentJson> {
  id: string;
  status: string;
  amount: number;
  currency: string;
  clientSecret: string;
  payment: P;
  createdAt: string;
  pendingExpiresAt: string;
  deadline?: string;
  recheckAt?: string;
  chargeId?: string;
  failureReason?: string;
  failureCode?: string;
  cancelReason?: string;
  history: { type: string; to: string; ignored?: string }[];
}

export type IntentOrderJson = OrderJson<IntentPaymentJson>;

/** What the simulator's `/_sim/state` holds of a PaymentIntent, its charges and refunds. */
export interface SimIntentJson {
  id: string;
  status: string;
  amount: number;
  amount_received: number;
  currency: string;
  latest_charge: string | null;
  cancellation_reason: string | null;
  metadata: Record<string, string>;
}
export interface SimIntentChargeJson {
  id: string;
  payment_intent: string;
  status: string;
  amount: number;
  refunded: boolean;
  amount_refunded: number;
}
export interface SimRefundJson {
  id: string;
  charge: string;
  payment_intent: string | null;
  amount: number;
  status: string;
}

export class SandboxClient {
  constructor(
    readonly url: string,
    readonly simUrl: string,
    readonly apiKey: string,
  ) {}

  async api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        'x-api-key': this.apiKey,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null };
  }

  /** Creates an order as the body says (the sandbox's PAYMENT_API when it names no `stripeApi`). */
  async createOrder<P = SourcePaymentJson>(body: Record<string, unknown>): Promise<OrderJson<P>> {
    const r = await this.api('POST', '/orders', body);
    if (r.status !== 201) throw new Error(`POST /orders → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as OrderJson<P>;
  }

  /** An order on the legacy Sources API (`stripeApi: 'sources'`), whatever the sandbox's default. */
  async createSourceOrder(body: Record<string, unknown>): Promise<OrderJson> {
    const o = await this.createOrder<SourcePaymentJson>({ ...body, stripeApi: 'sources' });
    if (o.payment.api !== 'sources') throw new Error(`asked for sources, got ${JSON.stringify(o.payment)}`);
    return o;
  }

  /** An order on the PaymentIntents API (`stripeApi: 'payment_intents'`). */
  async createIntentOrder(body: Record<string, unknown>): Promise<IntentOrderJson> {
    const o = await this.createOrder<IntentPaymentJson>({ ...body, stripeApi: 'payment_intents' });
    if (o.payment.api !== 'payment_intents')
      throw new Error(`asked for payment_intents, got ${JSON.stringify(o.payment)}`);
    return o;
  }

  async order<P = SourcePaymentJson>(id: string): Promise<OrderJson<P>> {
    const r = await this.api('GET', `/orders/${id}`);
    if (r.status !== 200) throw new Error(`GET /orders/${id} → ${r.status}`);
    return r.body as OrderJson<P>;
  }

  async waitFor<P = SourcePaymentJson>(
    id: string,
    pred: (o: OrderJson<P>) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<OrderJson<P>> {
    const end = Date.now() + timeoutMs;
    let last: OrderJson<P> | undefined;
    while (Date.now() < end) {
      last = await this.order<P>(id);
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`order ${id} never reached ${what}; last: ${JSON.stringify(last)}`);
  }

  waitStatus<P = SourcePaymentJson>(id: string, status: string, timeoutMs?: number) {
    return this.waitFor<P>(id, (o) => o.status === status, status, timeoutMs);
  }

  async sim(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; body: unknown }> {
    const res = await fetch(`${this.simUrl}${path}`, {
      method,
      redirect: 'manual',
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // HTML pages
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  async simState(): Promise<{
    charges: { id: string; source: { id: string } | string; status: string }[];
    refunds: SimRefundJson[];
    payment_intents: SimIntentJson[];
    payment_intent_charges: SimIntentChargeJson[];
    events: { id: string; type: string; data: { object: { id?: string } } }[];
  }> {
    return (await this.sim('GET', '/_sim/state')).body as never;
  }

  /** A simulator control (`POST /_sim/…`) that must succeed; answers its JSON. */
  async simControl(path: string, body?: unknown): Promise<unknown> {
    const r = await this.sim('POST', path, body);
    if (r.status !== 200) throw new Error(`POST ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** The simulator's PaymentIntent, its charges and the refunds of them. */
  async intent(paymentIntentId: string): Promise<{
    intent: SimIntentJson | undefined;
    charges: SimIntentChargeJson[];
    refunds: SimRefundJson[];
  }> {
    const s = await this.simState();
    const charges = s.payment_intent_charges.filter((c) => c.payment_intent === paymentIntentId);
    const ids = new Set(charges.map((c) => c.id));
    return {
      intent: s.payment_intents.find((pi) => pi.id === paymentIntentId),
      charges,
      refunds: s.refunds.filter((r) => r.payment_intent === paymentIntentId || ids.has(r.charge)),
    };
  }

  async chargesOf(sourceId: string) {
    const s = await this.simState();
    return s.charges.filter((c) => (typeof c.source === 'string' ? c.source : c.source.id) === sourceId);
  }

  async advance(seconds: number) {
    const r = await fetch(`${this.url}/_local/clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seconds }),
    });
    if (r.status !== 200) throw new Error(`clock advance → ${r.status}`);
    return (await r.json()) as { now: string };
  }

  async schedules(): Promise<{ name: string; at: string; target: { arn: string } }[]> {
    return ((await (await fetch(`${this.url}/_local/schedules`)).json()) as { schedules: never[] }).schedules;
  }
}
