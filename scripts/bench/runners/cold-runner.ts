/**
 * One cold start, in a fresh `node` process: import a handler bundle and serve one request.
 * Times are `performance.now()`, i.e. milliseconds since this process started
 * (`performance.timeOrigin`), so "total" covers Node's own boot, the bundle's import (module
 * evaluation, client construction) and the first invocation (configuration, dependencies, the
 * request through the handler and its SDK call to the bench's stub endpoint).
 *
 * argv: <bundle.mjs> <input.json>; the result is one JSON line written to fd 3.
 */
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const runnerStartMs = performance.now();
const [bundle, inputFile] = process.argv.slice(2);
if (!bundle || !inputFile) throw new Error('usage: cold-runner <bundle.mjs> <input.json>');
const input = JSON.parse(readFileSync(inputFile, 'utf8')) as { event: unknown };

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'BenchFunction',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:BenchFunction',
  memoryLimitInMB: '256',
  awsRequestId: '00000000-0000-4000-8000-000000000000',
  logGroupName: '/aws/lambda/BenchFunction',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

const importStartMs = performance.now();
const mod = (await import(pathToFileURL(bundle).href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const importedMs = performance.now();
const response = await mod.handler(input.event, context);
const doneMs = performance.now();
// CPU time of the whole process (all threads) so far: barely moved by other processes competing
// for the cores, unlike the wall-clock figures.
const cpu = process.cpuUsage();

writeSync(
  3,
  `${JSON.stringify({
    runnerStartMs,
    importMs: importedMs - importStartMs,
    firstInvokeMs: doneMs - importedMs,
    importAndInvokeMs: doneMs - importStartMs,
    totalMs: doneMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    response,
  })}\n`,
);
process.exit(0);
