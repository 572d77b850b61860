import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chargeDeadline,
  type Decision,
  decide,
  type IntentObservation,
  isTerminal,
  type Observation,
  type Order,
  type OrderEvent,
  type OrderEventType,
  type PaymentApi,
  type TimerKind,
} from '../../lambdas/domain/index.js';
import { created, event, PAYMENT_INTENT_ID, piCreated, piEvent, T0 } from '../support/orders.js';

const RUNS = 1000;

// ------------------------------------------------------------------------------------ scenarios

/** One order's life: its creation, then events picked from a pool (picking one twice is a redelivery). */
interface Scenario {
  api: PaymentApi;
  pool: OrderEvent[];
  picks: number[];
  /** PaymentIntents: the money every report of the PaymentIntent's success carries. */
  money?: { amount: number; currency: string; livemode: boolean; matches: boolean };
}

const picks = fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 40 });
const minutes = fc.integer({ min: 0, max: 12 * 60 });
const atMinute = (m: number) => new Date(T0.getTime() + m * 60_000).toISOString();

const sourceObs = fc.constantFrom<Observation>(
  ...(['pending', 'chargeable', 'consumed', 'canceled', 'failed'] as const).map((status) => ({
    kind: 'source' as const,
    status,
  })),
);
const chargeObs = fc.constantFrom<Observation>(
  { kind: 'charge', outcome: 'succeeded', chargeId: 'ch_1' },
  { kind: 'charge', outcome: 'pending', chargeId: 'ch_1' },
  { kind: 'charge', outcome: 'failed', chargeId: 'ch_1' },
  { kind: 'charge', outcome: 'source_not_chargeable' },
);

/** Sources orders: the pool of events for one order. */
const sourcesPool = fc
  .tuple(minutes, fc.constantFrom(1099, 1000), fc.constantFrom('usd', 'eur'), fc.boolean(), sourceObs, chargeObs)
  .map(([m, amount, currency, livemode, so, co]): OrderEvent[] => {
    const at = atMinute(m);
    return [
      event('source.chargeable', { at }),
      event('source.chargeable', {
        id: 'evt_chargeable_odd',
        at,
        amount,
        currency,
        livemode: livemode && amount === 1000,
      }),
      event('source.failed'),
      event('source.canceled'),
      event('charge.succeeded'),
      event('charge.succeeded', { id: 'evt_succeeded_2', chargeId: 'ch_2' }),
      event('charge.pending'),
      event('charge.failed'),
      event('charge.refunded'),
      event('charge.dispute.created'),
      { ...event('timer.pending_expired'), observation: so } as OrderEvent,
      { ...event('timer.deadline'), observation: co } as OrderEvent,
      event('merchant.cancel'),
      created(),
    ];
  });

/** The money a PaymentIntent's success reports: the order's (in any case), or another amount, currency or mode. */
const intentMoney = fc.constantFrom(
  { amount: 1099, currency: 'usd', livemode: false, matches: true },
  { amount: 1099, currency: 'USD', livemode: false, matches: true },
  { amount: 1000, currency: 'usd', livemode: false, matches: false },
  { amount: 1099, currency: 'eur', livemode: false, matches: false },
  { amount: 1099, currency: 'usd', livemode: true, matches: false },
);
type Money = Scenario['money'] & {};

/** What a cancel attempt finds: canceled, processing, or succeeded with the PaymentIntent's money. */
const intentObs = (money: Money) =>
  fc
    .tuple(
      fc.constantFrom('canceled', 'succeeded', 'processing') as fc.Arbitrary<IntentObservation['status']>,
      fc.boolean(),
    )
    .map(
      ([status, withCharge]): IntentObservation => ({
        kind: 'payment_intent',
        status,
        amount: money.amount,
        currency: money.currency,
        livemode: money.livemode,
        ...(status === 'succeeded' && withCharge ? { chargeId: 'ch_pi_1' } : {}),
      }),
    );

const observed = (type: 'timer.pending_expired' | 'timer.recheck' | 'merchant.cancel', o?: IntentObservation) =>
  ({ ...piEvent(type), ...(o ? { observation: o } : {}) }) as OrderEvent;

/**
 * PaymentIntents orders: the PaymentIntent's events (its success carrying `money`), another
 * PaymentIntent's success, charge events (ours and another's), the timers and the merchant cancel,
 * each twice under its one id with different observations (a redelivery after Stripe moved on),
 * and the creation again.
 */
const intentsPool = intentMoney.chain((money) =>
  fc
    .tuple(
      minutes,
      fc.boolean(),
      fc.constantFrom(undefined, 'payment_intent_payment_attempt_failed', 'payment_intent_payment_attempt_expired'),
      fc.array(intentObs(money), { minLength: 6, maxLength: 6 }),
    )
    .map(([m, withCharge, failureCode, obs]): { money: Money; pool: OrderEvent[] } => ({
      money,
      pool: [
        piEvent('payment_intent.succeeded', {
          at: atMinute(m),
          amount: money.amount,
          currency: money.currency,
          livemode: money.livemode,
          chargeId: withCharge ? 'ch_pi_1' : undefined,
        }),
        piEvent('payment_intent.processing', { at: atMinute(m) }),
        piEvent('payment_intent.payment_failed', failureCode ? { failureCode } : {}),
        piEvent('payment_intent.canceled'),
        piEvent('payment_intent.requires_action'),
        piEvent('payment_intent.succeeded', { id: 'evt_pi_foreign', paymentIntentId: 'pi_not_ours', chargeId: 'ch_x' }),
        piEvent('charge.succeeded'),
        piEvent('charge.pending'),
        piEvent('charge.failed'),
        piEvent('charge.refunded'),
        piEvent('charge.dispute.created'),
        piEvent('charge.succeeded', { id: 'evt_charge_foreign', chargePaymentIntentId: 'pi_not_ours' }),
        piEvent('charge.refunded', { id: 'evt_refund_foreign', chargePaymentIntentId: 'pi_not_ours' }),
        observed('timer.pending_expired', obs[0]),
        observed('timer.pending_expired', obs[1]),
        observed('timer.recheck', obs[2]),
        observed('timer.recheck', obs[3]),
        observed('merchant.cancel', obs[4]),
        observed('merchant.cancel', obs[5]),
        observed('merchant.cancel'),
        piCreated(),
      ],
    })),
);

/** The other API's events, as they would reach an order of `api` (they carry its order id). */
const otherApiEvents = (api: PaymentApi) =>
  fc
    .tuple(sourceObs, chargeObs, intentObs({ amount: 1099, currency: 'usd', livemode: false, matches: true }))
    .map(([so, co, io]): OrderEvent[] =>
      api === 'payment_intents'
        ? [
            event('source.chargeable'),
            event('source.failed'),
            event('source.canceled'),
            { ...event('timer.deadline'), observation: co } as OrderEvent,
            // A Sources-shaped pending expiry observation is no PaymentIntent's: never decided on.
            { ...event('timer.pending_expired', { id: 'tmr_source_shaped' }), observation: so } as OrderEvent,
          ]
        : [
            piEvent('payment_intent.succeeded'),
            piEvent('payment_intent.processing'),
            piEvent('payment_intent.payment_failed'),
            piEvent('payment_intent.canceled'),
            piEvent('payment_intent.requires_action'),
            { ...event('timer.recheck'), observation: io } as OrderEvent,
          ],
    );

const SCENARIOS: Record<string, fc.Arbitrary<Scenario>> = {
  'Sources orders': fc.tuple(sourcesPool, picks).map(([pool, p]) => ({ api: 'sources' as const, pool, picks: p })),
  'Sources orders, with PaymentIntents events arriving': fc
    .tuple(sourcesPool, otherApiEvents('sources'), picks)
    .map(([pool, other, p]) => ({ api: 'sources' as const, pool: [...pool, ...other], picks: p })),
  'PaymentIntents orders': fc
    .tuple(intentsPool, picks)
    .map(([{ money, pool }, p]) => ({ api: 'payment_intents' as const, pool, money, picks: p })),
  'PaymentIntents orders, with Sources events arriving': fc
    .tuple(intentsPool, otherApiEvents('payment_intents'), picks)
    .map(([{ money, pool }, other, p]) => ({
      api: 'payment_intents' as const,
      pool: [...pool, ...other],
      money,
      picks: p,
    })),
};
const INTENT_SCENARIOS = Object.entries(SCENARIOS).filter(([name]) => name.startsWith('PaymentIntents'));

interface Step {
  event: OrderEvent;
  before: Order | undefined;
  d: Decision;
}

function run(s: Scenario): { order: Order | undefined; steps: Step[] } {
  let order: Order | undefined;
  const steps: Step[] = [];
  const events = [s.api === 'sources' ? created() : piCreated(), ...s.picks.map((p) => s.pool[p % s.pool.length])];
  for (const e of events) {
    if (!e) continue;
    const d = decide(order, e, T0);
    steps.push({ event: e, before: order, d });
    if (d.kind === 'applied') order = d.order;
  }
  return { order, steps };
}

const effectsOf = (steps: Step[]) => steps.flatMap((s) => (s.d.kind === 'applied' ? s.d.effects : []));
const changed = (s: Step) => s.d.kind === 'applied' && s.d.ignored === undefined;
const observationOf = (e: OrderEvent): Observation | undefined => (e as { observation?: Observation }).observation;
/** The Stripe API an event belongs to; the timers too: the deadline is a source's, the re-check a PaymentIntent's. */
const apiOf = (t: OrderEventType): PaymentApi | undefined =>
  t.startsWith('source.') || t === 'timer.deadline'
    ? 'sources'
    : t.startsWith('payment_intent.') || t === 'timer.recheck'
      ? 'payment_intents'
      : undefined;
const timerKind = (t: OrderEventType): TimerKind | undefined =>
  t === 'timer.pending_expired'
    ? 'pending_expired'
    : t === 'timer.deadline'
      ? 'deadline'
      : t === 'timer.recheck'
        ? 'recheck'
        : undefined;

/** Did money reach Stripe for this order: our PaymentIntent's success delivered, or a success acted on. */
const moneyMoved = (steps: Step[]) =>
  steps.some(
    (s) =>
      (s.event.type === 'payment_intent.succeeded' && s.event.paymentIntentId === PAYMENT_INTENT_ID) ||
      (changed(s) &&
        observationOf(s.event)?.kind === 'payment_intent' &&
        (observationOf(s.event) as IntentObservation).status === 'succeeded'),
  );

// ----------------------------------------------------------------------------------- properties

describe.each(Object.entries(SCENARIOS))(
  'state machine properties: %s (any events, any order, with duplicates)',
  (_name, scenario) => {
    it('keeps at most one payment: at most one charge and one refund, and none refunded when it ends paid', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          const { order, steps } = run(s);
          const effects = effectsOf(steps);
          const charges = effects.filter((e) => e.type === 'charge').length;
          const refunds = effects.filter((e) => e.type === 'refund').length;
          expect(charges).toBeLessThanOrEqual(s.api === 'sources' ? 1 : 0);
          expect(refunds).toBeLessThanOrEqual(1);
          if (order?.status === 'paid') expect(refunds).toBe(0);
          return true;
        }),
        { numRuns: RUNS },
      );
    });

    it('never turns paid into anything but refunded, and only on a refund', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          for (const step of run(s).steps) {
            if (step.before?.status !== 'paid' || step.d.kind !== 'applied') continue;
            expect(['paid', 'refunded']).toContain(step.d.order.status);
            if (step.d.order.status === 'refunded') expect(step.event.type).toBe('charge.refunded');
          }
          return true;
        }),
        { numRuns: RUNS },
      );
    });

    it('grows the version by exactly one per applied event, and not at all for duplicates or rejections', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          const { order, steps } = run(s);
          const applied = steps.filter((x) => x.d.kind === 'applied').length;
          expect(order?.version).toBe(applied);
          expect(order?.history.length).toBe(applied);
          for (const x of steps) {
            if (x.d.kind === 'applied') expect(x.d.order.version).toBe((x.before?.version ?? 0) + 1);
            if (x.d.kind === 'duplicate') expect(x.d.order).toBe(x.before);
          }
          return true;
        }),
        { numRuns: RUNS },
      );
    });

    it('treats a redelivered event as a no-op: dropping the redeliveries changes nothing', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          const { order, steps } = run(s);
          const redelivered = new Set<number>();
          steps.forEach((x, i) => {
            if (x.before?.history.some((h) => h.eventId === x.event.id)) {
              expect(x.d.kind).toBe('duplicate');
              redelivered.add(i);
            }
          });
          // The same run without them (step 0 is the creation, never a redelivery).
          const kept = steps.slice(1).flatMap((x, i) => (redelivered.has(i + 1) ? [] : [x.event]));
          let again: Order | undefined;
          for (const e of [steps[0]?.event, ...kept]) {
            if (!e) continue;
            const d = decide(again, e, T0);
            if (d.kind === 'applied') again = d.order;
          }
          expect(again).toEqual(order);
          return true;
        }),
        { numRuns: RUNS },
      );
    });

    it('records each event id at most once', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          const ids = run(s).order?.history.map((h) => h.eventId) ?? [];
          return new Set(ids).size === ids.length;
        }),
        { numRuns: RUNS },
      );
    });

    it('records the other API’s events without effect', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          for (const x of run(s).steps) {
            const api = apiOf(x.event.type);
            if (api === undefined || api === s.api || x.d.kind === 'duplicate') continue;
            expect(x.d).toMatchObject({ kind: 'applied', ignored: 'other_api', effects: [] });
          }
          return true;
        }),
        { numRuns: RUNS },
      );
    });

    it('leaves no timer behind a terminal order, and publishes each lifecycle event once', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          const { order, steps } = run(s);
          const live = new Set<string>();
          for (const x of steps) {
            // Scheduler deletes a timer once it has fired.
            const fired = timerKind(x.event.type);
            if (fired) live.delete(fired);
            for (const e of x.d.kind === 'applied' ? x.d.effects : []) {
              if (e.type === 'scheduleTimer') live.add(e.kind);
              if (e.type === 'deleteTimer') live.delete(e.kind);
            }
          }
          if (order && isTerminal(order.status)) expect([...live]).toEqual([]);
          const published = effectsOf(steps).flatMap((e) => (e.type === 'publish' ? [e.event] : []));
          expect(new Set(published).size).toBe(published.length);
          if (order && isTerminal(order.status)) expect(published.at(-1)).toBe(`order.${order.status}`);
          return true;
        }),
        { numRuns: RUNS },
      );
    });

    it('only refunds money that arrived for an order not paid', () => {
      fc.assert(
        fc.property(scenario, (s) => {
          for (const x of run(s).steps) {
            if (x.d.kind !== 'applied' || !x.d.effects.some((e) => e.type === 'refund')) continue;
            const obs = observationOf(x.event);
            const success =
              x.event.type === 'charge.succeeded' ||
              x.event.type === 'payment_intent.succeeded' ||
              (obs?.kind === 'payment_intent' && obs.status === 'succeeded');
            expect(success).toBe(true);
            expect(x.before?.status).not.toBe('paid');
            expect(['failed', 'refunded']).toContain(x.d.order.status);
          }
          return true;
        }),
        { numRuns: RUNS },
      );
    });
  },
);

describe.each(INTENT_SCENARIOS)('PaymentIntents money properties: %s', (_name, scenario) => {
  it('refunds money that moved for an order ending unpaid exactly once (unless refunded in Stripe already)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { order, steps } = run(s);
        const refunds = effectsOf(steps).filter((e) => e.type === 'refund').length;
        // A refund made in Stripe (the Dashboard) arrives as charge.refunded: nothing left to refund.
        const refundedInStripe = steps.some((x) => changed(x) && x.event.type === 'charge.refunded');
        const owed = moneyMoved(steps) && order?.status !== 'paid' && !refundedInStripe;
        expect(refunds).toBe(owed ? 1 : 0);
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('never pays an order whose PaymentIntent succeeded with another amount, currency or mode', () => {
    fc.assert(
      fc.property(
        scenario.filter((s) => s.money?.matches === false),
        (s) => {
          const { order, steps } = run(s);
          for (const x of steps) if (x.d.kind === 'applied') expect(x.d.order.status).not.toBe('paid');
          expect(order?.status).not.toBe('paid');
          // The success that was acted on failed the order with the reason and refunded it.
          const acted = steps.find(
            (x) =>
              changed(x) &&
              (x.event.type === 'payment_intent.succeeded' ||
                (observationOf(x.event) as IntentObservation | undefined)?.status === 'succeeded') &&
              x.before?.status !== undefined &&
              ['pending', 'charging'].includes(x.before.status),
          );
          if (acted && acted.d.kind === 'applied') {
            expect(acted.d.order.failureReason).toMatch(/_mismatch$/);
            expect(acted.d.effects.filter((e) => e.type === 'refund')).toHaveLength(1);
          }
          return true;
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('pays an order whose PaymentIntent succeeded with its money while it was pending or charging', () => {
    fc.assert(
      fc.property(
        scenario.filter((s) => s.money?.matches === true),
        (s) => {
          for (const x of run(s).steps) {
            // Where the use cases look at the PaymentIntent: the expiry and the merchant cancel of a
            // pending order, the re-check of a charging one; and its success webhook.
            const obs = observationOf(x.event);
            const seen = obs?.kind === 'payment_intent' && obs.status === 'succeeded';
            const from = x.before?.status;
            const ours =
              (x.event.type === 'payment_intent.succeeded' &&
                x.event.paymentIntentId === PAYMENT_INTENT_ID &&
                (from === 'pending' || from === 'charging')) ||
              (seen && x.event.type !== 'timer.recheck' && from === 'pending') ||
              (seen && x.event.type === 'timer.recheck' && from === 'charging');
            if (!ours || x.d.kind !== 'applied') continue;
            expect(x.d.order.status).toBe('paid');
            expect(x.d.effects.some((e) => e.type === 'refund')).toBe(false);
          }
          return true;
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('ignores every event about another PaymentIntent', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        for (const x of run(s).steps) {
          const foreignIntent =
            x.event.type.startsWith('payment_intent.') && x.event.paymentIntentId !== PAYMENT_INTENT_ID;
          const foreignCharge = (x.event as { chargePaymentIntentId?: string }).chargePaymentIntentId === 'pi_not_ours';
          if ((!foreignIntent && !foreignCharge) || x.d.kind === 'duplicate') continue;
          expect(x.d).toMatchObject({ kind: 'applied', effects: [] });
          if (x.d.kind === 'applied') expect(x.d.order.status).toBe(x.before?.status);
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('cancels the PaymentIntent only when its payment failed, and then the order fails', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { steps } = run(s);
        let cancels = 0;
        for (const x of steps) {
          if (x.d.kind !== 'applied') continue;
          const n = x.d.effects.filter((e) => e.type === 'cancelPaymentIntent').length;
          if (n === 0) continue;
          cancels += n;
          expect(x.event.type).toBe('payment_intent.payment_failed');
          expect(x.d.order.status).toBe('failed');
        }
        expect(cancels).toBeLessThanOrEqual(1);
        return true;
      }),
      { numRuns: RUNS },
    );
  });
});

describe('state machine properties: Sources orders only', () => {
  const sources = SCENARIOS['Sources orders'] as fc.Arbitrary<Scenario>;

  it('gives every order that saw source.chargeable the deadline chargeDeadline(chargeableAt)', () => {
    fc.assert(
      fc.property(sources, (s) => {
        const { order, steps } = run(s);
        if (!order) return false;
        const became = steps.find(
          (x) =>
            x.event.type === 'source.chargeable' &&
            x.before?.status === 'pending' &&
            x.d.kind === 'applied' &&
            x.d.order.status === 'chargeable',
        );
        if (became) expect(order.chargeableAt).toBe(became.event.at);
        if (order.chargeableAt !== undefined) {
          expect(order.deadline).toBe(chargeDeadline(new Date(order.chargeableAt)).toISOString());
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('only refunds charges that succeeded for orders canceled or failed', () => {
    fc.assert(
      fc.property(sources, (s) => {
        const { steps } = run(s);
        return steps.every(
          (x) =>
            x.d.kind !== 'applied' ||
            !x.d.effects.some((e) => e.type === 'refund') ||
            (x.event.type === 'charge.succeeded' && ['canceled', 'failed'].includes(x.before?.status ?? '')),
        );
      }),
      { numRuns: RUNS },
    );
  });
});
