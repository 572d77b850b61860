/**
 * The API function's routing: Powertools' router, registered from ROUTES (api-schema.ts, the
 * table docs/openapi.json comes from), behind `handleApi` — every route of the table served, every
 * other method and path 404, the path forms API Gateway and the sandbox send, and the error
 * bodies and headers the handler answered before the router.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DomainErrorCode } from '../../lambdas/domain/index.js';
import { type ApiDeps, handleApi } from '../../lambdas/handlers/api.js';
import { API_ERROR_CODES, type ApiErrorCode, ErrorBody, ROUTES } from '../../lambdas/handlers/api-schema.js';
import { SECURITY_HEADERS } from '../../lambdas/handlers/http.js';
import { ProviderRejectedError, TransientError } from '../../lambdas/ports/index.js';
import { makeWorld } from '../support/world.js';

const ORIGIN = 'https://shop.example';
const MISSING = 'ord_01JZ0000000000000000000000';

const deps = (): ApiDeps => ({ ...makeWorld().deps, corsOrigins: [ORIGIN] });

interface Req {
  method: string;
  /** The request's path (`event.path`). */
  path: string;
  /** API Gateway's resource template; the path itself when absent, as the tests and sandbox send unknown routes. */
  resource?: string;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
}

const event = (r: Req): APIGatewayProxyEvent => ({
  httpMethod: r.method,
  path: r.path,
  resource: r.resource ?? r.path,
  pathParameters: r.pathParameters ?? null,
  queryStringParameters: r.query ?? null,
  multiValueQueryStringParameters: null,
  headers: r.headers ?? {},
  multiValueHeaders: {},
  body: r.body ?? null,
  isBase64Encoded: false,
  stageVariables: null,
  requestContext: {} as APIGatewayProxyEvent['requestContext'],
});

/** As API Gateway sends it: the template, the decoded parameters, and the path with the stage's base path. */
const viaApiGateway = (method: string, template: string, id: string, extra: Partial<Req> = {}): Req => ({
  method,
  resource: template,
  path: `/v1${template.replace('{id}', encodeURIComponent(id))}`,
  ...(template.includes('{id}') ? { pathParameters: { id } } : {}),
  ...extra,
});

const call = async (d: ApiDeps, r: Req) => {
  const res = await handleApi(d, event(r));
  return { ...res, json: JSON.parse(res.body) as { error?: { code: string; message: string; fields?: unknown } } };
};

async function newOrder(d: ApiDeps): Promise<{ id: string; clientSecret: string }> {
  const res = await call(d, {
    method: 'POST',
    path: '/orders',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ amount: 1099, currency: 'usd', paymentMethod: 'wechat' }),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json as unknown as { id: string; clientSecret: string };
}

/** Every error: the one ErrorBody shape, the security headers by their exact names, nothing internal. */
function expectError(res: Awaited<ReturnType<typeof call>>, status: number, code: ApiErrorCode) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json.error?.code).toBe(code);
  expect(ErrorBody.safeParse(res.json).success).toBe(true);
  expect(res.headers).toMatchObject(SECURITY_HEADERS);
  expect(res.body).not.toMatch(/stack|Error:|at \w+ \(/);
}

describe('the API router, from ROUTES', () => {
  it('the table names each route and each operation once', () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(ROUTES.map((r) => r.operation)).size).toBe(ROUTES.length);
  });

  it('serves every route of the table, as API Gateway sends it and by its bare path', async () => {
    const d = deps();
    const { id } = await newOrder(d);
    for (const r of ROUTES) {
      const method = r.method.toUpperCase();
      for (const req of [
        viaApiGateway(method, r.path, id),
        { method, path: r.path.replace('{id}', id) },
        { method: r.method, path: `${r.path.replace('{id}', id)}/` },
      ]) {
        const res = await call(d, req);
        expect(res.json.error?.code, `${method} ${req.path}`).not.toBe('NOT_FOUND');
        expect(res.statusCode, `${method} ${req.path}`).toBeLessThan(500);
      }
    }
  });

  it.each([
    ['DELETE', '/orders/{id}'],
    ['PUT', '/orders'],
    ['PATCH', '/orders/{id}'],
    ['GET', '/orders/{id}/cancel'],
    ['POST', '/orders/{id}/status'],
    ['POST', '/orders/{id}'],
    ['HEAD', '/orders'],
    ['OPTIONS', '/orders/{id}/status'],
    ['BREW', '/orders'],
    ['GET', '/admin'],
    ['POST', '/webhooks/stripe'],
    ['GET', '/orders/{id}/status/more'],
    ['GET', '/'],
  ])('%s %s (not in the table) → 404 NOT_FOUND', async (method, template) => {
    const d = deps();
    const path = template.replace('{id}', MISSING);
    expectError(await call(d, { method, path }), 404, 'NOT_FOUND');
    if (template.includes('{id}'))
      expectError(await call(d, viaApiGateway(method, template, MISSING)), 404, 'NOT_FOUND');
  });

  it('takes the order id from the path as written: percent-decoded once, a malformed escape as is', async () => {
    const d = deps();
    const { id } = await newOrder(d);
    expect((await call(d, { method: 'GET', path: `/orders/${id.replace('_', '%5F')}` })).statusCode).toBe(200);
    expect((await call(d, { method: 'get', path: `//orders//${id}` })).statusCode).toBe(200);
    for (const bad of ['not-an-order', 'ord_%3Cscript%3E', '%zz', '%20', '%E0%A4%A', 'ord_\ud800', '{id}']) {
      expectError(await call(d, { method: 'GET', path: `/orders/${bad}` }), 400, 'INVALID_ORDER_ID');
      expectError(await call(d, { method: 'POST', path: `/orders/${bad}/cancel` }), 400, 'INVALID_ORDER_ID');
    }
    // API Gateway's decoded parameter wins over the path (which carries the stage's base path).
    expectError(
      await call(d, { method: 'GET', resource: '/orders/{id}', path: `/orders/${id}`, pathParameters: { id: 'x' } }),
      400,
      'INVALID_ORDER_ID',
    );
    expect(
      (await call(d, { method: 'GET', resource: '/orders/{id}', path: '/v1/orders/x', pathParameters: { id } }))
        .statusCode,
    ).toBe(200);
  });
});

describe('the API function answers as before the router', () => {
  it('CORS on the status route only (not on a bad id), Vary: Origin for any other origin', async () => {
    const d = deps();
    const { id, clientSecret } = await newOrder(d);
    const status = (orderId: string, query: Record<string, string>, origin = ORIGIN) =>
      call(d, viaApiGateway('GET', '/orders/{id}/status', orderId, { query, headers: { Origin: origin } }));
    const ok = await status(id, { client_secret: clientSecret });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers).toMatchObject({ 'Access-Control-Allow-Origin': ORIGIN, Vary: 'Origin' });
    const wrong = await status(id, { client_secret: 'x' });
    expectError(wrong, 404, 'ORDER_NOT_FOUND');
    expect(wrong.headers?.['Access-Control-Allow-Origin']).toBe(ORIGIN);
    const missing = await status(id, {});
    expectError(missing, 400, 'VALIDATION_FAILED');
    expect(missing.headers?.['Access-Control-Allow-Origin']).toBe(ORIGIN);
    const elsewhere = await status(id, { client_secret: clientSecret }, 'https://evil.example');
    expect(elsewhere.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    expect(elsewhere.headers?.Vary).toBe('Origin');
    const badId = await status('nope', { client_secret: clientSecret });
    expectError(badId, 400, 'INVALID_ORDER_ID');
    expect(badId.headers).not.toHaveProperty('Vary');
    const get = await call(d, viaApiGateway('GET', '/orders/{id}', id, { headers: { Origin: ORIGIN } }));
    expect(get.headers).not.toHaveProperty('Access-Control-Allow-Origin');
  });

  it('the create route: 415, 413, 400 MALFORMED_JSON / VALIDATION_FAILED with fields, replay header', async () => {
    const d = deps();
    const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      call(d, { method: 'POST', path: '/orders', headers, body });
    const order = JSON.stringify({ amount: 1099, currency: 'usd', paymentMethod: 'wechat' });
    expectError(await post(order, { 'Content-Type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('x'.repeat(16 * 1024 + 1)), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await post('{"amount":'), 400, 'MALFORMED_JSON');
    const invalid = await post(JSON.stringify({ amount: -1, currency: 'usd', paymentMethod: 'wechat', extra: 1 }));
    expectError(invalid, 400, 'VALIDATION_FAILED');
    expect(invalid.json.error?.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'amount' }),
        { field: 'extra', message: expect.any(String) },
      ]),
    );
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'k-1' };
    const first = await post(order, headers);
    const again = await post(order, headers);
    expect([first.statusCode, again.statusCode]).toEqual([201, 201]);
    expect(first.headers).not.toHaveProperty('Idempotent-Replayed');
    expect(again.headers?.['Idempotent-Replayed']).toBe('true');
    expectError(await post(order.replace('1099', '2000'), headers), 409, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('a GET with a body ignores it, as API Gateway passes it', async () => {
    const d = deps();
    const { id } = await newOrder(d);
    expect((await call(d, viaApiGateway('GET', '/orders/{id}', id, { body: '{"x":1}' }))).statusCode).toBe(200);
  });

  it('dependencies down → 503 with Retry-After; Stripe refuses → 502; anything else → 500 with nothing of it', async () => {
    const failing = (d: ApiDeps, port: 'store' | 'gateway', e: Error): ApiDeps => ({
      ...d,
      [port]: new Proxy(d[port], {
        get: (t, p) => (typeof Reflect.get(t, p) === 'function' ? () => Promise.reject(e) : Reflect.get(t, p)),
      }),
    });
    const list = { method: 'GET', path: '/orders' };
    const down = await call(failing(deps(), 'store', new TransientError('throttled at table orders-prod')), list);
    expectError(down, 503, 'SERVICE_UNAVAILABLE');
    expect(down.headers?.['Retry-After']).toBe('2');
    expect(down.body).not.toContain('orders-prod');
    const create = {
      method: 'POST',
      path: '/orders',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ amount: 1099, currency: 'usd', paymentMethod: 'wechat' }),
    };
    const refused = await call(
      failing(deps(), 'gateway', new ProviderRejectedError('WeChat Pay is not activated')),
      create,
    );
    expectError(refused, 502, 'PAYMENT_PROVIDER_REJECTED');
    expect(refused.json.error?.message).toContain('WeChat Pay is not activated');
    const broken = await call(failing(deps(), 'store', new Error('secret table arn:aws:dynamodb:…')), list);
    expectError(broken, 500, 'INTERNAL');
    expect(broken.json).toEqual({ error: { code: 'INTERNAL', message: 'Internal error.' } });
  });

  it('error codes are one closed list, the domain’s among them', () => {
    expectTypeOf<DomainErrorCode>().toExtend<ApiErrorCode>();
    expect(ErrorBody.safeParse({ error: { code: 'SOMETHING_ELSE', message: 'x' } }).success).toBe(false);
    expect(new Set(API_ERROR_CODES).size).toBe(API_ERROR_CODES.length);
  });
});
