#!/usr/bin/env node
/**
 * Prints an API Gateway proxy event carrying a freshly signed Stripe webhook, for
 * `sam local invoke … IngressFunction -e <file>`. Signatures are only valid for 300 s, so make
 * a new one for each try:
 *
 *   node scripts/sign-webhook.mjs [--type source.chargeable] [--order ord_…] [--source src_…] \
 *     [--amount 1099] [--currency usd] [--secret whsec_…] > events/webhook-signed.json
 *
 * The secret defaults to $STRIPE_WEBHOOK_SECRET, then to the sandbox's whsec_local_sandbox.
 * Signed with stripe-node's own generateTestHeaderString.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Stripe from 'stripe';

const { values } = parseArgs({
  options: {
    type: { type: 'string', default: 'source.chargeable' },
    order: { type: 'string', default: 'ord_01JZ0000000000000000000001' },
    source: { type: 'string', default: 'src_sam_local_example' },
    amount: { type: 'string', default: '1099' },
    currency: { type: 'string', default: 'usd' },
    secret: { type: 'string' },
  },
});
const secret = values.secret ?? process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_local_sandbox';
const now = Math.floor(Date.now() / 1000);
const id = (p) => `${p}_${randomBytes(12).toString('hex')}`;
const source = {
  id: values.source,
  object: 'source',
  amount: Number(values.amount),
  currency: values.currency,
  livemode: false,
  status: values.type === 'source.chargeable' ? 'chargeable' : values.type.split('.')[1],
  type: 'wechat',
  metadata: { order_id: values.order },
};
const object = values.type.startsWith('charge.')
  ? {
      id: id('ch'),
      object: 'charge',
      amount: source.amount,
      currency: source.currency,
      status: 'succeeded',
      source,
      metadata: { order_id: values.order },
    }
  : source;
const body = JSON.stringify({
  id: id('evt'),
  object: 'event',
  api_version: '2023-08-16',
  created: now,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type: values.type,
  data: { object },
});
const header = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
  payload: body,
  secret,
  timestamp: now,
});
const template = JSON.parse(readFileSync(new URL('../events/webhook-template.json', import.meta.url), 'utf8'));
template.headers['Stripe-Signature'] = header;
template.multiValueHeaders['Stripe-Signature'] = [header];
template.body = body;
template.requestContext.requestTimeEpoch = now * 1000;
process.stdout.write(`${JSON.stringify(template, null, 2)}\n`);
