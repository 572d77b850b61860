/**
 * Section 2: warm ingress throughput on one core (runners/warm-runner.ts in a child process,
 * pinned with `taskset -c 0` when available). Run twice: with the Powertools log level the stack
 * deploys (INFO: one log line per webhook, written to /dev/null here, to CloudWatch in Lambda),
 * and with WARN (no per-request line), to show what the logging costs. Each run measures three
 * consecutive 3 s windows after the warm-up and reports the median window's rate.
 */
import { spawn, spawnSync } from 'node:child_process';
import { bundleHandler, bundleRunner } from './bundles.js';
import { median, progress, round } from './stats.js';
import { DEFAULT_WEBHOOK_FIXTURE } from './stripe-fixtures.js';

export const WARM_TARGET_PER_SECOND = 10_000;
const WARMUP_MS = 1500;
const MEASURE_MS = 3000;
const WINDOWS = 3;
const DISTINCT_EVENTS = 20_000;

interface RunnerOutput {
  windows: { requests: number; elapsedS: number; perSecond: number }[];
  requests: number;
  enqueued: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  bodyBytes: number;
}

export interface WarmRun {
  logLevel: string;
  /** Median of the windows' rates. */
  perSecond: number;
  windowsPerSecond: number[];
  windowSeconds: number;
  requests: number;
  /** Over every measured request of the run. */
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export interface WarmIngressResult {
  runs: WarmRun[];
  /** The deployed configuration (INFO). */
  primary: WarmRun;
  pinned: boolean;
  bodyBytes: number;
  distinctEvents: number;
  target: number;
  met: boolean;
  method: string;
}

const hasTaskset = () => spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;

function runWarm(runner: string, bundle: string, logLevel: string, pinned: boolean): Promise<RunnerOutput> {
  const args = [runner, bundle, String(WARMUP_MS), String(MEASURE_MS), String(DISTINCT_EVENTS), String(WINDOWS)];
  const [cmd, argv] = pinned ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, argv as string[], {
      env: {
        PATH: process.env.PATH,
        POWERTOOLS_LOG_LEVEL: logLevel,
        POWERTOOLS_SERVICE_NAME: 'order-orchestrator',
        POWERTOOLS_METRICS_NAMESPACE: 'OrderOrchestrator',
        AWS_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'IngressFunction',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || !out) return reject(new Error(`warm runner exited ${code}: ${err.slice(-2000)}`));
      const r = JSON.parse(out) as RunnerOutput;
      if (r.enqueued !== r.requests) return reject(new Error(`warm runner: ${r.enqueued} enqueued of ${r.requests}`));
      resolve(r);
    });
  });
}

export async function runWarmIngress(): Promise<WarmIngressResult> {
  progress('2/4 warm ingress: bundling…');
  const runner = await bundleRunner('warm-runner', 'scripts/bench/runners/warm-runner.ts');
  // The handler module, not the entry point: the runner drives its `handleWebhook` with its own
  // deps; the entry (lambdas/entry/ingress.ts) only adds the wiring around it.
  const ingress = await bundleHandler('ingress', 'lambdas/handlers/ingress.ts');
  const pinned = hasTaskset();
  const runs: WarmRun[] = [];
  let bodyBytes = 0;
  for (const logLevel of ['INFO', 'WARN']) {
    progress(
      `2/4 warm ingress: log level ${logLevel}, ${WARMUP_MS} ms warm-up + ${WINDOWS} × ${MEASURE_MS} ms measured…`,
    );
    const r = await runWarm(runner, ingress.localFile, logLevel, pinned);
    bodyBytes = r.bodyBytes;
    runs.push({
      logLevel,
      perSecond: Math.round(median(r.windows.map((w) => w.perSecond))),
      windowsPerSecond: r.windows.map((w) => Math.round(w.perSecond)),
      windowSeconds: MEASURE_MS / 1000,
      requests: r.requests,
      p50Us: round(r.p50Us, 1),
      p99Us: round(r.p99Us, 1),
      maxUs: round(r.maxUs, 1),
    });
  }
  const primary = runs[0] as WarmRun;
  return {
    runs,
    primary,
    pinned,
    bodyBytes,
    distinctEvents: DISTINCT_EVENTS,
    target: WARM_TARGET_PER_SECOND,
    met: primary.perSecond >= WARM_TARGET_PER_SECOND,
    method:
      `handleWebhook(deps, event) from the ingress bundle in one process${pinned ? ' pinned to one core (taskset -c 0)' : ''}, ` +
      `one request at a time, real HMAC-SHA256 verification, deps.queue.enqueue = async () => {}; ${DISTINCT_EVENTS.toLocaleString('en-US')} ` +
      `pre-built signed ${DEFAULT_WEBHOOK_FIXTURE} events (${bodyBytes} B each) with distinct ids, cycled; ${WARMUP_MS} ms warm-up, then ` +
      `${WINDOWS} windows of ${MEASURE_MS / 1000} s: rate = the median window, p50/p99 over all ${WINDOWS * (MEASURE_MS / 1000)} s.`,
  };
}
