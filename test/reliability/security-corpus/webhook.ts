/** The webhook half of the corpus: signatures, bodies, event types, objects we never created, money that does not match, for both Stripe APIs. */
import { expect } from 'vitest';
import {
  type Accepted,
  ack,
  add,
  badEvent,
  badSig,
  chargesOfOrder,
  type Expect,
  genuinePayload,
  genuinePiPayload,
  hex,
  hook,
  ifx,
  intentOf,
  intentOrder,
  intentOrderNow,
  intentStatus,
  NONEXISTENT,
  nowSec,
  order,
  orderNow,
  type Req,
  refundsOfIntent,
  sandbox,
  sign,
  signed,
  signedWith,
  sourceOf,
  strangerCharge,
  strangerIntent,
  strangerIntentId,
  strangerPaidIntent,
  strangerSource,
  stripeEvent,
  unsigned,
  unsupported,
  until,
  wire,
} from './context.js';

// ---------------- webhook: signature missing
add('webhook: missing signature', [
  { name: 'no Stripe-Signature header', req: () => unsigned(genuinePayload, {}), expect: badSig },
  {
    name: 'empty Stripe-Signature header',
    req: () => unsigned(genuinePayload, { 'stripe-signature': '' }),
    expect: badSig,
  },
  {
    name: 'signature under a misspelt header name',
    req: () => unsigned(genuinePayload, { 'stripe-signatures': sign(genuinePayload) }),
    expect: badSig,
  },
  {
    name: 'valid signature of an empty body',
    req: () => unsigned('', { 'stripe-signature': sign('') }),
    expect: badSig,
  },
]);

// ---------------- webhook: malformed signature
add('webhook: malformed signature', [
  { name: 'garbage', req: () => unsigned(genuinePayload, { 'stripe-signature': 'garbage' }), expect: badSig },
  { name: '"t=" only', req: () => unsigned(genuinePayload, { 'stripe-signature': 't=' }), expect: badSig },
  {
    name: 'timestamp without any v1',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()}` }),
    expect: badSig,
  },
  {
    name: 'v1 without a timestamp',
    req: () => {
      const v1 = /v1=([0-9a-f]+)/.exec(sign(genuinePayload))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `v1=${v1}` });
    },
    expect: badSig,
  },
  {
    name: 'non-numeric timestamp',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=now,v1=${hex(64)}` }),
    expect: badSig,
  },
  {
    name: 'negative timestamp',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=-${nowSec()},v1=${hex(64)}` }),
    expect: badSig,
  },
  {
    name: 'fractional timestamp with its true signature',
    req: () => {
      const t = `${nowSec()}.5`;
      const v1 = /v1=([0-9a-f]+)/.exec(sign(genuinePayload))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `t=${t},v1=${v1}` });
    },
    expect: badSig,
  },
  {
    name: 'non-hex v1 (64 characters)',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'zz'.repeat(32)}` }),
    expect: badSig,
  },
  {
    name: 'v1 one hex digit short',
    req: () => {
      const h = sign(genuinePayload);
      return unsigned(genuinePayload, { 'stripe-signature': h.slice(0, -1) });
    },
    expect: badSig,
  },
  {
    name: 'v1 with a trailing extra hex digit',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `${sign(genuinePayload)}0` }),
    expect: badSig,
  },
  {
    name: '8 KB header of one long v1',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'a'.repeat(8000)}` }),
    expect: badSig,
  },
  {
    name: '12 KB header of 170 random v1 values',
    req: () =>
      unsigned(genuinePayload, {
        'stripe-signature': [`t=${nowSec()}`, ...Array.from({ length: 170 }, () => `v1=${hex(64)}`)].join(','),
      }),
    expect: badSig,
  },
  {
    name: '20 KB header: refused by the HTTP layer (431) before any handler',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'b'.repeat(20_000)}` }),
    expect: { status: 431, kind: 'empty' },
  },
  {
    name: 'separators only',
    req: () => unsigned(genuinePayload, { 'stripe-signature': ',,,=,=,t,v1' }),
    expect: badSig,
  },
]);

// ---------------- webhook: forged signature
add('webhook: forged signature', [
  {
    name: 'random v1, current timestamp',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${hex(64)}` }),
    expect: badSig,
  },
  {
    name: 'all-zero v1',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'0'.repeat(64)}` }),
    expect: badSig,
  },
  {
    name: 'a true v1 moved to another timestamp',
    req: () => {
      const v1 = /v1=([0-9a-f]+)/.exec(sign(genuinePayload, { t: nowSec() - 60 }))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${v1}` });
    },
    expect: badSig,
  },
  {
    name: 'the true signature of another payload',
    req: () => {
      const other = wire(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }));
      return unsigned(genuinePayload, { 'stripe-signature': sign(other) });
    },
    expect: badSig,
  },
  {
    name: 'a valid HMAC under the v0 scheme only',
    req: () => {
      const v = /v1=([0-9a-f]+)/.exec(sign(genuinePayload))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v0=${v}` });
    },
    expect: badSig,
  },
  {
    name: 'the true v1 in upper-case hex (stripe-node compares lower-case hex strings)',
    req: () => {
      const h = sign(genuinePayload).replace(/v1=([0-9a-f]+)/, (_, v: string) => `v1=${v.toUpperCase()}`);
      return unsigned(genuinePayload, { 'stripe-signature': h });
    },
    expect: badSig,
  },
  {
    name: 'several random v1 values',
    req: () =>
      unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${hex(64)},v1=${hex(64)},v1=${hex(64)}` }),
    expect: badSig,
  },
]);

// ---------------- webhook: wrong secret
add('webhook: wrong secret', [
  {
    name: 'another endpoint secret',
    req: () => signedWith(genuinePayload, 'whsec_attacker_guess'),
    expect: badSig,
  },
  {
    name: 'the Stripe API key used as the signing secret',
    req: () => signedWith(genuinePayload, 'sk_test_sandbox'),
    expect: badSig,
  },
  {
    name: 'the endpoint secret with a trailing newline',
    req: () => signedWith(genuinePayload, `${sandbox.webhookSecret}\n`),
    expect: badSig,
  },
  {
    name: 'the endpoint secret upper-cased',
    req: () => signedWith(genuinePayload, sandbox.webhookSecret.toUpperCase()),
    expect: badSig,
  },
  {
    name: 'the endpoint secret without its whsec_ prefix',
    req: () => signedWith(genuinePayload, sandbox.webhookSecret.replace(/^whsec_/, '')),
    expect: badSig,
  },
]);

// ---------------- webhook: replayed (stale timestamp)
const replayAt = (ageSeconds: number): Req =>
  unsigned(genuinePayload, { 'stripe-signature': sign(genuinePayload, { t: nowSec() - ageSeconds }) });
add('webhook: stale timestamp (replay of a genuine event)', [
  { name: 'signed 301 s ago', req: () => replayAt(301), expect: badSig },
  { name: 'signed an hour ago', req: () => replayAt(3600), expect: badSig },
  { name: 'signed three days ago (Stripe’s retry window)', req: () => replayAt(3 * 86400), expect: badSig },
  {
    name: 'signed at t=1 (1970; stripe-node treats t=0 as “now”)',
    req: () => unsigned(genuinePayload, { 'stripe-signature': sign(genuinePayload, { t: 1 }) }),
    expect: badSig,
  },
  {
    name: 'a stale v1 relabelled with a fresh timestamp, plus a random v1',
    req: () => {
      const old = sign(genuinePayload, { t: nowSec() - 600 });
      return unsigned(genuinePayload, {
        'stripe-signature': `${old.replace(/^t=\d+/, `t=${nowSec()}`)},v1=${hex(64)}`,
      });
    },
    expect: badSig,
  },
  {
    name: 'control: 290 s old is still accepted (an unhandled type, ignored)',
    req: () => {
      const p = wire(stripeEvent('customer.created', { id: 'cus_sec', object: 'customer' }));
      return unsigned(p, { 'stripe-signature': sign(p, { t: nowSec() - 290 }) });
    },
    expect: ack({ ignored: 'unhandled_type' }),
  },
]);

// ---------------- webhook: body altered after signing
const tampered = (alter: (p: string) => string | Buffer): Req => {
  const h = sign(genuinePayload);
  return unsigned(alter(genuinePayload), { 'stripe-signature': h });
};
add('webhook: body altered after signing', [
  {
    name: 'one byte changed (amount 1099 → 1098)',
    req: () => tampered((p) => p.replace('1099', '1098')),
    expect: badSig,
  },
  { name: 'a newline appended', req: () => tampered((p) => `${p}\n`), expect: badSig },
  { name: 'a space appended', req: () => tampered((p) => `${p} `), expect: badSig },
  { name: 'a space prepended', req: () => tampered((p) => ` ${p}`), expect: badSig },
  { name: 're-serialized compactly', req: () => tampered((p) => JSON.stringify(JSON.parse(p))), expect: badSig },
  {
    name: 're-serialized with keys reordered',
    req: () =>
      tampered((p) => {
        const o = JSON.parse(p) as Record<string, unknown>;
        return JSON.stringify(Object.fromEntries(Object.entries(o).reverse()), null, 2);
      }),
    expect: badSig,
  },
  { name: 'CRLF line endings', req: () => tampered((p) => p.replaceAll('\n', '\r\n')), expect: badSig },
  { name: 'a character \\u-escaped', req: () => tampered((p) => p.replace('"type"', '"\\u0074ype"')), expect: badSig },
  { name: 'last byte dropped', req: () => tampered((p) => p.slice(0, -1)), expect: badSig },
  {
    name: 'a UTF-8 BOM prepended',
    req: () => tampered((p) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(p)])),
    expect: badSig,
  },
  {
    name: 'livemode flipped',
    req: () => tampered((p) => p.replace('"livemode": false', '"livemode": true')),
    expect: badSig,
  },
]);

// ---------------- webhook: wrong content type (valid signature)
const withType = (contentType: string | undefined): Req => {
  const h = sign(genuinePayload);
  return hook(genuinePayload, {
    'stripe-signature': h,
    ...(contentType !== undefined ? { 'content-type': contentType } : {}),
  });
};
add('webhook: wrong content type, valid signature', [
  { name: 'text/plain', req: () => withType('text/plain'), expect: unsupported },
  {
    name: 'application/x-www-form-urlencoded',
    req: () => withType('application/x-www-form-urlencoded'),
    expect: unsupported,
  },
  { name: 'no Content-Type', req: () => withType(undefined), expect: unsupported },
  { name: 'multipart/form-data', req: () => withType('multipart/form-data; boundary=x'), expect: unsupported },
  { name: 'application/jsonp', req: () => withType('application/jsonp'), expect: unsupported },
  { name: 'text/json', req: () => withType('text/json'), expect: unsupported },
  {
    name: 'control: APPLICATION/JSON is JSON (an unhandled type, ignored)',
    req: () => {
      const p = wire(stripeEvent('customer.created', { id: 'cus_sec', object: 'customer' }));
      return hook(p, { 'content-type': 'APPLICATION/JSON', 'stripe-signature': sign(p) });
    },
    expect: ack({ ignored: 'unhandled_type' }),
  },
]);

// ---------------- webhook: oversized
const LIMIT = 256 * 1024;
/** An unhandled event padded to exactly `bytes` bytes. */
function paddedEvent(bytes: number, fill = 'x'): string {
  const base = wire(stripeEvent('customer.created', { id: 'cus_sec', object: 'customer', pad: '' }));
  const room = bytes - Buffer.byteLength(base);
  const unit = Buffer.byteLength(fill);
  return base.replace('"pad": ""', `"pad": "${fill.repeat(Math.floor(room / unit))}${'x'.repeat(room % unit)}"`);
}
const tooLarge: Expect = { status: 413, kind: 'error', code: 'PAYLOAD_TOO_LARGE' };
add('webhook: oversized body', [
  { name: '256 KB + 1 byte, validly signed', req: () => signed(paddedEvent(LIMIT + 1)), expect: tooLarge },
  { name: '1 MB, validly signed', req: () => signed(paddedEvent(1024 * 1024)), expect: tooLarge },
  {
    name: '5 MB, unsigned and not JSON',
    req: () => unsigned(Buffer.alloc(5 * 1024 * 1024, 0x41), {}),
    expect: tooLarge,
  },
  {
    name: '300 KB of 3-byte characters (under the limit in characters, over it in bytes)',
    req: () => signed(paddedEvent(300 * 1024, '中')),
    expect: tooLarge,
  },
  {
    name: 'oversized with a wrong content type: size first',
    req: () => {
      const p = paddedEvent(LIMIT + 10);
      return hook(p, { 'content-type': 'text/plain', 'stripe-signature': sign(p) });
    },
    expect: tooLarge,
  },
  {
    name: 'control: exactly 256 KB is accepted (an unhandled type, ignored)',
    req: () => signed(paddedEvent(LIMIT)),
    expect: ack({ ignored: 'unhandled_type' }),
  },
]);

// ---------------- webhook: malformed JSON (valid signature)
add('webhook: malformed JSON, valid signature', [
  { name: 'an opening brace', req: () => signed('{'), expect: badEvent },
  { name: 'plain text', req: () => signed('not json at all'), expect: badEvent },
  { name: 'truncated object', req: () => signed('{"id": "evt_1", "type":'), expect: badEvent },
  { name: 'trailing comma', req: () => signed('{"id": "evt_1",}'), expect: badEvent },
  { name: 'single quotes', req: () => signed("{'id': 'evt_1'}"), expect: badEvent },
  { name: 'NaN literal', req: () => signed('{"created": NaN}'), expect: badEvent },
  { name: 'JSON null', req: () => signed('null'), expect: badEvent },
  { name: 'JSON number', req: () => signed('42'), expect: badEvent },
  { name: 'JSON string', req: () => signed('"source.chargeable"'), expect: badEvent },
  { name: 'JSON true', req: () => signed('true'), expect: badEvent },
  { name: 'JSON array', req: () => signed(`[${genuinePayload}]`), expect: badEvent },
  { name: 'a BOM before the JSON', req: () => signed(`\uFEFF${genuinePayload}`), expect: badEvent },
  {
    name: 'an empty object (JSON, but not an event): ignored',
    req: () => signed('{}'),
    expect: ack({ ignored: 'not_an_event' }),
  },
]);

// ---------------- webhook: unknown event types
add('webhook: unknown event type', [
  {
    name: 'customer.created',
    req: () => signed(wire(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'payment_intent.created naming a real order (a PaymentIntent event we do not handle)',
    req: () => signed(wire(stripeEvent('payment_intent.created', intentOf('piTarget')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'payment_intent.amount_capturable_updated naming a real order',
    req: () => signed(wire(stripeEvent('payment_intent.amount_capturable_updated', intentOf('piTarget')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'a handled PaymentIntent type in upper case',
    req: () => signed(wire(stripeEvent('PAYMENT_INTENT.SUCCEEDED', intentOf('piReplay')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'source.refund_attributes_required (a real Sources event we do not handle)',
    req: () => signed(wire(stripeEvent('source.refund_attributes_required', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: '"__proto__" as the type',
    req: () => signed(wire(stripeEvent('__proto__', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: '"constructor" as the type',
    req: () => signed(wire(stripeEvent('constructor', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'a 10 KB type',
    req: () => signed(wire(stripeEvent(`source.${'chargeable'.repeat(1000)}`, sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'a handled type in upper case',
    req: () => signed(wire(stripeEvent('SOURCE.CHARGEABLE', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'a numeric type',
    req: () => signed(wire({ ...stripeEvent('x', sourceOf('target')), type: 7 })),
    expect: ack({ ignored: 'not_an_event' }),
  },
  {
    name: 'no data.object',
    req: () => signed(wire({ ...stripeEvent('source.chargeable', {}), data: null })),
    expect: ack({ ignored: 'not_an_event' }),
  },
]);

// ---------------- webhook: objects we never created
const unknownOrderEnqueued: Accepted = { enqueued: 1, writes: false };
add('webhook: objects we never created', [
  {
    name: 'source.chargeable of a stranger source, no metadata.order_id',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({})))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'source.chargeable with metadata null',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource(null)))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'a malformed order id (ord_123)',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: 'ord_123' })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: "an injection as order id (' OR 1=1 --)",
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: "ord_' OR 1=1 --" })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'a real order id with a path suffix',
    req: () => signed(wire(stripeEvent('source.failed', strangerSource({ order_id: `${order('target').id}/../x` })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'a real order id in lower case',
    req: () =>
      signed(wire(stripeEvent('source.failed', strangerSource({ order_id: order('target').id.toLowerCase() })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'order id as a number',
    req: () => signed(wire(stripeEvent('source.canceled', strangerSource({ order_id: 12345 })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'order id smuggled through metadata.__proto__',
    req: () =>
      signed(
        wire(stripeEvent('source.canceled', strangerSource({}))).replace(
          '"metadata": {}',
          `"metadata": {"__proto__": {"order_id": "${order('target').id}"}}`,
        ),
      ),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'source.chargeable for a well-formed order id that does not exist',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: NONEXISTENT })))),
    expect: ack(),
    accepted: unknownOrderEnqueued,
  },
  {
    name: 'charge.succeeded for a well-formed order id that does not exist',
    req: () => signed(wire(stripeEvent('charge.succeeded', strangerCharge({ order_id: NONEXISTENT })))),
    expect: ack(),
    accepted: unknownOrderEnqueued,
  },
  {
    name: 'charge.succeeded of a stranger charge without metadata',
    req: () => signed(wire(stripeEvent('charge.succeeded', strangerCharge({})))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'source.chargeable of a stranger source naming a real order: the order is untouched, nothing charged',
    req: () =>
      signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: order('foreignChargeable').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignChargeable').id] },
    check: () => foreignUntouched('foreignChargeable', 'source.chargeable'),
  },
  {
    name: 'source.failed of a stranger source naming a real order: the order is untouched',
    req: () => signed(wire(stripeEvent('source.failed', strangerSource({ order_id: order('foreignFailed').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignFailed').id] },
    check: () => foreignUntouched('foreignFailed', 'source.failed'),
  },
  {
    name: 'source.canceled of a stranger source naming a real order: the order is untouched',
    req: () => signed(wire(stripeEvent('source.canceled', strangerSource({ order_id: order('foreignCanceled').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignCanceled').id] },
    check: () => foreignUntouched('foreignCanceled', 'source.canceled'),
  },
  {
    name: 'charge.succeeded of a stranger source naming a real order: the order is untouched',
    req: () => signed(wire(stripeEvent('charge.succeeded', strangerCharge({ order_id: order('foreignCharge').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignCharge').id] },
    check: () => foreignUntouched('foreignCharge', 'charge.succeeded'),
  },
]);

/** An event about a source that is not the order's: recorded as ignored at most, nothing else. */
async function foreignUntouched(name: string, type: string): Promise<void> {
  const before = order(name);
  const after = await until(`${type} recorded on ${name}`, async () => {
    const o = await orderNow(name);
    return o.history.some((h) => h.type === type) ? o : undefined;
  });
  expect(after.status).toBe('pending');
  expect(after.history.at(-1)).toMatchObject({ type, to: 'pending', ignored: expect.stringMatching(/^foreign_/) });
  expect(after.chargeId).toBeUndefined();
  expect(after.deadline).toBeUndefined();
  expect(after.failureReason).toBeUndefined();
  expect(after.cancelReason).toBeUndefined();
  expect(after.history).toHaveLength(before.history.length + 1);
  expect(chargesOfOrder(name)).toEqual([]);
}

// ---------------- webhook: mismatching source.chargeable on a real order
async function failedWith(name: string, reason: string): Promise<void> {
  const o = await until(`${name} to fail`, async () => {
    const x = await orderNow(name);
    return x.status === 'pending' ? undefined : x;
  });
  expect(o.status).toBe('failed');
  expect(o.failureReason).toBe(reason);
  expect(o.chargeId).toBeUndefined();
  expect(chargesOfOrder(name)).toEqual([]);
}
const mismatch = (name: string): Accepted => ({ enqueued: 1, writes: true, mutates: () => [order(name).id] });
add('webhook: amount/currency/livemode mismatch', [
  {
    name: 'amount 1 instead of 1099 → failed amount_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('amount', { amount: 1 })))),
    expect: ack(),
    accepted: mismatch('amount'),
    check: () => failedWith('amount', 'amount_mismatch'),
  },
  {
    name: 'amount as the string "1099" → failed amount_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('amountString', { amount: '1099' })))),
    expect: ack(),
    accepted: mismatch('amountString'),
    check: () => failedWith('amountString', 'amount_mismatch'),
  },
  {
    name: 'currency jpy instead of usd → failed currency_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('currency', { currency: 'jpy' })))),
    expect: ack(),
    accepted: mismatch('currency'),
    check: () => failedWith('currency', 'currency_mismatch'),
  },
  {
    name: 'a live source for a test order → failed livemode_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('objLivemode', { livemode: true })))),
    expect: ack(),
    accepted: mismatch('objLivemode'),
    check: () => failedWith('objLivemode', 'livemode_mismatch'),
  },
  {
    name: 'a live-mode event → ignored, order unchanged',
    req: () =>
      signed(wire(stripeEvent('source.chargeable', sourceOf('evtLivemode', { livemode: true }), { livemode: true }))),
    expect: ack({ ignored: 'livemode' }),
    check: async () => {
      expect((await orderNow('evtLivemode')).status).toBe('pending');
      expect(chargesOfOrder('evtLivemode')).toEqual([]);
    },
  },
]);

// ---------------- webhook: route
// The webhook HTTP API has the one route POST /webhooks/stripe: another method matches no route.
add('webhook: route and method', [
  {
    name: 'GET',
    req: () => ({ method: 'GET', path: '/webhooks/stripe' }),
    expect: { status: 404, kind: 'gateway', message: 'Not Found' },
  },
  {
    name: 'PUT with a valid signature',
    req: () => ({ ...signed(genuinePayload), method: 'PUT' }),
    expect: { status: 404, kind: 'gateway', message: 'Not Found' },
  },
  {
    name: 'DELETE',
    req: () => ({ method: 'DELETE', path: '/webhooks/stripe' }),
    expect: { status: 404, kind: 'gateway', message: 'Not Found' },
  },
  {
    name: 'POST to a sibling path with a valid signature',
    req: () => ({ ...signed(genuinePayload), path: '/webhooks/stripe/extra' }),
    expect: { status: 404, kind: 'gateway-error', code: 'NOT_FOUND' },
  },
  {
    name: 'POST to /webhooks/Stripe (case)',
    req: () => ({ ...signed(genuinePayload), path: '/webhooks/Stripe' }),
    expect: { status: 404, kind: 'gateway-error', code: 'NOT_FOUND' },
  },
]);

// ---------------- webhook: the control that proves the corpus used an effective event
add('webhook: control', [
  {
    name: 'the genuine event the corpus replayed and tampered with, freshly signed → paid, one charge',
    req: () => signed(genuinePayload),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('replay').id], chargesCreated: 1, stripeWebhooks: 1 },
    check: async () => {
      const o = await until('replay to be paid', async () => {
        const x = await orderNow('replay');
        return x.status === 'paid' ? x : undefined;
      });
      expect(o.chargeId).toMatch(/^ch_/);
      expect(chargesOfOrder('replay')).toHaveLength(1);
    },
  },
]);

// ---------------- webhook: forged or unsigned payment_intent events
/** The genuine payment_intent.succeeded, altered after it was signed. */
const tamperedPi = (alter: (p: string) => string): Req => {
  const h = sign(genuinePiPayload);
  const body = alter(genuinePiPayload);
  if (body === genuinePiPayload) throw new Error('the alteration changed nothing');
  return unsigned(body, { 'stripe-signature': h });
};
add('webhook: forged or unsigned payment_intent events', [
  { name: 'payment_intent.succeeded without a signature', req: () => unsigned(genuinePiPayload, {}), expect: badSig },
  {
    name: 'payment_intent.succeeded with a random v1',
    req: () => unsigned(genuinePiPayload, { 'stripe-signature': `t=${nowSec()},v1=${hex(64)}` }),
    expect: badSig,
  },
  {
    name: 'payment_intent.succeeded signed with another secret',
    req: () => signedWith(genuinePiPayload, 'whsec_attacker_guess'),
    expect: badSig,
  },
  {
    name: 'payment_intent.succeeded signed 301 s ago',
    req: () => unsigned(genuinePiPayload, { 'stripe-signature': sign(genuinePiPayload, { t: nowSec() - 301 }) }),
    expect: badSig,
  },
  {
    name: 'amount_received altered after signing',
    req: () => tamperedPi((p) => p.replace('"amount_received": 1099', '"amount_received": 1')),
    expect: badSig,
  },
  {
    name: 'the PaymentIntent id swapped for another order’s after signing',
    req: () =>
      tamperedPi((p) =>
        p.replaceAll(intentOrder('piReplay').payment.paymentIntentId, intentOrder('piTarget').payment.paymentIntentId),
      ),
    expect: badSig,
  },
  {
    name: 'metadata.order_id swapped for another order’s after signing',
    req: () => tamperedPi((p) => p.replaceAll(intentOrder('piReplay').id, intentOrder('piTarget').id)),
    expect: badSig,
  },
  {
    name: 'livemode flipped after signing',
    req: () => tamperedPi((p) => p.replace('"livemode": false', '"livemode": true')),
    expect: badSig,
  },
  {
    name: 'the true signature of the genuine source.chargeable over a payment_intent.succeeded',
    req: () => unsigned(genuinePiPayload, { 'stripe-signature': sign(genuinePayload) }),
    expect: badSig,
  },
  {
    name: 'a forged payment_intent.succeeded for a pending order, signed with the API key',
    req: () =>
      signedWith(
        wire(
          stripeEvent('payment_intent.succeeded', intentOf('piTarget', { status: 'succeeded', amount_received: 1099 })),
        ),
        'sk_test_sandbox',
      ),
    expect: badSig,
  },
  {
    name: 'a forged payment_intent.payment_failed, unsigned',
    req: () => unsigned(wire(stripeEvent('payment_intent.payment_failed', intentOf('piTarget'))), {}),
    expect: badSig,
  },
  {
    name: 'a forged payment_intent.canceled with a random v1',
    req: () =>
      unsigned(wire(stripeEvent('payment_intent.canceled', intentOf('piTarget', { status: 'canceled' }))), {
        'stripe-signature': `t=${nowSec()},v1=${hex(64)}`,
      }),
    expect: badSig,
  },
]);

// ---------------- webhook: PaymentIntents we never created
/** An event about a PaymentIntent that is not the order's: recorded as ignored at most, nothing else. */
async function intentUntouched(name: string, type: string, ignored: RegExp): Promise<void> {
  const before = intentOrder(name);
  const after = await until(`${type} recorded on ${name}`, async () => {
    const o = await intentOrderNow(name);
    return o.history.length > before.history.length ? o : undefined;
  });
  expect(after.status).toBe('pending');
  expect(after.history.at(-1)).toMatchObject({ type, to: 'pending', ignored: expect.stringMatching(ignored) });
  expect(after.history).toHaveLength(before.history.length + 1);
  expect(after.chargeId).toBeUndefined();
  expect(after.failureReason).toBeUndefined();
  expect(after.cancelReason).toBeUndefined();
  expect(after.recheckAt).toBeUndefined();
  expect(after.payment).toEqual(before.payment);
  // Its own PaymentIntent is still waiting for the customer: nothing canceled, nothing refunded.
  expect(intentStatus(name)).toBe('requires_action');
  expect(refundsOfIntent(name)).toEqual([]);
  // The next event of the order records after this one: keep the fixture current.
  ifx.set(name, after);
}
const foreignIntent = (name: string): Accepted => ({
  enqueued: 1,
  writes: true,
  mutates: () => [intentOrder(name).id],
});
add('webhook: PaymentIntents we never created', [
  {
    name: 'payment_intent.succeeded of a stranger PaymentIntent, no metadata.order_id',
    req: () => signed(wire(stripeEvent('payment_intent.succeeded', strangerPaidIntent({})))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'payment_intent.succeeded with metadata null',
    req: () => signed(wire(stripeEvent('payment_intent.succeeded', strangerPaidIntent(null)))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'payment_intent.payment_failed with a malformed order id',
    req: () =>
      signed(
        wire(
          stripeEvent(
            'payment_intent.payment_failed',
            strangerIntent({ order_id: 'ord_1' }, 'requires_payment_method'),
          ),
        ),
      ),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'payment_intent.canceled with a real order id in lower case',
    req: () =>
      signed(
        wire(
          stripeEvent(
            'payment_intent.canceled',
            strangerIntent({ order_id: intentOrder('piTarget').id.toLowerCase() }, 'canceled'),
          ),
        ),
      ),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'a payment_intent event whose object has no id',
    req: () => {
      const { id: _id, ...noId } = intentOf('piTarget');
      return signed(wire(stripeEvent('payment_intent.succeeded', noId)));
    },
    expect: ack({ ignored: 'no_order_reference' }),
  },
  {
    name: 'payment_intent.succeeded for a well-formed order id that does not exist',
    req: () => signed(wire(stripeEvent('payment_intent.succeeded', strangerPaidIntent({ order_id: NONEXISTENT })))),
    expect: ack(),
    accepted: unknownOrderEnqueued,
  },
  {
    name: 'payment_intent.succeeded of a stranger PaymentIntent naming a real order: untouched, nothing refunded',
    req: () =>
      signed(
        wire(stripeEvent('payment_intent.succeeded', strangerPaidIntent({ order_id: intentOrder('piForeign').id }))),
      ),
    expect: ack(),
    accepted: foreignIntent('piForeign'),
    check: () => intentUntouched('piForeign', 'payment_intent.succeeded', /^foreign_payment_intent$/),
  },
  {
    name: 'payment_intent.payment_failed of a stranger PaymentIntent naming a real order: not failed, its PaymentIntent not canceled',
    req: () =>
      signed(
        wire(
          stripeEvent(
            'payment_intent.payment_failed',
            strangerIntent({ order_id: intentOrder('piForeign').id }, 'requires_payment_method', {
              last_payment_error: { type: 'card_error', code: 'payment_intent_payment_attempt_failed', message: 'x' },
            }),
          ),
        ),
      ),
    expect: ack(),
    accepted: foreignIntent('piForeign'),
    check: () => intentUntouched('piForeign', 'payment_intent.payment_failed', /^foreign_payment_intent$/),
  },
  {
    name: 'payment_intent.canceled of a stranger PaymentIntent naming a real order: not canceled',
    req: () =>
      signed(
        wire(
          stripeEvent(
            'payment_intent.canceled',
            strangerIntent({ order_id: intentOrder('piForeign').id }, 'canceled', { cancellation_reason: 'abandoned' }),
          ),
        ),
      ),
    expect: ack(),
    accepted: foreignIntent('piForeign'),
    check: () => intentUntouched('piForeign', 'payment_intent.canceled', /^foreign_payment_intent$/),
  },
  {
    name: 'payment_intent.processing of a stranger PaymentIntent naming a real order: not charging',
    req: () =>
      signed(
        wire(
          stripeEvent(
            'payment_intent.processing',
            strangerIntent({ order_id: intentOrder('piForeign').id }, 'processing'),
          ),
        ),
      ),
    expect: ack(),
    accepted: foreignIntent('piForeign'),
    check: () => intentUntouched('piForeign', 'payment_intent.processing', /^foreign_payment_intent$/),
  },
  {
    name: 'charge.refunded of a stranger PaymentIntent’s charge naming a real order: not refunded',
    req: () =>
      signed(
        wire(
          stripeEvent('charge.refunded', {
            ...strangerCharge({ order_id: intentOrder('piForeign').id }),
            source: null,
            payment_intent: strangerIntentId(),
            refunded: true,
            amount_refunded: 1099,
          }),
        ),
      ),
    expect: ack(),
    accepted: foreignIntent('piForeign'),
    check: () => intentUntouched('piForeign', 'charge.refunded', /^foreign_/),
  },
  {
    name: 'charge.refunded of a source’s charge naming a PaymentIntents order: not refunded',
    req: () =>
      signed(
        wire(
          stripeEvent('charge.refunded', {
            ...strangerCharge({ order_id: intentOrder('piForeignRefund').id }),
            refunded: true,
            amount_refunded: 1099,
          }),
        ),
      ),
    expect: ack(),
    accepted: foreignIntent('piForeignRefund'),
    check: () => intentUntouched('piForeignRefund', 'charge.refunded', /^foreign_/),
  },
  {
    name: 'charge.succeeded of a PaymentIntent’s charge naming a Sources order: not paid, nothing charged',
    req: () =>
      signed(
        wire(
          stripeEvent('charge.succeeded', {
            ...strangerCharge({ order_id: order('foreignIntentCharge').id }),
            source: null,
            payment_intent: strangerIntentId(),
          }),
        ),
      ),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignIntentCharge').id] },
    check: () => foreignUntouched('foreignIntentCharge', 'charge.succeeded'),
  },
]);

// ---------------- webhook: events of the other API
add('webhook: events of the other API', [
  {
    name: 'payment_intent.succeeded naming a Sources order: recorded other_api, not paid, nothing refunded',
    req: () =>
      signed(wire(stripeEvent('payment_intent.succeeded', strangerPaidIntent({ order_id: order('otherApi').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('otherApi').id] },
    check: async () => {
      const o = await until('the event recorded on otherApi', async () => {
        const x = await orderNow('otherApi');
        return x.history.length > order('otherApi').history.length ? x : undefined;
      });
      expect(o.status).toBe('pending');
      expect(o.history.at(-1)).toMatchObject({ type: 'payment_intent.succeeded', ignored: 'other_api' });
      expect(o.chargeId).toBeUndefined();
      expect(chargesOfOrder('otherApi')).toEqual([]);
    },
  },
  {
    name: 'source.chargeable naming a PaymentIntents order: recorded other_api, nothing charged',
    req: () =>
      signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: intentOrder('piOtherApi').id })))),
    expect: ack(),
    accepted: foreignIntent('piOtherApi'),
    check: () => intentUntouched('piOtherApi', 'source.chargeable', /^other_api$/),
  },
]);

// ---------------- webhook: payment_intent.succeeded whose money does not match the order
/** The order failed with `reason`, and the money Stripe took was refunded, once. */
async function intentFailedWith(name: string, reason: string): Promise<void> {
  const o = await until(`${name} to fail`, async () => {
    const x = await intentOrderNow(name);
    return x.status === 'pending' ? undefined : x;
  });
  expect(o.status).toBe('failed');
  expect(o.failureReason).toBe(reason);
  const charge = intentOf(name).latest_charge;
  expect(o.chargeId).toBe(charge);
  await until(`the refund of ${name}`, () => (refundsOfIntent(name).length > 0 ? true : undefined));
  expect(refundsOfIntent(name)).toEqual([expect.objectContaining({ charge, amount: 1099 })]);
}
const intentMismatch = (name: string): Accepted => ({
  enqueued: 1,
  writes: true,
  mutates: () => [intentOrder(name).id],
  refundsCreated: 1,
  // The refund's charge.refunded, which the worker records.
  stripeWebhooks: 1,
});
add('webhook: payment_intent.succeeded amount/currency/livemode mismatch', [
  {
    name: 'amount_received 1 instead of 1099 → failed amount_mismatch, the money refunded',
    req: () => signed(wire(stripeEvent('payment_intent.succeeded', intentOf('piAmount', { amount_received: 1 })))),
    expect: ack(),
    accepted: intentMismatch('piAmount'),
    check: () => intentFailedWith('piAmount', 'amount_mismatch'),
  },
  {
    name: 'amount and amount_received as the string "1099" → failed amount_mismatch, the money refunded',
    req: () =>
      signed(
        wire(
          stripeEvent(
            'payment_intent.succeeded',
            intentOf('piAmountString', { amount: '1099', amount_received: '1099' }),
          ),
        ),
      ),
    expect: ack(),
    accepted: intentMismatch('piAmountString'),
    check: () => intentFailedWith('piAmountString', 'amount_mismatch'),
  },
  {
    name: 'currency jpy instead of usd → failed currency_mismatch, the money refunded',
    req: () => signed(wire(stripeEvent('payment_intent.succeeded', intentOf('piCurrency', { currency: 'jpy' })))),
    expect: ack(),
    accepted: intentMismatch('piCurrency'),
    check: () => intentFailedWith('piCurrency', 'currency_mismatch'),
  },
  {
    name: 'a live PaymentIntent for a test order → failed livemode_mismatch, the money refunded',
    req: () => signed(wire(stripeEvent('payment_intent.succeeded', intentOf('piObjLivemode', { livemode: true })))),
    expect: ack(),
    accepted: intentMismatch('piObjLivemode'),
    check: () => intentFailedWith('piObjLivemode', 'livemode_mismatch'),
  },
  {
    name: 'a live-mode payment_intent.succeeded → ignored, order unchanged, nothing refunded',
    req: () =>
      signed(
        wire(
          stripeEvent('payment_intent.succeeded', intentOf('piEvtLivemode', { livemode: true }), { livemode: true }),
        ),
      ),
    expect: ack({ ignored: 'livemode' }),
    check: async () => {
      expect((await intentOrderNow('piEvtLivemode')).status).toBe('pending');
      expect(refundsOfIntent('piEvtLivemode')).toEqual([]);
    },
  },
]);

// ---------------- webhook: the PaymentIntents control
add('webhook: control (PaymentIntents)', [
  {
    name: 'the genuine payment_intent.succeeded the corpus replayed and tampered with, freshly signed → paid, nothing refunded',
    req: () => signed(genuinePiPayload),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [intentOrder('piReplay').id] },
    check: async () => {
      const o = await until('piReplay to be paid', async () => {
        const x = await intentOrderNow('piReplay');
        return x.status === 'paid' ? x : undefined;
      });
      expect(o.chargeId).toBe(intentOf('piReplay').latest_charge);
      expect(refundsOfIntent('piReplay')).toEqual([]);
    },
  },
]);
