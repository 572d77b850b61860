/**
 * One Lambda function of the orchestrator: a NodejsFunction bundled by the local esbuild (no
 * Docker) into a minified ESM `index.mjs` with a source map, its own log group with a retention,
 * and its own role that can write to that log group only (no AWS managed policy). Everything
 * else the function may touch is granted by the stack through CDK grants.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The repository root (this file is lib/constructs/lambda-function.ts). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Defines `require` in the ESM bundle for the CommonJS dependencies esbuild inlines. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __orchestratorCreateRequire } from 'node:module';" +
  'const require = __orchestratorCreateRequire(import.meta.url);';

export interface OrchestratorFunctionProps {
  /** The handler file, relative to the repository root; it exports `handler`. */
  entry: string;
  /** Whether it reads the Stripe secret (then it gets the Parameters and Secrets extension). Default true. */
  readsSecrets?: boolean;
  description: string;
  timeout: Duration;
  memorySize: number;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

export interface OrchestratorFunction {
  fn: nodejs.NodejsFunction;
  role: iam.Role;
  logGroup: logs.LogGroup;
}

/**
 * Creates `<id>` (the function), `<id>Role` and `<id>Logs` directly in `scope`, and forces the
 * function's CloudFormation logical id to `id` (README's `sam local invoke … <id>` needs it).
 */
export function createOrchestratorFunction(
  scope: Construct,
  id: string,
  props: OrchestratorFunctionProps,
): OrchestratorFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention,
    removalPolicy: props.logRemovalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${id}`,
  });
  logGroup.grantWrite(role);

  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: path.join(PROJECT_ROOT, props.entry),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    description: props.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    timeout: props.timeout,
    memorySize: props.memorySize,
    role,
    logGroup,
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    // The secret is read through this extension's local HTTP endpoint, cached, so no
    // Secrets Manager SDK client is loaded at cold start (lambdas/adapters/secrets).
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html
    ...(props.readsSecrets === false
      ? {}
      : {
          paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, {
            cacheSize: 10,
            logLevel: lambda.ParamsAndSecretsLogLevel.WARN,
          }),
        }),
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      banner: ESM_REQUIRE_BANNER,
      // In the Node.js 22 runtime already; stripe, middy, powertools, zod and ulid are bundled.
      externalModules: ['@aws-sdk/*'],
      forceDockerBundling: false,
    },
  });
  (fn.node.defaultChild as lambda.CfnFunction).overrideLogicalId(id);
  return { fn, role, logGroup };
}
