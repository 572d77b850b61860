/**
 * Lambda entry point of the status function (function URL): lambdas/handlers/status.ts with its
 * dependencies (DynamoDB only) built once per cold start.
 */
import { oncePerColdStart } from '../handlers/cold-start.js';
import { makeStatusHandler } from '../handlers/status.js';
import { statusDeps } from '../wiring/status.js';

export const handler = makeStatusHandler(oncePerColdStart(() => statusDeps()));
