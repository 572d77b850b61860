/**
 * Lambda entry point of the worker function (SQS FIFO event source): lambdas/handlers/worker.ts
 * with the use cases' dependencies built once per cold start.
 */
import { oncePerColdStart } from '../handlers/cold-start.js';
import { makeWorkerHandler } from '../handlers/worker.js';
import { appDeps } from '../wiring/app.js';

export const handler = makeWorkerHandler(oncePerColdStart(() => appDeps()));
