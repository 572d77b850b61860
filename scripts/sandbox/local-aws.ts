/**
 * Local AWS for the sandbox: the endpoint (AWS_ENDPOINT_URL, else a moto_server it starts, installing
 * moto into .local/venv the first time), the settings every SDK client of the sandbox and of its
 * functions is built with (endpoint, region and credentials passed in, not read from
 * process.env.AWS_ENDPOINT_URL), the sandbox's own clients, and the stack's resources there
 * (scripts/aws-resources.ts). Moto's stop goes on the cleanup stack.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClients, type AwsResources, createAwsResources } from '../aws-resources.js';
import { startMoto } from '../moto.js';
import type { Cleanup } from './cleanup.js';
import { fastMotoCommand } from './fast-moto.js';

/** What every SDK client the sandbox builds is given. */
export interface AwsClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface LocalAws {
  endpoint: string;
  clientConfig: AwsClientConfig;
  /** The sandbox's own clients (resources, SQS poller, Scheduler pump), not the functions'. */
  clients: AwsClients;
  resources: AwsResources;
}

export interface LocalAwsOptions {
  /** AWS_ENDPOINT_URL from here, when set, instead of starting moto. */
  env: Record<string, string | undefined>;
  /** Start moto with its per-request module listing cached (./fast-moto.ts). */
  fastMoto?: boolean;
  /** Resource name prefix. */
  prefix: string;
  log: (s: string) => void;
}

export async function startLocalAws(opts: LocalAwsOptions, cleanup: Cleanup): Promise<LocalAws> {
  const { region, credentials } = regionAndCredentials();
  let endpoint = opts.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    opts.log('starting moto…');
    const plain = motoCommand(opts.log);
    const fast = opts.fastMoto ? fastMotoCommand(plain) : undefined;
    if (fast) cleanup.add(() => fast.cleanup());
    const moto = await startMoto(fast?.command ?? plain);
    cleanup.add(() => moto.stop());
    endpoint = moto.endpoint;
  }
  const clientConfig: AwsClientConfig = { endpoint, region, credentials };
  const clients: AwsClients = {
    dynamodb: new DynamoDBClient(clientConfig),
    sqs: new SQSClient(clientConfig),
    scheduler: new SchedulerClient(clientConfig),
    eventbridge: new EventBridgeClient(clientConfig),
  };
  opts.log(`creating the stack's resources at ${endpoint}…`);
  const resources = await createAwsResources(clients, opts.prefix);
  return { endpoint, clientConfig, clients, resources };
}

/**
 * The process's region and credentials (what the SDK's default chain would find first), else
 * moto's dummies. The defaults are still written to process.env, as before: other code in this
 * process may build clients from the default chain (scripts/bench/sandbox-driver.ts does).
 */
function regionAndCredentials(): Pick<AwsClientConfig, 'region' | 'credentials'> {
  const penv = process.env;
  penv.AWS_REGION ??= 'us-east-1';
  penv.AWS_ACCESS_KEY_ID ??= 'test';
  penv.AWS_SECRET_ACCESS_KEY ??= 'test';
  return {
    region: penv.AWS_REGION,
    credentials: {
      accessKeyId: penv.AWS_ACCESS_KEY_ID,
      secretAccessKey: penv.AWS_SECRET_ACCESS_KEY,
      ...(penv.AWS_SESSION_TOKEN ? { sessionToken: penv.AWS_SESSION_TOKEN } : {}),
    },
  };
}

/** moto_server from PATH; else a project-local virtualenv with moto installed into it. */
function motoCommand(log: (s: string) => void): string {
  const onPath = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  const venv = join(process.cwd(), '.local', 'venv');
  const bin = join(venv, 'bin', 'moto_server');
  if (existsSync(bin)) return bin;
  log('moto_server is not on PATH: installing moto into .local/venv (one time, about a minute)…');
  mkdirSync(join(process.cwd(), '.local'), { recursive: true });
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', venv]],
    [join(venv, 'bin', 'pip'), ['install', '--progress-bar', 'on', 'moto[server]>=5.1']],
  ];
  for (const [cmd, args] of steps) {
    log(`  $ ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) {
      throw new Error(
        `Could not install moto (${cmd} exited ${r.status}). Install it yourself (pip install "moto[server]") ` +
          'or point AWS_ENDPOINT_URL at LocalStack or another AWS endpoint.',
      );
    }
  }
  return bin;
}
