/**
 * The simulator's HTTP server: what happens to a `/v1` call before and after its resource
 * handler runs, in this order:
 * 1. read the body (1 MB at most) and run the expiries that are due;
 * 2. injected faults (faults.ts): 500, 429, hang, reset, or run-then-lose the answer;
 * 3. authentication: test secret keys only (https://docs.stripe.com/api/authentication);
 * 4. routing: the table built in routes.ts, each route naming its OpenAPI operation;
 * 5. idempotency (https://docs.stripe.com/api/idempotent_requests): a POST with an
 *    `Idempotency-Key` already used by this API key replays the stored answer with
 *    `Idempotent-Replayed: true` when the parameters are the same, and answers
 *    `idempotency_error` when they differ; keys last 24 h; parameter-validation failures are
 *    not stored;
 * 6. validation of the parameters against the route's OpenAPI subset (openapi.ts, gaps.ts);
 * 7. the resource handler (resources/*.ts), then the answer checked against the schemas
 *    (responses.ts; a mismatch is a 500 naming the problem).
 * Errors have Stripe's shape (https://docs.stripe.com/api/errors). `/_sim/*` goes to
 * controls.ts, `/authorize/*` and `/qr/*` to customer-pages.ts.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApiError, invalidRequest, type StripeErrorFields } from './errors.js';
import { pickFault } from './faults.js';
import { parseForm } from './form.js';
import { authenticate, canonical, header, readBody, send, sendHtml, sendJson, unrecognized } from './http.js';
import { newId } from './objects.js';
import type { Spec } from './openapi.js';
import type { FaultMode } from './options.js';
import { indexPage } from './pages.js';
import type { ApiCtx, ApiResult } from './params.js';
import { checkAnswer, type Specs } from './responses.js';
import type { SimState } from './state.js';

export interface Route {
  method: 'GET' | 'POST';
  re: RegExp;
  spec: Spec;
  specPath: string;
  run: (ctx: ApiCtx, id: string) => ApiResult;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface ServerDeps {
  state: SimState;
  specs: Specs;
  routes: Route[];
  random: () => number;
  validateResponses: boolean;
  runExpiries: () => void;
  /** `/authorize/*`, `/qr/*`. */
  pages: Handler;
  /** `/_sim/*`. */
  controls: Handler;
}

export class ApiServer {
  private readonly server: Server;
  private readonly hung = new Set<{ timer: NodeJS.Timeout; socket: Socket }>();

  constructor(private readonly d: ServerDeps) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        d.state.log(`internal error: ${e instanceof Error ? e.stack : String(e)}`);
        if (!res.headersSent) {
          sendJson(res, 500, { error: { type: 'api_error', message: 'stripe-sim internal error' } });
        } else res.destroy();
      });
    });
  }

  /** Listens; returns the port and the URL to show (loopback for a wildcard host). */
  async listen(port: number, host: string): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = (this.server.address() as AddressInfo).port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return { port: bound, url: `http://${shownHost}:${bound}` };
  }

  async close(): Promise<void> {
    for (const h of this.hung) {
      clearTimeout(h.timer);
      h.socket.destroy();
    }
    this.hung.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stripe-sim.invalid');
    this.d.runExpiries();
    const path = url.pathname;
    if (path === '/v1' || path.startsWith('/v1/')) return this.handleApi(req, res, url);
    if (path.startsWith('/_sim/')) return this.d.controls(req, res, url);
    if (path.startsWith('/authorize/') || path.startsWith('/qr/')) return this.d.pages(req, res, url);
    if (path === '/' && req.method === 'GET') return sendHtml(res, 200, indexPage(this.d.state.url));
    await readBody(req).catch(() => '');
    sendJson(res, 404, unrecognized(req.method ?? 'GET', path));
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const st = this.d.state;
    const method = (req.method ?? 'GET').toUpperCase();
    const requestId = newId('req');
    const headers: Record<string, string> = {
      'Request-Id': requestId,
      'Stripe-Version': header(req, 'stripe-version') ?? this.d.specs.sources.apiVersion,
    };
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      sendJson(res, 413, { error: { type: 'invalid_request_error', message: 'Request body too large.' } }, headers);
      return;
    }

    // Injected faults first: they model Stripe (or the network) failing before the request runs.
    // A lost answer runs the request first, then drops the connection.
    const picked = pickFault(st, this.d.random, method, url.pathname, body);
    const lose = picked === 'lost';
    if (lose) st.log(`fault lost on ${method} ${url.pathname}`);
    else if (picked) return this.injectFault(picked, req, res, headers, `${method} ${url.pathname}`);

    const apiKey = authenticate(req);
    if (apiKey instanceof ApiError) {
      sendJson(res, apiKey.status, apiKey.body(), { ...headers, 'WWW-Authenticate': 'Bearer realm="Stripe"' });
      return;
    }

    let matched: { route: Route; id: string } | undefined;
    for (const route of this.d.routes) {
      const m = route.method === method ? route.re.exec(url.pathname) : null;
      if (m) {
        matched = { route, id: decodeURIComponent(m[1] ?? '') };
        break;
      }
    }
    if (!matched) {
      sendJson(res, 404, unrecognized(method, url.pathname), headers);
      return;
    }
    const { route } = matched;

    const raw = method === 'POST' ? parseForm(body) : parseForm(url.search.slice(1));
    const idemKey = method === 'POST' ? header(req, 'idempotency-key') : undefined;
    const store = idemKey !== undefined ? `${apiKey}\n${idemKey}` : undefined;
    const fingerprint = `${method} ${url.pathname} ${canonical(raw)}`;
    const record = (status: number, replayed = false) =>
      st.recordRequest({
        requestId,
        method,
        path: url.pathname,
        specPath: route.specPath,
        params: structuredClone(raw),
        idempotencyKey: idemKey ?? null,
        status,
        replayed,
      });

    if (idemKey !== undefined) {
      headers['Idempotency-Key'] = idemKey;
      if (idemKey.length > 255) {
        const e = invalidRequest('Invalid idempotency key: must be at most 255 characters.', { storable: false });
        record(400);
        sendJson(res, 400, this.withLogUrl(e.body(), requestId), headers);
        return;
      }
      const prior = store ? st.idempotency.get(store) : undefined;
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          const e = new ApiError(400, {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
          });
          record(400);
          sendJson(res, 400, this.withLogUrl(e.body(), requestId), headers);
          return;
        }
        record(prior.status, true);
        if (lose) {
          req.socket.destroy();
          return;
        }
        send(res, prior.status, prior.body, 'application/json', {
          ...headers,
          'Idempotent-Replayed': 'true',
          'Original-Request': prior.requestId,
        });
        return;
      }
    }

    let result: ApiResult;
    let storable = true;
    try {
      const params = route.spec.validateRequest(method, route.specPath, raw);
      result = route.run(
        { method, path: url.pathname, params, requestId, idempotencyKey: idemKey ?? null },
        matched.id,
      );
      const problems = this.d.validateResponses ? checkAnswer(this.d.specs, result.body) : [];
      if (problems.length > 0) {
        st.log(`response does not match the OpenAPI schema: ${problems.join('; ')}`);
        const message = `stripe-sim bug: response does not match the OpenAPI schema: ${problems.slice(0, 5).join('; ')}`;
        result = { status: 500, body: { error: { type: 'api_error', message } } };
        storable = false;
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      result = { status: e.status, body: this.withLogUrl(e.body(), requestId) };
      storable = e.storable;
      const problems = this.d.validateResponses ? checkAnswer(this.d.specs, result.body) : [];
      if (problems.length > 0) st.log(`error body does not match the OpenAPI schema: ${problems.join('; ')}`);
    }

    const text = JSON.stringify(result.body, null, 2);
    if (store && storable) {
      st.idempotency.set(store, { fingerprint, status: result.status, body: text, requestId, createdMs: st.nowMs() });
    }
    record(result.status);
    if (lose) {
      req.socket.destroy();
      return;
    }
    send(res, result.status, text, 'application/json', headers);
  }

  private injectFault(
    fault: Exclude<FaultMode, 'lost'>,
    req: IncomingMessage,
    res: ServerResponse,
    headers: Record<string, string>,
    what: string,
  ): void {
    this.d.state.log(`fault ${fault} on ${what}`);
    if (fault === '500') {
      const message = 'An unknown error occurred (stripe-sim injected fault).';
      sendJson(res, 500, { error: { type: 'api_error', message } }, headers);
    } else if (fault === '429') {
      const error = {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
        doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
      };
      sendJson(res, 429, { error }, headers);
    } else if (fault === 'reset') {
      req.socket.destroy();
    } else {
      const socket = req.socket;
      const entry = {
        socket,
        timer: setTimeout(() => {
          this.hung.delete(entry);
          socket.destroy();
        }, this.d.state.faults.hangMs),
      };
      entry.timer.unref();
      this.hung.add(entry);
      socket.once('close', () => {
        clearTimeout(entry.timer);
        this.hung.delete(entry);
      });
    }
  }

  private withLogUrl(body: { error: StripeErrorFields }, requestId: string): { error: StripeErrorFields } {
    return { error: { ...body.error, request_log_url: `${this.d.state.url}/_sim/state#${requestId}` } };
  }
}

/** A route; fails at startup when the OpenAPI subset lacks the operation. */
export function route(method: 'GET' | 'POST', pattern: string, spec: Spec, specPath: string, run: Route['run']): Route {
  spec.operation(method, specPath);
  return { method, re: new RegExp(`^${pattern}/?$`), spec, specPath, run };
}
