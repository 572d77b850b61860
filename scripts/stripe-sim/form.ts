/**
 * Stripe's form encoding, decoded.
 *
 * Why: Stripe's v1 API takes `application/x-www-form-urlencoded` bodies (and query strings)
 * with bracketed keys for nesting: `metadata[order_id]=o_1`, `redirect[return_url]=...`,
 * `expand[0]=source` or `expand[]=source`. stripe-node encodes params that way, so the
 * simulator must decode them the same way to see what real Stripe would see.
 * https://docs.stripe.com/api/request_ids (requests) · https://docs.stripe.com/api/metadata
 *
 * Lists arrive as objects with numeric keys (`expand[0]`) or with `[]` appends; they stay
 * objects here and become arrays when the OpenAPI schema says the parameter is an array.
 */

export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

/** Splits `a[b][c]` into `['a', 'b', 'c']`; `a[]` gives `['a', '']`. */
export function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  re.lastIndex = open;
  let m: RegExpExecArray | null = re.exec(key);
  let end = open;
  while (m !== null && m.index === end) {
    parts.push(m[1] ?? '');
    end = m.index + m[0].length;
    m = re.exec(key);
  }
  // Trailing garbage after the brackets: keep the whole key as one name (Stripe rejects it).
  if (end !== key.length) return [key];
  return parts;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Decodes a form body or query string into nested objects. Later duplicates win. */
export function parseForm(text: string): FormObject {
  const root: FormObject = {};
  if (!text) return root;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const path = splitKey(decode(rawKey));
    insert(root, path, value);
  }
  return root;
}

function insert(root: FormObject, path: string[], value: string): void {
  let node: FormObject = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] ?? '';
    if (i === path.length - 1) {
      node[seg] = value;
      return;
    }
    if (path[i + 1] === '') {
      // `seg[]`: an array we append to (a new element each time).
      let arr = node[seg];
      if (!Array.isArray(arr)) {
        arr = [];
        node[seg] = arr;
      }
      if (i + 1 === path.length - 1) {
        arr.push(value);
        return;
      }
      const next: FormObject = {};
      arr.push(next);
      node = next;
      i++; // skip the '' segment
      continue;
    }
    let child = node[seg];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) {
      child = {};
      node[seg] = child;
    }
    node = child;
  }
}

/** Encodes nested params the way stripe-node does (for tests and tools). */
export function encodeForm(params: Record<string, unknown>, prefix = ''): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    const key = prefix ? `${prefix}[${k}]` : k;
    if (v !== null && typeof v === 'object') {
      const nested = Array.isArray(v) ? Object.fromEntries(v.map((x, i) => [String(i), x])) : v;
      const inner = encodeForm(nested as Record<string, unknown>, key);
      if (inner) out.push(inner);
    } else {
      out.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v ?? ''))}`);
    }
  }
  return out.join('&');
}
