/**
 * Generates docs/openapi.json (OpenAPI 3.0) from the API's zod schemas and route table in
 * lambdas/handlers/api-schema.ts: `npm run openapi`. test/unit/openapi.test.ts fails when the
 * committed document differs from what this produces, so docs and code cannot drift.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ORDER_ID_PATTERN } from '../lambdas/domain/index.js';
import { ROUTES } from '../lambdas/handlers/api-schema.js';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const parameters: unknown[] = [];
    if (r.path.includes('{id}')) {
      parameters.push({
        name: 'id',
        in: 'path',
        required: true,
        schema: { type: 'string', pattern: ORDER_ID_PATTERN.source },
      });
    }
    if (r.query) {
      const q = schema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema: s });
      }
    }
    for (const [name, description] of Object.entries(r.headers ?? {})) {
      parameters.push({ name, in: 'header', required: false, description, schema: { type: 'string', maxLength: 255 } });
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/\/(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      security: r.apiKey ? [{ apiKey: [] }] : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body) } } } }
        : {}),
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([code, res]) => [
          code,
          { description: res.description, content: { 'application/json': { schema: schema(res.schema) } } },
        ]),
      ),
    };
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method] = op;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Order orchestrator storefront API',
      version: '1.0.0',
      description:
        'Create WeChat Pay and Alipay orders and follow them. Errors are {error: {code, message, fields?}}. ' +
        'The Stripe webhook endpoint (POST /webhooks/stripe) is for Stripe only and is not described here.',
    },
    servers: [
      {
        url: 'https://{api}.execute-api.{region}.amazonaws.com/v1',
        variables: { api: { default: 'abc123' }, region: { default: 'us-east-1' } },
      },
    ],
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
    paths,
  };
}

export const OPENAPI_PATH = new URL('../docs/openapi.json', import.meta.url);
export const render = () => `${JSON.stringify(buildOpenApi(), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(OPENAPI_PATH, render());
  console.log(`wrote ${OPENAPI_PATH.pathname}`);
}
