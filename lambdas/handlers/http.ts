/** API Gateway proxy responses: JSON, security headers, and the error shape of docs/architecture.md (and docs/openapi.json). */
import type { APIGatewayProxyResult } from 'aws-lambda';
// Types only: the status function imports this module and loads no zod.
import type { ApiErrorCode, ErrorBody } from './api-schema.js';

export type { ApiErrorCode } from './api-schema.js';

/** https://owasp.org/www-project-secure-headers/ — an API that serves JSON only. */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...SECURITY_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** `{error: {code, message, fields?}}` (ErrorBody in api-schema.ts), with the security headers and `headers`. */
export function error(
  statusCode: number,
  code: ApiErrorCode,
  message: string,
  fields?: NonNullable<ErrorBody['error']['fields']>,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  const body: ErrorBody = { error: { code, message, ...(fields && fields.length > 0 ? { fields } : {}) } };
  return json(statusCode, body, headers);
}

/** Header lookup as HTTP defines it: case-insensitive. */
export function header(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}

/** The body exactly as received: API Gateway base64-encodes it when `isBase64Encoded` is set. */
export function rawBody(event: { body: string | null; isBase64Encoded?: boolean }): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export const isJsonContentType = (ct: string | undefined): boolean =>
  ct !== undefined && /^application\/json\s*(;|$)/i.test(ct.trim());
