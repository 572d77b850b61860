/**
 * Lambda entry point of the API function (CDK `entry`, handler `handler`): the API handler
 * (lambdas/handlers/api.ts) with its dependencies built once per cold start by the wiring.
 * Entry points are the only modules that join handlers and wiring; handlers do not know how
 * they are built (docs/architecture.md, "Layers and their rules").
 */

import { makeApiHandler } from '../handlers/api.js';
import { oncePerColdStart } from '../handlers/cold-start.js';
import { appDeps, corsOrigins } from '../wiring/app.js';

export const handler = makeApiHandler(
  oncePerColdStart(async () => ({ ...(await appDeps()), corsOrigins: corsOrigins() })),
);
