/** The files in events/ (for `sam local invoke`) stay valid inputs of the handlers they are for. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MemoryWorkQueue } from '../../lambdas/adapters/memory/index.js';
import { decodeWorkMessage } from '../../lambdas/adapters/messages.js';
import { loadConfig } from '../../lambdas/config.js';
import { handleApi } from '../../lambdas/handlers/api.js';
import { handleWebhook } from '../../lambdas/handlers/ingress.js';
import { makeWorld } from '../support/world.js';

const read = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8')) as T;

describe('events/ samples', () => {
  it.each(['api-create-order.json', 'api-get-order.json', 'api-order-status.json'])(
    '%s reaches a route of the API function',
    async (file) => {
      const deps = { ...makeWorld().deps, corsOrigins: ['*'] };
      const res = await handleApi(deps, read<APIGatewayProxyEvent>(file));
      expect(JSON.parse(res.body).error?.code).not.toBe('NOT_FOUND');
      expect(res.statusCode).toBeLessThan(500);
    },
  );

  it('worker-sqs.json carries a decodable v1 work message in its group', () => {
    const e = read<SQSEvent>('worker-sqs.json');
    const r = e.Records[0];
    const m = decodeWorkMessage(r?.body ?? '');
    expect(m.groupId).toBe(r?.attributes.MessageGroupId);
    expect(m.event.type).toBe('timer.pending_expired');
  });

  it('scripts/sign-webhook.mjs writes a freshly signed event the ingress accepts and enqueues', async () => {
    const out = execFileSync('node', ['scripts/sign-webhook.mjs', '--secret', 'whsec_sample'], { encoding: 'utf8' });
    const event = JSON.parse(out) as APIGatewayProxyEvent;
    const queue = new MemoryWorkQueue();
    const res = await handleWebhook(
      { queue, webhookSecrets: ['whsec_sample'], livemode: false, clock: { now: () => new Date() } },
      event,
    );
    expect(res.statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0]?.event.type).toBe('source.chargeable');
  });

  it('env.example.json configures each function completely', () => {
    const env = read<Record<string, Record<string, string>>>('env.example.json');
    expect(() => loadConfig(['queue', 'stripe'], env.IngressFunction)).not.toThrow();
    expect(() => loadConfig(['store', 'timers', 'events', 'stripe'], env.ApiFunction)).not.toThrow();
    expect(() => loadConfig(['store', 'timers', 'events', 'stripe'], env.WorkerFunction)).not.toThrow();
  });
});
