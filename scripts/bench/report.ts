/**
 * The printed report: ONE markdown table (padded so it also reads in a terminal), the machine in
 * its header row, sections as bold sub-header rows naming their columns, and numbered footnotes
 * for the methods and assumptions.
 */
import type { ColdStartResult } from './cold-start.js';
import { ASSUMPTIONS, COST_TARGETS, type LifecycleCost, PRICES } from './cost.js';
import type { E2eResult, Percentiles } from './e2e-latency.js';
import type { LifecycleCounts } from './lifecycles.js';
import type { WarmIngressResult } from './warm-ingress.js';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  os: string;
  memoryGb: number;
  /** 1-minute load average when the run started and when it ended (others may share the machine). */
  loadAverage: { start: number; end: number };
}

/** A section not run (`npm run bench -- --only …`) is absent, and left out of the table. */
export interface ReportInput {
  machine: Machine;
  cold?: ColdStartResult | undefined;
  warm?: WarmIngressResult | undefined;
  counts?: LifecycleCounts[] | undefined;
  costs?: LifecycleCost[] | undefined;
  e2e?: E2eResult | undefined;
  runSeconds: number;
  jsonPath: string;
}

const verdict = (met: boolean) => (met ? 'met ✓' : 'MISSED ✗');
const marks = (values: boolean[]) => values.map((v) => (v ? '✓' : '✗')).join(' ');
const ms = (v: number) => `${v.toFixed(1)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const num = (v: number) => String(Math.round(v * 100) / 100);
const usd = (v: number) => `$${v.toFixed(4)}`;
const int = (v: number) => v.toLocaleString('en-US');
const bold = (s: string) => `**${s}**`;
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;

function render(rows: string[][]): string {
  const columns = Math.max(...rows.map((r) => r.length));
  const padded = rows.map((r) => [...r, ...Array<string>(Math.max(0, columns - r.length)).fill('')]);
  const widths = Array.from({ length: columns }, (_, i) => Math.max(3, ...padded.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 3)).join(' | ')} |`;
  const [head, ...body] = padded;
  return [line(head ?? []), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const COLD_LABELS: Record<string, string> = {
  floor: 'floor (SQS client + 1 send)',
  api: 'api (GET of a missing order)',
  ingress: 'ingress (signed webhook)',
  worker: 'worker (1 SQS record)',
  status: 'status (function URL, missing order)',
  'naive-ingress': 'naive ingress (stripe-node)',
};

/** Stripe endpoints, short: `payment_intents.cancel` → `pi.cancel`. */
const SHORT_RESOURCE: Record<string, string> = {
  payment_intents: 'pi',
  sources: 'src',
  charges: 'ch',
  refunds: 're',
  payment_methods: 'pm',
};
const shortEndpoint = (e: string) => {
  const [resource = '', method = ''] = e.split('.');
  return `${SHORT_RESOURCE[resource] ?? resource}.${method}`;
};

const STRIPE_REQUESTS_NOTE = `¹⁰ Stripe API requests the handlers' stripe-node client sent to the simulator's /v1 (seen on Node's http.client.request.start diagnostics channel: stripe-node's retries and calls failed by an injected fault included), ÷ orders; "reached" = the simulator's own record (StripeSim.requests()) where it differs: an injected fault fails a call before its route. Stripe does not bill API requests: the row counts round trips to Stripe, not dollars.`;

export function renderReport(r: ReportInput): string {
  const { machine: m, cold, warm, counts, costs, e2e } = r;
  const rows: string[][] = [[`bench · ${m.cpu} · ${m.cores} cores · Node ${m.node}`]];
  if (cold) coldRows(rows, cold);
  if (warm) warmRows(rows, warm);
  if (counts && costs) lifecycleRows(rows, counts, costs);
  if (e2e) e2eRows(rows, e2e);

  const notes = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node} · load average (1 min) ${m.loadAverage.start.toFixed(2)} at start, ${m.loadAverage.end.toFixed(2)} at end · run ${r.runSeconds.toFixed(0)} s · all numbers and assumptions: ${r.jsonPath}`,
    ...(cold ? coldNotes(cold) : []),
    ...(warm
      ? [`² ${warm.method} INFO = the deployed log level (one JSON log line per webhook, to /dev/null here).`]
      : []),
    ...(counts && costs ? lifecycleNotes(counts, costs) : []),
    ...(e2e
      ? [
          `⁹ ${e2e.method} Everything on this machine (moto, the simulator, all handlers in one Node process): sandbox latencies, not AWS's.`,
        ]
      : []),
    ...(counts ? [STRIPE_REQUESTS_NOTE] : []),
  ];
  return `${render(rows)}\n\n${notes.join('\n')}\n`;
}

function coldRows(rows: string[][], cold: ColdStartResult): void {
  rows.push([
    bold('1 · Cold start¹'),
    bold('deployed (sdk ext.)'),
    bold('run here (sdk in)'),
    bold('init p50 / p90 (sdk in)'),
    bold('× floor (sdk in)'),
    bold('deployed form: p50 · × floor'),
    bold(`target ≤ ${cold.target}×`),
  ]);
  for (const row of cold.rows) {
    rows.push([
      COLD_LABELS[row.name] ?? row.name,
      kib(row.deployedBytes),
      kib(row.localBytes),
      `${row.totalMs.p50.toFixed(1)} / ${ms(row.totalMs.p90)}`,
      `${row.ratioToFloor.toFixed(2)}× (CPU ${row.cpuRatioToFloor.toFixed(2)}×)`,
      `${ms(row.deployedForm.totalMs.p50)} · ${row.deployedForm.ratioToFloor.toFixed(2)}×`,
      row.name === 'ingress' ? verdict(cold.met) : '',
    ]);
  }
}

function warmRows(rows: string[][], warm: WarmIngressResult): void {
  rows.push([
    bold('2 · Warm ingress, 1 core²'),
    bold('webhooks/s'),
    bold('p50'),
    bold('p99'),
    bold('requests'),
    bold('3 s windows'),
    bold(`target ≥ ${int(warm.target)}/s`),
  ]);
  for (const run of warm.runs) {
    rows.push([
      run.logLevel === 'INFO' ? 'log level INFO (deployed)' : `log level ${run.logLevel}`,
      int(run.perSecond),
      `${run.p50Us.toFixed(1)} µs`,
      `${run.p99Us.toFixed(1)} µs`,
      int(run.requests),
      run.windowsPerSecond.map((w) => int(w)).join(' · '),
      verdict(run.perSecond >= warm.target),
    ]);
  }
}

function lifecycleRows(rows: string[][], counts: LifecycleCounts[], costs: LifecycleCost[]): void {
  const cost = (c: LifecycleCounts) => costs.find((x) => x.key === c.key) as LifecycleCost;
  const each = (f: (c: LifecycleCounts, k: LifecycleCost) => string) => counts.map((c) => f(c, cost(c)));
  const p = (c: LifecycleCounts) => c.perOrder;
  rows.push([
    bold(`3 · Per order (${counts[0]?.orders ?? 0} each)³`),
    ...counts.map((c) => bold(c.label)),
    bold('notes'),
  ]);
  rows.push([
    'DynamoDB reads / writes',
    ...each((c) => `${num(p(c).dynamodb.reads)} / ${num(p(c).dynamodb.writes)}`),
    'calls',
  ]);
  rows.push([
    'DynamoDB RRU / WRU',
    ...each((c) => `${num(p(c).dynamodb.rru)} / ${num(p(c).dynamodb.wru)}`),
    'from item sizes⁴',
  ]);
  rows.push([
    'SQS sends (ingress + timers)',
    ...each((c) => `${num(p(c).sqs.ingressSends)} + ${num(p(c).sqs.schedulerSends)}`),
    'SendMessage',
  ]);
  rows.push(['SQS messages received', ...each((c) => num(p(c).sqs.messagesReceived)), 'incl. redeliveries']);
  rows.push([
    'SQS Receive / Delete req.',
    ...each((c) => `${num(p(c).sqs.receiveRequests)} / ${num(p(c).sqs.deleteRequests)}`),
    'per batch formed⁵',
  ]);
  rows.push([
    '  bounds: msgs/10 … msgs',
    ...each((c) => `${num(p(c).sqs.receiveRequestsAtFullBatches)} … ${num(p(c).sqs.messagesReceived)}`),
    'full … 1-msg batches',
  ]);
  rows.push([
    'Scheduler create/delete/fired',
    ...each((c) => `${num(p(c).scheduler.creates)} / ${num(p(c).scheduler.deletes)} / ${num(p(c).scheduler.fired)}`),
    'fired = billed',
  ]);
  rows.push(['EventBridge events', ...each((c) => num(p(c).eventbridge.entries)), 'PutEvents entries']);
  rows.push([
    'Lambda api / ingress / worker / status',
    ...each(
      (c, k) => `${num(p(c).lambda.api)} / ${num(p(c).lambda.ingress)} / ${num(p(c).lambda.worker)} / ${num(k.polls)}`,
    ),
    'invocations',
  ]);
  rows.push([
    '  of which status polls⁶',
    ...each((_c, k) => num(k.polls)),
    `1 per ${ASSUMPTIONS.pollIntervalSeconds} s`,
  ]);
  rows.push([
    'API Gateway requests',
    ...each((c) => num(p(c).lambda.api + p(c).lambda.ingress)),
    'create + webhooks (polls: StatusUrl)',
  ]);
  rows.push([
    'Stripe API requests',
    ...each((c) =>
      p(c).stripe.sent === p(c).stripe.received
        ? num(p(c).stripe.sent)
        : `${num(p(c).stripe.sent)} (${num(p(c).stripe.received)} reached)`,
    ),
    'sent by the handlers¹⁰',
  ]);
  rows.push([
    '  by call',
    ...each((c) =>
      Object.entries(p(c).stripe.sentByEndpoint)
        .map(([e, v]) => `${shortEndpoint(e)} ${num(v)}`)
        .join(' · '),
    ),
    'pi / src / ch = PaymentIntents / Sources / Charges',
  ]);

  rows.push([bold('$ per 1,000 orders⁷'), ...counts.map((c) => bold(c.label)), bold('target')]);
  rows.push(['API Gateway', ...each((_c, k) => usd(k.ours.apiGateway))]);
  rows.push(['Lambda requests + GB-s', ...each((_c, k) => usd(k.ours.lambdaRequests + k.ours.lambdaCompute))]);
  rows.push(['SQS FIFO', ...each((_c, k) => usd(k.ours.sqs))]);
  rows.push(['DynamoDB on-demand', ...each((_c, k) => usd(k.ours.dynamodb))]);
  rows.push(['Scheduler + EventBridge', ...each((_c, k) => usd(k.ours.scheduler + k.ours.eventBridge))]);
  rows.push([
    bold('total, ours'),
    ...each((_c, k) => bold(usd(k.ours.total))),
    `< ${usd(COST_TARGETS.totalPer1000)} ${marks(costs.map((k) => k.ours.total < COST_TARGETS.totalPer1000))}`,
  ]);
  rows.push(['  dominant line', ...each((_c, k) => `${k.dominant.line} ${(k.dominant.share * 100).toFixed(0)}%`)]);
  rows.push([
    'total, ours, polls via the REST route',
    ...each((_c, k) => usd(k.oursPollingViaRest.total)),
    `< ${usd(COST_TARGETS.totalPer1000)} ${marks(costs.map((k) => k.oursPollingViaRest.total < COST_TARGETS.totalPer1000))}`,
  ]);
  rows.push([
    'total, ours, NO browser polling',
    ...each((_c, k) => usd(k.oursWithoutPolling.total)),
    `< ${usd(COST_TARGETS.totalPer1000)} ${marks(costs.map((k) => k.oursWithoutPolling.total < COST_TARGETS.totalPer1000))}`,
  ]);
  rows.push([
    'Step Functions Standard⁸',
    ...each((_c, k) => `${usd(k.stepFunctions.total)} (${k.stepFunctions.transitions} tr.)`),
  ]);
  rows.push([
    'ours ÷ Step Functions',
    ...each((_c, k) => k.ratio.toFixed(2)),
    `≤ ${COST_TARGETS.maxRatioToStepFunctions} ${marks(costs.map((k) => k.ratio <= COST_TARGETS.maxRatioToStepFunctions))}`,
  ]);
  rows.push([
    '  polls via the REST route (both)',
    ...each((_c, k) => k.ratioPollingViaRest.toFixed(2)),
    `≤ ${COST_TARGETS.maxRatioToStepFunctions} ${marks(costs.map((k) => k.ratioPollingViaRest <= COST_TARGETS.maxRatioToStepFunctions))}`,
  ]);
  rows.push([
    '  NO browser polling',
    ...each((_c, k) => k.ratioWithoutPolling.toFixed(2)),
    `≤ ${COST_TARGETS.maxRatioToStepFunctions} ${marks(costs.map((k) => k.ratioWithoutPolling <= COST_TARGETS.maxRatioToStepFunctions))}`,
  ]);
  rows.push([
    'orchestration: ours vs SFN⁸',
    ...each((_c, k) => `${usd(k.oursOrchestration)} vs ${usd(k.stepFunctionsOrchestration)}`),
  ]);
}

function e2eRows(rows: string[][], e2e: E2eResult): void {
  rows.push([
    bold(`4 · Sandbox e2e, ${e2e.orders} orders⁹`),
    bold('p50'),
    bold('p95'),
    bold('max'),
    bold('n'),
    bold('pace'),
  ]);
  const e = (name: string, x: Percentiles) => [
    name,
    ms(x.p50),
    ms(x.p95),
    ms(x.max),
    e2e.notPaid.length > 0 ? `${x.n} (${e2e.notPaid.length} not paid)` : String(x.n),
    `1 / ${e2e.paceMs} ms`,
  ];
  rows.push(e('chargeable sent → `paid` read', e2e.fromDeliveryToPaidPoll));
  rows.push(e('authorize returned → `paid` read', e2e.fromAuthorizeToPaidPoll));
  rows.push(e('chargeable sent → order.paid put', e2e.fromDeliveryToPaidEvent));
}

function coldNotes(cold: ColdStartResult): string[] {
  const row = (name: string) => cold.rows.find((x) => x.name === name);
  const delta = (name: string) => {
    const a = row(name);
    const f = row('floor');
    return a && f
      ? `${name} ${signed(a.importMs.p50 - f.importMs.p50)} ms import, ${signed(a.firstInvokeMs.p50 - f.firstInvokeMs.p50)} ms first request`
      : '';
  };
  return [
    `¹ ${cold.method} Bundled as the stack does (esbuild ESM, minified, target node22, require banner); "deployed" = @aws-sdk/* external (what Lambda gets; its runtime provides the SDK), "run here" = @aws-sdk/* bundled IN and tree-shaken. "deployed form" = the deployed bundle run with @aws-sdk/* loaded from the project's node_modules, as Lambda loads it from its runtime, against the floor's deployed bundle: only this form shows an SDK client a bundle imports without using. The target applies to both forms. Node's own boot is ${ms(cold.nodeBootMs)} of each (an empty module). Over the floor (p50s of \`await import(bundle)\` and of the first request alone): ${delta('ingress')}; ${delta('naive-ingress')}.`,
  ];
}

function lifecycleNotes(counts: LifecycleCounts[], costs: LifecycleCost[]): string[] {
  const happy = costs.find((c) => c.key === 'happy');
  const polling = counts.map((c) => `${ASSUMPTIONS.pollingSeconds[c.key]} s ${c.label}`).join(', ');
  return [
    `³ From a sandbox run (moto + the Stripe simulator), ÷ orders: a middleware on the handlers' SDK clients counts commands; ingress invocations = webhook deliveries, worker = the poller's batches, timers = schedules fired (Scheduler → SQS). The first ${counts.filter((c) => c.api === 'sources').length} columns are orders on the legacy Sources API (\`stripeApi: 'sources'\`), the "PI" ones on PaymentIntents (\`stripeApi: 'payment_intents'\`, the default). ${counts.map((c) => `${c.label}: ${c.scenario}.`).join(' ')}`,
    '⁴ moto answers a constant ConsumedCapacity, so RRU/WRU are computed from item sizes: 1 WRU per KB of the larger of old/new item (×2 in a transaction: POST /orders writes the order + its idempotency record in one), + each GSI entry written (byDay and bySourceId are KEYS_ONLY: once, on create); 1 RRU per 4 KB strongly consistent GetItem, 0.5 eventually consistent (GSI Query).',
    `⁵ Lambda's SQS event source: one ReceiveMessage per batch (as the sandbox's poller formed them; busy queues give fuller batches, down to msgs/10) + one DeleteMessageBatch per batch with a success; its idle long polling is a fixed monthly cost, not per order (left out).`,
    `⁶ ASSUMED: the customer's browser polls GET /orders/{id}/status every ${ASSUMPTIONS.pollIntervalSeconds} s from creation until terminal, capped at ${Math.max(...Object.values(ASSUMPTIONS.pollingSeconds)) / 60} min (a browser gives up): ${polling}. Each poll = 1 invocation of the status function through its URL (StatusUrl: no API Gateway request; ${ASSUMPTIONS.lambdaMemoryMb.status} MB, ASSUMED ${ASSUMPTIONS.statusDurationMs} ms) + 1 GetItem (measured at the terminal state: ${counts.map((c) => `${num(c.statusPoll.rru)} RRU`).join(', ')}).`,
    `⁷ us-east-1, free tiers ignored. Lambda $${PRICES.lambda.perMillionRequests}/M requests + $${PRICES.lambda.perGbSecondArm64}/GB-s arm64 (${PRICES.lambda.source}) with ASSUMED ${ASSUMPTIONS.lambdaDurationMs} ms per invocation and the stack's memory (api ${ASSUMPTIONS.lambdaMemoryMb.api}, ingress ${ASSUMPTIONS.lambdaMemoryMb.ingress}, worker ${ASSUMPTIONS.lambdaMemoryMb.worker} MB); API Gateway REST $${PRICES.apiGatewayRest.perMillionRequests}/M for the storefront calls and HTTP API $${PRICES.apiGatewayHttp.perMillionRequests}/M for the webhooks (${PRICES.apiGatewayRest.source}); SQS FIFO $${PRICES.sqsFifo.perMillionRequests}/M requests, 64 KB chunks (${PRICES.sqsFifo.source}); DynamoDB $${PRICES.dynamodbOnDemand.perMillionWriteRequestUnits}/M WRU + $${PRICES.dynamodbOnDemand.perMillionReadRequestUnits}/M RRU (${PRICES.dynamodbOnDemand.source}); EventBridge Scheduler $${PRICES.eventBridgeScheduler.perMillionInvocations}/M invocations — creates/deletes are API calls, not billed as invocations — and custom events $${PRICES.eventBridgeCustomEvents.perMillionEvents}/M (${PRICES.eventBridgeCustomEvents.source}).${happy && happy.ours.total >= COST_TARGETS.totalPer1000 ? ` The < ${usd(COST_TARGETS.totalPer1000)} target is MISSED: ${happy.dominant.line} dominates (${(happy.dominant.share * 100).toFixed(0)}% of the happy path).` : ''} "polls via the REST route" = the same polls through API Gateway REST + ApiFunction (${PRICES.apiGatewayRest.perMillionRequests}/M + ${ASSUMPTIONS.lambdaDurationMs} ms at ${ASSUMPTIONS.lambdaMemoryMb.api} MB each), in both designs for the ratio.`,
    `⁸ The same lifecycles as a Step Functions Standard workflow (state lists and reasoning in scripts/bench/cost.ts, STEP_FUNCTIONS_STATES): a task-token wait for the customer (the ingress calls SendTaskSuccess/Failure; the wait's timeout is the expiry), DynamoDB and EventBridge as direct integrations, Stripe calls as Lambda tasks; on PaymentIntents Stripe captures (no Charge task) and a failed or expired payment cancels the PaymentIntent (one Lambda task); $${PRICES.stepFunctionsStandard.perThousandStateTransitions} per 1,000 state transitions (${PRICES.stepFunctionsStandard.source}). It needs no SQS, Scheduler or worker; API Gateway (with the same polling), the API and ingress functions, DynamoDB and EventBridge are taken as equal to ours. "orchestration" = ours: SQS + Scheduler + worker invocations vs SFN: transitions + Lambda tasks.`,
  ];
}
