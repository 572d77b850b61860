/**
 * Section 3 (cost): dollars per 1,000 orders from the measured per-order counts, at published
 * us-east-1 prices (free tiers ignored), next to a Step Functions Standard design of the same
 * lifecycles. The counts come from lifecycles.ts; what is assumed (Lambda durations, the
 * customer's browser polling) is in ASSUMPTIONS and printed with the results.
 */
import { QUEUE, WORKER } from '../../lib/spec.js';
import type { LifecycleCounts, LifecycleKey } from './lifecycles.js';
import { round } from './stats.js';

/** Published on-demand prices, us-east-1, at the URLs given. */
export const PRICES = {
  lambda: {
    perMillionRequests: 0.2,
    perGbSecondArm64: 0.0000133334,
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  apiGatewayRest: { perMillionRequests: 3.5, source: 'https://aws.amazon.com/api-gateway/pricing/' },
  apiGatewayHttp: {
    perMillionRequests: 1.0,
    note: 'HTTP APIs, the first 300 million requests a month; each 512 KB of a request is one request (webhooks are < 512 KB)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  sqsFifo: {
    perMillionRequests: 0.5,
    note: 'each 64 KB chunk of a payload is one request; every message here is < 64 KB',
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  dynamodbOnDemand: {
    perMillionWriteRequestUnits: 0.625,
    perMillionReadRequestUnits: 0.125,
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  eventBridgeScheduler: {
    perMillionInvocations: 1.0,
    note: '14M invocations free per month, then $1.00/M (free tier ignored here); CreateSchedule/DeleteSchedule are API calls, not billed as invocations',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  eventBridgeCustomEvents: {
    perMillionEvents: 1.0,
    note: 'each 64 KB chunk of an event is one event',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  stepFunctionsStandard: {
    perThousandStateTransitions: 0.025,
    source: 'https://aws.amazon.com/step-functions/pricing/',
  },
} as const;

export const ASSUMPTIONS = {
  /** lib/stack.ts: ApiFunction 512 MB, IngressFunction 256 MB, WorkerFunction WORKER.memoryMb; all arm64. */
  lambdaMemoryMb: { api: 512, ingress: 256, worker: WORKER.memoryMb, status: 256, stepFunctionsTask: WORKER.memoryMb },
  /** Assumed, not measured: billed duration of every invocation of every function but the status function. */
  lambdaDurationMs: 50,
  /** Assumed: the status function does one GetItem (warm: a few ms; billed per 1 ms). */
  statusDurationMs: 10,
  /**
   * The customer's browser polls the status from creation until terminal, through the status
   * function's URL (StatusUrl: a Lambda invocation, no API Gateway request), in both designs.
   * The REST route of the API (API Gateway + ApiFunction) is priced on its own row.
   */
  pollIntervalSeconds: 3,
  /**
   * How long it polls: the lifecycle's duration, capped at 5 min (a browser gives up). An
   * abandoned PaymentIntents order lives PAYMENT_EXPIRY_SECONDS, at least 300 s: always the cap.
   */
  pollingSeconds: {
    happy: 60,
    declined: 60,
    pendingExpiry: 300,
    deadlineMissed: 300,
    piPaid: 60,
    piDeclined: 60,
    piAbandoned: 300,
  } as Record<LifecycleKey, number>,
  freeTiers: 'ignored',
  sqsReceives:
    "one ReceiveMessage per worker batch as the sandbox's poller formed them (≈ one per message at low traffic) and one DeleteMessageBatch per batch with a success; Lambda's idle long polling of the queue is a fixed monthly cost, not per order, and left out",
} as const;

/**
 * A Step Functions Standard design of the same lifecycles: the API Lambda creates the source (or
 * creates and confirms the PaymentIntent) and the order, and starts an execution; the workflow
 * waits for the customer with a task token (`.waitForTaskToken`, TimeoutSeconds = the pending
 * expiry: 1 h for a source, PAYMENT_EXPIRY_SECONDS for a PaymentIntent); the ingress verifies
 * the webhook and calls SendTaskSuccess/SendTaskFailure; DynamoDB and EventBridge are direct
 * service integrations; Stripe calls are Lambda tasks. Every state entered is one billed
 * transition, retries included. The lists below are the states entered, in order, per lifecycle.
 *
 * PaymentIntents (piPaid, piDeclined, piAbandoned), the same design with what that API changes:
 * - Stripe captures when the customer authorizes: no Charge task and no charge-outcome Choice;
 *   `payment_intent.succeeded` ends the wait (SendTaskSuccess) and the order is paid.
 * - A failed payment (`payment_intent.payment_failed`: SendTaskFailure → Catch) and the expiry
 *   (the wait's States.Timeout → Catch) cancel the PaymentIntent, as ours does, so nobody can
 *   pay it later: one Lambda task each (stripe-node `paymentIntents.cancel`, idempotent). A
 *   Step Functions HTTP Task could call Stripe without the Lambda, but it is billed the same
 *   transition and the Lambda keeps our gateway's error mapping; the Sources design uses
 *   Lambda tasks too, so the two APIs compare alike.
 * - On expiry the cancel's answer decides (Stripe refuses to cancel a PaymentIntent the
 *   customer paid meanwhile): a Choice on its status before recording, as our worker decides
 *   from the cancel's observation.
 * - The webhooks that decide nothing (`payment_intent.requires_action` when the API confirms,
 *   `charge.succeeded` after `payment_intent.succeeded`, `payment_intent.canceled` after our
 *   cancel) find no task token to complete: that ingress drops them, no transition. Ours
 *   records them (SQS requests, a worker invocation, a DynamoDB write): those are in our
 *   column only, beside ingress invocations and DynamoDB taken as equal in both designs (see
 *   costOf), so the comparison leans, slightly, against ours.
 */
export const STEP_FUNCTIONS_STATES: Record<LifecycleKey, { states: string[]; lambdaTasks: number }> = {
  // create → authorize → charge → paid
  happy: {
    states: [
      'SaveTaskToken+WaitForAuthorization (dynamodb:updateItem.waitForTaskToken)',
      'IsChargeable (Choice)',
      'RecordChargeable (dynamodb:updateItem)',
      'Charge (Lambda: Stripe charges.create, idempotency key)',
      'ChargeSucceeded? (Choice)',
      'RecordPaid (dynamodb:updateItem)',
      'PublishPaid (events:putEvents)',
      'Done (Succeed)',
    ],
    lambdaTasks: 1,
  },
  // create → declined
  declined: {
    states: [
      'SaveTaskToken+WaitForAuthorization (SendTaskFailure → Catch)',
      'RecordFailed (dynamodb:updateItem)',
      'PublishFailed (events:putEvents)',
      'Done (Succeed)',
    ],
    lambdaTasks: 0,
  },
  // create → nobody pays → the wait times out after 1 h → reconcile with Stripe → canceled
  pendingExpiry: {
    states: [
      'SaveTaskToken+WaitForAuthorization (States.Timeout → Catch)',
      'ReconcileSource (Lambda: Stripe sources.retrieve)',
      'StillPending? (Choice)',
      'RecordCanceled (dynamodb:updateItem)',
      'PublishCanceled (events:putEvents)',
      'Done (Succeed)',
    ],
    lambdaTasks: 1,
  },
  // create → authorize → the charge fails as often as our worker tried it → wait for the deadline
  // → reconcile (re-send the charge: not chargeable) → canceled
  deadlineMissed: {
    states: [
      'SaveTaskToken+WaitForAuthorization (dynamodb:updateItem.waitForTaskToken)',
      'IsChargeable (Choice)',
      'RecordChargeable (dynamodb:updateItem)',
      ...Array.from(
        { length: QUEUE.maxReceiveCount },
        (_, i) =>
          `Charge attempt ${i + 1} (Lambda; Retry on 5xx${i === QUEUE.maxReceiveCount - 1 ? ', then Catch' : ''})`,
      ),
      'WaitUntilDeadline (Wait, Timestamp)',
      'ReconcileCharge (Lambda: re-send with the idempotency key → source not chargeable)',
      'Outcome? (Choice)',
      'RecordCanceled (dynamodb:updateItem)',
      'PublishCanceled (events:putEvents)',
      'Done (Succeed)',
    ],
    lambdaTasks: QUEUE.maxReceiveCount + 1,
  },
  // create+confirm → the customer authorizes → Stripe captures → paid
  piPaid: {
    states: [
      'SaveTaskToken+WaitForPayment (dynamodb:updateItem.waitForTaskToken)',
      'Succeeded? (Choice: the amount received is the order’s)',
      'RecordPaid (dynamodb:updateItem)',
      'PublishPaid (events:putEvents)',
      'Done (Succeed)',
    ],
    lambdaTasks: 0,
  },
  // create+confirm → the customer declines → failed, and the PaymentIntent is canceled
  piDeclined: {
    states: [
      'SaveTaskToken+WaitForPayment (SendTaskFailure → Catch)',
      'RecordFailed (dynamodb:updateItem)',
      'CancelPaymentIntent (Lambda: Stripe paymentIntents.cancel)',
      'PublishFailed (events:putEvents)',
      'Done (Succeed)',
    ],
    lambdaTasks: 1,
  },
  // create+confirm → nobody pays → the wait times out after PAYMENT_EXPIRY_SECONDS → cancel the
  // PaymentIntent (its answer says whether the customer paid after all) → canceled
  piAbandoned: {
    states: [
      'SaveTaskToken+WaitForPayment (States.Timeout → Catch)',
      'CancelPaymentIntent (Lambda: Stripe paymentIntents.cancel)',
      'Canceled? (Choice: canceled | succeeded | processing)',
      'RecordCanceled (dynamodb:updateItem)',
      'PublishCanceled (events:putEvents)',
      'Done (Succeed)',
    ],
    lambdaTasks: 1,
  },
};

export interface CostLines {
  apiGateway: number;
  lambdaRequests: number;
  lambdaCompute: number;
  sqs: number;
  dynamodb: number;
  scheduler: number;
  eventBridge: number;
  stepFunctions: number;
}

export interface LifecycleCost {
  key: LifecycleKey;
  polls: number;
  /** USD per 1,000 orders. */
  ours: CostLines & { total: number };
  oursWithoutPolling: CostLines & { total: number };
  /** The same, with the browser polling the REST route (API Gateway + ApiFunction) instead of StatusUrl. */
  oursPollingViaRest: CostLines & { total: number };
  ratioPollingViaRest: number;
  /** SQS + Scheduler + the worker Lambda. */
  oursOrchestration: number;
  stepFunctions: CostLines & { total: number; transitions: number };
  stepFunctionsWithoutPolling: CostLines & { total: number };
  /** State transitions + the Lambda tasks calling Stripe. */
  stepFunctionsOrchestration: number;
  ratio: number;
  ratioWithoutPolling: number;
  ratioOrchestration: number;
  dominant: { line: keyof CostLines; share: number };
  dominantWithoutPolling: { line: keyof CostLines; share: number };
}

export const COST_TARGETS = { totalPer1000: 0.05, maxRatioToStepFunctions: 0.25 } as const;

const PER_1000 = 1000;
const perMillion = (count: number, price: number) => ((count * price) / 1e6) * PER_1000;
const gbSeconds = (invocations: number, memoryMb: number, durationMs: number = ASSUMPTIONS.lambdaDurationMs) =>
  invocations * (memoryMb / 1024) * (durationMs / 1000);
const lambdaCompute = (gbs: number) => gbs * PRICES.lambda.perGbSecondArm64 * PER_1000;

const total = (l: CostLines) => Object.values(l).reduce((s, v) => s + v, 0);
const tidy = (l: CostLines): CostLines & { total: number } => {
  const t = total(l);
  return {
    ...(Object.fromEntries(Object.entries(l).map(([k, v]) => [k, round(v, 6)])) as unknown as CostLines),
    total: round(t, 6),
  };
};
function dominant(l: CostLines): { line: keyof CostLines; share: number } {
  const [line, v] = (Object.entries(l) as [keyof CostLines, number][]).sort((a, b) => b[1] - a[1])[0] as [
    keyof CostLines,
    number,
  ];
  return { line, share: round(v / total(l), 3) };
}

export function costOf(c: LifecycleCounts): LifecycleCost {
  const p = c.perOrder;
  const mem = ASSUMPTIONS.lambdaMemoryMb;
  const withPolls = (polls: number, via: 'functionUrl' | 'rest' = 'functionUrl') => {
    // Status polls: the function URL costs the status function's invocations only; the REST
    // route costs an API Gateway request and an ApiFunction invocation each.
    const rest = via === 'rest' ? polls : 0;
    const url = via === 'functionUrl' ? polls : 0;
    const apiInvocations = p.lambda.api + rest;
    const pollCompute = gbSeconds(url, mem.status, ASSUMPTIONS.statusDurationMs);
    const ours: CostLines = {
      // The storefront calls (and REST polls) through the REST API; Stripe's webhooks through the
      // webhook HTTP API, one request per ingress invocation.
      apiGateway:
        perMillion(p.lambda.api + rest, PRICES.apiGatewayRest.perMillionRequests) +
        perMillion(p.lambda.ingress, PRICES.apiGatewayHttp.perMillionRequests),
      lambdaRequests: perMillion(
        apiInvocations + url + p.lambda.ingress + p.lambda.worker,
        PRICES.lambda.perMillionRequests,
      ),
      lambdaCompute: lambdaCompute(
        gbSeconds(apiInvocations, mem.api) +
          pollCompute +
          gbSeconds(p.lambda.ingress, mem.ingress) +
          gbSeconds(p.lambda.worker, mem.worker),
      ),
      sqs: perMillion(
        p.sqs.ingressSends + p.sqs.schedulerSends + p.sqs.receiveRequests + p.sqs.deleteRequests,
        PRICES.sqsFifo.perMillionRequests,
      ),
      dynamodb:
        perMillion(p.dynamodb.wru, PRICES.dynamodbOnDemand.perMillionWriteRequestUnits) +
        perMillion(p.dynamodb.rru + polls * c.statusPoll.rru, PRICES.dynamodbOnDemand.perMillionReadRequestUnits),
      scheduler: perMillion(p.scheduler.fired, PRICES.eventBridgeScheduler.perMillionInvocations),
      eventBridge: perMillion(p.eventbridge.entries, PRICES.eventBridgeCustomEvents.perMillionEvents),
      stepFunctions: 0,
    };
    // The same system as a Step Functions workflow: no SQS, no Scheduler, no worker function;
    // the transitions and the Lambda tasks calling Stripe instead. API Gateway, the API and
    // ingress functions, DynamoDB and EventBridge are taken as equal to ours.
    const sfn = STEP_FUNCTIONS_STATES[c.key];
    const sfnLines: CostLines = {
      apiGateway: ours.apiGateway,
      lambdaRequests: perMillion(
        apiInvocations + url + p.lambda.ingress + sfn.lambdaTasks,
        PRICES.lambda.perMillionRequests,
      ),
      lambdaCompute: lambdaCompute(
        gbSeconds(apiInvocations, mem.api) +
          pollCompute +
          gbSeconds(p.lambda.ingress, mem.ingress) +
          gbSeconds(sfn.lambdaTasks, mem.stepFunctionsTask),
      ),
      sqs: 0,
      dynamodb: ours.dynamodb,
      scheduler: 0,
      eventBridge: ours.eventBridge,
      stepFunctions: ((sfn.states.length * PRICES.stepFunctionsStandard.perThousandStateTransitions) / 1000) * PER_1000,
    };
    const oursOrchestration =
      ours.sqs +
      ours.scheduler +
      perMillion(p.lambda.worker, PRICES.lambda.perMillionRequests) +
      lambdaCompute(gbSeconds(p.lambda.worker, mem.worker));
    const sfnOrchestration =
      sfnLines.stepFunctions +
      perMillion(sfn.lambdaTasks, PRICES.lambda.perMillionRequests) +
      lambdaCompute(gbSeconds(sfn.lambdaTasks, mem.stepFunctionsTask));
    return { ours, sfnLines, oursOrchestration, sfnOrchestration, transitions: sfn.states.length };
  };
  const polls = ASSUMPTIONS.pollingSeconds[c.key] / ASSUMPTIONS.pollIntervalSeconds;
  const a = withPolls(polls);
  const b = withPolls(0);
  const viaRest = withPolls(polls, 'rest');
  return {
    key: c.key,
    polls,
    ours: tidy(a.ours),
    oursWithoutPolling: tidy(b.ours),
    oursPollingViaRest: tidy(viaRest.ours),
    ratioPollingViaRest: round(total(viaRest.ours) / total(viaRest.sfnLines), 3),
    oursOrchestration: round(a.oursOrchestration, 6),
    stepFunctions: { ...tidy(a.sfnLines), transitions: a.transitions },
    stepFunctionsWithoutPolling: tidy(b.sfnLines),
    stepFunctionsOrchestration: round(a.sfnOrchestration, 6),
    ratio: round(total(a.ours) / total(a.sfnLines), 3),
    ratioWithoutPolling: round(total(b.ours) / total(b.sfnLines), 3),
    ratioOrchestration: round(a.oursOrchestration / a.sfnOrchestration, 3),
    dominant: dominant(a.ours),
    dominantWithoutPolling: dominant(b.ours),
  };
}
