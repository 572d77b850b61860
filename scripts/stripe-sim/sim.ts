/**
 * The Stripe simulator: a stateful, offline stand-in for the slice of Stripe's legacy Sources
 * API the orchestrator uses (WeChat Pay and Alipay sources, charges, refunds, events, signed
 * webhooks), for tests and the local sandbox (DESIGN.md, "Local sandbox").
 *
 * Why a simulator and not mocks: the orchestrator's correctness lives at the edges — the
 * 1 h / 6 h / 23:45 CST expiries, at-least-once webhooks, idempotent retries, 429/500 answers,
 * a source that is charged twice. Those edges are Stripe's behaviour, so they are reproduced
 * here over real HTTP with stripe-node as the client, with the rules from Stripe's docs:
 * - Sources lifecycle and expiries: https://docs.stripe.com/sources/wechat-pay ,
 *   https://docs.stripe.com/sources/alipay , https://docs.stripe.com/sources#single-use-sources
 * - Idempotent requests (same key + same params → the first answer, replayed with
 *   `Idempotent-Replayed: true`; same key + other params → `idempotency_error`; keys scoped
 *   to the API key, kept 24 h; parameter-validation failures not stored):
 *   https://docs.stripe.com/api/idempotent_requests
 * - Errors: https://docs.stripe.com/api/errors · Authentication: https://docs.stripe.com/api/authentication
 * - Pagination: https://docs.stripe.com/api/pagination
 * - Webhook signatures and retries: https://docs.stripe.com/webhooks#verify-manually
 * Every `/v1` request is checked against the OpenAPI subset in `../shared/stripe/` (see
 * openapi.ts); every object answered is checked against the same schemas.
 *
 * Test controls live under `/_sim/*` (no auth): authorize / fail / cancel a source, choose the
 * outcome of its charge, settle pending charges, inject faults, advance the clock, read state.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type AdvanceableClock,
  chargeableCancelAt,
  HOUR_MS,
  OffsetClock,
  pendingCancelAt,
  realClock,
  type SimClock,
  unixSeconds,
} from './clock.js';
import { ApiError, invalidRequest, missingParameter, noSuch, paramError, type StripeErrorFields } from './errors.js';
import { type FormObject, type FormValue, parseForm } from './form.js';
import {
  type ChargeObj,
  type ChargeStatus,
  clone,
  type EventObj,
  type EventType,
  emptyOwner,
  formatAmount,
  newId,
  type OwnerObj,
  type RefundObj,
  randomAlnum,
  type SourceObj,
  type SourceType,
} from './objects.js';
import { loadSpec, Spec } from './openapi.js';
import { authorizePage, donePage, indexPage, messagePage } from './pages.js';
import { type DeliveryRecord, seededRandom, WebhookSender } from './webhooks.js';

/**
 * '500', '429', 'hang' and 'reset' fail before the request runs. 'lost' runs it (a charge is
 * created, the answer is stored under its idempotency key) and then closes the socket without
 * answering: the request reached Stripe but its response was lost on the way back.
 */
export type FaultMode = '500' | '429' | 'hang' | 'reset' | 'lost';
export const FAULT_MODES: readonly FaultMode[] = ['500', '429', 'hang', 'reset', 'lost'];

export interface FaultSettings {
  /** Share of matching `/v1/*` calls that fail, 0..1 (0 = off). */
  rate: number;
  /** Picked at random per failing call: 500 api_error, 429 rate_limit, hang, or reset (socket closed). */
  modes: FaultMode[];
  /** How long a hung call is held before its socket is closed. */
  hangMs: number;
  /** Only calls whose path starts with one of these (optionally "METHOD /path") fail; all when absent. */
  paths?: string[];
  /**
   * Only calls about one of these sources fail; all when absent. A call is about a source when
   * it names it: `/v1/sources/{id}`, the `source` parameter of a charge, the source of the charge
   * of `/v1/charges/{id}` or of a refund's `charge`.
   */
  sources?: string[];
}

export type ChargeOutcome = 'succeeded' | 'failed' | 'pending';

export interface StripeSimOptions {
  /** 0 = a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The simulator's clock; share it with the sandbox. Default: a new OffsetClock. */
  clock?: SimClock & { advance?(seconds: number): void };
  webhookUrl?: string;
  /** Default `whsec_local_sandbox`. */
  webhookSecret?: string;
  /** Base of the QR code / redirect pages. Default: the simulator's own URL. */
  publicBaseUrl?: string;
  /** Clock for the `t=` of `Stripe-Signature`. Default: real time. */
  signatureClock?: SimClock;
  /** First retry delay; doubles per attempt, capped at 30 s. Default 500 ms. */
  webhookRetryBaseMs?: number;
  /** Attempts per event, first included. Default 8. */
  webhookMaxAttempts?: number;
  /** Per-attempt timeout. Default 10 s. */
  webhookTimeoutMs?: number;
  /** Each event waits for the previous one of the same source to finish. Default true. */
  webhookStrictOrder?: boolean;
  /**
   * At-least-once and disorder at their worst (reliability tests): every event is POSTed 1..maxCopies
   * times, each copy after its own random delay of 0..maxDelayMs (real time) and with its own
   * retries, in no order at all (`webhookStrictOrder` is ignored). `seed` makes the copies and
   * delays reproducible. Default: off.
   */
  webhookChaos?: { maxCopies: number; maxDelayMs: number; seed?: number };
  /** At most this many webhook POSTs in flight at once. Default: unlimited. */
  webhookConcurrency?: number;
  /** Path of the OpenAPI subset. Default: STRIPE_OPENAPI_PATH or `<repo>/../shared/stripe/...`. */
  specPath?: string;
  /** Real-time period of the expiry sweep. Default 1000 ms. */
  expiryIntervalMs?: number;
  /** Randomness for fault injection (tests pass a deterministic one). */
  random?: () => number;
  /** Check every object answered against the OpenAPI schemas; 500 on a mismatch. Default true. */
  validateResponses?: boolean;
  /** One line per notable thing (webhook attempts, faults). Default: silent. */
  log?: (line: string) => void;
}

export interface StripeSim {
  url: string;
  port: number;
  readonly spec: Spec;
  close(): Promise<void>;
  /** Advances the clock and runs the expiries. */
  advance(seconds: number): Promise<void>;
  setWebhookUrl(url: string | undefined): void;
  now(): Date;
  charges(): ChargeObj[];
  sources(): SourceObj[];
  refunds(): RefundObj[];
  events(): EventObj[];
  deliveries(): DeliveryRecord[];
  /** pending → chargeable (`source.chargeable`); `chargeOutcome` decides how its charge ends. */
  authorizeSource(id: string, opts?: { chargeOutcome?: ChargeOutcome; failureCode?: string }): SourceObj;
  /** pending → failed (`source.failed`). */
  failSource(id: string): SourceObj;
  /** pending | chargeable → canceled (`source.canceled`). */
  cancelSource(id: string): SourceObj;
  setChargeOutcome(id: string, outcome: ChargeOutcome, failureCode?: string): void;
  /** pending charge → succeeded (`charge.succeeded`). */
  succeedCharge(id: string): ChargeObj;
  /** pending charge → failed (`charge.failed`). */
  failCharge(id: string, failureCode?: string): ChargeObj;
  faults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): FaultSettings;
  /** Cancels what is due now. Runs by itself every second and before each request. */
  runExpiries(): void;
  /** Resolves when no webhook delivery is queued or retrying. */
  webhooksIdle(): Promise<void>;
  /** Forgets every object, key, event, delivery and fault. */
  reset(): void;
}

/** Thrown by the control surface: `{error: {type, message}}` with this status. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface SourceRec {
  obj: SourceObj;
  chargeableAtMs?: number;
  cancelAtMs?: number;
  outcome: ChargeOutcome;
  failureCode?: string;
}

interface RequestInfo {
  requestId: string | null;
  idempotencyKey: string | null;
}

interface ApiCtx extends RequestInfo {
  method: string;
  path: string;
  params: FormObject;
}

interface ApiResult {
  status: number;
  body: unknown;
}

interface StoredAnswer {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
  createdMs: number;
}

interface Route {
  method: 'GET' | 'POST';
  re: RegExp;
  specPath: string;
  run: (ctx: ApiCtx, id: string) => ApiResult;
}

const DEFAULT_SECRET = 'whsec_local_sandbox';
const IDEMPOTENCY_TTL_MS = 24 * HOUR_MS;
const MAX_BODY = 1024 * 1024;
const SOURCE_TYPES: readonly SourceType[] = ['wechat', 'alipay'];
/** Presentment currencies Stripe lists for WeChat Pay / Alipay sources (union over merchant countries). */
const CURRENCIES: Record<SourceType, ReadonlySet<string>> = {
  wechat: new Set(['aud', 'cad', 'chf', 'cny', 'dkk', 'eur', 'gbp', 'hkd', 'jpy', 'nok', 'sek', 'sgd', 'usd']),
  alipay: new Set(['aud', 'cad', 'cny', 'eur', 'gbp', 'hkd', 'jpy', 'myr', 'nzd', 'sgd', 'usd']),
};
/** WeChat Pay shows at most 32 characters of statement descriptor (DESIGN.md, Stripe). */
const WECHAT_DESCRIPTOR_MAX = 32;
const MAX_AMOUNT = 99_999_999;

export async function startStripeSim(opts: StripeSimOptions = {}): Promise<StripeSim> {
  const sim = new Simulator(opts);
  await sim.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return sim;
}

class Simulator implements StripeSim {
  url = '';
  port = 0;
  readonly spec: Spec;
  private readonly clock: SimClock & { advance?(seconds: number): void };
  private readonly server: Server;
  private readonly sender: WebhookSender;
  private readonly routes: Route[];
  private readonly random: () => number;
  private readonly validateResponses: boolean;
  private readonly log: (line: string) => void;
  private webhookUrl: string | undefined;
  private publicBaseUrl: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly hung = new Set<{ timer: NodeJS.Timeout; socket: Socket }>();

  private srcs = new Map<string, SourceRec>();
  private chs = new Map<string, ChargeObj>();
  private refs = new Map<string, RefundObj>();
  private evts = new Map<string, EventObj>();
  private dels: DeliveryRecord[] = [];
  private idem = new Map<string, StoredAnswer>();
  private faultSettings: FaultSettings = { rate: 0, modes: ['500'], hangMs: 30_000 };

  constructor(private readonly opts: StripeSimOptions) {
    this.spec = new Spec(loadSpec(opts.specPath));
    this.clock = opts.clock ?? (new OffsetClock() as AdvanceableClock);
    this.webhookUrl = opts.webhookUrl || undefined;
    this.publicBaseUrl = opts.publicBaseUrl?.replace(/\/+$/, '');
    this.random = opts.random ?? Math.random;
    this.validateResponses = opts.validateResponses ?? true;
    this.log = opts.log ?? (() => undefined);
    this.sender = new WebhookSender({
      url: () => this.webhookUrl,
      secret: opts.webhookSecret ?? DEFAULT_SECRET,
      signatureClock: opts.signatureClock ?? realClock,
      retryBaseMs: opts.webhookRetryBaseMs ?? 500,
      maxAttempts: opts.webhookMaxAttempts ?? 8,
      timeoutMs: opts.webhookTimeoutMs ?? 10_000,
      strictOrder: opts.webhookStrictOrder ?? true,
      ...(opts.webhookConcurrency !== undefined ? { concurrency: opts.webhookConcurrency } : {}),
      ...(opts.webhookChaos
        ? {
            chaos: {
              maxCopies: opts.webhookChaos.maxCopies,
              maxDelayMs: opts.webhookChaos.maxDelayMs,
              random: opts.webhookChaos.seed !== undefined ? seededRandom(opts.webhookChaos.seed) : Math.random,
            },
          }
        : {}),
      onAttempt: (r) => {
        this.dels.push(r);
        this.log(`webhook ${r.type} ${r.eventId} attempt ${r.attempt} → ${r.status}${r.error ? ` (${r.error})` : ''}`);
      },
      onDelivered: (e) => {
        const stored = this.evts.get(e.id);
        if (stored) stored.pending_webhooks = 0;
      },
      onGiveUp: (e) => this.log(`webhook ${e.type} ${e.id}: gave up`),
    });
    this.routes = this.buildRoutes();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.log(`internal error: ${e instanceof Error ? e.stack : String(e)}`);
        if (!res.headersSent) {
          sendJson(res, 500, { error: { type: 'api_error', message: 'stripe-sim internal error' } });
        } else res.destroy();
      });
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.port = addr.port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    this.url = `http://${shownHost}:${this.port}`;
    const interval = this.opts.expiryIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => this.runExpiries(), interval);
      this.timer.unref();
    }
  }

  // ---------------------------------------------------------------- public surface

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.sender.close();
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

  async advance(seconds: number): Promise<void> {
    if (typeof this.clock.advance !== 'function') throw new Error('stripe-sim: this clock cannot be advanced');
    this.clock.advance(seconds);
    this.runExpiries();
  }

  setWebhookUrl(url: string | undefined): void {
    this.webhookUrl = url || undefined;
  }

  now(): Date {
    return this.clock.now();
  }

  sources(): SourceObj[] {
    return [...this.srcs.values()].map((r) => clone(r.obj));
  }

  charges(): ChargeObj[] {
    return [...this.chs.values()].map((c) => clone(c));
  }

  refunds(): RefundObj[] {
    return [...this.refs.values()].map((r) => clone(r));
  }

  events(): EventObj[] {
    return [...this.evts.values()].map((e) => clone(e));
  }

  deliveries(): DeliveryRecord[] {
    return this.dels.map((d) => ({ ...d }));
  }

  faults(): FaultSettings {
    return clone(this.faultSettings);
  }

  setFaults(f: Partial<FaultSettings>): FaultSettings {
    const next: FaultSettings = { ...this.faultSettings, ...f };
    if (typeof next.rate !== 'number' || !(next.rate >= 0 && next.rate <= 1)) {
      throw new ControlError(400, 'rate must be a number between 0 and 1');
    }
    if (!Array.isArray(next.modes) || next.modes.some((m) => !FAULT_MODES.includes(m))) {
      throw new ControlError(400, `modes must be a list of ${FAULT_MODES.join(', ')}`);
    }
    if (next.modes.length === 0 && next.rate > 0) throw new ControlError(400, 'modes must not be empty');
    if (typeof next.hangMs !== 'number' || !(next.hangMs >= 0)) throw new ControlError(400, 'hangMs must be >= 0');
    if (next.paths !== undefined && (!Array.isArray(next.paths) || next.paths.some((p) => typeof p !== 'string'))) {
      throw new ControlError(400, 'paths must be a list of strings');
    }
    if (next.paths === undefined || next.paths.length === 0) delete next.paths;
    if (
      next.sources !== undefined &&
      (!Array.isArray(next.sources) || next.sources.some((p) => typeof p !== 'string'))
    ) {
      throw new ControlError(400, 'sources must be a list of source ids');
    }
    if (next.sources === undefined || next.sources.length === 0) delete next.sources;
    this.faultSettings = next;
    return this.faults();
  }

  webhooksIdle(): Promise<void> {
    return this.sender.idle();
  }

  reset(): void {
    this.srcs.clear();
    this.chs.clear();
    this.refs.clear();
    this.evts.clear();
    this.dels = [];
    this.idem.clear();
    this.faultSettings = { rate: 0, modes: ['500'], hangMs: 30_000 };
  }

  runExpiries(): void {
    const now = this.clock.now().getTime();
    for (const rec of this.srcs.values()) {
      const s = rec.obj;
      if (s.status === 'pending' && now >= pendingCancelAt(rec.obj.created * 1000)) {
        this.transitionCancel(rec, { requestId: null, idempotencyKey: null });
      } else if (s.status === 'chargeable' && rec.cancelAtMs !== undefined && now >= rec.cancelAtMs) {
        this.transitionCancel(rec, { requestId: null, idempotencyKey: null });
      }
    }
    for (const [k, v] of this.idem) if (now - v.createdMs > IDEMPOTENCY_TTL_MS) this.idem.delete(k);
  }

  authorizeSource(id: string, o: { chargeOutcome?: ChargeOutcome; failureCode?: string } = {}): SourceObj {
    const rec = this.sourceRec(id);
    if (rec.obj.status !== 'pending') throw new ControlError(409, `source ${id} is ${rec.obj.status}, not pending`);
    if (o.chargeOutcome) this.setChargeOutcome(id, o.chargeOutcome, o.failureCode);
    const nowMs = this.clock.now().getTime();
    // Deadlines count from the `created` second of source.chargeable, as the orchestrator sees it.
    rec.chargeableAtMs = Math.floor(nowMs / 1000) * 1000;
    rec.cancelAtMs = chargeableCancelAt(rec.chargeableAtMs);
    rec.obj.status = 'chargeable';
    if (rec.obj.redirect) rec.obj.redirect.status = 'succeeded';
    this.emit('source.chargeable', rec.obj, id, null);
    return clone(rec.obj);
  }

  failSource(id: string): SourceObj {
    const rec = this.sourceRec(id);
    if (rec.obj.status !== 'pending') throw new ControlError(409, `source ${id} is ${rec.obj.status}, not pending`);
    rec.obj.status = 'failed';
    if (rec.obj.redirect) {
      rec.obj.redirect.status = 'failed';
      rec.obj.redirect.failure_reason = 'declined';
    }
    this.emit('source.failed', rec.obj, id, null);
    return clone(rec.obj);
  }

  cancelSource(id: string): SourceObj {
    const rec = this.sourceRec(id);
    if (rec.obj.status !== 'pending' && rec.obj.status !== 'chargeable') {
      throw new ControlError(409, `source ${id} is ${rec.obj.status}, neither pending nor chargeable`);
    }
    this.transitionCancel(rec, { requestId: null, idempotencyKey: null });
    return clone(rec.obj);
  }

  setChargeOutcome(id: string, outcome: ChargeOutcome, failureCode?: string): void {
    const rec = this.sourceRec(id);
    if (!['succeeded', 'failed', 'pending'].includes(outcome)) {
      throw new ControlError(400, 'charge_outcome must be succeeded, failed or pending');
    }
    rec.outcome = outcome;
    rec.failureCode = failureCode;
  }

  succeedCharge(id: string): ChargeObj {
    const ch = this.pendingCharge(id);
    settleSucceeded(ch);
    this.emit('charge.succeeded', ch, ch.source.id, null);
    return clone(ch);
  }

  failCharge(id: string, failureCode?: string): ChargeObj {
    const ch = this.pendingCharge(id);
    settleFailed(ch, failureCode);
    this.emit('charge.failed', ch, ch.source.id, null);
    return clone(ch);
  }

  // ---------------------------------------------------------------- state helpers

  private sourceRec(id: string): SourceRec {
    const rec = this.srcs.get(id);
    if (!rec) throw new ControlError(404, `no such source: ${id}`);
    return rec;
  }

  private pendingCharge(id: string): ChargeObj {
    const ch = this.chs.get(id);
    if (!ch) throw new ControlError(404, `no such charge: ${id}`);
    if (ch.status !== 'pending') throw new ControlError(409, `charge ${id} is ${ch.status}, not pending`);
    return ch;
  }

  private transitionCancel(rec: SourceRec, info: RequestInfo): void {
    rec.obj.status = 'canceled';
    this.emit('source.canceled', rec.obj, rec.obj.id, info);
  }

  private nowSeconds(): number {
    return unixSeconds(this.clock.now());
  }

  private emit(type: EventType, object: SourceObj | ChargeObj, orderKey: string, info: RequestInfo | null): EventObj {
    const delivering = this.webhookUrl !== undefined;
    const event: EventObj = {
      id: newId('evt'),
      object: 'event',
      api_version: this.spec.apiVersion,
      created: this.nowSeconds(),
      data: { object: clone(object) },
      livemode: false,
      pending_webhooks: delivering ? 1 : 0,
      request: { id: info?.requestId ?? null, idempotency_key: info?.idempotencyKey ?? null },
      type,
    };
    this.evts.set(event.id, event);
    if (delivering) this.sender.enqueue(clone(event), orderKey);
    return event;
  }

  private baseUrl(): string {
    return this.publicBaseUrl ?? this.url;
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stripe-sim.invalid');
    this.runExpiries();
    const path = url.pathname;
    if (path === '/v1' || path.startsWith('/v1/')) return this.handleApi(req, res, url);
    if (path.startsWith('/_sim/')) return this.handleControl(req, res, url);
    if (path.startsWith('/authorize/')) return this.handlePage(req, res, url);
    if (path === '/' && req.method === 'GET') return sendHtml(res, 200, indexPage(this.url));
    await readBody(req).catch(() => '');
    sendJson(res, 404, unrecognized(req.method ?? 'GET', path));
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const requestId = newId('req');
    const headers: Record<string, string> = {
      'Request-Id': requestId,
      'Stripe-Version': header(req, 'stripe-version') ?? this.spec.apiVersion,
    };
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      sendJson(res, 413, { error: { type: 'invalid_request_error', message: 'Request body too large.' } }, headers);
      return;
    }

    // Injected faults first: they model Stripe (or the network) failing before the request runs.
    const picked = this.pickFault(method, url.pathname, body);
    // A lost response runs the request first; see below.
    const fault = picked === 'lost' ? undefined : picked;
    const lose = picked === 'lost';
    if (lose) this.log(`fault lost on ${method} ${url.pathname}`);
    if (fault) {
      this.log(`fault ${fault} on ${method} ${url.pathname}`);
      if (fault === '500') {
        sendJson(
          res,
          500,
          { error: { type: 'api_error', message: 'An unknown error occurred (stripe-sim injected fault).' } },
          headers,
        );
      } else if (fault === '429') {
        sendJson(
          res,
          429,
          {
            error: {
              type: 'invalid_request_error',
              code: 'rate_limit',
              message:
                'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
              doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
            },
          },
          headers,
        );
      } else if (fault === 'reset') {
        req.socket.destroy();
      } else {
        const socket = req.socket;
        const entry = {
          socket,
          timer: setTimeout(() => {
            this.hung.delete(entry);
            socket.destroy();
          }, this.faultSettings.hangMs),
        };
        entry.timer.unref();
        this.hung.add(entry);
        socket.once('close', () => {
          clearTimeout(entry.timer);
          this.hung.delete(entry);
        });
      }
      return;
    }

    const apiKey = authenticate(req);
    if (apiKey instanceof ApiError) {
      sendJson(res, apiKey.status, apiKey.body(), { ...headers, 'WWW-Authenticate': 'Bearer realm="Stripe"' });
      return;
    }

    let matched: { route: Route; id: string } | undefined;
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.re.exec(url.pathname);
      if (m) {
        matched = { route, id: decodeURIComponent(m[1] ?? '') };
        break;
      }
    }
    if (!matched) {
      sendJson(res, 404, unrecognized(method, url.pathname), headers);
      return;
    }

    const raw = method === 'POST' ? parseForm(body) : parseForm(url.search.slice(1));
    const idemKey = method === 'POST' ? header(req, 'idempotency-key') : undefined;
    const store = idemKey !== undefined ? `${apiKey}\n${idemKey}` : undefined;
    const fingerprint = `${method} ${url.pathname} ${canonical(raw)}`;

    if (idemKey !== undefined) {
      headers['Idempotency-Key'] = idemKey;
      if (idemKey.length > 255) {
        const e = invalidRequest('Invalid idempotency key: must be at most 255 characters.', { storable: false });
        sendJson(res, 400, this.withLogUrl(e.body(), requestId), headers);
        return;
      }
      const prior = store ? this.idem.get(store) : undefined;
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          const e = new ApiError(400, {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
          });
          sendJson(res, 400, this.withLogUrl(e.body(), requestId), headers);
          return;
        }
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
      const params = this.spec.validateRequest(method, matched.route.specPath, raw);
      result = matched.route.run(
        { method, path: url.pathname, params, requestId, idempotencyKey: idemKey ?? null },
        matched.id,
      );
      const problems = this.checkAnswer(result.body);
      if (problems.length > 0) {
        this.log(`response does not match the OpenAPI schema: ${problems.join('; ')}`);
        result = {
          status: 500,
          body: {
            error: {
              type: 'api_error',
              message: `stripe-sim bug: response does not match the OpenAPI schema: ${problems.slice(0, 5).join('; ')}`,
            },
          },
        };
        storable = false;
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      result = { status: e.status, body: this.withLogUrl(e.body(), requestId) };
      storable = e.storable;
    }

    const text = JSON.stringify(result.body, null, 2);
    if (store && storable) {
      this.idem.set(store, {
        fingerprint,
        status: result.status,
        body: text,
        requestId,
        createdMs: this.clock.now().getTime(),
      });
    }
    if (lose) {
      req.socket.destroy();
      return;
    }
    send(res, result.status, text, 'application/json', headers);
  }

  private withLogUrl(body: { error: StripeErrorFields }, requestId: string): { error: StripeErrorFields } {
    return { error: { ...body.error, request_log_url: `${this.url}/_sim/state#${requestId}` } };
  }

  private checkAnswer(body: unknown): string[] {
    if (!this.validateResponses || body === null || typeof body !== 'object') return [];
    const obj = body as { object?: unknown; data?: unknown };
    if (obj.object === 'list' && Array.isArray(obj.data)) {
      return obj.data.flatMap((item) => this.checkAnswer(item));
    }
    if (typeof obj.object === 'string' && ['source', 'charge', 'refund', 'event'].includes(obj.object)) {
      return this.spec.conformsTo(obj.object, body);
    }
    return [];
  }

  private pickFault(method: string, path: string, body: string): FaultMode | undefined {
    const f = this.faultSettings;
    if (!(f.rate > 0) || f.modes.length === 0) return undefined;
    if (f.paths && !f.paths.some((p) => pathMatches(p, method, path))) return undefined;
    if (f.sources) {
      const about = this.sourceOfCall(path, body);
      if (about === undefined || !f.sources.includes(about)) return undefined;
    }
    if (this.random() >= f.rate) return undefined;
    return f.modes[Math.min(f.modes.length - 1, Math.floor(this.random() * f.modes.length))];
  }

  /** The source a `/v1` call is about, for `FaultSettings.sources`. */
  private sourceOfCall(path: string, body: string): string | undefined {
    const m = /^\/v1\/(sources|charges)\/([^/]+)/.exec(path);
    const id = m?.[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
    if (m?.[1] === 'sources') return id;
    if (id !== undefined) return this.chs.get(id)?.source.id;
    let params: FormObject;
    try {
      params = parseForm(body);
    } catch {
      return undefined;
    }
    const source = str(params.source);
    if (source !== undefined) return source;
    const charge = str(params.charge);
    return charge !== undefined ? this.chs.get(charge)?.source.id : undefined;
  }

  // ---------------------------------------------------------------- /v1 routes

  private buildRoutes(): Route[] {
    const r = (method: 'GET' | 'POST', pattern: string, specPath: string, run: Route['run']): Route => {
      this.spec.operation(method, specPath); // fail at startup if the subset lacks it
      return { method, re: new RegExp(`^${pattern}/?$`), specPath, run };
    };
    const ID = '([^/]+)';
    return [
      r('POST', '/v1/sources', '/v1/sources', (ctx) => this.createSource(ctx)),
      r('GET', `/v1/sources/${ID}`, '/v1/sources/{source}', (_ctx, id) => ok(this.getSource(id, 'id').obj)),
      r('POST', `/v1/sources/${ID}`, '/v1/sources/{source}', (ctx, id) => this.updateSource(ctx, id)),
      r('POST', '/v1/charges', '/v1/charges', (ctx) => this.createCharge(ctx)),
      r('GET', '/v1/charges', '/v1/charges', (ctx) => this.listCharges(ctx)),
      r('GET', `/v1/charges/${ID}`, '/v1/charges/{charge}', (ctx, id) =>
        ok(this.renderCharge(this.getCharge(id, 'id'), ctx.params)),
      ),
      r('POST', `/v1/charges/${ID}`, '/v1/charges/{charge}', (ctx, id) => this.updateCharge(ctx, id)),
      r('POST', '/v1/refunds', '/v1/refunds', (ctx) => this.createRefund(ctx)),
      r('GET', '/v1/refunds', '/v1/refunds', (ctx) => this.listRefunds(ctx)),
      r('GET', `/v1/events/${ID}`, '/v1/events/{id}', (_ctx, id) => {
        const e = this.evts.get(id);
        if (!e) throw noSuch('event', id, 'id');
        return ok(e);
      }),
    ];
  }

  private getSource(id: string, param: string): SourceRec {
    const rec = this.srcs.get(id);
    if (!rec) throw noSuch('source', id, param);
    return rec;
  }

  private getCharge(id: string, param: string): ChargeObj {
    const ch = this.chs.get(id);
    if (!ch) throw noSuch('charge', id, param);
    return ch;
  }

  private createSource(ctx: ApiCtx): ApiResult {
    const p = ctx.params;
    if (p.customer !== undefined || p.original_source !== undefined || p.token !== undefined) {
      const param =
        p.customer !== undefined ? 'customer' : p.original_source !== undefined ? 'original_source' : 'token';
      throw invalidRequest(`The Stripe simulator does not support '${param}' on sources.`, { param });
    }
    const type = str(p.type);
    if (type === undefined) throw missingParameter('type');
    if (!SOURCE_TYPES.includes(type as SourceType)) {
      throw invalidRequest(
        `Invalid type: must be one of wechat or alipay (the Stripe simulator supports only these).`,
        {
          param: 'type',
        },
      );
    }
    const t = type as SourceType;
    const flow = t === 'wechat' ? 'none' : 'redirect';
    if (p.flow !== undefined && p.flow !== flow) {
      throw invalidRequest(`Invalid flow: ${t} sources use the ${flow} flow.`, { param: 'flow' });
    }
    if (p.usage !== undefined && p.usage !== 'single_use') {
      throw invalidRequest(`Invalid usage: ${t} sources are single_use.`, { param: 'usage' });
    }
    if (p.amount === undefined) throw missingParameter('amount');
    const amount = positiveAmount(p.amount, 'amount');
    const currencyRaw = str(p.currency);
    if (currencyRaw === undefined) throw missingParameter('currency');
    const currency = currencyRaw.toLowerCase();
    if (!CURRENCIES[t].has(currency)) {
      throw invalidRequest(`Invalid currency: ${currency}. ${t} sources support ${[...CURRENCIES[t]].join(', ')}.`, {
        param: 'currency',
      });
    }
    const descriptor = str(p.statement_descriptor);
    if (t === 'wechat' && descriptor !== undefined && descriptor.length > WECHAT_DESCRIPTOR_MAX) {
      throw invalidRequest(
        `Invalid string: ${descriptor}; must be at most ${WECHAT_DESCRIPTOR_MAX} characters for wechat sources`,
        { param: 'statement_descriptor' },
      );
    }
    const redirect = obj(p.redirect);
    let returnUrl: string | undefined;
    if (t === 'alipay') {
      returnUrl = str(redirect?.return_url);
      if (returnUrl === undefined) throw missingParameter('redirect[return_url]');
      if (!isHttpUrl(returnUrl)) {
        throw invalidRequest(`Invalid URL: ${returnUrl}`, { param: 'redirect[return_url]', code: 'url_invalid' });
      }
    }
    const metadata = applyMetadata({}, p.metadata);
    const owner = buildOwner(obj(p.owner));

    const nowMs = this.clock.now().getTime();
    const id = newId('src');
    const clientSecret = `src_client_secret_${randomAlnum(24)}`;
    const pageUrl = `${this.baseUrl()}/authorize/${id}?client_secret=${clientSecret}`;
    const src: SourceObj = {
      id,
      object: 'source',
      allow_redisplay: null,
      amount,
      client_secret: clientSecret,
      created: Math.floor(nowMs / 1000),
      currency,
      flow,
      livemode: false,
      metadata,
      owner,
      statement_descriptor: descriptor ?? null,
      status: 'pending',
      type: t,
      usage: 'single_use',
    };
    if (t === 'wechat') {
      src.wechat = { qr_code_url: pageUrl, ...(descriptor !== undefined ? { statement_descriptor: descriptor } : {}) };
    } else {
      src.redirect = { failure_reason: null, return_url: returnUrl ?? '', status: 'pending', url: pageUrl };
      src.alipay = { data_string: null, native_url: null, statement_descriptor: descriptor ?? null };
    }
    this.srcs.set(id, { obj: src, outcome: 'succeeded' });
    return ok(src);
  }

  private updateSource(ctx: ApiCtx, id: string): ApiResult {
    const rec = this.getSource(id, 'source');
    const p = ctx.params;
    if (p.metadata !== undefined) rec.obj.metadata = applyMetadata(rec.obj.metadata, p.metadata);
    const owner = obj(p.owner);
    if (owner) rec.obj.owner = buildOwner(owner, rec.obj.owner);
    for (const k of ['amount', 'mandate', 'source_order']) {
      if (p[k] !== undefined) {
        throw invalidRequest(`The Stripe simulator does not support updating '${k}' of ${rec.obj.type} sources.`, {
          param: k,
        });
      }
    }
    return ok(rec.obj);
  }

  private createCharge(ctx: ApiCtx): ApiResult {
    const p = ctx.params;
    if (p.amount === undefined) throw missingParameter('amount');
    const amount = positiveAmount(p.amount, 'amount');
    const currencyRaw = str(p.currency);
    if (currencyRaw === undefined) throw missingParameter('currency');
    const currency = currencyRaw.toLowerCase();
    if (p.customer !== undefined) throw noSuch('customer', String(p.customer), 'customer');
    const sourceId = str(p.source);
    if (sourceId === undefined) throw invalidRequest('Must provide source or customer.');
    for (const k of [
      'card',
      'destination',
      'transfer_data',
      'on_behalf_of',
      'application_fee',
      'application_fee_amount',
    ]) {
      if (p[k] !== undefined) {
        throw invalidRequest(`The Stripe simulator does not support '${k}' on charges.`, { param: k });
      }
    }
    if (p.capture === 'false') {
      throw invalidRequest('This source type does not support separate authorization and capture: omit capture.', {
        param: 'capture',
      });
    }
    const rec = this.getSource(sourceId, 'source');
    const src = rec.obj;
    if (src.status !== 'chargeable') {
      throw invalidRequest('The source you provided is not in a chargeable state.', {
        code: 'invalid_source_usage',
        param: 'source',
      });
    }
    if (src.amount !== null && amount !== src.amount) {
      throw invalidRequest(
        `The amount (${amount}) must be equal to the amount of the source (${src.amount}): a ${src.type} source is single-use and charged in full.`,
        { code: 'invalid_charge_amount', param: 'amount' },
      );
    }
    if (src.currency !== null && currency !== src.currency) {
      throw invalidRequest(
        `The currency (${currency}) must be equal to the currency of the source (${src.currency}).`,
        { param: 'currency' },
      );
    }

    // A single-use source is consumed by its charge, whatever the charge's outcome.
    src.status = 'consumed';
    const created = this.nowSeconds();
    const id = newId('ch');
    const descriptor = str(p.statement_descriptor) ?? src.statement_descriptor;
    const ch: ChargeObj = {
      id,
      object: 'charge',
      amount,
      amount_captured: 0,
      amount_refunded: 0,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: null,
      billing_details: {
        address: src.owner.address,
        email: src.owner.email,
        name: src.owner.name,
        phone: src.owner.phone,
      },
      calculated_statement_descriptor: descriptor ?? null,
      captured: true,
      created,
      currency,
      customer: null,
      description: str(p.description) ?? null,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      fraud_details: {},
      invoice: null,
      livemode: false,
      metadata: applyMetadata({}, p.metadata),
      on_behalf_of: null,
      outcome: null,
      paid: false,
      payment_intent: null,
      payment_method: src.id,
      payment_method_details:
        src.type === 'wechat'
          ? { type: 'wechat', wechat: {} }
          : { type: 'alipay', alipay: { buyer_id: `sim_${randomAlnum(12)}`, fingerprint: null, transaction_id: null } },
      receipt_email: str(p.receipt_email) ?? null,
      receipt_number: null,
      receipt_url: `${this.baseUrl()}/_sim/state#${id}`,
      refunded: false,
      review: null,
      shipping: null,
      source: clone(src),
      source_transfer: null,
      statement_descriptor: descriptor ?? null,
      statement_descriptor_suffix: null,
      status: 'pending',
      transfer_data: null,
      transfer_group: str(p.transfer_group) ?? null,
    };
    this.chs.set(id, ch);
    const info: RequestInfo = { requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey };
    if (rec.outcome === 'succeeded') {
      settleSucceeded(ch);
      this.emit('charge.succeeded', ch, src.id, info);
      return ok(ch);
    }
    if (rec.outcome === 'pending') {
      ch.outcome = {
        network_status: 'approved_by_network',
        reason: null,
        risk_level: 'not_assessed',
        seller_message: 'Payment pending.',
        type: 'authorized',
      };
      this.emit('charge.pending', ch, src.id, info);
      return ok(ch);
    }
    settleFailed(ch, rec.failureCode);
    this.emit('charge.failed', ch, src.id, info);
    // Stripe answers a declined charge with 402 and the id of the failed charge it recorded.
    throw new ApiError(402, {
      type: 'card_error',
      code: ch.failure_code ?? 'card_declined',
      message: ch.failure_message ?? 'The charge was declined.',
      charge: ch.id,
      ...(ch.failure_code === 'card_declined' ? { decline_code: 'generic_decline' } : {}),
    });
  }

  private updateCharge(ctx: ApiCtx, id: string): ApiResult {
    const ch = this.getCharge(id, 'charge');
    const p = ctx.params;
    if (p.metadata !== undefined) ch.metadata = applyMetadata(ch.metadata, p.metadata);
    if (p.description !== undefined) ch.description = str(p.description) || null;
    if (p.receipt_email !== undefined) ch.receipt_email = str(p.receipt_email) || null;
    if (p.transfer_group !== undefined) ch.transfer_group = str(p.transfer_group) || null;
    return ok(this.renderCharge(ch, p));
  }

  private renderCharge(ch: ChargeObj, params: FormObject): ChargeObj {
    const out = clone(ch);
    const expand = Array.isArray(params.expand) ? params.expand : [];
    if (expand.includes('refunds')) {
      const data = [...this.refs.values()].filter((r) => r.charge === ch.id).reverse();
      out.refunds = {
        object: 'list',
        data: clone(data),
        has_more: false,
        total_count: data.length,
        url: `/v1/charges/${ch.id}/refunds`,
      };
    }
    return out;
  }

  private listCharges(ctx: ApiCtx): ApiResult {
    const p = ctx.params;
    let items = [...this.chs.values()];
    // No customers, PaymentIntents or transfer groups here except transfer_group on charges.
    if (p.customer !== undefined || p.payment_intent !== undefined) items = [];
    if (p.transfer_group !== undefined) items = items.filter((c) => c.transfer_group === p.transfer_group);
    return ok(
      paginate(
        items.map((c) => this.renderCharge(c, p)),
        p,
        '/v1/charges',
        'charge',
      ),
    );
  }

  private createRefund(ctx: ApiCtx): ApiResult {
    const p = ctx.params;
    if (p.payment_intent !== undefined) throw noSuch('payment_intent', String(p.payment_intent), 'payment_intent');
    if (p.customer !== undefined || p.origin !== undefined || p.instructions_email !== undefined) {
      throw invalidRequest('The Stripe simulator supports refunds of charges only.');
    }
    const chargeId = str(p.charge);
    if (chargeId === undefined) throw missingParameter('charge');
    const ch = this.getCharge(chargeId, 'charge');
    if (ch.status === 'failed') {
      throw invalidRequest(`Charge ${ch.id} has failed and cannot be refunded.`, {
        code: 'charge_not_refundable',
        param: 'charge',
      });
    }
    const remaining = ch.amount - ch.amount_refunded;
    if (remaining <= 0 || ch.refunded) {
      throw invalidRequest(`Charge ${ch.id} has already been refunded.`, { code: 'charge_already_refunded' });
    }
    const amount = p.amount === undefined ? remaining : positiveAmount(p.amount, 'amount');
    if (amount > remaining) {
      throw invalidRequest(
        `Refund amount (${formatAmount(amount, ch.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, ch.currency)})`,
        { code: 'amount_too_large', param: 'amount' },
      );
    }
    if (p.currency !== undefined && str(p.currency)?.toLowerCase() !== ch.currency) {
      throw invalidRequest(`The currency must be the charge's currency (${ch.currency}).`, { param: 'currency' });
    }
    const refund: RefundObj = {
      id: newId('re'),
      object: 'refund',
      amount,
      balance_transaction: newId('txn'),
      charge: ch.id,
      created: this.nowSeconds(),
      currency: ch.currency,
      metadata: applyMetadata({}, p.metadata),
      payment_intent: null,
      reason: str(p.reason) ?? null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    this.refs.set(refund.id, refund);
    ch.amount_refunded += amount;
    ch.refunded = ch.amount_refunded >= ch.amount;
    this.emit('charge.refunded', ch, ch.source.id, { requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey });
    return ok(refund);
  }

  private listRefunds(ctx: ApiCtx): ApiResult {
    const p = ctx.params;
    let items = [...this.refs.values()];
    if (p.payment_intent !== undefined) items = [];
    if (p.charge !== undefined) items = items.filter((r) => r.charge === p.charge);
    return ok(paginate(items, p, '/v1/refunds', 'refund'));
  }

  // ---------------------------------------------------------------- pages

  private async handlePage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const m = /^\/authorize\/([^/]+)\/?$/.exec(url.pathname);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req).catch(() => '');
    const rec = m ? this.srcs.get(decodeURIComponent(m[1] ?? '')) : undefined;
    if (!rec) return sendHtml(res, 404, messagePage('Unknown payment', 'No such source.'));
    const form = { ...parseForm(url.search.slice(1)), ...parseForm(body) };
    const secret = str(form.client_secret);
    if (secret !== undefined && secret !== rec.obj.client_secret) {
      return sendHtml(res, 403, messagePage('Invalid link', 'The client secret does not match this source.'));
    }
    if (method === 'GET') return sendHtml(res, 200, authorizePage(rec.obj));
    if (method !== 'POST') return sendHtml(res, 405, messagePage('Method not allowed', `${method} is not allowed.`));
    const action = str(form.action);
    if (action !== 'authorize' && action !== 'decline') {
      return sendHtml(res, 400, messagePage('Bad request', 'action must be authorize or decline.'));
    }
    if (rec.obj.status !== 'pending') return sendHtml(res, 409, authorizePage(rec.obj));
    if (action === 'authorize') this.authorizeSource(rec.obj.id);
    else this.failSource(rec.obj.id);
    if (rec.obj.type === 'alipay' && rec.obj.redirect) {
      const back = new URL(rec.obj.redirect.return_url);
      back.searchParams.set('source', rec.obj.id);
      back.searchParams.set('client_secret', rec.obj.client_secret);
      back.searchParams.set('livemode', 'false');
      send(res, 303, '', 'text/plain', { Location: back.toString() });
      return;
    }
    sendHtml(res, 200, donePage(rec.obj, action));
  }

  // ---------------------------------------------------------------- /_sim controls

  private async handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const text = await readBody(req).catch(() => '');
    let input: Record<string, unknown>;
    try {
      input = { ...parseForm(url.search.slice(1)), ...parseControlBody(req, text) };
    } catch {
      sendJson(res, 400, { error: { type: 'invalid_request_error', message: 'Body is not valid JSON.' } });
      return;
    }
    const path = url.pathname.replace(/\/+$/, '');
    try {
      const out = this.control(method, path, input);
      if (out === undefined) sendJson(res, 404, unrecognized(method, path));
      else sendJson(res, 200, out);
    } catch (e) {
      if (e instanceof ControlError) {
        sendJson(res, e.status, { error: { type: 'invalid_request_error', message: e.message } });
      } else throw e;
    }
  }

  /** Dispatches a control call; undefined = no such control. */
  private control(method: string, path: string, input: Record<string, unknown>): unknown {
    const get = method === 'GET';
    const post = method === 'POST';
    if (get && path === '/_sim/health') return { ok: true, url: this.url };
    if (get && path === '/_sim/state') return this.state();
    if (post && path === '/_sim/reset') {
      this.reset();
      return { ok: true };
    }
    if (path === '/_sim/faults') {
      if (get) return this.faults();
      if (post) return this.setFaults(faultInput(input));
    }
    if (get && path === '/_sim/clock') return this.clockInfo();
    if (post && path === '/_sim/clock/advance') {
      const seconds = Number(input.seconds);
      if (!Number.isFinite(seconds) || seconds < 0) throw new ControlError(400, 'seconds must be a number >= 0');
      if (typeof this.clock.advance !== 'function') throw new ControlError(409, 'this clock cannot be advanced');
      this.clock.advance(seconds);
      this.runExpiries();
      return this.clockInfo();
    }
    if (post && path === '/_sim/expire') {
      this.runExpiries();
      return this.clockInfo();
    }
    if (path === '/_sim/webhook') {
      if (post) {
        const u = input.url;
        if (u !== undefined && u !== null && u !== '' && (typeof u !== 'string' || !isHttpUrl(u))) {
          throw new ControlError(400, 'url must be an http(s) URL, or null/"" to stop sending');
        }
        this.setWebhookUrl(typeof u === 'string' ? u : undefined);
      }
      if (get || post) return { url: this.webhookUrl ?? null };
    }
    let m = /^\/_sim\/sources\/([^/]+)\/(authorize|fail|cancel|charge_outcome)$/.exec(path);
    if (post && m) {
      const id = decodeURIComponent(m[1] ?? '');
      const outcome = chargeOutcome(input.charge_outcome);
      const failureCode = typeof input.failure_code === 'string' ? input.failure_code : undefined;
      switch (m[2]) {
        case 'authorize':
          return this.authorizeSource(id, { ...(outcome ? { chargeOutcome: outcome } : {}), failureCode });
        case 'fail':
          return this.failSource(id);
        case 'cancel':
          return this.cancelSource(id);
        default:
          if (!outcome) throw new ControlError(400, 'charge_outcome must be succeeded, failed or pending');
          this.setChargeOutcome(id, outcome, failureCode);
          return clone(this.sourceRec(id).obj);
      }
    }
    m = /^\/_sim\/charges\/([^/]+)\/(succeed|fail)$/.exec(path);
    if (post && m) {
      const id = decodeURIComponent(m[1] ?? '');
      const failureCode = typeof input.failure_code === 'string' ? input.failure_code : undefined;
      return m[2] === 'succeed' ? this.succeedCharge(id) : this.failCharge(id, failureCode);
    }
    return undefined;
  }

  private clockInfo(): { now: string; unix: number } {
    const now = this.clock.now();
    return { now: now.toISOString(), unix: unixSeconds(now) };
  }

  private state(): unknown {
    const expiries: Record<
      string,
      { pending_cancel_at: string | null; chargeable_at: string | null; cancel_at: string | null }
    > = {};
    for (const rec of this.srcs.values()) {
      const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
      expiries[rec.obj.id] = {
        pending_cancel_at: iso(pendingCancelAt(rec.obj.created * 1000)),
        chargeable_at: iso(rec.chargeableAtMs),
        cancel_at: iso(rec.cancelAtMs),
      };
    }
    return {
      clock: this.clockInfo(),
      url: this.url,
      webhook_url: this.webhookUrl ?? null,
      faults: this.faults(),
      sources: this.sources(),
      expiries,
      charges: this.charges(),
      refunds: this.refunds(),
      events: this.events(),
      deliveries: this.deliveries(),
    };
  }
}

// ------------------------------------------------------------------ helpers

function ok(body: unknown): ApiResult {
  return { status: 200, body };
}

function settleSucceeded(ch: ChargeObj): void {
  ch.status = 'succeeded' satisfies ChargeStatus;
  ch.paid = true;
  ch.captured = true;
  ch.amount_captured = ch.amount;
  ch.balance_transaction = newId('txn');
  ch.outcome = {
    network_status: 'approved_by_network',
    reason: null,
    risk_level: 'not_assessed',
    seller_message: 'Payment complete.',
    type: 'authorized',
  };
}

function settleFailed(ch: ChargeObj, failureCode: string | undefined): void {
  ch.status = 'failed';
  ch.paid = false;
  ch.captured = false;
  ch.amount_captured = 0;
  ch.failure_code = failureCode ?? 'card_declined';
  ch.failure_message =
    ch.failure_code === 'card_declined' ? 'The charge was declined.' : `The charge failed (${ch.failure_code}).`;
  ch.outcome = {
    network_status: 'declined_by_network',
    reason: 'generic_decline',
    risk_level: 'not_assessed',
    seller_message: 'The bank did not return any further details with this decline.',
    type: 'issuer_declined',
  };
}

function str(v: FormValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function obj(v: FormValue | undefined): FormObject | undefined {
  return v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function positiveAmount(v: FormValue, param: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw paramError('This value must be greater than or equal to 1.', param, 'parameter_invalid_integer');
  }
  if (n > MAX_AMOUNT) {
    throw invalidRequest(`Amount must be no more than ${MAX_AMOUNT}.`, { code: 'amount_too_large', param });
  }
  return n;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Stripe's metadata rules: `""` unsets all, a `""` value unsets a key; ≤ 50 keys, keys ≤ 40, values ≤ 500 chars. */
function applyMetadata(existing: Record<string, string>, v: FormValue | undefined): Record<string, string> {
  if (v === undefined) return { ...existing };
  if (v === '') return {};
  const o = obj(v);
  if (!o) throw paramError('Invalid hash', 'metadata');
  const out = { ...existing };
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') throw paramError('Invalid string', `metadata[${k}]`);
    if (k.length > 40) {
      throw paramError(
        `Metadata keys can have up to 40 characters, but you passed in a key that is ${k.length} characters.`,
        `metadata[${k}]`,
      );
    }
    if (val.length > 500) {
      throw paramError(
        `Metadata values can have up to 500 characters, but you passed in a value that is ${val.length} characters.`,
        `metadata[${k}]`,
      );
    }
    if (val === '') delete out[k];
    else out[k] = val;
  }
  if (Object.keys(out).length > 50) throw paramError('You can have up to 50 metadata keys.', 'metadata');
  return out;
}

function buildOwner(p: FormObject | undefined, base: OwnerObj = emptyOwner()): OwnerObj {
  const owner = clone(base);
  if (!p) return owner;
  for (const k of ['email', 'name', 'phone'] as const) {
    const v = str(p[k]);
    if (v !== undefined) owner[k] = v || null;
  }
  const a = obj(p.address);
  if (a) {
    owner.address = {
      city: str(a.city) ?? owner.address?.city ?? null,
      country: str(a.country) ?? owner.address?.country ?? null,
      line1: str(a.line1) ?? owner.address?.line1 ?? null,
      line2: str(a.line2) ?? owner.address?.line2 ?? null,
      postal_code: str(a.postal_code) ?? owner.address?.postal_code ?? null,
      state: str(a.state) ?? owner.address?.state ?? null,
    };
  }
  return owner;
}

/** Newest first, with `limit`, `starting_after`, `ending_before` and `created` filters. */
function paginate<T extends { id: string; created: number }>(
  items: T[],
  p: FormObject,
  url: string,
  kind: string,
): { object: 'list'; data: T[]; has_more: boolean; url: string } {
  let list = [...items].reverse(); // insertion order is creation order
  const created = p.created;
  if (typeof created === 'string') list = list.filter((x) => x.created === Number(created));
  else if (created && typeof created === 'object' && !Array.isArray(created)) {
    const n = (k: string) => (typeof created[k] === 'string' ? Number(created[k]) : undefined);
    const [gt, gte, lt, lte] = [n('gt'), n('gte'), n('lt'), n('lte')];
    list = list.filter(
      (x) =>
        (gt === undefined || x.created > gt) &&
        (gte === undefined || x.created >= gte) &&
        (lt === undefined || x.created < lt) &&
        (lte === undefined || x.created <= lte),
    );
  }
  const limit = p.limit === undefined ? 10 : Number(p.limit);
  if (!(limit >= 1 && limit <= 100)) {
    throw paramError(`Invalid limit: must be between 1 and 100.`, 'limit');
  }
  const after = str(p.starting_after);
  const before = str(p.ending_before);
  if (after !== undefined && before !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', {
      code: 'parameters_exclusive',
    });
  }
  const cursor = after ?? before;
  if (cursor !== undefined) {
    // Positions in the unfiltered newest-first order, so a cursor filtered out still works.
    const position = new Map([...items].reverse().map((x, i) => [x.id, i]));
    const at = position.get(cursor);
    if (at === undefined) throw noSuch(kind, cursor, after !== undefined ? 'starting_after' : 'ending_before');
    if (after !== undefined) {
      const older = list.filter((x) => (position.get(x.id) ?? 0) > at);
      return { object: 'list', data: older.slice(0, limit), has_more: older.length > limit, url };
    }
    const newer = list.filter((x) => (position.get(x.id) ?? 0) < at);
    return { object: 'list', data: newer.slice(-limit), has_more: newer.length > limit, url };
  }
  return { object: 'list', data: list.slice(0, limit), has_more: list.length > limit, url };
}

function pathMatches(pattern: string, method: string, path: string): boolean {
  const sp = pattern.indexOf(' ');
  if (sp > 0) {
    const m = pattern.slice(0, sp).toUpperCase();
    return m === method && path.startsWith(pattern.slice(sp + 1).trim());
  }
  return path.startsWith(pattern);
}

function chargeOutcome(v: unknown): ChargeOutcome | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const map: Record<string, ChargeOutcome> = {
    succeed: 'succeeded',
    succeeded: 'succeeded',
    success: 'succeeded',
    fail: 'failed',
    failed: 'failed',
    decline: 'failed',
    pending: 'pending',
  };
  const out = typeof v === 'string' ? map[v] : undefined;
  if (!out) throw new ControlError(400, 'charge_outcome must be succeeded, failed or pending');
  return out;
}

function faultInput(input: Record<string, unknown>): Partial<FaultSettings> {
  const f: Partial<FaultSettings> = {};
  if (input.rate !== undefined) f.rate = Number(input.rate);
  if (input.modes !== undefined) {
    const modes = input.modes;
    const list = Array.isArray(modes)
      ? modes
      : typeof modes === 'string'
        ? modes.split(',')
        : typeof modes === 'object' && modes !== null
          ? Object.values(modes)
          : [];
    f.modes = list.map((m) => String(m).trim()) as FaultMode[];
  }
  if (input.hangMs !== undefined) f.hangMs = Number(input.hangMs);
  if (input.sources !== undefined) {
    const sources = input.sources;
    f.sources = Array.isArray(sources)
      ? sources.map(String)
      : typeof sources === 'string'
        ? sources.split(',').map((s) => s.trim())
        : [];
  }
  if (input.paths !== undefined) {
    const paths = input.paths;
    f.paths = Array.isArray(paths)
      ? paths.map(String)
      : typeof paths === 'string'
        ? paths.split(',').map((s) => s.trim())
        : typeof paths === 'object' && paths !== null
          ? Object.values(paths).map(String)
          : [];
  }
  return f;
}

function parseControlBody(req: IncomingMessage, text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  const type = header(req, 'content-type') ?? '';
  if (type.includes('json') || /^\s*[{[]/.test(text)) {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  }
  return parseForm(text);
}

/** The API key from `Authorization: Bearer sk_test_...` (or Basic with the key as user name). */
function authenticate(req: IncomingMessage): string | ApiError {
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

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function unrecognized(method: string, path: string): { error: StripeErrorFields } {
  return {
    error: {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    },
  };
}

/** Stable text of params, for comparing idempotent requests. */
function canonical(v: FormValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
    .join(',')}}`;
}

function readBody(req: IncomingMessage): Promise<string> {
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

function send(
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

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body, null, 2), 'application/json', headers);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  send(res, status, html, 'text/html');
}
