/**
 * `npm run bench`: cold starts and bundle sizes (1), warm ingress throughput (2), AWS requests
 * and cost per order lifecycle against a Step Functions design (3), and end-to-end latency in
 * the sandbox (4). Prints one table on stdout, progress on stderr, and writes
 * bench-results/bench.json with every number and assumption.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { startSandbox } from '../sandbox/start.js';
import { PROJECT_ROOT, RESULTS_DIR } from './bundles.js';
import { runColdStart } from './cold-start.js';
import { ASSUMPTIONS, COST_TARGETS, costOf, PRICES, STEP_FUNCTIONS_STATES } from './cost.js';
import { runE2eLatency } from './e2e-latency.js';
import { runLifecycles } from './lifecycles.js';
import { type Machine, renderReport } from './report.js';
import { RequestCounter } from './request-counter.js';
import { SandboxDriver } from './sandbox-driver.js';
import { progress, round } from './stats.js';
import { runWarmIngress } from './warm-ingress.js';

function machine(): Machine {
  const c = cpus();
  return {
    cpu: (c[0]?.model ?? 'unknown CPU').trim(),
    cores: c.length,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    loadAverage: { start: round(loadavg()[0] ?? 0), end: Number.NaN },
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const m = machine();
  progress(`${m.cpu}, ${m.cores} cores, Node ${m.node}`);

  // Sections 1 and 2 first, on a quiet machine (the sandbox and moto are not running yet).
  const cold = await runColdStart();
  const warm = await runWarmIngress();

  progress('3/4 starting the sandbox (moto, Stripe simulator, handlers)…');
  const counter = new RequestCounter();
  const sandbox = await startSandbox({
    port: 0,
    simPort: 0,
    quiet: true,
    prefix: `bench${Date.now().toString(36)}`,
    concurrency: 4,
    instrument: counter.instrument,
  });
  const driver = new SandboxDriver(sandbox);
  let counts: Awaited<ReturnType<typeof runLifecycles>>;
  let e2e: Awaited<ReturnType<typeof runE2eLatency>>;
  try {
    counts = await runLifecycles(sandbox, driver, counter);
    e2e = await runE2eLatency(sandbox, driver, counter);
  } finally {
    driver.close();
    await sandbox.stop();
  }
  const costs = counts.map(costOf);
  m.loadAverage.end = round(loadavg()[0] ?? 0);
  const runSeconds = (performance.now() - started) / 1000;
  const file = join(RESULTS_DIR, 'bench.json');

  const table = renderReport({
    machine: m,
    cold,
    warm,
    counts,
    costs,
    e2e,
    runSeconds,
    jsonPath: relative(PROJECT_ROOT, file),
  });
  process.stdout.write(`${table}\n`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        machine: m,
        runSeconds: round(runSeconds, 1),
        coldStart: cold,
        warmIngress: warm,
        lifecycles: counts,
        cost: {
          unit: 'USD per 1,000 orders',
          targets: COST_TARGETS,
          prices: PRICES,
          assumptions: ASSUMPTIONS,
          stepFunctionsStates: STEP_FUNCTIONS_STATES,
          perLifecycle: costs,
        },
        endToEnd: e2e,
      },
      null,
      2,
    )}\n`,
  );
  progress(`wrote ${relative(PROJECT_ROOT, file)} · ${runSeconds.toFixed(0)} s`);
}

main().catch((e) => {
  process.stderr.write(`[bench] failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
