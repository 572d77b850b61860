/**
 * Warm ingress throughput, in its own `node` process (pinned to one core by the caller):
 * `handleWebhook(deps, event)` from the ingress bundle, with the real signature verification and
 * a stub queue (`enqueue` resolves at once), over pre-built signed events with distinct ids.
 * Closed loop, one request at a time (the function serves one request per instance).
 *
 * Measured in `windows` consecutive windows of `measure ms` each (the caller takes the median
 * window's rate, robust to a neighbour's burst on a shared machine); latencies over all of them.
 *
 * argv: <ingress bundle.mjs> <warm-up ms> <measure ms> <distinct events> <windows>; result: JSON on fd 3.
 */
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BENCH_WEBHOOK_SECRET, signedWebhookRequest } from '../stripe-fixtures.js';

interface IngressModule {
  handleWebhook(
    deps: {
      queue: { enqueue(m: unknown): Promise<void> };
      webhookSecrets: string[];
      livemode: boolean;
      clock: { now(): Date };
    },
    event: APIGatewayProxyEvent,
  ): Promise<APIGatewayProxyResult>;
}

const [bundle, warmupArg, measureArg, distinctArg, windowsArg] = process.argv.slice(2);
if (!bundle) throw new Error('usage: warm-runner <bundle.mjs> <warm-up ms> <measure ms> <distinct events>');
const warmupMs = Number(warmupArg ?? 1000);
const measureMs = Number(measureArg ?? 3000);
const distinct = Number(distinctArg ?? 20_000);
const windowCount = Number(windowsArg ?? 3);

const { handleWebhook } = (await import(pathToFileURL(bundle).href)) as IngressModule;
let enqueued = 0;
const deps = {
  queue: {
    enqueue: async () => {
      enqueued += 1;
    },
  },
  webhookSecrets: [BENCH_WEBHOOK_SECRET],
  livemode: false,
  clock: { now: () => new Date() },
};
const events = Array.from({ length: distinct }, () => signedWebhookRequest());
const bodyBytes = Buffer.byteLength(events[0]?.body ?? '');

let i = 0;
async function one(): Promise<void> {
  const r = await handleWebhook(deps, events[i % distinct] as APIGatewayProxyEvent);
  i += 1;
  if (r.statusCode !== 200 || r.body.includes('ignored'))
    throw new Error(`unexpected answer ${r.statusCode} ${r.body}`);
}

const warmEnd = performance.now() + warmupMs;
while (performance.now() < warmEnd) await one();

const latenciesUs = new Float64Array(10_000_000);
let n = 0;
const enqueuedBefore = enqueued;
const windows: { requests: number; elapsedS: number; perSecond: number }[] = [];
for (let w = 0; w < windowCount; w++) {
  const first = n;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(measureMs * 1e6));
  let now = start;
  while (now < end && n < latenciesUs.length) {
    const t0 = now;
    await one();
    now = process.hrtime.bigint();
    latenciesUs[n++] = Number(now - t0) / 1000;
  }
  const elapsedS = Number(now - start) / 1e9;
  windows.push({ requests: n - first, elapsedS, perSecond: (n - first) / elapsedS });
}
const sorted = latenciesUs.slice(0, n).sort();
const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * (n - 1)))] ?? Number.NaN;

writeSync(
  3,
  `${JSON.stringify({
    windows,
    requests: n,
    enqueued: enqueued - enqueuedBefore,
    p50Us: q(0.5),
    p99Us: q(0.99),
    maxUs: sorted[n - 1],
    bodyBytes,
    distinct,
  })}\n`,
);
process.exit(0);
