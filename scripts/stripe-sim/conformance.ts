/**
 * Response self-checks: does an object the simulator answers match Stripe's schema for it?
 *
 * Why: drift between the simulator's objects and Stripe's shapes must show up as a failing
 * test (or a 500 from the simulator), not as a surprise against real Stripe. Checks required
 * properties, types, nullability and enums, the way the 2023 OpenAPI subsets in
 * `scripts/stripe-sim/spec/` describe them. A strict check (the PaymentIntents subset) also
 * refuses properties a schema does not declare, except the ones its `x-known-gaps` lists as
 * added since (gaps.ts), so a field the pinned API version does not have cannot slip in.
 * https://github.com/stripe/openapi
 */

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

/** What the check needs of a Spec. */
export interface SchemaSource {
  doc: { components: { schemas: Record<string, Schema> } };
  options: { strict?: { tolerated: Readonly<Record<string, readonly string[]>> } };
}

const REF = '#/components/schemas/';

/** Problems (empty when fine) of `value` against the components schema `schemaName`. */
export function conformsTo(spec: SchemaSource, schemaName: string, value: unknown): string[] {
  const schema = spec.doc.components.schemas[schemaName];
  if (!schema) return [`no schema ${schemaName}`];
  const problems: string[] = [];
  check(spec, { $ref: `${REF}${schemaName}` }, value, schemaName, problems, 0);
  return problems;
}

function resolve(spec: SchemaSource, schema: Schema): { s: Schema; name: string | undefined } {
  let s = schema;
  let name: string | undefined;
  for (let i = 0; s.$ref && i < 32; i++) {
    name = s.$ref.replace(REF, '');
    const next = spec.doc.components.schemas[name];
    if (!next) throw new Error(`stripe-sim: unresolvable $ref ${s.$ref}`);
    s = next;
  }
  return { s, name };
}

function check(
  spec: SchemaSource,
  schema: Schema,
  value: unknown,
  at: string,
  problems: string[],
  depth: number,
): void {
  if (depth > 12) return;
  const { s, name } = resolve(spec, schema);
  if (value === null) {
    if (!s.nullable) problems.push(`${at}: null but not nullable`);
    return;
  }
  if (s.anyOf) {
    const ok = s.anyOf.some((b) => {
      const p: string[] = [];
      check(spec, b, value, at, p, depth + 1);
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
    const strict = spec.options.strict;
    const tolerated = (name !== undefined ? strict?.tolerated[name] : undefined) ?? [];
    for (const [k, v] of Object.entries(obj)) {
      const sub =
        s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub) check(spec, sub, v, `${at}.${k}`, problems, depth + 1);
      else if (strict && s.properties && s.additionalProperties === undefined && !tolerated.includes(k)) {
        problems.push(`${at}.${k}: not in the schema`);
      }
    }
  } else if (t === 'array') {
    if (!Array.isArray(value)) problems.push(`${at}: expected array`);
    else if (s.items) {
      const items = s.items;
      value.forEach((v, i) => {
        check(spec, items, v, `${at}[${i}]`, problems, depth + 1);
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
