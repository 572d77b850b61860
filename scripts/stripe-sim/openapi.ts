/**
 * Request validation (and response self-checks) against Stripe's own OpenAPI description.
 *
 * Why: a simulator that accepts anything would let the orchestrator send parameters real
 * Stripe rejects, and the first time anyone noticed would be in production. So every `/v1`
 * request is checked against `scripts/stripe-sim/spec/stripe-sources-subset.openapi.json` or
 * `stripe-payment-intents-subset.openapi.json` (cut from stripe/openapi spec3 at API version
 * 2023-08-16; the second one patched by its `x-known-gaps`, see gaps.ts): for a POST, the allowed parameters are the
 * properties of the `application/x-www-form-urlencoded` request body schema; for a GET, the
 * declared query parameters. Errors are worded as Stripe words them ("Received unknown
 * parameter: foo", "Missing required param: type.", "Invalid integer: abc").
 * https://docs.stripe.com/error-codes#parameter-unknown · https://github.com/stripe/openapi
 *
 * The same schemas check what the simulator answers (`conformsTo`), so drift between the
 * simulator's objects and Stripe's shapes shows up as a failing test, not as a surprise.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conformsTo, type Schema } from './conformance.js';
import type { ApiError } from './errors.js';
import { missingParameter, paramError, unknownParameter } from './errors.js';
import type { FormObject, FormValue } from './form.js';

export type { Schema };

interface Parameter {
  in: 'query' | 'path' | 'header';
  name: string;
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface OpenApiDoc {
  info?: { version?: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
  [k: string]: unknown;
}

/** A parameter the API version in use refuses with its own error code (a known gap). */
export interface RefusedParam {
  method: string;
  specPath: string;
  param: string;
  code: string;
  message: string;
}

export interface SpecOptions {
  /** Checked before the schema: the first one present fails the request. */
  refusedParams?: readonly RefusedParam[];
  /**
   * Strict response checks: a property an object schema does not declare is a problem, except
   * those listed here for that schema (fields Stripe added after the spec's version).
   */
  strict?: { tolerated: Readonly<Record<string, readonly string[]>> };
}

export const SPEC_FILE = 'stripe-sources-subset.openapi.json';
export const PAYMENT_INTENTS_SPEC_FILE = 'stripe-payment-intents-subset.openapi.json';

/** The repository root: the nearest ancestor of this file holding a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('stripe-sim: cannot find the repository root (no package.json above)');
    dir = up;
  }
}

/**
 * The Sources subset: `STRIPE_OPENAPI_PATH`, else the copy kept in this repository
 * (`scripts/stripe-sim/spec/`, so a clone anywhere works; a unit test checks it against the
 * original), else the original reference folder next to the repository, when there is one.
 * For the PaymentIntents subset (`file` = PAYMENT_INTENTS_SPEC_FILE) the variable is
 * `STRIPE_PI_OPENAPI_PATH`.
 */
export function findSpecPath(env: NodeJS.ProcessEnv = process.env, file = SPEC_FILE): string {
  const override = file === SPEC_FILE ? env.STRIPE_OPENAPI_PATH : env.STRIPE_PI_OPENAPI_PATH;
  if (override) return resolve(override);
  const root = repoRoot();
  const candidates = [join(root, 'scripts', 'stripe-sim', 'spec', file), join(root, '..', 'shared', 'stripe', file)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `stripe-sim: Stripe OpenAPI subset not found (looked at ${candidates.join(', ')}); set STRIPE_OPENAPI_PATH / STRIPE_PI_OPENAPI_PATH`,
    );
  }
  return found;
}

const cache = new Map<string, OpenApiDoc>();

export function loadSpec(path = findSpecPath()): OpenApiDoc {
  const hit = cache.get(path);
  if (hit) return hit;
  const doc = JSON.parse(readFileSync(path, 'utf8')) as OpenApiDoc;
  if (!doc.paths || !doc.components?.schemas) throw new Error(`stripe-sim: ${path} is not an OpenAPI document`);
  cache.set(path, doc);
  return doc;
}

export class Spec {
  constructor(
    readonly doc: OpenApiDoc,
    readonly options: SpecOptions = {},
  ) {}

  get apiVersion(): string {
    return this.doc.info?.version ?? '2023-08-16';
  }

  operation(method: string, specPath: string): Operation {
    const op = this.doc.paths[specPath]?.[method.toLowerCase()];
    if (!op) throw new Error(`stripe-sim: ${method} ${specPath} is not in the Stripe OpenAPI subset`);
    return op;
  }

  resolve(schema: Schema): Schema {
    let s = schema;
    for (let i = 0; s.$ref && i < 32; i++) {
      const name = s.$ref.replace('#/components/schemas/', '');
      const next = this.doc.components.schemas[name];
      if (!next) throw new Error(`stripe-sim: unresolvable $ref ${s.$ref}`);
      s = next;
    }
    return s;
  }

  /** The schema that describes what a request may carry: body params (POST) or query params (GET). */
  requestSchema(method: string, specPath: string): Schema {
    const op = this.operation(method, specPath);
    if (method === 'POST') {
      const schema = op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
      return schema ?? { type: 'object', properties: {}, additionalProperties: false };
    }
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const p of op.parameters ?? []) {
      if (p.in !== 'query') continue;
      properties[p.name] = p.schema ?? {};
      if (p.required) required.push(p.name);
    }
    return { type: 'object', properties, required, additionalProperties: false };
  }

  /**
   * Checks params against the request schema; returns them with list-shaped objects turned
   * into arrays. Throws the first error, as Stripe reports one problem at a time.
   */
  validateRequest(method: string, specPath: string, params: FormObject): FormObject {
    for (const r of this.options.refusedParams ?? []) {
      if (r.method === method && r.specPath === specPath && params[r.param] !== undefined) {
        throw paramError(r.message, r.param, r.code);
      }
    }
    const schema = this.requestSchema(method, specPath);
    return this.validateValue(schema, params, '') as FormObject;
  }

  private validateValue(schema: Schema, value: FormValue, name: string): FormValue {
    const s = this.resolve(schema);
    if (s.anyOf) {
      let firstError: ApiError | undefined;
      // Prefer the branch whose kind matches the value (object vs scalar) for the error message.
      const branches = [...s.anyOf].sort(
        (a, b) => kindScore(this.resolve(b), value) - kindScore(this.resolve(a), value),
      );
      for (const branch of branches) {
        try {
          return this.validateValue(branch, value, name);
        } catch (e) {
          firstError ??= e as ApiError;
        }
      }
      throw firstError ?? paramError(`Invalid ${name}`, name);
    }
    if (s.enum && typeof value === 'string') {
      if (s.enum.includes(value)) return value;
      if (s.enum.length === 1 && s.enum[0] === '') {
        throw paramError(`Invalid ${name}`, name);
      }
      throw paramError(`Invalid ${name}: must be one of ${joinOr(s.enum.map(String))}`, name);
    }
    switch (s.type) {
      case 'object':
        return this.validateObject(s, value, name);
      case 'array':
        return this.validateArray(s, value, name);
      case 'integer':
        return scalar(value, name, 'integer', (v) => /^-?\d+$/.test(v));
      case 'number':
        return scalar(value, name, 'decimal', (v) => /^-?\d+(\.\d+)?$/.test(v));
      case 'boolean':
        return scalar(value, name, 'boolean', (v) => v === 'true' || v === 'false');
      case 'string': {
        if (typeof value !== 'string') throw paramError(`Invalid string: ${JSON.stringify(value)}`, name);
        if (s.maxLength !== undefined && value.length > s.maxLength) {
          throw paramError(`Invalid string: ${abbreviate(value)}; must be at most ${s.maxLength} characters`, name);
        }
        return value;
      }
      default:
        return value;
    }
  }

  private validateObject(s: Schema, value: FormValue, name: string): FormObject {
    if (typeof value !== 'object' || Array.isArray(value)) throw paramError('Invalid hash', name);
    const props = s.properties;
    const extra = s.additionalProperties;
    const out: FormObject = {};
    // Unknown keys first, like Stripe.
    if (props && (extra === undefined || extra === false)) {
      for (const key of Object.keys(value)) {
        if (!(key in props)) throw unknownParameter(child(name, key));
      }
    }
    for (const [key, v] of Object.entries(value)) {
      const sub = props?.[key] ?? (typeof extra === 'object' ? extra : undefined);
      out[key] = sub ? this.validateValue(sub, v, child(name, key)) : v;
    }
    for (const req of s.required ?? []) {
      if (!(req in value)) throw missingParameter(child(name, req));
    }
    return out;
  }

  private validateArray(s: Schema, value: FormValue, name: string): FormValue[] {
    let list: FormValue[];
    if (Array.isArray(value)) list = value;
    else if (typeof value === 'object' && Object.keys(value).every((k) => /^\d+$/.test(k))) {
      list = Object.keys(value)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => value[k] as FormValue);
    } else if (value === '') {
      list = []; // an empty string unsets a list
    } else throw paramError('Invalid array', name);
    return list.map((v, i) => (s.items ? this.validateValue(s.items, v, `${name}[${i}]`) : v));
  }

  /**
   * Response self-check: problems (empty when fine) of `value` against a components schema,
   * e.g. `conformsTo('source', obj)`. Checks required properties, types, nullability, enums and,
   * for a strict Spec, unknown properties (see conformance.ts).
   */
  conformsTo(schemaName: string, value: unknown): string[] {
    return conformsTo(this, schemaName, value);
  }
}

function child(parent: string, key: string): string {
  return parent ? `${parent}[${key}]` : key;
}

function kindScore(s: Schema, value: FormValue): number {
  const isObj = typeof value === 'object';
  const objLike = s.type === 'object' || s.type === 'array';
  return isObj === objLike ? 1 : 0;
}

function scalar(value: FormValue, name: string, kind: string, ok: (v: string) => boolean): string {
  if (typeof value !== 'string') throw paramError(`Invalid ${kind}: ${JSON.stringify(value)}`, name);
  if (value === '') {
    throw paramError(
      `You passed an empty string for '${name}'. We assume empty values are an attempt to unset a parameter; however '${name}' cannot be unset. You should remove '${name}' from your request or supply a non-empty value.`,
      name,
      'parameter_invalid_empty',
    );
  }
  if (!ok(value)) {
    throw paramError(
      `Invalid ${kind}: ${abbreviate(value)}`,
      name,
      kind === 'integer' ? 'parameter_invalid_integer' : undefined,
    );
  }
  return value;
}

function abbreviate(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}...` : v;
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
}
