/**
 * Stripe API requests per lifecycle, counted two ways:
 * - sent: every HTTP request started towards the simulator's `/v1` from this process (the
 *   handlers' stripe-node client), seen on Node's `http.client.request.start` diagnostics
 *   channel; stripe-node's own retries and the calls an injected fault fails are included, as
 *   Stripe would receive (and answer) them all;
 * - received: the simulator's record (`StripeSim.requests()`), the requests that reached one of
 *   its routes: calls failed by an injected fault (which fails before the route) are not in it.
 * Both by endpoint, named as stripe-node names its methods (`payment_intents.create`,
 * `payment_intents.cancel`, `sources.retrieve`, `charges.create`…).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { ApiRequestRecord, StripeSim } from '../stripe-sim/index.js';

const CHANNEL = 'http.client.request.start';

/** `POST /v1/payment_intents/pi_123/cancel` → `payment_intents.cancel`. */
export function stripeEndpoint(method: string, path: string): string {
  const parts = (path.split('?')[0] ?? '').split('/').filter(Boolean);
  const [, resource = '?', id, action] = parts; // parts[0] = 'v1'
  if (action !== undefined) return `${resource}.${action}`;
  if (id !== undefined) return `${resource}.${method === 'GET' ? 'retrieve' : method === 'DELETE' ? 'del' : 'update'}`;
  return `${resource}.${method === 'GET' ? 'list' : 'create'}`;
}

const tally = (names: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const n of names.sort()) out[n] = (out[n] ?? 0) + 1;
  return out;
};

export interface StripeRequestsWindow {
  sent: Record<string, number>;
  received: Record<string, number>;
}

export class StripeRequestCounter {
  private readonly host: string;
  private readonly sent: string[] = [];
  private readonly listener = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    if (!request || String(request.getHeader('host') ?? '') !== this.host) return;
    if (!request.path.startsWith('/v1/')) return;
    this.sent.push(stripeEndpoint(request.method, request.path));
  };

  constructor(private readonly sim: StripeSim) {
    this.host = new URL(sim.url).host;
    subscribe(CHANNEL, this.listener);
  }

  /** Where a window starts: pass it to `since`. */
  mark(): { sent: number; lastReceived: string | undefined } {
    return { sent: this.sent.length, lastReceived: this.sim.requests().at(-1)?.requestId };
  }

  /** The requests sent and received since `mark`, by endpoint. */
  since(m: ReturnType<StripeRequestCounter['mark']>): StripeRequestsWindow {
    const all = this.sim.requests();
    let from = 0;
    if (m.lastReceived !== undefined) {
      const i = all.findIndex((r) => r.requestId === m.lastReceived);
      if (i < 0) throw new Error("the simulator's request record rolled over during a lifecycle");
      from = i + 1;
    }
    const received = all.slice(from).map((r: ApiRequestRecord) => stripeEndpoint(r.method, r.path));
    return { sent: tally(this.sent.slice(m.sent)), received: tally(received) };
  }

  close(): void {
    unsubscribe(CHANNEL, this.listener);
  }
}
