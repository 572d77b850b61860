/**
 * Stripe webhook signature verification, as Stripe documents it
 * (https://docs.stripe.com/webhooks#verify-manually): the `Stripe-Signature` header carries
 * `t=<unix seconds>` and one or more `v1=<hex HMAC-SHA256 of "<t>.<raw body>">`; the event is
 * genuine if any `v1` matches for any of our signing secrets (several during a secret roll,
 * https://docs.stripe.com/webhooks#roll-endpoint-secrets) and `t` is within the tolerance.
 *
 * Why not `stripe.webhooks.constructEvent`: it gives the same answers (test/unit/signature.test.ts proves
 * it against stripe-node on random inputs), but importing stripe-node costs the ingress
 * function most of its cold start, and the ingress only needs this HMAC. It uses node:crypto only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Stripe's default tolerance: five minutes between signing and verification. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureProblem =
  | 'missing_payload'
  | 'missing_header'
  | 'malformed_header'
  | 'no_matching_signature'
  | 'timestamp_out_of_tolerance';

export class SignatureVerificationError extends Error {
  readonly problem: SignatureProblem;
  constructor(problem: SignatureProblem) {
    super(`Stripe signature rejected: ${problem}`);
    this.name = 'SignatureVerificationError';
    this.problem = problem;
  }
}

interface ParsedHeader {
  timestamp: number;
  signatures: string[];
}

/**
 * Read as stripe-node reads it: comma-separated `key=value` items, no trimming, every `v1` kept.
 * One deliberate difference: `t` must be all digits. stripe-node reads it with parseInt, so it
 * takes `t=1790000000.5` as 1790000000 and a non-number as NaN; both are refused here.
 */
function parseHeader(header: string): ParsedHeader | undefined {
  let timestamp = -1;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const [key, value = ''] = item.split('=');
    if (key === 't') timestamp = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
    if (key === 'v1') signatures.push(value);
  }
  if (timestamp === -1 || Number.isNaN(timestamp)) return undefined;
  return { timestamp, signatures };
}

/**
 * Throws SignatureVerificationError unless `header` signs `rawBody` with one of `secrets`
 * within `toleranceSeconds` of `nowSeconds`. The body must be the exact bytes Stripe sent.
 */
export function verifyStripeSignature(
  rawBody: Buffer | string,
  header: string | undefined,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): void {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  if (body.length === 0) throw new SignatureVerificationError('missing_payload');
  if (header === undefined || header === '') throw new SignatureVerificationError('missing_header');
  const parsed = parseHeader(header);
  if (!parsed) throw new SignatureVerificationError('malformed_header');
  if (parsed.signatures.length === 0) throw new SignatureVerificationError('no_matching_signature');
  const prefix = Buffer.from(`${parsed.timestamp}.`, 'utf8');
  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(prefix).update(body).digest('hex'));
    for (const sig of parsed.signatures) {
      const candidate = Buffer.from(sig);
      if (candidate.length === expected.length && timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  if (!matched) throw new SignatureVerificationError('no_matching_signature');
  // Checked after the signature, as stripe-node does (age = whole seconds now − t; only an old
  // signature is refused), so a replay is told apart from a forgery in logs.
  if (toleranceSeconds > 0 && Math.floor(nowSeconds) - parsed.timestamp > toleranceSeconds) {
    throw new SignatureVerificationError('timestamp_out_of_tolerance');
  }
}
