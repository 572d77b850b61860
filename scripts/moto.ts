/**
 * A private moto_server (for a test file, or the sandbox): a free loopback port, spawned in its own process
 * group, polled until it answers, killed (group and all) by `stop()` — and, as a last resort,
 * when the test process exits, so no moto outlives a failed run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClients, type AwsResources, createAwsResources } from './aws-resources.js';

export type { AwsClients, AwsResources };

export interface Moto {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Runs moto_server in this (new) process group next to a watchdog that holds our end of a pipe:
 * if the test process dies without calling stop() (a crash, a hook timeout, SIGKILL), the pipe
 * closes and the watchdog takes the whole group down. When moto exits by itself, so does this;
 * on SIGTERM it exits only after moto has, so stop() returns when moto is really gone.
 * (A background job's stdin is /dev/null in a non-interactive shell, hence fd 3.)
 */
const LAUNCHER = `
exec 3<&0
"$2" -H 127.0.0.1 -p "$1" </dev/null &
moto=$!
( read -r _ <&3; kill -TERM 0 ) &
watchdog=$!
trap 'kill -TERM "$moto" "$watchdog" 2>/dev/null' TERM
wait "$moto"
code=$?
wait "$moto" 2>/dev/null
kill "$watchdog" 2>/dev/null
exit "$code"
`;
const STOP_TIMEOUT_MS = 5_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the whole process group (moto_server is a pyenv shim that execs python)
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Starts moto on a free loopback port; retries on another port if one was taken in between. */
export async function startMoto(command = 'moto_server'): Promise<Moto> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(await freePort(), command);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof PortTaken)) throw e;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(port: number, command: string): Promise<Moto> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('sh', ['-c', LAUNCHER, 'moto-launcher', String(port), command], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true, // own process group, so stop() reaches every process it started
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });
  const onExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (exited) return;
    killGroup(child, 'SIGTERM');
    const done = await Promise.race([exit.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!done) {
      killGroup(child, 'SIGKILL');
      await exit;
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      await stop();
      throw new (/address already in use/i.test(stderr) ? PortTaken : Error)(
        `moto_server exited before answering (code ${exited.code}, signal ${exited.signal})` +
          `${spawnError ? `: ${spawnError.message}` : ''}\n--- moto stderr ---\n${stderr}`,
      );
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms\n--- moto stderr ---\n${stderr}`,
      );
    }
    await sleep(100);
  }
  return { endpoint, port, stop };
}

/** SDK client settings for `endpoint`: region us-east-1, dummy credentials, no SDK retries (tests see raw errors). */
export function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
}

/** SDK clients for `endpoint`. */
export function awsClients(endpoint: string): AwsClients {
  const config = clientConfig(endpoint);
  return {
    dynamodb: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    scheduler: new SchedulerClient(config),
    eventbridge: new EventBridgeClient(config),
  };
}

/** The stack's resources on moto, named `<prefix>-…` (scripts/aws-resources.ts). */
export function createResources(clients: AwsClients, prefix = 'it'): Promise<AwsResources> {
  return createAwsResources(clients, prefix);
}

export function destroyClients(clients: AwsClients): void {
  for (const c of Object.values(clients)) c.destroy();
}
