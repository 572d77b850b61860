/**
 * Section 1: bundle size and cold init of each Lambda, next to a floor (SQS client + one send)
 * and a naive ingress (stripe-node + SQS client). Each sample is a fresh `node` process running
 * runners/cold-runner.ts on a bundle, serving one real request through the handler with the real
 * SDK clients pointed at a loopback stub (aws-stub.ts). Two forms of each bundle: `@aws-sdk/*`
 * bundled in (tree-shaken), and the deployed form, `@aws-sdk/*` external and loaded from the
 * project's node_modules as Lambda loads it from its runtime. Only the second shows the cost of
 * a client a bundle imports without using: esbuild keeps imports of external packages.
 * Rows are interleaved run by run so drift in the machine's load hits every row alike.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { encodeWorkMessage } from '../../lambdas/adapters/messages.js';
import type { OrderEvent } from '../../lambdas/domain/index.js';
import { type AwsStub, startAwsStub } from './aws-stub.js';
import { BUNDLE_DIR, bundleHandler, bundleRunner, type HandlerBundle } from './bundles.js';
import { median, progress, quantile, round } from './stats.js';
import {
  BENCH_STRIPE_SECRET_KEY,
  BENCH_WEBHOOK_SECRET,
  DEFAULT_WEBHOOK_FIXTURE,
  newOrderId,
  proxyEvent,
  signedWebhookRequest,
} from './stripe-fixtures.js';

export const COLD_RUNS = 30;
/** Target: the ingress's cold init at most this multiple of the floor's. */
export const INGRESS_VS_FLOOR_TARGET = 1.15;

type RowName = 'floor' | 'api' | 'ingress' | 'worker' | 'status' | 'naive-ingress';

interface RowSpec {
  name: RowName;
  entry: string;
  /** The request served; built per run (signatures carry a timestamp). */
  request: () => unknown;
  /** The stub call the request must cause. */
  expectCall: string;
  check: (response: unknown) => boolean;
}

export interface ColdRow {
  name: RowName;
  entry: string;
  deployedBytes: number;
  localBytes: number;
  runs: number;
  /** ms from process start to the first response. */
  totalMs: { p50: number; p90: number; min: number; max: number; samples: number[] };
  /** ms of `await import(bundle)` + the first invocation only. */
  importAndInvokeMs: { p50: number; p90: number };
  importMs: { p50: number };
  firstInvokeMs: { p50: number };
  /** CPU time (user + system, all threads) of the process at the first response. */
  cpuMs: { p50: number; p90: number };
  /**
   * Median over runs of (this row's init / the floor's init in the same run): rows run back to
   * back in each run, so a burst of load from other processes hits both sides of a pair alike.
   */
  ratioToFloor: number;
  /** Plain ratio of the p50s, for reference. */
  ratioOfMedians: number;
  /** Median over runs of the same ratio on CPU time. */
  cpuRatioToFloor: number;
  /** The deployed bundle (`@aws-sdk/*` external, from node_modules), against the floor's deployed bundle. */
  deployedForm: { totalMs: { p50: number; p90: number }; ratioToFloor: number };
}

export interface ColdStartResult {
  rows: ColdRow[];
  nodeBootMs: number;
  ingressRatio: number;
  /** The same ratio for the deployed form; the target applies to both. */
  ingressDeployedRatio: number;
  target: number;
  met: boolean;
  method: string;
}

const status = (r: unknown) => (r as { statusCode?: number } | null)?.statusCode;

/** One SQS record carrying what the ingress enqueues for the default fixture's webhook. */
function workerRequest(): SQSEvent {
  const orderId = newOrderId();
  const event: OrderEvent = {
    type: 'payment_intent.succeeded',
    id: `evt_bench_${orderId.slice(4)}`,
    at: new Date().toISOString(),
    orderId,
    paymentIntentId: `pi_bench_${orderId.slice(4)}`,
    amount: 1099,
    currency: 'usd',
    livemode: false,
    chargeId: `ch_bench_${orderId.slice(4)}`,
  };
  const body = encodeWorkMessage({ groupId: orderId, dedupId: event.id, event });
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: `msg-${orderId}`,
        receiptHandle: 'bench',
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: now,
          MessageGroupId: orderId,
          MessageDeduplicationId: event.id,
          SequenceNumber: '1',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bench-work.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

const ROWS: RowSpec[] = [
  {
    name: 'floor',
    entry: 'scripts/bench/runners/floor-handler.ts',
    request: () => signedWebhookRequest(),
    expectCall: 'AmazonSQS.SendMessage',
    check: (r) => status(r) === 200,
  },
  {
    name: 'api',
    entry: 'lambdas/entry/api.ts',
    request: () => {
      const id = newOrderId();
      return proxyEvent('GET', `/orders/${id}`, '/orders/{id}', { Accept: 'application/json' }, null, { id });
    },
    expectCall: 'DynamoDB_20120810.GetItem',
    check: (r) => status(r) === 404,
  },
  {
    name: 'ingress',
    entry: 'lambdas/entry/ingress.ts',
    request: () => signedWebhookRequest(),
    expectCall: 'AmazonSQS.SendMessage',
    check: (r) => status(r) === 200 && !String((r as { body?: string }).body).includes('ignored'),
  },
  {
    name: 'worker',
    entry: 'lambdas/entry/worker.ts',
    request: workerRequest,
    expectCall: 'DynamoDB_20120810.GetItem',
    check: (r) =>
      Array.isArray((r as { batchItemFailures?: unknown[] })?.batchItemFailures) &&
      (r as { batchItemFailures: unknown[] }).batchItemFailures.length === 0,
  },
  {
    name: 'status',
    entry: 'lambdas/entry/status.ts',
    // A function URL event (payload 2.0) for a missing order: one GetItem, then 404.
    request: () => ({
      version: '2.0',
      rawPath: `/orders/${newOrderId()}/status`,
      rawQueryString: 'client_secret=bench',
      queryStringParameters: { client_secret: 'bench' },
      headers: {},
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      },
    }),
    expectCall: 'DynamoDB_20120810.GetItem',
    check: (r) => status(r) === 404,
  },
  {
    name: 'naive-ingress',
    entry: 'scripts/bench/runners/naive-ingress-handler.ts',
    request: () => signedWebhookRequest(),
    expectCall: 'AmazonSQS.SendMessage',
    check: (r) => status(r) === 200,
  },
];

/** The environment of every run: what the stack sets, with the stub as the AWS endpoint. */
function runEnv(stub: AwsStub): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL: stub.url,
    QUEUE_URL: `${stub.url}/123456789012/bench-work.fifo`,
    QUEUE_ARN: 'arn:aws:sqs:us-east-1:123456789012:bench-work.fifo',
    TABLE_NAME: 'bench-orders',
    SCHEDULE_GROUP: 'bench',
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/bench-scheduler',
    SCHEDULER_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:bench-scheduler-dlq',
    EVENT_BUS_NAME: 'bench-bus',
    STRIPE_SECRET_KEY: BENCH_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    POWERTOOLS_SERVICE_NAME: 'order-orchestrator',
    POWERTOOLS_METRICS_NAMESPACE: 'OrderOrchestrator',
    AWS_LAMBDA_FUNCTION_NAME: 'BenchFunction',
  };
}

interface Sample {
  runnerStartMs: number;
  importMs: number;
  firstInvokeMs: number;
  importAndInvokeMs: number;
  totalMs: number;
  cpuMs: number;
  response: unknown;
}

function runOnce(runner: string, bundle: string, inputFile: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    // stdout/stderr (the handler's logs) are read and dropped, as Lambda ships them to CloudWatch.
    const child = spawn(process.execPath, [runner, bundle, inputFile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let result = '';
    let errors = '';
    child.stdout?.resume();
    child.stderr?.on('data', (d: Buffer) => {
      errors += d.toString();
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      result += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || !result)
        return reject(new Error(`cold run of ${bundle} exited ${code}: ${errors.slice(-2000)}`));
      resolve(JSON.parse(result) as Sample);
    });
  });
}

export async function runColdStart(): Promise<ColdStartResult> {
  progress('1/4 cold start: bundling the handlers as the stack does…');
  const runner = await bundleRunner('cold-runner', 'scripts/bench/runners/cold-runner.ts');
  const bundles = new Map<RowName, HandlerBundle>();
  for (const row of ROWS) bundles.set(row.name, await bundleHandler(row.name, row.entry));
  const emptyRunner = join(BUNDLE_DIR, 'empty.mjs');
  writeFileSync(emptyRunner, 'export const handler = async () => ({ statusCode: 200 });\n');

  const stub = await startAwsStub();
  const env = runEnv(stub);
  const samples = new Map<RowName, Sample[]>(ROWS.map((r) => [r.name, []]));
  const deployedSamples = new Map<RowName, Sample[]>(ROWS.map((r) => [r.name, []]));
  const boot: number[] = [];
  try {
    for (let run = -1; run < COLD_RUNS; run++) {
      // Node's own boot to the runner's first line, for reference (same for every row).
      const empty = await runOnce(runner, emptyRunner, writeInput('empty', { event: {} }), env);
      if (run >= 0) boot.push(empty.runnerStartMs);
      for (const [form, into] of [
        ['localFile', samples],
        ['deployedFile', deployedSamples],
      ] as const) {
        for (const row of ROWS) {
          const before = stub.counts()[row.expectCall] ?? 0;
          const bundle = bundles.get(row.name) as HandlerBundle;
          const s = await runOnce(runner, bundle[form], writeInput(row.name, { event: row.request() }), env);
          const after = stub.counts()[row.expectCall] ?? 0;
          if (!row.check(s.response) || after !== before + 1) {
            throw new Error(
              `${row.name} (${form}): the request did not go through as expected (response ${JSON.stringify(s.response)}, ` +
                `${after - before} × ${row.expectCall})`,
            );
          }
          if (run >= 0) (into.get(row.name) as Sample[]).push(s); // run -1 warms the file cache
        }
      }
      if (run >= 0 && (run + 1) % 5 === 0) progress(`1/4 cold start: ${run + 1}/${COLD_RUNS} runs of each row`);
    }
  } finally {
    await stub.close();
  }

  const floorRuns = samples.get('floor') ?? [];
  const floorP50 = median(floorRuns.map((s) => s.totalMs));
  const deployedFloorRuns = deployedSamples.get('floor') ?? [];
  const pairedRatio = (s: Sample[], of: (x: Sample) => number, floor = floorRuns) =>
    median(s.map((x, i) => of(x) / of(floor[i] as Sample)));
  const rows: ColdRow[] = ROWS.map((row) => {
    const s = samples.get(row.name) ?? [];
    const b = bundles.get(row.name) as HandlerBundle;
    const total = s.map((x) => x.totalMs);
    const ii = s.map((x) => x.importAndInvokeMs);
    return {
      name: row.name,
      entry: row.entry,
      deployedBytes: b.deployedBytes,
      localBytes: b.localBytes,
      runs: s.length,
      totalMs: {
        p50: round(median(total)),
        p90: round(quantile(total, 0.9)),
        min: round(Math.min(...total)),
        max: round(Math.max(...total)),
        samples: total.map((v) => round(v)),
      },
      importAndInvokeMs: { p50: round(median(ii)), p90: round(quantile(ii, 0.9)) },
      importMs: { p50: round(median(s.map((x) => x.importMs))) },
      firstInvokeMs: { p50: round(median(s.map((x) => x.firstInvokeMs))) },
      cpuMs: {
        p50: round(median(s.map((x) => x.cpuMs))),
        p90: round(
          quantile(
            s.map((x) => x.cpuMs),
            0.9,
          ),
        ),
      },
      ratioToFloor: round(
        pairedRatio(s, (x) => x.totalMs),
        3,
      ),
      ratioOfMedians: round(median(total) / floorP50, 3),
      cpuRatioToFloor: round(
        pairedRatio(s, (x) => x.cpuMs),
        3,
      ),
      deployedForm: (() => {
        const d = deployedSamples.get(row.name) ?? [];
        const t = d.map((x) => x.totalMs);
        return {
          totalMs: { p50: round(median(t)), p90: round(quantile(t, 0.9)) },
          ratioToFloor: round(
            pairedRatio(d, (x) => x.totalMs, deployedFloorRuns),
            3,
          ),
        };
      })(),
    };
  });
  const ingress = rows.find((r) => r.name === 'ingress');
  const ingressRatio = ingress?.ratioToFloor ?? Number.NaN;
  const ingressDeployedRatio = ingress?.deployedForm.ratioToFloor ?? Number.NaN;
  return {
    rows,
    nodeBootMs: round(median(boot)),
    ingressRatio,
    ingressDeployedRatio,
    target: INGRESS_VS_FLOOR_TARGET,
    met: ingressRatio <= INGRESS_VS_FLOOR_TARGET && ingressDeployedRatio <= INGRESS_VS_FLOOR_TARGET,
    method:
      `${COLD_RUNS} runs of one fresh \`node ${process.version}\` process per row and form, rows back to back in each run ` +
      '(plus one discarded warm-up run); ' +
      `the webhook rows serve a signed ${DEFAULT_WEBHOOK_FIXTURE} (PaymentIntents, the default API) and the worker one SQS record of it, for a missing order; ` +
      'init = performance.now() at the first response = ms since process start (Node boot + import of the bundle ' +
      '+ one request through the handler, real SDK clients against a loopback stub). ' +
      '× floor = the median over runs of the ratio to the floor in the same run (paired, so load from other ' +
      'processes hits both sides alike); CPU = user + system time of the process at that point.',
  };
}

function writeInput(name: string, input: unknown): string {
  const file = join(BUNDLE_DIR, `${name}.input.json`);
  writeFileSync(file, JSON.stringify(input));
  return file;
}
