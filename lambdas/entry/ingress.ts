/**
 * Lambda entry point of the webhook ingress function: lambdas/handlers/ingress.ts with its
 * dependencies (the queue and the signing secrets only) built once per cold start.
 */
import { oncePerColdStart } from '../handlers/cold-start.js';
import { makeIngressHandler } from '../handlers/ingress.js';
import { ingressDeps } from '../wiring/ingress.js';

export const handler = makeIngressHandler(oncePerColdStart(() => ingressDeps()));
