/** The storefront API half of the corpus: API key, ids, client secrets, every field of POST /orders (both Stripe APIs), bodies, sizes, routes. */

import { expect } from 'vitest';
import type { IntentOrderJson, OrderJson } from '../../support/sandbox-client.js';
import {
  ALIPAY,
  API_HEADERS,
  add,
  apiGet,
  apiPost,
  badId,
  type Case,
  client,
  createReq,
  type Expect,
  forbidden,
  IDEMPOTENCY_KEY,
  invalid,
  NONEXISTENT,
  notFound,
  order,
  PI_ALIPAY,
  PI_WECHAT,
  type Req,
  sandbox,
  stripeSim,
  unsupported,
  WECHAT,
} from './context.js';

// ---------------- API: authentication
add('api: API key', [
  { name: 'GET an order without a key', req: () => apiGet(`/orders/${order('target').id}`, {}), expect: forbidden },
  {
    name: 'GET an order with a wrong key',
    req: () => apiGet(`/orders/${order('target').id}`, { 'x-api-key': 'not-the-key' }),
    expect: forbidden,
  },
  {
    name: 'GET an order with the key upper-cased',
    req: () => apiGet(`/orders/${order('target').id}`, { 'x-api-key': sandbox.apiKey.toUpperCase() }),
    expect: forbidden,
  },
  {
    name: 'GET an order with the key plus a suffix',
    req: () => apiGet(`/orders/${order('target').id}`, { 'x-api-key': `${sandbox.apiKey}x` }),
    expect: forbidden,
  },
  {
    name: 'the key as a bearer token instead of x-api-key',
    req: () => apiGet(`/orders/${order('target').id}`, { authorization: `Bearer ${sandbox.apiKey}` }),
    expect: forbidden,
  },
  {
    name: 'the key in the query string',
    req: () => apiGet(`/orders/${order('target').id}?x-api-key=${sandbox.apiKey}`, {}),
    expect: forbidden,
  },
  { name: 'list orders without a key', req: () => apiGet('/orders', {}), expect: forbidden },
  {
    name: 'create an order without a key',
    req: () => ({
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(WECHAT),
    }),
    expect: forbidden,
  },
  {
    name: 'cancel an order without a key',
    req: () => ({ method: 'POST', path: `/orders/${order('target').id}/cancel` }),
    expect: forbidden,
  },
  {
    name: 'cancel an order with an empty key',
    req: () => ({ method: 'POST', path: `/orders/${order('target').id}/cancel`, headers: { 'x-api-key': '' } }),
    expect: forbidden,
  },
]);

// ---------------- API: hostile order ids
const ids: [string, string][] = [
  ['traversal ../../etc/passwd (encoded)', '..%2F..%2Fetc%2Fpasswd'],
  ['traversal after a real prefix', 'ord_..%2F..%2F..%2Fetc%2Fpasswd'],
  ['NUL byte after a well-formed id', `${NONEXISTENT}%00`],
  ["SQL injection ' OR 1=1 --", '%27%20OR%201%3D1%20--'],
  ['NoSQL operator', '%7B%22%24ne%22%3Anull%7D'],
  ['<script> tag', '%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
  ['2 KB id', `ord_${'A'.repeat(2048)}`],
  ['unicode (emoji)', `ord_${'%F0%9F%92%A9'.repeat(26)}`],
  ['Cyrillic homoglyph of "o"', `%D0%BErd_${NONEXISTENT.slice(4)}`],
  ['lower-case ULID', NONEXISTENT.toLowerCase()],
  ['ULID with the excluded letter U', `ord_${'U'.repeat(26)}`],
  ['invalid percent-encoding', 'ord_%E0%A4%A'],
  ['a space', '%20'],
  ['CRLF header injection', `${NONEXISTENT}%0D%0ASet-Cookie%3A%20x%3D1`],
];
add('api: hostile order ids', [
  ...ids.map(([what, raw]) => ({ name: `GET ${what}`, req: () => apiGet(`/orders/${raw}`), expect: badId })),
  ...ids
    .filter((_, i) => i % 2 === 0)
    .map(([what, raw]) => ({
      name: `cancel ${what}`,
      req: () => apiPost(`/orders/${raw}/cancel`, undefined),
      expect: badId,
    })),
  ...ids
    .filter((_, i) => i % 2 === 1)
    .map(([what, raw]) => ({
      name: `status ${what}`,
      req: () => apiGet(`/orders/${raw}/status?client_secret=${encodeURIComponent(order('target').clientSecret)}`, {}),
      expect: badId,
    })),
  {
    name: 'unencoded ../ in the path: normalised away before any route',
    req: () => apiGet('/orders/../../etc/passwd'),
    expect: { status: 404, kind: 'gateway-error', code: 'NOT_FOUND' },
  },
  { name: 'GET a well-formed id that does not exist', req: () => apiGet(`/orders/${NONEXISTENT}`), expect: notFound },
  {
    name: 'cancel a well-formed id that does not exist',
    req: () => apiPost(`/orders/${NONEXISTENT}/cancel`, undefined),
    expect: notFound,
  },
]);

// ---------------- API: the status route's client secret
const statusOf = (name: string, query: string): Req => apiGet(`/orders/${order(name).id}/status${query}`, {});
add('api: status route client_secret', [
  { name: 'missing', req: () => statusOf('target', ''), expect: invalid('client_secret') },
  { name: 'empty', req: () => statusOf('target', '?client_secret='), expect: invalid('client_secret') },
  { name: 'wrong', req: () => statusOf('target', '?client_secret=src_client_secret_guess'), expect: notFound },
  {
    name: 'another order’s secret',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(order('alipay').clientSecret)}`),
    expect: notFound,
  },
  {
    name: 'the right secret with one character changed',
    req: () => {
      const s = order('target').clientSecret;
      return statusOf(
        'target',
        `?client_secret=${encodeURIComponent(`${s.slice(0, -1)}${s.endsWith('a') ? 'b' : 'a'}`)}`,
      );
    },
    expect: notFound,
  },
  {
    name: 'the right secret as a prefix of a longer one',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(`${order('target').clientSecret}x`)}`),
    expect: notFound,
  },
  {
    name: 'overlong (201 characters)',
    req: () => statusOf('target', `?client_secret=${'a'.repeat(201)}`),
    expect: invalid('client_secret'),
  },
  {
    name: 'an extra query parameter',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(order('target').clientSecret)}&debug=1`),
    expect: invalid(),
  },
  {
    name: 'the right secret for a well-formed id that does not exist',
    req: () =>
      apiGet(`/orders/${NONEXISTENT}/status?client_secret=${encodeURIComponent(order('target').clientSecret)}`, {}),
    expect: notFound,
  },
  {
    name: 'control: the right secret → the status, without the secret or the API key',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(order('target').clientSecret)}`),
    expect: { status: 200, kind: 'json' },
    check: (res) => {
      expect((JSON.parse(res.text) as { status: string }).status).toBe('pending');
      expect(res.text).not.toContain(order('target').clientSecret);
      expect(res.text).not.toContain('metadata');
    },
  },
]);

// ---------------- API: amounts
const amountCase = (name: string, amount: unknown): Omit<Case, 'category'> => ({
  name,
  req: () => createReq({ ...WECHAT, amount }),
  expect: invalid('amount'),
});
add('api: amount', [
  amountCase('negative', -1099),
  amountCase('zero', 0),
  amountCase('negative zero', -0),
  amountCase('fractional', 10.5),
  amountCase('1e9 (over Stripe’s eight digits)', 1e9),
  amountCase('1e20', 1e20),
  amountCase('the string "Infinity"', 'Infinity'),
  amountCase('a numeric string', '1099'),
  amountCase('null', null),
  amountCase('true', true),
  amountCase('an array', [1099]),
  amountCase('a NoSQL operator object', { $gt: 0 }),
  amountCase('below the currency minimum (1 cent)', 1),
  { name: 'missing', req: () => createReq({ currency: 'usd', paymentMethod: 'wechat' }), expect: invalid('amount') },
  {
    name: '1e400 in the raw JSON (Infinity once parsed)',
    req: () => createReq('{"amount": 1e400, "currency": "usd", "paymentMethod": "wechat"}'),
    expect: invalid('amount'),
  },
  {
    name: 'duplicate key, the last one negative',
    req: () => createReq('{"amount": 1099, "currency": "usd", "paymentMethod": "wechat", "amount": -5}'),
    expect: invalid('amount'),
  },
]);

// ---------------- API: currency, payment method, URLs
const createdOk = (check?: (o: OrderJson) => void): Pick<Case, 'expect' | 'accepted' | 'check'> => ({
  expect: { status: 201, kind: 'json' },
  accepted: { writes: true, sourcesCreated: 1 },
  check: async (res) => {
    const o = JSON.parse(res.text) as OrderJson;
    expect(o.id).toMatch(/^ord_[0-9A-HJKMNP-TV-Z]{26}$/);
    check?.(o);
    // The same order, read back.
    expect(await client.order(o.id)).toMatchObject({ id: o.id, amount: o.amount, currency: o.currency });
  },
});
add('api: currency, payment method and URLs', [
  { name: 'cny for wechat', req: () => createReq({ ...WECHAT, currency: 'cny' }), expect: invalid('currency') },
  { name: 'xxx', req: () => createReq({ ...WECHAT, currency: 'xxx' }), expect: invalid('currency') },
  { name: 'four letters', req: () => createReq({ ...WECHAT, currency: 'usdd' }), expect: invalid('currency') },
  { name: 'empty', req: () => createReq({ ...WECHAT, currency: '' }), expect: invalid('currency') },
  { name: 'a symbol', req: () => createReq({ ...WECHAT, currency: 'u$d' }), expect: invalid('currency') },
  { name: 'numeric ISO code', req: () => createReq({ ...WECHAT, currency: 840 }), expect: invalid('currency') },
  {
    name: 'USD in upper case: accepted and stored lower-case',
    req: () => createReq({ ...WECHAT, currency: 'USD' }),
    ...createdOk((o) => expect(o.currency).toBe('usd')),
  },
  {
    name: 'payment method card',
    req: () => createReq({ ...WECHAT, paymentMethod: 'card' }),
    expect: invalid('paymentMethod'),
  },
  {
    name: 'alipay without returnUrl',
    req: () => createReq({ ...ALIPAY, returnUrl: undefined }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'javascript: returnUrl',
    req: () => createReq({ ...ALIPAY, returnUrl: 'javascript:alert(document.cookie)' }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'file: returnUrl',
    req: () => createReq({ ...ALIPAY, returnUrl: 'file:///etc/passwd' }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'returnUrl over 2048 characters',
    req: () => createReq({ ...ALIPAY, returnUrl: `https://shop.example/${'a'.repeat(2100)}` }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'statement descriptor of 33 characters',
    req: () => createReq({ ...WECHAT, statementDescriptor: 'S'.repeat(33) }),
    expect: invalid('statementDescriptor'),
  },
]);

// ---------------- API: the Stripe API and the WeChat client
/** An accepted POST /orders on payment_intents: a PaymentIntent, whose requires_action webhook the worker records. */
const createdIntent = (check?: (o: IntentOrderJson) => void): Pick<Case, 'expect' | 'accepted' | 'check'> => ({
  expect: { status: 201, kind: 'json' },
  accepted: { writes: true, intentsCreated: 1, stripeWebhooks: 1 },
  check: async (res) => {
    const o = JSON.parse(res.text) as IntentOrderJson;
    expect(o.id).toMatch(/^ord_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(o.payment.api).toBe('payment_intents');
    expect(o.payment.paymentIntentId).toMatch(/^pi_/);
    check?.(o);
    expect(await client.order(o.id)).toMatchObject({ id: o.id, amount: o.amount, currency: o.currency });
  },
});
add('api: stripeApi and client', [
  ...(
    [
      ['an unknown API', 'paypal'],
      ['empty', ''],
      ['upper case', 'PAYMENT_INTENTS'],
      ['with a space', ' sources'],
      ['null', null],
      ['a number', 1],
      ['a list', ['sources']],
      ['a NoSQL operator object', { $ne: null }],
      ['the API of charges', 'charges'],
    ] as const
  ).map(([what, stripeApi]) => ({
    name: `stripeApi: ${what}`,
    req: () => createReq({ ...PI_WECHAT, stripeApi }),
    expect: invalid('stripeApi'),
  })),
  ...(
    [
      ['an unknown client (mini_program)', 'mini_program'],
      ['upper case', 'WEB'],
      ['empty', ''],
      ['null', null],
      ['a number', 7],
      ['a list', ['web']],
      ['an injection', '<script>alert(1)</script>'],
    ] as const
  ).map(([what, c]) => ({
    name: `client: ${what}`,
    req: () => createReq({ ...PI_WECHAT, client: c }),
    expect: invalid('client'),
  })),
  {
    name: 'client ios without a configured WeChat app id',
    req: () => createReq({ ...PI_WECHAT, client: 'ios' }),
    expect: invalid('client'),
  },
  {
    name: 'client android without a configured WeChat app id',
    req: () => createReq({ ...PI_WECHAT, client: 'android' }),
    expect: invalid('client'),
  },
  { name: 'client on a Sources order', req: () => createReq({ ...WECHAT, client: 'web' }), expect: invalid('client') },
  { name: 'client on Alipay', req: () => createReq({ ...PI_ALIPAY, client: 'web' }), expect: invalid('client') },
  {
    name: 'stripeApi and client both wrong: both named',
    req: () => createReq({ ...PI_WECHAT, stripeApi: 'x', client: 'y' }),
    expect: invalid('stripeApi', 'client'),
  },
  {
    name: 'control: client web on payment_intents → a PaymentIntent with its QR code data',
    req: () => createReq({ ...PI_WECHAT, stripeApi: 'payment_intents', client: 'web' }),
    ...createdIntent((o) => {
      expect(o.payment.client).toBe('web');
      expect(o.payment.qrCodeData).toContain(o.payment.paymentIntentId);
    }),
  },
]);

// ---------------- API: statement descriptor on payment_intents (22 characters, a letter, none of < > \ ' " *)
add('api: statement descriptor on payment_intents', [
  ...(
    [
      ['23 characters', 'S'.repeat(23)],
      ['32 characters (fine on Sources)', 'S'.repeat(32)],
      ['no letter', '12345 67890'],
      ['empty', ''],
      ['a <', 'SHOP <SALE>'],
      ['a backslash', 'SHOP\\SALE'],
      ["a '", "SHOP'S SALE"],
      ['a "', 'SHOP "SALE"'],
      ['a *', 'SHOP*SALE'],
      ['an HTML injection', '<script>x</script>'],
    ] as const
  ).map(([what, statementDescriptor]) => ({
    name: what,
    req: () => createReq({ ...PI_WECHAT, statementDescriptor }),
    expect: invalid('statementDescriptor'),
  })),
  {
    name: 'Alipay, 23 characters',
    req: () => createReq({ ...PI_ALIPAY, statementDescriptor: 'A'.repeat(23) }),
    expect: invalid('statementDescriptor'),
  },
  {
    name: 'control: 22 characters with a letter → created, passed to Stripe',
    req: () => createReq({ ...PI_WECHAT, statementDescriptor: 'ORCHESTRATOR SHOP 2026' }),
    ...createdIntent((o) => {
      const pi = stripeSim()
        .paymentIntents()
        .find((x) => x.id === o.payment.paymentIntentId);
      expect(pi?.statement_descriptor).toBe('ORCHESTRATOR SHOP 2026');
    }),
  },
  {
    name: 'control: 23 characters on Sources → created',
    req: () => createReq({ ...WECHAT, statementDescriptor: 'S'.repeat(23) }),
    ...createdOk(),
  },
]);

// ---------------- API: metadata
const INJECTIONS: Record<string, string> = {
  sql: "'; DROP TABLE orders; --",
  xss: '<script>alert("x")</script><img src=x onerror=alert(1)>',
  template: ['$', '{7*7} {{7*7}} #{7*7} <%= 7*7 %>'].join(''),
  nosql: '{"$gt": ""}',
  ddb: 'attribute_exists(id) OR #s = :v',
  shell: '$(rm -rf /) `id` | cat /etc/passwd',
  crlf: 'a\r\nSet-Cookie: x=1',
  nul: 'before\u0000after',
  unicode: 'ñ 中文 😀 \u202E right-to-left \uFEFF',
  quotes: `"'\\`,
  empty: '',
};
add('api: metadata', [
  {
    name: 'injection strings are stored verbatim and returned as JSON strings (exact round-trip)',
    req: () => createReq({ ...WECHAT, metadata: INJECTIONS }),
    ...createdOk(),
    check: async (res) => {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      const o = JSON.parse(res.text) as OrderJson & { metadata: Record<string, string> };
      expect(o.metadata).toEqual(INJECTIONS);
      // Escaped the JSON way: quotes, backslashes and control characters never appear raw.
      expect(res.text).toContain('before\\u0000after');
      expect(res.text).toContain('a\\r\\nSet-Cookie');
      expect(res.text).toContain('\\"\'\\\\');
      const again = (await client.api('GET', `/orders/${o.id}`)).body as { metadata: Record<string, string> };
      expect(again.metadata).toEqual(INJECTIONS);
    },
  },
  {
    name: 'a 41-character key',
    req: () => createReq({ ...WECHAT, metadata: { [`k${'e'.repeat(40)}`]: 'v' } }),
    expect: invalid('metadata'),
  },
  {
    name: 'a 501-character value',
    req: () => createReq({ ...WECHAT, metadata: { note: 'v'.repeat(501) } }),
    expect: invalid('metadata'),
  },
  {
    name: '51 keys',
    req: () =>
      createReq({ ...WECHAT, metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }),
    expect: invalid('metadata'),
  },
  {
    name: 'the reserved key order_id (would hijack webhook routing)',
    req: () => createReq({ ...WECHAT, metadata: { order_id: order('target').id } }),
    expect: invalid('metadata'),
  },
  {
    name: 'a key with brackets (form-encoding injection into Stripe)',
    req: () => createReq({ ...WECHAT, metadata: { 'a][order_id': 'x' } }),
    expect: invalid('metadata'),
  },
  { name: 'an empty key', req: () => createReq({ ...WECHAT, metadata: { '': 'v' } }), expect: invalid('metadata') },
  { name: 'a numeric value', req: () => createReq({ ...WECHAT, metadata: { n: 1 } }), expect: invalid('metadata') },
  {
    name: 'a nested object value',
    req: () => createReq({ ...WECHAT, metadata: { n: { a: 'b' } } }),
    expect: invalid('metadata'),
  },
  { name: 'an array', req: () => createReq({ ...WECHAT, metadata: ['a', 'b'] }), expect: invalid('metadata') },
  { name: 'null', req: () => createReq({ ...WECHAT, metadata: null }), expect: invalid('metadata') },
]);

// ---------------- API: unknown fields and mass assignment
const extra = (name: string, fields: Record<string, unknown>): Omit<Case, 'category'> => ({
  name,
  req: () => createReq({ ...WECHAT, ...fields }),
  expect: invalid(),
});
add('api: unknown fields', [
  extra('status: paid', { status: 'paid' }),
  extra('id of an existing order', { id: NONEXISTENT }),
  extra('livemode: true', { livemode: true }),
  extra('clientSecret', { clientSecret: 'mine' }),
  extra('admin: true', { admin: true }),
  extra('a snake_case alias (payment_method)', { payment_method: 'wechat' }),
  {
    name: '__proto__ with a polluting payload',
    req: () =>
      createReq(`{"amount": 1099, "currency": "usd", "paymentMethod": "wechat", "__proto__": {"admin": true}}`),
    expect: invalid(),
  },
  {
    name: 'constructor.prototype',
    req: () =>
      createReq(
        '{"amount": 1099, "currency": "usd", "paymentMethod": "wechat", "constructor": {"prototype": {"x": 1}}}',
      ),
    expect: invalid(),
  },
]);

// ---------------- API: malformed bodies
const malformed: Expect = { status: 400, kind: 'error', code: 'MALFORMED_JSON' };
add('api: malformed body', [
  { name: 'an opening brace', req: () => createReq('{'), expect: malformed },
  { name: 'trailing comma', req: () => createReq('{"amount": 1099,}'), expect: malformed },
  { name: 'plain text', req: () => createReq('amount=1099'), expect: malformed },
  { name: 'empty body', req: () => apiPost('/orders', undefined), expect: malformed },
  { name: 'a UTF-8 BOM before the JSON', req: () => createReq(`\uFEFF${JSON.stringify(WECHAT)}`), expect: malformed },
  { name: 'invalid UTF-8 bytes', req: () => createReq(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), expect: malformed },
  { name: 'JSON array', req: () => createReq('[]'), expect: invalid() },
  { name: 'JSON array of an order', req: () => createReq(`[${JSON.stringify(WECHAT)}]`), expect: invalid() },
  { name: 'JSON number', req: () => createReq('1099'), expect: invalid() },
  { name: 'JSON string', req: () => createReq('"order"'), expect: invalid() },
  { name: 'JSON null', req: () => createReq('null'), expect: invalid() },
  { name: 'an empty object', req: () => createReq('{}'), expect: invalid('amount', 'currency', 'paymentMethod') },
  { name: '8,000 nested arrays', req: () => createReq(`${'['.repeat(8000)}${']'.repeat(8000)}`), expect: invalid() },
]);

// ---------------- API: content type
const createAs = (contentType: string | undefined, body = JSON.stringify(WECHAT)): Req => ({
  method: 'POST',
  path: '/orders',
  headers: { 'x-api-key': sandbox.apiKey, ...(contentType !== undefined ? { 'content-type': contentType } : {}) },
  body,
});
add('api: content type', [
  { name: 'text/plain', req: () => createAs('text/plain'), expect: unsupported },
  { name: 'no Content-Type', req: () => createAs(undefined), expect: unsupported },
  {
    name: 'form-encoded',
    req: () => createAs('application/x-www-form-urlencoded', 'amount=1099&currency=usd&paymentMethod=wechat'),
    expect: unsupported,
  },
  { name: 'multipart/form-data', req: () => createAs('multipart/form-data; boundary=x'), expect: unsupported },
  { name: 'application/json-patch+json', req: () => createAs('application/json-patch+json'), expect: unsupported },
  { name: 'text/html', req: () => createAs('text/html'), expect: unsupported },
]);

// ---------------- API: size
const apiTooLarge: Expect = { status: 413, kind: 'error', code: 'PAYLOAD_TOO_LARGE' };
add('api: oversized body', [
  {
    name: '16 KB + 1 byte',
    req: () => {
      const base = JSON.stringify({ ...WECHAT, metadata: { note: '' } });
      return createReq(base.replace('"note":""', `"note":"${'x'.repeat(16 * 1024 + 1 - base.length)}"`));
    },
    expect: apiTooLarge,
  },
  {
    name: '1 MB of whitespace around a valid order',
    req: () => createReq(`${' '.repeat(1024 * 1024)}${JSON.stringify(WECHAT)}`),
    expect: apiTooLarge,
  },
  {
    name: 'over API Gateway’s 10 MB: refused by the gateway',
    req: () => createReq(Buffer.alloc(10 * 1024 * 1024 + 1, 0x20)),
    expect: { status: 413, kind: 'gateway', message: 'Request Too Long' },
  },
]);

// ---------------- API: Idempotency-Key
const withKey = (key: string): Req => createReq(WECHAT, { 'idempotency-key': key });
add('api: Idempotency-Key', [
  { name: '256 characters', req: () => withKey('k'.repeat(256)), expect: invalid('Idempotency-Key') },
  { name: 'empty', req: () => withKey(''), expect: invalid('Idempotency-Key') },
  { name: 'a tab inside', req: () => withKey('key\twith\ttabs'), expect: invalid('Idempotency-Key') },
  { name: 'a space inside', req: () => withKey('key with spaces'), expect: invalid('Idempotency-Key') },
  {
    name: 'a non-ASCII byte',
    req: () => withKey('caf\u00e9'),
    expect: invalid('Idempotency-Key'),
  },
  {
    name: 'reused with another amount → 409, nothing of the first order disclosed',
    req: () => createReq({ ...WECHAT, amount: 5000 }, { 'idempotency-key': IDEMPOTENCY_KEY }),
    expect: { status: 409, kind: 'error', code: 'IDEMPOTENCY_KEY_REUSED' },
    check: (res) => {
      expect(res.text).not.toContain(order('idempotent').id);
      expect(res.text).not.toContain(order('idempotent').clientSecret);
      expect(res.text).not.toContain(order('idempotent').payment.sourceId);
    },
  },
]);

// ---------------- API: list query and routes
add('api: list query and routes', [
  { name: 'limit=1000', req: () => apiGet('/orders?limit=1000'), expect: invalid('limit') },
  { name: 'limit=-1', req: () => apiGet('/orders?limit=-1'), expect: invalid('limit') },
  { name: 'limit=abc', req: () => apiGet('/orders?limit=abc'), expect: invalid('limit') },
  { name: 'an unknown query parameter', req: () => apiGet('/orders?status=paid'), expect: invalid() },
  {
    name: 'DELETE an order',
    req: () => ({ method: 'DELETE', path: `/orders/${order('target').id}`, headers: API_HEADERS() }),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
  {
    name: 'PUT /orders',
    req: () => ({ ...createReq(WECHAT), method: 'PUT' }),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
  {
    name: 'GET the cancel route',
    req: () => apiGet(`/orders/${order('target').id}/cancel`),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
  {
    name: 'an extra path segment',
    req: () => apiPost(`/orders/${order('target').id}/cancel/now`, undefined),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
]);
