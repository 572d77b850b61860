/**
 * Fault injection: a share of `/v1` calls fail as Stripe or the network can fail.
 *
 * Why: the orchestrator must survive 500s, 429s (https://docs.stripe.com/rate-limits), calls
 * that hang, connections reset, and answers lost after Stripe acted (then the idempotency key
 * replays the first answer: https://docs.stripe.com/api/idempotent_requests). Settings
 * (options.ts `FaultSettings`) pick the share, the modes, and which calls: by path, by source
 * and by PaymentIntent. The server asks `pickFault` before running each call.
 */

import { ControlError } from './errors.js';
import { type FormObject, parseForm } from './form.js';
import { clone } from './objects.js';
import { FAULT_MODES, type FaultMode, type FaultSettings } from './options.js';
import { str } from './params.js';
import type { SimState } from './state.js';

/** `current` with `f` applied, checked; throws ControlError(400) on a bad setting. */
export function mergeFaults(current: FaultSettings, f: Partial<FaultSettings>): FaultSettings {
  const next: FaultSettings = { ...current, ...f };
  if (typeof next.rate !== 'number' || !(next.rate >= 0 && next.rate <= 1)) {
    throw new ControlError(400, 'rate must be a number between 0 and 1');
  }
  if (!Array.isArray(next.modes) || next.modes.some((m) => !FAULT_MODES.includes(m))) {
    throw new ControlError(400, `modes must be a list of ${FAULT_MODES.join(', ')}`);
  }
  if (next.modes.length === 0 && next.rate > 0) throw new ControlError(400, 'modes must not be empty');
  if (typeof next.hangMs !== 'number' || !(next.hangMs >= 0)) throw new ControlError(400, 'hangMs must be >= 0');
  for (const [key, what] of [
    ['paths', 'a list of strings'],
    ['sources', 'a list of source ids'],
    ['paymentIntents', 'a list of PaymentIntent ids'],
  ] as const) {
    const v = next[key];
    if (v !== undefined && (!Array.isArray(v) || v.some((p) => typeof p !== 'string'))) {
      throw new ControlError(400, `${key} must be ${what}`);
    }
    if (v === undefined || v.length === 0) delete next[key];
  }
  return clone(next);
}

/** Fault settings from a control body (JSON or form): lists may be arrays or comma-separated. */
export function faultInput(input: Record<string, unknown>): Partial<FaultSettings> {
  const f: Partial<FaultSettings> = {};
  if (input.rate !== undefined) f.rate = Number(input.rate);
  if (input.modes !== undefined) f.modes = listOf(input.modes) as FaultMode[];
  if (input.hangMs !== undefined) f.hangMs = Number(input.hangMs);
  if (input.paths !== undefined) f.paths = listOf(input.paths);
  if (input.sources !== undefined) f.sources = listOf(input.sources);
  const pis = input.paymentIntents ?? input.payment_intents;
  if (pis !== undefined) f.paymentIntents = listOf(pis);
  return f;
}

function listOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => String(x).trim());
  if (typeof v === 'string') return v.split(',').map((s) => s.trim());
  if (typeof v === 'object' && v !== null) return Object.values(v).map((x) => String(x).trim());
  return [];
}

/** The fault for this call, if one strikes. */
export function pickFault(
  st: SimState,
  random: () => number,
  method: string,
  path: string,
  body: string,
): FaultMode | undefined {
  const f = st.faults;
  if (!(f.rate > 0) || f.modes.length === 0) return undefined;
  if (f.paths && !f.paths.some((p) => pathMatches(p, method, path))) return undefined;
  if (f.sources || f.paymentIntents) {
    const about = subjectsOfCall(st, path, method === 'POST' ? body : '');
    const hit =
      (about.source !== undefined && f.sources?.includes(about.source)) ||
      (about.paymentIntent !== undefined && f.paymentIntents?.includes(about.paymentIntent));
    if (!hit) return undefined;
  }
  if (random() >= f.rate) return undefined;
  return f.modes[Math.min(f.modes.length - 1, Math.floor(random() * f.modes.length))];
}

function pathMatches(pattern: string, method: string, path: string): boolean {
  const sp = pattern.indexOf(' ');
  if (sp > 0) {
    const m = pattern.slice(0, sp).toUpperCase();
    return m === method && path.startsWith(pattern.slice(sp + 1).trim());
  }
  return path.startsWith(pattern);
}

/** The source and the PaymentIntent a `/v1` call names (directly, or through a charge). */
export function subjectsOfCall(st: SimState, path: string, body: string): { source?: string; paymentIntent?: string } {
  const m = /^\/v1\/(sources|charges|payment_intents)\/([^/]+)/.exec(path);
  const id = m?.[2] !== undefined ? safeDecode(m[2]) : undefined;
  if (m?.[1] === 'sources') return { source: id };
  if (m?.[1] === 'payment_intents') return { paymentIntent: id };
  if (id !== undefined) return ofCharge(st, id);
  let params: FormObject;
  try {
    params = parseForm(body);
  } catch {
    return {};
  }
  const source = str(params.source);
  if (source !== undefined) return { source };
  const paymentIntent = str(params.payment_intent);
  if (paymentIntent !== undefined) return { paymentIntent };
  const charge = str(params.charge);
  return charge !== undefined ? ofCharge(st, charge) : {};
}

function ofCharge(st: SimState, chargeId: string): { source?: string; paymentIntent?: string } {
  const ch = st.charges.get(chargeId);
  if (!ch) return {};
  return ch.source !== null ? { source: ch.source.id } : { paymentIntent: ch.payment_intent };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
