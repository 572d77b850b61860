/**
 * `npm run bench`: cold starts and bundle sizes (1), warm ingress throughput (2), AWS and Stripe
 * requests and cost per order lifecycle — four on the legacy Sources API, three on
 * PaymentIntents — against a Step Functions design (3), and end-to-end latency in the sandbox
 * (4). Prints one table on stdout, progress on stderr, and writes bench-results/bench.json with
 * every number and assumption.
 *
 *   npm run bench                                   all four sections (about 4 minutes)
 *   npm run bench -- --only lifecycles              section 3 only (the sandbox, no cold starts)
 *   npm run bench -- --only cold,warm               any of: cold, warm, lifecycles, e2e
 *   npm run bench -- --only lifecycles --lifecycles piPaid,piDeclined --orders 5
 *                                                   some lifecycles (keys: see --help), n orders each
 *
 * A partial run writes bench-results/bench.<sections>.json, never bench.json (the full run's).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from '../sandbox/start.js';
import { PROJECT_ROOT, RESULTS_DIR } from './bundles.js';
import { runColdStart } from './cold-start.js';
import { ASSUMPTIONS, COST_TARGETS, costOf, PRICES, STEP_FUNCTIONS_STATES } from './cost.js';
import { runE2eLatency } from './e2e-latency.js';
import { LIFECYCLE_KEYS, type LifecycleKey, ORDERS_PER_LIFECYCLE, runLifecycles } from './lifecycles.js';
import { type Machine, renderReport } from './report.js';
import { RequestCounter } from './request-counter.js';
import { SandboxDriver } from './sandbox-driver.js';
import { progress, round } from './stats.js';
import { runWarmIngress } from './warm-ingress.js';

const SECTIONS = ['cold', 'warm', 'lifecycles', 'e2e'] as const;
type Section = (typeof SECTIONS)[number];

const HELP = `npm run bench [-- options]

  --only <sections>     comma-separated, any of: ${SECTIONS.join(', ')} (default: all)
                          cold = 1 · cold start, warm = 2 · warm ingress,
                          lifecycles = 3 · requests and cost per order, e2e = 4 · sandbox latency
  --lifecycles <keys>   with lifecycles: only these (default: all), any of:
                          ${LIFECYCLE_KEYS.join(', ')}
  --orders <n>          orders per lifecycle (default ${ORDERS_PER_LIFECYCLE})
  -h, --help            this text

A full run writes bench-results/bench.json; a partial one bench-results/bench.<sections>.json.
`;

interface Options {
  sections: Set<Section>;
  lifecycles: LifecycleKey[] | undefined;
  orders: number;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      lifecycles: { type: 'string' },
      orders: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const list = <T extends string>(v: string | undefined, allowed: readonly T[], what: string): T[] | undefined => {
    if (v === undefined) return undefined;
    const items = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const bad = items.filter((x) => !allowed.includes(x as T));
    if (bad.length > 0 || items.length === 0) {
      throw new Error(`--${what}: unknown ${bad.join(', ') || '(empty)'}; any of ${allowed.join(', ')}`);
    }
    return items as T[];
  };
  const orders = values.orders === undefined ? ORDERS_PER_LIFECYCLE : Number(values.orders);
  if (!Number.isInteger(orders) || orders < 1) throw new Error(`--orders: a positive integer, not ${values.orders}`);
  return {
    sections: new Set(list(values.only, SECTIONS, 'only') ?? SECTIONS),
    lifecycles: list(values.lifecycles, LIFECYCLE_KEYS, 'lifecycles'),
    orders,
  };
}

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
  const opts = options(process.argv.slice(2));
  const run = (x: Section) => opts.sections.has(x);
  const full = SECTIONS.every(run) && opts.lifecycles === undefined && opts.orders === ORDERS_PER_LIFECYCLE;
  const started = performance.now();
  const m = machine();
  progress(`${m.cpu}, ${m.cores} cores, Node ${m.node}`);

  // Sections 1 and 2 first, on a quiet machine (the sandbox and moto are not running yet).
  const cold = run('cold') ? await runColdStart() : undefined;
  const warm = run('warm') ? await runWarmIngress() : undefined;

  let counts: Awaited<ReturnType<typeof runLifecycles>> | undefined;
  let e2e: Awaited<ReturnType<typeof runE2eLatency>> | undefined;
  if (run('lifecycles') || run('e2e')) {
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
    try {
      if (run('lifecycles')) {
        counts = await runLifecycles(sandbox, driver, counter, {
          orders: opts.orders,
          ...(opts.lifecycles ? { only: opts.lifecycles } : {}),
        });
      }
      if (run('e2e')) e2e = await runE2eLatency(sandbox, driver, counter);
    } finally {
      driver.close();
      await sandbox.stop();
    }
  }
  const costs = counts?.map(costOf);
  m.loadAverage.end = round(loadavg()[0] ?? 0);
  const runSeconds = (performance.now() - started) / 1000;
  const file = join(RESULTS_DIR, full ? 'bench.json' : `bench.${SECTIONS.filter(run).join('+')}.json`);

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
        ...(full
          ? {}
          : { partial: { sections: SECTIONS.filter(run), lifecycles: opts.lifecycles, orders: opts.orders } }),
        coldStart: cold,
        warmIngress: warm,
        lifecycles: counts,
        cost: costs && {
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
