/**
 * Section 4: end to end in the sandbox, Stripe's `source.chargeable` webhook in → order `paid`.
 * 200 orders on the Sources API (`stripeApi: 'sources'`) are created first; then each source is
 * authorized through the simulator's control (`POST /_sim/sources/:id/authorize`) at a steady
 * pace, and each order is polled with `GET /orders/{id}` every 20 ms until it reads `paid`.
 *
 * Start: the simulator's record of the webhook delivery attempt (its real-time timestamp, taken
 * just before it POSTs the signed event to the sandbox's /webhooks/stripe). End: the first
 * poll that reads `paid` (the poll's answer time, so up to one poll interval + one request late).
 * Also reported: from the authorize call returning, and from the delivery to the worker's
 * `order.paid` PutEvents call returning (the event on the bus, seen through the SDK middleware).
 * Everything runs on this machine: moto for AWS, the simulator for Stripe, all handlers in one
 * Node process — absolute numbers are the sandbox's, not AWS's.
 */
import type { Sandbox } from '../sandbox/start.js';
import type { RequestCounter } from './request-counter.js';
import type { SandboxDriver } from './sandbox-driver.js';
import { mapLimit, progress, quantile, round, sleep } from './stats.js';

export const E2E_ORDERS = 200;
/**
 * One authorization every 300 ms (3.3 orders/s): below the sandbox's saturation on a 2-core
 * machine (moto, one Python process, is the bottleneck: at 150 ms queues build up and latency
 * grows without bound), so the figure is the pipeline's latency, not a queue's.
 */
export const E2E_PACE_MS = 300;
/** An order not paid this long after its authorization is counted as stuck (and left out of the percentiles). */
const PAID_TIMEOUT_MS = 60_000;
export const E2E_POLL_MS = 20;

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export interface E2eResult {
  orders: number;
  paceMs: number;
  pollMs: number;
  fromDeliveryToPaidPoll: Percentiles;
  fromAuthorizeToPaidPoll: Percentiles;
  fromDeliveryToPaidEvent: Percentiles;
  /** Orders not read as paid within PAID_TIMEOUT_MS of their authorization. */
  notPaid: { id: string; status: string | undefined }[];
  webhookAttempts: number;
  /** POST /orders retried after a 503. */
  createRetries: number;
  wallSeconds: number;
  method: string;
}

const pct = (v: number[]): Percentiles => ({
  n: v.length,
  p50: round(quantile(v, 0.5), 1),
  p95: round(quantile(v, 0.95), 1),
  max: round(Math.max(...v), 1),
});

export async function runE2eLatency(
  sandbox: Sandbox,
  driver: SandboxDriver,
  counter: RequestCounter,
  { orders: n = E2E_ORDERS, paceMs = E2E_PACE_MS }: { orders?: number; paceMs?: number } = {},
): Promise<E2eResult> {
  const sim = sandbox.sim;
  if (!sim) throw new Error('the end-to-end latency needs the Stripe simulator');
  counter.setBucket('e2e');
  const paidEventAt = new Map<string, number>();
  counter.onSuccess((service, command, input) => {
    if (service !== 'eventbridge' || command !== 'PutEvents') return;
    for (const e of (input.Entries ?? []) as { DetailType?: string; Detail?: string }[]) {
      if (e.DetailType !== 'order.paid' || !e.Detail) continue;
      const id = (JSON.parse(e.Detail) as { id?: string }).id;
      if (id && !paidEventAt.has(id)) paidEventAt.set(id, Date.now());
    }
  });

  progress(`4/4 end to end: creating ${n} orders…`);
  const retriesBefore = driver.createRetries;
  const orders = await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    4,
    () => driver.createSourceOrder(),
  );
  await driver.quiesce(() => counter.total(), 1500);

  progress(`4/4 end to end: authorizing one every ${paceMs} ms, polling each order every ${E2E_POLL_MS} ms…`);
  const started = performance.now();
  const deliveriesBefore = sim.deliveries().length;
  let done = 0;
  const observed = await Promise.all(
    orders.map(async (o, i) => {
      const wait = started + i * paceMs - performance.now();
      if (wait > 0) await sleep(wait);
      await driver.sim('POST', `/_sim/sources/${o.sourceId}/authorize`);
      const authorizedAt = Date.now();
      let status: string | undefined;
      for (;;) {
        status = await driver.apiStatus(o.id);
        if (status === 'paid') break;
        const waiting = status === 'pending' || status === 'chargeable' || status === 'charging';
        if (!waiting || Date.now() - authorizedAt > PAID_TIMEOUT_MS) return { order: o, authorizedAt, status };
        await sleep(E2E_POLL_MS);
      }
      const paidAt = Date.now();
      done += 1;
      if (done % 50 === 0) progress(`4/4 end to end: ${done}/${n} paid`);
      return { order: o, authorizedAt, paidAt, status };
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  await driver.quiesce(() => counter.total(), 1500);
  counter.setBucket('idle');

  // The first delivery attempt of each source's source.chargeable event.
  const sourceOfEvent = new Map(sim.events().map((e) => [e.id, (e.data.object as { id: string }).id]));
  const deliveredAt = new Map<string, number>();
  const attempts = sim.deliveries().slice(deliveriesBefore);
  for (const d of attempts) {
    if (d.type !== 'source.chargeable' || d.attempt !== 1) continue;
    const source = sourceOfEvent.get(d.eventId);
    if (source) deliveredAt.set(source, Date.parse(d.at));
  }
  const fromDelivery: number[] = [];
  const fromAuthorize: number[] = [];
  const toEvent: number[] = [];
  const notPaid: E2eResult['notPaid'] = [];
  for (const x of observed) {
    if (x.paidAt === undefined) {
      notPaid.push({ id: x.order.id, status: x.status });
      continue;
    }
    const at = deliveredAt.get(x.order.sourceId);
    if (at === undefined) throw new Error(`no source.chargeable delivery recorded for ${x.order.sourceId}`);
    fromDelivery.push(x.paidAt - at);
    fromAuthorize.push(x.paidAt - x.authorizedAt);
    const ev = paidEventAt.get(x.order.id);
    if (ev !== undefined) toEvent.push(ev - at);
  }
  return {
    orders: n,
    paceMs,
    pollMs: E2E_POLL_MS,
    fromDeliveryToPaidPoll: pct(fromDelivery),
    fromAuthorizeToPaidPoll: pct(fromAuthorize),
    fromDeliveryToPaidEvent: pct(toEvent),
    notPaid,
    webhookAttempts: attempts.length,
    createRetries: driver.createRetries - retriesBefore,
    wallSeconds: round(wallSeconds, 1),
    method:
      `${n} orders created first, then authorized via POST {simUrl}/_sim/sources/:id/authorize, one every ` +
      `${paceMs} ms; each polled with GET /orders/{id} every ${E2E_POLL_MS} ms. Start = the simulator's ` +
      'timestamp of the first delivery attempt of source.chargeable (taken just before it POSTs the signed ' +
      'webhook); end = the answer of the first poll reading `paid` (≤ one poll interval late). Also: end = ' +
      "the worker's order.paid PutEvents returning (seen by the SDK middleware).",
  };
}
