import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type ApiDeps, handleApi } from '../../lambdas/handlers/api.js';
import { ROUTES } from '../../lambdas/handlers/api-schema.js';
import { OPENAPI_PATH, render } from '../../scripts/openapi.js';
import { makeWorld } from '../support/world.js';

const deps = (): ApiDeps => ({ ...makeWorld().deps, corsOrigins: ['https://shop.example'] });

const req = (method: string, path: string, body?: unknown, query?: Record<string, string>): APIGatewayProxyEvent =>
  ({
    httpMethod: method,
    path,
    resource: path,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    queryStringParameters: query ?? null,
    pathParameters: null,
  }) as unknown as APIGatewayProxyEvent;

describe('OpenAPI document', () => {
  it('is what `npm run openapi` generates from the zod schemas (run it after changing the API)', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(render());
  });

  it('describes every route the handler serves, and the handler serves every route it describes', async () => {
    const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort());
    const d = deps();
    const res = await handleApi(d, req('POST', '/orders', { amount: 1099, currency: 'usd', paymentMethod: 'wechat' }));
    const id = JSON.parse(res.body).id as string;
    for (const r of ROUTES) {
      const out = await handleApi(d, req(r.method.toUpperCase(), r.path.replace('{id}', id)));
      expect(JSON.parse(out.body).error?.code, `${r.method} ${r.path}`).not.toBe('NOT_FOUND');
    }
    const unknown = await handleApi(d, req('DELETE', `/orders/${id}`));
    expect(unknown.statusCode).toBe(404);
  });

  it('matches what the handler answers, response by response', async () => {
    const d = deps();
    const byPath = Object.fromEntries(ROUTES.map((r) => [`${r.method} ${r.path}`, r]));
    const check = (key: string, status: number, body: string) => {
      const route = byPath[key];
      const schema = route?.responses[status]?.schema;
      expect(schema, `${key} ${status} is documented`).toBeDefined();
      expect(schema?.safeParse(JSON.parse(body)).success, `${key} ${status} matches its schema`).toBe(true);
    };
    const created = await handleApi(
      d,
      req('POST', '/orders', { amount: 1099, currency: 'usd', paymentMethod: 'wechat', metadata: { cart: 'c1' } }),
    );
    check('post /orders', created.statusCode, created.body);
    const bad = await handleApi(
      d,
      req('POST', '/orders', { amount: -1, currency: 'usd', paymentMethod: 'wechat', extra: 1 }),
    );
    check('post /orders', bad.statusCode, bad.body);
    const order = JSON.parse(created.body) as { id: string; clientSecret: string };
    const got = await handleApi(d, req('GET', `/orders/${order.id}`));
    check('get /orders/{id}', got.statusCode, got.body);
    const missing = await handleApi(d, req('GET', '/orders/ord_00000000000000000000000000'));
    check('get /orders/{id}', missing.statusCode, missing.body);
    const status = await handleApi(
      d,
      req('GET', `/orders/${order.id}/status`, undefined, { client_secret: order.clientSecret }),
    );
    check('get /orders/{id}/status', status.statusCode, status.body);
    const list = await handleApi(d, req('GET', '/orders', undefined, { limit: '5' }));
    check('get /orders', list.statusCode, list.body);
    const cancel = await handleApi(d, req('POST', `/orders/${order.id}/cancel`));
    check('post /orders/{id}/cancel', cancel.statusCode, cancel.body);
  });
});
