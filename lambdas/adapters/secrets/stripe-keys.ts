/**
 * The Stripe keys, loaded once per cold start. In AWS they live in one Secrets Manager secret,
 * JSON `{"secretKey":"sk_…","webhookSecrets":["whsec_…", …]}`; under `sam local` and in the
 * sandbox, environment variables override it (lambdas/config.ts).
 *
 * In Lambda the secret is read through the AWS Parameters and Secrets Lambda Extension's local
 * HTTP endpoint (no SDK client to load at cold start):
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html
 * Without the extension (elsewhere), the Secrets Manager SDK client is loaded on demand.
 */
import { STRIPE_API_KEY_PATTERN, STRIPE_LIVE_KEY_PATTERN, type StripeKeysSource } from '../../config.js';

export interface StripeKeys {
  secretKey: string;
  webhookSecrets: string[];
}

export class SecretFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFormatError';
  }
}

export function parseStripeSecret(json: string): StripeKeys {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new SecretFormatError(
      'The Stripe secret is not JSON: expected {"secretKey":"sk_…","webhookSecrets":["whsec_…"]}.',
    );
  }
  const o = (v ?? {}) as { secretKey?: unknown; webhookSecrets?: unknown; webhookSecret?: unknown };
  const secrets = Array.isArray(o.webhookSecrets)
    ? o.webhookSecrets
    : o.webhookSecret !== undefined
      ? [o.webhookSecret]
      : [];
  if (typeof o.secretKey !== 'string' || !STRIPE_API_KEY_PATTERN.test(o.secretKey)) {
    throw new SecretFormatError('The Stripe secret needs "secretKey": an sk_test_… / sk_live_… (or rk_…) key.');
  }
  if (secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.startsWith('whsec_'))) {
    throw new SecretFormatError('The Stripe secret needs "webhookSecrets": a list of whsec_… signing secrets.');
  }
  return { secretKey: o.secretKey, webhookSecrets: secrets as string[] };
}

export interface SecretFetchEnv {
  /** Port of the Parameters and Secrets extension, when the function has the layer. */
  extensionPort?: number | undefined;
  /** The function's session token, which the extension requires as a header. */
  sessionToken?: string | undefined;
}

async function viaExtension(arn: string, env: SecretFetchEnv): Promise<string> {
  const res = await fetch(
    `http://localhost:${env.extensionPort}/secretsmanager/get?secretId=${encodeURIComponent(arn)}`,
    {
      headers: { 'X-Aws-Parameters-Secrets-Token': env.sessionToken ?? '' },
    },
  );
  if (!res.ok) throw new Error(`Secrets extension answered ${res.status} for the Stripe secret.`);
  const body = (await res.json()) as { SecretString?: string };
  if (typeof body.SecretString !== 'string') throw new SecretFormatError('The Stripe secret has no SecretString.');
  return body.SecretString;
}

async function viaSdk(arn: string): Promise<string> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  if (typeof out.SecretString !== 'string') throw new SecretFormatError('The Stripe secret has no SecretString.');
  return out.SecretString;
}

export async function loadStripeKeys(source: StripeKeysSource, env: SecretFetchEnv = {}): Promise<StripeKeys> {
  if (source.kind === 'env') return { secretKey: source.secretKey, webhookSecrets: source.webhookSecrets };
  const json = env.extensionPort ? await viaExtension(source.secretArn, env) : await viaSdk(source.secretArn);
  return parseStripeSecret(json);
}

/** Livemode of the account a key belongs to: events of the other mode are not ours. */
export const isLiveKey = (secretKey: string): boolean => STRIPE_LIVE_KEY_PATTERN.test(secretKey);
