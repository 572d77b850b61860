import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chargeDeadline,
  type Decision,
  decide,
  type Observation,
  type Order,
  type OrderEvent,
} from '../../lambdas/domain/index.js';
import { created, event, T0 } from '../support/orders.js';

const RUNS = 1000;

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

/** A pool of distinct events (by id) for one order; picking one twice is a redelivery. */
const pool = fc
  .tuple(
    fc.integer({ min: 0, max: 12 * 60 }),
    fc.constantFrom(1099, 1000),
    fc.constantFrom('usd', 'eur'),
    fc.boolean(),
    sourceObs,
    chargeObs,
  )
  .map(([minutes, amount, currency, livemode, so, co]) => {
    const at = new Date(T0.getTime() + minutes * 60_000).toISOString();
    const events: OrderEvent[] = [
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
    return events;
  });

const scenario = fc.tuple(pool, fc.array(fc.nat({ max: 13 }), { minLength: 1, maxLength: 40 }));

function run(events: OrderEvent[], picks: number[]) {
  let order: Order | undefined;
  const steps: { event: OrderEvent; before: Order | undefined; d: Decision }[] = [];
  for (const i of [0, ...picks.map((p) => p + 1)]) {
    const e = i === 0 ? created() : events[i - 1];
    if (!e) continue;
    const d = decide(order, e, T0);
    steps.push({ event: e, before: order, d });
    if (d.kind === 'applied') order = d.order;
  }
  return { order, steps };
}

describe('state machine properties (any events, any order, with duplicates)', () => {
  it('emits at most one charge effect per order', () => {
    fc.assert(
      fc.property(scenario, ([events, picks]) => {
        const { steps } = run(events, picks);
        const charges = steps
          .flatMap((s) => (s.d.kind === 'applied' ? s.d.effects : []))
          .filter((e) => e.type === 'charge');
        return charges.length <= 1;
      }),
      { numRuns: RUNS },
    );
  });

  it('never turns paid into canceled or failed', () => {
    fc.assert(
      fc.property(scenario, ([events, picks]) => {
        const { steps } = run(events, picks);
        return steps.every(
          (s) =>
            !(
              s.before?.status === 'paid' &&
              s.d.kind === 'applied' &&
              ['canceled', 'failed'].includes(s.d.order.status)
            ),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('gives every order that saw source.chargeable the deadline chargeDeadline(chargeableAt)', () => {
    fc.assert(
      fc.property(scenario, ([events, picks]) => {
        const { order, steps } = run(events, picks);
        if (!order) return false;
        const became = steps.find(
          (s) =>
            s.event.type === 'source.chargeable' &&
            s.before?.status === 'pending' &&
            s.d.kind === 'applied' &&
            s.d.order.status === 'chargeable',
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

  it('grows the version by exactly one per applied event, and not at all for duplicates or rejections', () => {
    fc.assert(
      fc.property(scenario, ([events, picks]) => {
        const { order, steps } = run(events, picks);
        const applied = steps.filter((s) => s.d.kind === 'applied').length;
        expect(order?.version).toBe(applied);
        expect(order?.history.length).toBe(applied);
        for (const s of steps) {
          if (s.d.kind === 'applied') expect(s.d.order.version).toBe((s.before?.version ?? 0) + 1);
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('records each event id at most once', () => {
    fc.assert(
      fc.property(scenario, ([events, picks]) => {
        const { order } = run(events, picks);
        const ids = order?.history.map((h) => h.eventId) ?? [];
        return new Set(ids).size === ids.length;
      }),
      { numRuns: RUNS },
    );
  });

  it('only refunds charges that succeeded for orders not paid', () => {
    fc.assert(
      fc.property(scenario, ([events, picks]) => {
        const { steps } = run(events, picks);
        return steps.every(
          (s) =>
            s.d.kind !== 'applied' ||
            !s.d.effects.some((e) => e.type === 'refund') ||
            (s.event.type === 'charge.succeeded' && ['canceled', 'failed'].includes(s.before?.status ?? '')),
        );
      }),
      { numRuns: RUNS },
    );
  });
});
