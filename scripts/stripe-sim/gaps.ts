/**
 * The PaymentIntents subset's `x-known-gaps`, applied: from the 2023-08-16 spec to the API
 * version stripe-node 23.1 pins (2026-10-28.endive).
 *
 * Why: no spec3 later than 2023-08-16 is available, so the subset
 * (`scripts/stripe-sim/spec/stripe-payment-intents-subset.openapi.json`) lists what changed
 * since in `x-known-gaps`. The simulator reads that list, not a copy of it, so validation
 * follows the data:
 * - a parameter "removed as a writable parameter" with an `error_code` is refused with that
 *   code (`payment_method_types` → `payment_method_types_no_longer_supported`,
 *   https://docs.stripe.com/changelog/endive/2026-09-30/removes-the-payment-method-types-parameter-from-payment-intents-and-setup-intents);
 * - a parameter "added" is accepted (`allowed_payment_method_types`, an array of strings);
 * - a parameter "required in this spec; optional ..." becomes optional
 *   (`payment_method_options[wechat_pay][client]`);
 * - "fields added after 2023-08-16" of `components.schemas.X` are the only properties a strict
 *   response check tolerates beyond X's schema; "enum value V added" extends that enum.
 * Entries about SDK types only (`client_secret` on confirm) change nothing. Anything else
 * lands in `unrecognized`, which a test keeps empty.
 */

import type { Schema } from './conformance.js';
import { splitKey } from './form.js';
import type { OpenApiDoc, RefusedParam, SpecOptions } from './openapi.js';

interface RawGap {
  where?: string;
  param?: string;
  change?: string;
  api_version?: string;
  error_code?: string;
}

interface OpRef {
  method: string;
  specPath: string;
}

export interface KnownGaps {
  refused: (OpRef & { param: string; code: string; apiVersion: string | undefined })[];
  added: (OpRef & { param: string; array: boolean })[];
  madeOptional: (OpRef & { param: string })[];
  /** Per schema name: properties the pinned version has beyond the 2023 schema. */
  tolerated: Record<string, string[]>;
  /** Per schema name: properties the pinned version no longer has. */
  removed: Record<string, string[]>;
  enumAdditions: { schema: string; property: string; values: string[] }[];
  /** Entries that change nothing here (SDK typing notes). */
  informational: RawGap[];
  unrecognized: RawGap[];
}

/** Reads `x-known-gaps` of an OpenAPI document. */
export function readKnownGaps(doc: OpenApiDoc): KnownGaps {
  const out: KnownGaps = {
    refused: [],
    added: [],
    madeOptional: [],
    tolerated: {},
    removed: {},
    enumAdditions: [],
    informational: [],
    unrecognized: [],
  };
  const raw = Array.isArray(doc['x-known-gaps']) ? (doc['x-known-gaps'] as RawGap[]) : [];
  for (const g of raw) {
    const where = g.where ?? '';
    const change = g.change ?? '';
    if (where.startsWith('components.schemas.')) {
      const [schema = '', property] = where.slice('components.schemas.'.length).split('.');
      const added = /fields added after [^:]*:\s*([^;]+)/.exec(change);
      const removed = /fields? removed:\s*([^;]+)/.exec(change);
      const enumValue = /^enum values? (.+?) added/.exec(change);
      if (property && enumValue?.[1]) {
        out.enumAdditions.push({ schema, property, values: list(enumValue[1]) });
      } else if (!property && (added || removed)) {
        if (added?.[1]) out.tolerated[schema] = list(added[1]);
        if (removed?.[1]) out.removed[schema] = list(removed[1]);
      } else out.unrecognized.push(g);
      continue;
    }
    const ops = where.split(',').map((w) => {
      const [method = '', specPath = ''] = w.trim().split(/\s+/);
      return { method: method.toUpperCase(), specPath };
    });
    const param = g.param;
    if (!param || ops.some((o) => !o.specPath.startsWith('/v1/'))) {
      out.unrecognized.push(g);
    } else if (/^removed as a writable parameter/.test(change) && g.error_code) {
      for (const o of ops) out.refused.push({ ...o, param, code: g.error_code, apiVersion: g.api_version });
    } else if (/^added\b/.test(change)) {
      for (const o of ops) out.added.push({ ...o, param, array: /\barray\b/.test(change) });
    } else if (/^required in this spec; optional/.test(change)) {
      for (const o of ops) out.madeOptional.push({ ...o, param });
    } else if (/^absent from stripe-node/.test(change)) {
      out.informational.push(g);
    } else out.unrecognized.push(g);
  }
  return out;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The document with the request-side gaps applied (added and optional parameters, enum
 * additions), and the Spec options for the rest (refused parameters, strict responses).
 * Only the touched operations and schemas are copied; the rest is shared with `doc`.
 */
export function applyKnownGaps(doc: OpenApiDoc, gaps: KnownGaps): { doc: OpenApiDoc; options: SpecOptions } {
  const paths = { ...doc.paths };
  const schemas = { ...doc.components.schemas };
  const touchedPaths = new Set<string>();
  const bodyOf = (o: OpRef): Schema => {
    if (!touchedPaths.has(o.specPath)) {
      const original = paths[o.specPath];
      if (!original) throw new Error(`stripe-sim: x-known-gaps names ${o.specPath}, which the spec lacks`);
      paths[o.specPath] = structuredClone(original);
      touchedPaths.add(o.specPath);
    }
    const schema =
      paths[o.specPath]?.[o.method.toLowerCase()]?.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
    if (!schema?.properties) throw new Error(`stripe-sim: x-known-gaps names ${o.method} ${o.specPath}, no form body`);
    return schema;
  };
  for (const a of gaps.added) {
    const body = bodyOf(a);
    const properties = body.properties ?? {};
    properties[a.param] = a.array
      ? { type: 'array', items: { type: 'string', maxLength: 5000 } }
      : { type: 'string', maxLength: 5000 };
    body.properties = properties;
  }
  for (const m of gaps.madeOptional) {
    const path = splitKey(m.param);
    const last = path.pop() ?? '';
    let node: Schema | undefined = bodyOf(m);
    for (const seg of path) node = node ? objectBranch(node)?.properties?.[seg] : undefined;
    const target = node ? objectBranch(node) : undefined;
    if (!target?.required?.includes(last)) {
      throw new Error(`stripe-sim: x-known-gaps makes ${m.param} optional, but the spec does not require it`);
    }
    target.required = target.required.filter((r) => r !== last);
  }
  for (const e of gaps.enumAdditions) {
    const original = schemas[e.schema];
    if (!original) throw new Error(`stripe-sim: x-known-gaps names schema ${e.schema}, which the spec lacks`);
    const copy = structuredClone(original);
    const prop = copy.properties?.[e.property];
    if (!prop?.enum) throw new Error(`stripe-sim: x-known-gaps adds enum values to ${e.schema}.${e.property}`);
    prop.enum = [...prop.enum, ...e.values.filter((v) => !prop.enum?.includes(v))];
    schemas[e.schema] = copy;
  }
  const refusedParams: RefusedParam[] = gaps.refused.map((r) => {
    const replacement = gaps.added.find((a) => a.specPath === r.specPath && a.param === `allowed_${r.param}`);
    return {
      method: r.method,
      specPath: r.specPath,
      param: r.param,
      code: r.code,
      message:
        `The \`${r.param}\` parameter is no longer supported` +
        (r.apiVersion ? ` as of API version ${r.apiVersion}` : '') +
        (replacement ? `. Use \`${replacement.param}\` instead.` : '.'),
    };
  });
  return {
    doc: { ...doc, paths, components: { ...doc.components, schemas } },
    options: { refusedParams, strict: { tolerated: gaps.tolerated } },
  };
}

/** The object-typed branch of a schema (itself, or its `anyOf` object branch). */
function objectBranch(s: Schema): Schema | undefined {
  if (s.type === 'object') return s;
  return s.anyOf?.find((b) => b.type === 'object');
}
