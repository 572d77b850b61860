import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createOrder } from '../../lambdas/app/index.js';
import { handleStatus } from '../../lambdas/handlers/status.js';
import { sourceIdOf } from '../support/orders.js';
import { makeWorld } from '../support/world.js';

const ev = (method: string, rawPath: string, query?: Record<string, string>): LambdaFunctionURLEvent =>
  ({
    rawPath,
    queryStringParameters: query,
    headers: {},
    requestContext: { http: { method } },
  }) as unknown as LambdaFunctionURLEvent;

describe('status function (function URL)', () => {
  it('answers 200 with the status view for the right client secret, 404 otherwise', async () => {
    const w = makeWorld();
    const { order } = await createOrder(w.deps, { amount: 1099, currency: 'usd', paymentMethod: 'wechat' });
    const ok = await handleStatus(
      w.deps,
      ev('GET', `/orders/${order.id}/status`, { client_secret: order.clientSecret }),
    );
    expect(typeof ok === 'object' && ok.statusCode).toBe(200);
    const body = JSON.parse(typeof ok === 'object' ? (ok.body ?? '') : '');
    expect(body).toMatchObject({ id: order.id, status: 'pending', payment: { sourceId: sourceIdOf(order) } });
    expect(body).not.toHaveProperty('clientSecret');
    const wrong = await handleStatus(w.deps, ev('GET', `/orders/${order.id}/status`, { client_secret: 'x' }));
    expect(typeof wrong === 'object' && wrong.statusCode).toBe(404);
  });

  it.each([
    ['POST', '/orders/ord_01JZ0000000000000000000001/status', { client_secret: 'x' }, 405],
    ['GET', '/orders/ord_01JZ0000000000000000000001/status', undefined, 400],
    ['GET', '/orders/ord_01JZ0000000000000000000001/status', { client_secret: 'x', extra: '1' }, 400],
    ['GET', '/orders/ord_01JZ0000000000000000000001/status', { client_secret: 'x'.repeat(201) }, 400],
    ['GET', '/orders/../status', { client_secret: 'x' }, 400],
    ['GET', '/elsewhere', { client_secret: 'x' }, 404],
  ])('%s %s %j → %i', async (method, path, query, status) => {
    const r = await handleStatus(makeWorld().deps, ev(method, path, query));
    expect(typeof r === 'object' && r.statusCode).toBe(status);
    expect(JSON.parse(typeof r === 'object' ? (r.body ?? '') : '').error.code).toBeTypeOf('string');
  });
});
