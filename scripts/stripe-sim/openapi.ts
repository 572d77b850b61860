/**
 * Request validation (and response self-checks) against Stripe's own OpenAPI description.
 *
 * Why: a simulator that accepts anything would let the orchestrator send parameters real
 * Stripe rejects, and the first time anyone noticed would be in production. So every `/v1`
 * request is checked against `../shared/stripe/stripe-sources-subset.openapi.json` (cut from
 * stripe/openapi spec3 at API version 2023-08-16): for a POST, the allowed parameters are the
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
import type { ApiError } from './errors.js';
import { missingParameter, paramError, unknownParameter } from './errors.js';
import type { FormObject, FormValue } from './form.js';

export interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  maxLength?: number;
  nullable?: boolean;
  [k: string]: unknown;
}

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
}

const SPEC_FILE = 'stripe-sources-subset.openapi.json';

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
 * `STRIPE_OPENAPI_PATH`, else the copy kept in this repository (`scripts/stripe-sim/spec/`, the
 * same bytes as `../shared/stripe/`, so a clone anywhere works; a unit test checks they agree),
 * else `<repo>/../shared/stripe/...`.
 */
export function findSpecPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRIPE_OPENAPI_PATH) return resolve(env.STRIPE_OPENAPI_PATH);
  const root = repoRoot();
  const candidates = [
    join(root, 'scripts', 'stripe-sim', 'spec', SPEC_FILE),
    join(root, '..', 'shared', 'stripe', SPEC_FILE),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `stripe-sim: Stripe OpenAPI subset not found (looked at ${candidates.join(', ')}); set STRIPE_OPENAPI_PATH`,
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
  constructor(readonly doc: OpenApiDoc) {}

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
   * e.g. `conformsTo('source', obj)`. Checks required properties, types, nullability, enums.
   */
  conformsTo(schemaName: string, value: unknown): string[] {
    const schema = this.doc.components.schemas[schemaName];
    if (!schema) return [`no schema ${schemaName}`];
    const problems: string[] = [];
    this.check(schema, value, schemaName, problems, 0);
    return problems;
  }

  private check(schema: Schema, value: unknown, at: string, problems: string[], depth: number): void {
    if (depth > 12) return;
    const s = this.resolve(schema);
    if (value === null) {
      if (!s.nullable) problems.push(`${at}: null but not nullable`);
      return;
    }
    if (s.anyOf) {
      const ok = s.anyOf.some((b) => {
        const p: string[] = [];
        this.check(b, value, at, p, depth + 1);
        return p.length === 0;
      });
      if (!ok) problems.push(`${at}: matches no anyOf branch`);
      return;
    }
    if (s.enum && !s.enum.includes(value)) {
      problems.push(`${at}: ${JSON.stringify(value)} not in enum`);
      return;
    }
    const t = s.type;
    if (t === 'object') {
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${at}: expected object`);
        return;
      }
      const obj = value as Record<string, unknown>;
      for (const req of s.required ?? []) if (!(req in obj)) problems.push(`${at}.${req}: required but missing`);
      for (const [k, v] of Object.entries(obj)) {
        const sub =
          s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        if (sub) this.check(sub, v, `${at}.${k}`, problems, depth + 1);
      }
    } else if (t === 'array') {
      if (!Array.isArray(value)) problems.push(`${at}: expected array`);
      else if (s.items) {
        const items = s.items;
        value.forEach((v, i) => {
          this.check(items, v, `${at}[${i}]`, problems, depth + 1);
        });
      }
    } else if (t === 'integer') {
      if (!Number.isInteger(value)) problems.push(`${at}: expected integer`);
    } else if (t === 'number') {
      if (typeof value !== 'number') problems.push(`${at}: expected number`);
    } else if (t === 'string') {
      if (typeof value !== 'string') problems.push(`${at}: expected string`);
    } else if (t === 'boolean') {
      if (typeof value !== 'boolean') problems.push(`${at}: expected boolean`);
    }
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
