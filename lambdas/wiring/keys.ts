import { loadStripeKeys } from '../adapters/secrets/stripe-keys.js';
import type { Config } from '../config.js';

/** The Stripe keys, through the Parameters and Secrets extension (or the environment offline). */
export const stripeKeys = (config: Config) =>
  loadStripeKeys(config.stripeKeys, { extensionPort: config.secretsExtensionPort, sessionToken: config.sessionToken });
