/** A scripted client of a running sandbox, over its documented HTTP endpoints only. */
export interface OrderJson {
  id: string;
  status: string;
  amount: number;
  currency: string;
  clientSecret: string;
  payment: { sourceId: string; qrCodeUrl?: string; redirectUrl?: string };
  deadline?: string;
  chargeId?: string;
  failureReason?: string;
  cancelReason?: string;
  history: { type: string; to: string; ignored?: string }[];
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

  async createOrder(body: Record<string, unknown>): Promise<OrderJson> {
    const r = await this.api('POST', '/orders', body);
    if (r.status !== 201) throw new Error(`POST /orders → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as OrderJson;
  }

  async order(id: string): Promise<OrderJson> {
    const r = await this.api('GET', `/orders/${id}`);
    if (r.status !== 200) throw new Error(`GET /orders/${id} → ${r.status}`);
    return r.body as OrderJson;
  }

  async waitFor(id: string, pred: (o: OrderJson) => boolean, what: string, timeoutMs = 20_000): Promise<OrderJson> {
    const end = Date.now() + timeoutMs;
    let last: OrderJson | undefined;
    while (Date.now() < end) {
      last = await this.order(id);
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`order ${id} never reached ${what}; last: ${JSON.stringify(last)}`);
  }

  waitStatus(id: string, status: string, timeoutMs?: number) {
    return this.waitFor(id, (o) => o.status === status, status, timeoutMs);
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
    refunds: { charge: string }[];
  }> {
    return (await this.sim('GET', '/_sim/state')).body as never;
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
