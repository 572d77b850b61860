/**
 * HTTP plumbing of the simulator: bodies, answers, headers, API keys.
 *
 * Why: Stripe's wire behaviour that is not about any one resource: bodies are read whole
 * (1 MB at most), answers are pretty-printed JSON with `Request-Id`, unknown URLs get
 * "Unrecognized request URL", and only test secret keys authenticate, as Bearer or as the
 * Basic user name. https://docs.stripe.com/api/authentication · https://docs.stripe.com/api/errors
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, type StripeErrorFields } from './errors.js';
import { type FormValue, parseForm } from './form.js';

const MAX_BODY = 1024 * 1024;

export function parseControlBody(req: IncomingMessage, text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  const type = header(req, 'content-type') ?? '';
  if (type.includes('json') || /^\s*[{[]/.test(text)) {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  }
  return parseForm(text);
}

/** The API key from `Authorization: Bearer sk_test_...` (or Basic with the key as user name). */
export function authenticate(req: IncomingMessage): string | ApiError {
  const auth = header(req, 'authorization');
  let key: string | undefined;
  if (auth?.startsWith('Bearer ')) key = auth.slice(7).trim();
  else if (auth?.startsWith('Basic ')) {
    key = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8').split(':')[0];
  }
  if (!key) {
    return new ApiError(401, {
      type: 'invalid_request_error',
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    });
  }
  if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key)) {
    const masked = key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}` : key;
    return new ApiError(401, {
      type: 'invalid_request_error',
      message: `Invalid API Key provided: ${masked}`,
    });
  }
  return key;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function unrecognized(method: string, path: string): { error: StripeErrorFields } {
  return {
    error: {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    },
  };
}

/** Stable text of params, for comparing idempotent requests. */
export function canonical(v: FormValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
    .join(',')}}`;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': contentType.includes('charset') ? contentType : `${contentType}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, no-store',
    ...headers,
  });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, JSON.stringify(body, null, 2), 'application/json', headers);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  send(res, status, html, 'text/html');
}
