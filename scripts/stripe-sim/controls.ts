/**
 * Test controls under `/_sim/*` (no auth; JSON or form bodies): play the customer, play
 * Stripe's own decisions, inject faults, move the clock, read the state. Each answers JSON:
 * the object changed, or `{error: {type, message}}` with 400 / 404 / 409.
 *
 * | control | does |
 * |---|---|
 * | `GET /_sim/health`, `GET /_sim/state` | liveness; every object, event, delivery, request |
 * | `POST /_sim/reset` | forget everything |
 * | `GET|POST /_sim/faults` | read / set FaultSettings (`rate`, `modes`, `hangMs`, `paths`, `sources`, `paymentIntents`) |
 * | `GET /_sim/clock`, `POST /_sim/clock/advance {seconds}`, `POST /_sim/expire` | the clock and the expiry sweep |
 * | `GET|POST /_sim/webhook {url}` | where webhooks go (`""`/null: nowhere) |
 * | `POST /_sim/sources/{id}/authorize|fail|cancel|charge_outcome` | a source's customer / Stripe (`charge_outcome`, `failure_code`) |
 * | `POST /_sim/charges/{id}/succeed|fail` | settle a pending charge of a source |
 * | `POST /_sim/payment_intents/{id}/authorize {processing?}` | the customer pays (optionally via processing) |
 * | `POST /_sim/payment_intents/{id}/fail` · `/expire` | the customer declines · Stripe expires the attempt |
 * | `POST /_sim/payment_intents/{id}/succeed` · `/fail_processing` | a processing PaymentIntent settles |
 * Behaviour behind them: resources/sources.ts, resources/charges.ts,
 * resources/payment-intent-attempts.ts.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { unixSeconds } from './clock.js';
import { ControlError } from './errors.js';
import { faultInput } from './faults.js';
import { parseForm } from './form.js';
import { parseControlBody, readBody, sendJson, unrecognized } from './http.js';
import { clone } from './objects.js';
import type { ChargeOutcome, StripeSim } from './options.js';
import { isHttpUrl } from './params.js';
import type { SimState } from './state.js';

export interface ControlDeps {
  sim: StripeSim;
  st: SimState;
  /** The `/_sim/state` document. */
  state: () => unknown;
}

export async function handleControl(
  d: ControlDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
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
    const out = control(d, method, path, input);
    if (out === undefined) sendJson(res, 404, unrecognized(method, path));
    else sendJson(res, 200, out);
  } catch (e) {
    if (e instanceof ControlError) {
      sendJson(res, e.status, { error: { type: 'invalid_request_error', message: e.message } });
    } else throw e;
  }
}

export function clockInfo(st: SimState): { now: string; unix: number } {
  const now = st.clock.now();
  return { now: now.toISOString(), unix: unixSeconds(now) };
}

/** Dispatches a control call; undefined = no such control. */
function control(d: ControlDeps, method: string, path: string, input: Record<string, unknown>): unknown {
  const { sim, st } = d;
  const get = method === 'GET';
  const post = method === 'POST';
  if (get && path === '/_sim/health') return { ok: true, url: st.url };
  if (get && path === '/_sim/state') return d.state();
  if (post && path === '/_sim/reset') {
    sim.reset();
    return { ok: true };
  }
  if (path === '/_sim/faults') {
    if (get) return sim.faults();
    if (post) return sim.setFaults(faultInput(input));
  }
  if (get && path === '/_sim/clock') return clockInfo(st);
  if (post && path === '/_sim/clock/advance') {
    const seconds = Number(input.seconds);
    if (!Number.isFinite(seconds) || seconds < 0) throw new ControlError(400, 'seconds must be a number >= 0');
    if (typeof st.clock.advance !== 'function') throw new ControlError(409, 'this clock cannot be advanced');
    st.clock.advance(seconds);
    sim.runExpiries();
    return clockInfo(st);
  }
  if (post && path === '/_sim/expire') {
    sim.runExpiries();
    return clockInfo(st);
  }
  if (path === '/_sim/webhook') {
    if (post) {
      const u = input.url;
      if (u !== undefined && u !== null && u !== '' && (typeof u !== 'string' || !isHttpUrl(u))) {
        throw new ControlError(400, 'url must be an http(s) URL, or null/"" to stop sending');
      }
      sim.setWebhookUrl(typeof u === 'string' ? u : undefined);
    }
    if (get || post) return { url: st.webhookUrl ?? null };
  }
  const failureCode = typeof input.failure_code === 'string' ? input.failure_code : undefined;
  let m = /^\/_sim\/sources\/([^/]+)\/(authorize|fail|cancel|charge_outcome)$/.exec(path);
  if (post && m) {
    const id = decodeURIComponent(m[1] ?? '');
    const outcome = chargeOutcome(input.charge_outcome);
    switch (m[2]) {
      case 'authorize':
        return sim.authorizeSource(id, { ...(outcome ? { chargeOutcome: outcome } : {}), failureCode });
      case 'fail':
        return sim.failSource(id);
      case 'cancel':
        return sim.cancelSource(id);
      default: {
        if (!outcome) throw new ControlError(400, 'charge_outcome must be succeeded, failed or pending');
        sim.setChargeOutcome(id, outcome, failureCode);
        const rec = st.sources.get(id);
        return rec ? clone(rec.obj) : undefined;
      }
    }
  }
  m = /^\/_sim\/charges\/([^/]+)\/(succeed|fail)$/.exec(path);
  if (post && m) {
    const id = decodeURIComponent(m[1] ?? '');
    return m[2] === 'succeed' ? sim.succeedCharge(id) : sim.failCharge(id, failureCode);
  }
  m = /^\/_sim\/payment_intents\/([^/]+)\/(authorize|fail|expire|succeed|fail_processing)$/.exec(path);
  if (post && m) {
    const id = decodeURIComponent(m[1] ?? '');
    switch (m[2]) {
      case 'authorize':
        return sim.authorizePaymentIntent(id, { processing: input.processing === true || input.processing === 'true' });
      case 'fail':
        return sim.failPaymentIntent(id);
      case 'expire':
        return sim.expirePaymentAttempt(id);
      case 'succeed':
        return sim.succeedPaymentIntent(id);
      default:
        return sim.failProcessingPaymentIntent(id);
    }
  }
  return undefined;
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
