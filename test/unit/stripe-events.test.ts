import { describe, expect, it } from 'vitest';
import { translateStripeEvent } from '../../lambdas/adapters/stripe/events.js';

const ORDER = 'ord_01JZ0000000000000000000001';
const base = { id: 'evt_1', created: 1_790_000_000, livemode: false };
const source = (extra: Record<string, unknown> = {}) => ({
  id: 'src_1',
  object: 'source',
  amount: 1099,
  currency: 'usd',
  livemode: false,
  metadata: { order_id: ORDER },
  ...extra,
});

describe('translateStripeEvent', () => {
  it('turns source.chargeable into the domain event, with Stripe’s created time as `at`', () => {
    const t = translateStripeEvent({ ...base, type: 'source.chargeable', data: { object: source() } });
    expect(t).toEqual({
      kind: 'event',
      livemode: false,
      event: {
        type: 'source.chargeable',
        id: 'evt_1',
        at: new Date(1_790_000_000_000).toISOString(),
        orderId: ORDER,
        sourceId: 'src_1',
        amount: 1099,
        currency: 'usd',
        livemode: false,
      },
    });
  });

  it('takes a charge’s source from charge.source (Sources API)', () => {
    const t = translateStripeEvent({
      ...base,
      type: 'charge.succeeded',
      data: {
        object: {
          id: 'ch_1',
          object: 'charge',
          amount: 1099,
          currency: 'usd',
          metadata: { order_id: ORDER },
          source: source(),
        },
      },
    });
    expect(t).toMatchObject({
      kind: 'event',
      event: { type: 'charge.succeeded', chargeId: 'ch_1', chargeSourceId: 'src_1', orderId: ORDER },
    });
  });

  it('keeps the failure code of a failed charge', () => {
    const t = translateStripeEvent({
      ...base,
      type: 'charge.failed',
      data: {
        object: { id: 'ch_1', failure_code: 'charge_declined', metadata: { order_id: ORDER }, source: { id: 'src_1' } },
      },
    });
    expect(t).toMatchObject({ event: { type: 'charge.failed', failureCode: 'charge_declined' } });
  });

  it.each([
    ['an unhandled type', { ...base, type: 'customer.created', data: { object: {} } }, 'unhandled_type'],
    ['no id', { type: 'source.failed', created: 1, data: { object: source() } }, 'not_an_event'],
    ['no data.object', { ...base, type: 'source.failed', data: null }, 'not_an_event'],
    ['a string created', { ...base, created: 'x', type: 'source.failed', data: { object: source() } }, 'not_an_event'],
    [
      'a charge without source nor order',
      { ...base, type: 'charge.succeeded', data: { object: { id: 'ch_1' } } },
      'no_order_reference',
    ],
  ])('ignores %s', (_n, e, reason) => {
    expect(translateStripeEvent(e as never)).toEqual({ kind: 'ignored', reason });
  });

  it('falls back to the source id when metadata has no order id', () => {
    const t = translateStripeEvent({ ...base, type: 'source.canceled', data: { object: source({ metadata: {} }) } });
    expect(t).toMatchObject({ kind: 'event', event: { type: 'source.canceled', sourceId: 'src_1' } });
    expect(t.kind === 'event' ? t.event.orderId : 'x').toBeUndefined();
  });
});
