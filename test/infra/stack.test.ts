/**
 * The CDK stack, asserted on its synthesized template. The full app (three bundled functions,
 * cdk-nag) is synthesized once; variants of the props synthesize without bundling.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, loadConfig } from '../../lambdas/config.js';
import { type BuildAppOptions, buildApp } from '../../lib/app.js';
import { API, QUEUE, TABLE_SCHEMA, WORKER } from '../../lib/spec.js';
import { type OrderOrchestratorStack, paymentSettings } from '../../lib/stack.js';

type Json = Record<string, unknown>;
type Resource = {
  Type: string;
  Properties?: Json;
  Metadata?: Json;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

let app: ReturnType<typeof buildApp>['app'];
let stack: OrderOrchestratorStack;
let template: Template;
let resources: Record<string, Resource>;

const outdirs: string[] = [];
function tempOutdir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orchestrator-stack-test-'));
  outdirs.push(dir);
  return dir;
}

beforeAll(() => {
  ({ app, stack } = buildApp({ outdir: tempOutdir() }));
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** Synthesizes a variant without bundling the functions (fast). */
function variant(options: BuildAppOptions): Template {
  const built = buildApp({
    ...options,
    nag: false,
    outdir: tempOutdir(),
    context: { 'aws:cdk:bundling-stacks': [], ...options.context },
  });
  return Template.fromStack(built.stack);
}

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

function props(id: string): Json {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r.Properties ?? {};
}

function logicalIdOf(c: IConstruct): string {
  const child = c.node.defaultChild ?? c;
  return stack.getLogicalId(child as never);
}

/** `{ Ref: id }` or `{ 'Fn::GetAtt': [id, …] }` → id. */
function refId(v: unknown): string | undefined {
  if (v && typeof v === 'object') {
    const o = v as Json;
    if (typeof o.Ref === 'string') return o.Ref;
    const ga = o['Fn::GetAtt'];
    if (Array.isArray(ga) && typeof ga[0] === 'string') return ga[0];
  }
  return undefined;
}

/** Resource path of every API Gateway resource / method, e.g. "POST /orders/{id}/cancel". */
function apiMethods(): Map<string, Json> {
  const paths = new Map<string, string>();
  const pathOf = (id: string | undefined): string => {
    if (!id || resources[id]?.Type !== 'AWS::ApiGateway::Resource') return '';
    const known = paths.get(id);
    if (known !== undefined) return known;
    const p = props(id);
    const full = `${pathOf(refId(p.ParentId))}/${String(p.PathPart)}`;
    paths.set(id, full);
    return full;
  };
  const methods = new Map<string, Json>();
  for (const [, r] of ofType('AWS::ApiGateway::Method')) {
    const p = r.Properties ?? {};
    methods.set(`${String(p.HttpMethod)} ${pathOf(refId(p.ResourceId)) || '/'}`, p);
  }
  return methods;
}

/** Every IAM policy statement attached to a role (by the role's logical id). */
function statementsOfRole(roleId: string): Json[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, r]) => ((r.Properties?.Roles as unknown[]) ?? []).some((x) => refId(x) === roleId))
    .flatMap(([, r]) => (r.Properties?.PolicyDocument as { Statement?: Json[] } | undefined)?.Statement ?? []);
}

function actionsOf(s: Json): string[] {
  return ([] as string[]).concat(s.Action as string | string[]);
}

function roleOfFunction(fnId: string): string {
  const id = refId(props(fnId).Role);
  if (!id) throw new Error(`no role on ${fnId}`);
  return id;
}

const FUNCTIONS = {
  ApiFunction: { timeout: 15, memory: 512 },
  IngressFunction: { timeout: 10, memory: 256 },
  WorkerFunction: { timeout: WORKER.timeoutSeconds, memory: WORKER.memoryMb },
} as const;

describe('functions', () => {
  it.each(Object.entries(FUNCTIONS))('%s: arm64, nodejs22.x, timeout, memory, asset metadata', (id, spec) => {
    const r = resources[id];
    expect(r?.Type).toBe('AWS::Lambda::Function');
    const p = props(id);
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Runtime).toBe('nodejs22.x');
    expect(p.Handler).toBe('index.handler');
    expect(p.Timeout).toBe(spec.timeout);
    expect(p.MemorySize).toBe(spec.memory);
    expect(r?.Metadata?.['aws:asset:path']).toEqual(expect.stringMatching(/^asset\./));
    expect(r?.Metadata?.['aws:asset:property']).toBe('Code');
  });

  it.each(Object.keys(FUNCTIONS))('%s logs to its own log group with a retention', (id) => {
    const logGroupId = refId((props(id).LoggingConfig as Json).LogGroup);
    expect(logGroupId && resources[logGroupId]?.Type).toBe('AWS::Logs::LogGroup');
    expect(props(logGroupId as string).RetentionInDays).toBe(30);
  });

  it('no function role uses an AWS managed policy', () => {
    for (const id of Object.keys(FUNCTIONS)) expect(props(roleOfFunction(id)).ManagedPolicyArns).toBeUndefined();
  });

  it('environment: names from lambdas/config.ts ENV, per function', () => {
    const env = (id: string) => (props(id).Environment as { Variables: Json }).Variables;
    const secret = logicalIdOf(stack.stripeSecret);
    for (const id of Object.keys(FUNCTIONS)) {
      const v = env(id);
      expect(v[ENV.STRIPE_SECRET_ARN]).toEqual({ Ref: secret });
      expect(v.POWERTOOLS_SERVICE_NAME).toBe('order-orchestrator');
      expect(v.POWERTOOLS_METRICS_NAMESPACE).toBe('OrderOrchestrator');
      expect(v.NODE_OPTIONS).toBe('--enable-source-maps');
    }
    const stateVars = [
      ENV.TABLE_NAME,
      ENV.QUEUE_ARN,
      ENV.SCHEDULE_GROUP,
      ENV.SCHEDULER_ROLE_ARN,
      ENV.SCHEDULER_DLQ_ARN,
      ENV.EVENT_BUS_NAME,
    ];
    for (const id of ['ApiFunction', 'WorkerFunction']) {
      for (const name of stateVars) expect(env(id), `${id} ${name}`).toHaveProperty(name);
    }
    for (const name of stateVars) expect(env('IngressFunction')).not.toHaveProperty(name);
    expect(env('IngressFunction')[ENV.QUEUE_URL]).toEqual({ Ref: logicalIdOf(stack.queue) });
    expect(env('WorkerFunction')).toHaveProperty(ENV.QUEUE_URL);
    expect(env('ApiFunction')[ENV.CORS_ORIGINS]).toBe('*');
    expect(env('ApiFunction')[ENV.TABLE_NAME]).toEqual({ Ref: logicalIdOf(stack.table) });
  });

  it('payment settings: defaults on the API and worker (payment_intents, 3600 s, no WeChat app id), none elsewhere', () => {
    const env = (id: string) => (props(id).Environment as { Variables: Json }).Variables;
    for (const id of ['ApiFunction', 'WorkerFunction']) {
      expect(env(id)[ENV.PAYMENT_API], id).toBe('payment_intents');
      expect(env(id)[ENV.PAYMENT_EXPIRY_SECONDS], id).toBe('3600');
      // Declared empty (read as unset), so that sam local's env.json can set it.
      expect(env(id)[ENV.WECHAT_APP_ID], id).toBe('');
    }
    for (const id of ['IngressFunction', 'StatusFunction']) {
      for (const name of [ENV.PAYMENT_API, ENV.PAYMENT_EXPIRY_SECONDS, ENV.WECHAT_APP_ID]) {
        expect(env(id), `${id} ${name}`).not.toHaveProperty(name);
      }
    }
  });
});

describe('REST API', () => {
  it('is named OrderOrchestratorApi, stage v1 with access logs, execution logs without bodies, throttling', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'OrderOrchestratorApi' });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: API.throttle.rateLimit,
          ThrottlingBurstLimit: API.throttle.burstLimit,
        }),
        Match.objectLike({
          HttpMethod: 'GET',
          ResourcePath: '/~1orders~1{id}~1status',
          ThrottlingRateLimit: API.statusThrottle.rateLimit,
          ThrottlingBurstLimit: API.statusThrottle.burstLimit,
        }),
      ]),
    });
  });

  it('routes: API key on /orders*, none on the status route; no webhook route (it is on the HTTP API)', () => {
    const methods = apiMethods();
    const apiFn = 'ApiFunction';
    const expected: Array<[string, boolean, string]> = [
      ['POST /orders', true, apiFn],
      ['GET /orders', true, apiFn],
      ['GET /orders/{id}', true, apiFn],
      ['POST /orders/{id}/cancel', true, apiFn],
      ['GET /orders/{id}/status', false, apiFn],
    ];
    for (const [route, keyRequired, fn] of expected) {
      const m = methods.get(route);
      expect(m, route).toBeDefined();
      expect(Boolean(m?.ApiKeyRequired), route).toBe(keyRequired);
      const integration = m?.Integration as Json;
      expect(integration.Type, route).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Uri), route).toContain(`"${fn}"`);
    }
    expect(methods.get('OPTIONS /orders/{id}/status')?.ApiKeyRequired).toBeFalsy();
    expect([...methods.keys()].sort()).toEqual([...expected.map(([r]) => r), 'OPTIONS /orders/{id}/status'].sort());
  });

  it('status route: CORS preflight with the configured origins (default *)', () => {
    const options = apiMethods().get('OPTIONS /orders/{id}/status');
    expect(JSON.stringify(options?.Integration)).toContain(
      '"method.response.header.Access-Control-Allow-Origin":"\'*\'"',
    );
  });

  it('validates no body in API Gateway: the function does, with field-level errors', () => {
    for (const [, m] of apiMethods()) expect(m.RequestModels).toBeUndefined();
    template.resourceCountIs('AWS::ApiGateway::Model', 0);
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 0);
  });

  it('usage plan with throttling on the v1 stage, and an API key in it', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: API.throttle.rateLimit, BurstLimit: API.throttle.burstLimit },
      ApiStages: [Match.objectLike({ ApiId: Match.anyValue(), Stage: Match.anyValue() })],
    });
    const [[keyId]] = ofType('AWS::ApiGateway::ApiKey') as [[string, Resource]];
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyId: { Ref: keyId }, KeyType: 'API_KEY' });
  });

  it('API Gateway errors use the API error format', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":') },
      });
    }
  });
});

describe('webhook HTTP API', () => {
  const ofTypeProps = (type: string) => ofType(type).map(([id, r]) => [id, r.Properties ?? {}] as const);

  it('has one route, POST /webhooks/stripe, to the ingress by a payload 1.0 proxy integration, no authorizer', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      Name: 'OrderOrchestratorWebhooks',
      ProtocolType: 'HTTP',
    });
    const routes = ofTypeProps('AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r.RouteKey)).toEqual(['POST /webhooks/stripe']);
    expect(routes[0]?.[1].AuthorizationType ?? 'NONE').toBe('NONE');
    const integrations = ofTypeProps('AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(1);
    const [, integration] = integrations[0] ?? ['', {}];
    expect(integration.IntegrationType).toBe('AWS_PROXY');
    // 1.0: the ingress receives the event shape of a REST proxy integration (and of the sandbox).
    expect(integration.PayloadFormatVersion).toBe('1.0');
    expect(JSON.stringify(integration.IntegrationUri)).toContain('"IngressFunction"');
    // API Gateway may invoke the ingress, from this API only.
    const permissions = ofTypeProps('AWS::Lambda::Permission').filter(
      ([, p]) => refId(p.FunctionName) === 'IngressFunction',
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.[1].Principal).toBe('apigateway.amazonaws.com');
  });

  it('one auto-deployed $default stage with access logs and throttling', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      DefaultRouteSettings: {
        ThrottlingRateLimit: API.webhookThrottle.rateLimit,
        ThrottlingBurstLimit: API.webhookThrottle.burstLimit,
      },
    });
  });
});

describe('work queue', () => {
  it('FIFO, content-based dedup, SQS-managed SSE, visibility and retention from spec, DLQ after 5 receives', () => {
    const queue = logicalIdOf(stack.queue);
    const dlq = logicalIdOf(stack.deadLetterQueue);
    expect(props(queue)).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: true,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: QUEUE.visibilityTimeoutSeconds,
      MessageRetentionPeriod: QUEUE.retentionSeconds,
      RedrivePolicy: { maxReceiveCount: QUEUE.maxReceiveCount, deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
    });
    expect(QUEUE.maxReceiveCount).toBe(5);
    expect(props(dlq)).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: true, SqsManagedSseEnabled: true });
  });

  it('every queue has a policy denying requests without TLS', () => {
    const queues = ofType('AWS::SQS::Queue').map(([id]) => id);
    expect(queues).toHaveLength(3);
    for (const q of queues) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: q }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('worker event source: batch size from spec, ReportBatchItemFailures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: 'WorkerFunction' },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.queue), 'Arn'] },
      BatchSize: WORKER.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('order table', () => {
  it('on demand, pk, both GSIs from TABLE_SCHEMA, PITR, AWS managed encryption, retained', () => {
    const id = logicalIdOf(stack.table);
    expect(props(id)).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    const gsis = props(id).GlobalSecondaryIndexes as Json[];
    expect(gsis).toEqual(
      expect.arrayContaining([
        {
          IndexName: 'bySourceId',
          KeySchema: [{ AttributeName: 'sourceId', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: 'byDay',
          KeySchema: [
            { AttributeName: 'day', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ]),
    );
    expect(gsis).toHaveLength(2);
    expect(resources[id]?.DeletionPolicy).toBe('Retain');
    expect(resources[id]?.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('timers (EventBridge Scheduler)', () => {
  it('a schedule group', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
  });

  it('scheduler role: trusted by scheduler.amazonaws.com for this account; may only send to the work queue and the scheduler DLQ', () => {
    const roleId = logicalIdOf(stack.schedulerRole);
    expect(props(roleId).AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(props(roleId).ManagedPolicyArns).toBeUndefined();
    expect(props(roleId).Policies).toBeUndefined();
    const statements = statementsOfRole(roleId);
    const allowedActions = new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']);
    const targets = new Set<string | undefined>();
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(actionsOf(s)).toContain('sqs:SendMessage');
      for (const a of actionsOf(s)) expect(allowedActions).toContain(a);
      for (const r of ([] as unknown[]).concat(s.Resource)) targets.add(refId(r));
    }
    expect(targets).toEqual(new Set([logicalIdOf(stack.queue), logicalIdOf(stack.schedulerDeadLetterQueue)]));
  });

  it('scheduler DLQ: standard queue, SSE', () => {
    expect(props(logicalIdOf(stack.schedulerDeadLetterQueue))).toMatchObject({ SqsManagedSseEnabled: true });
    expect(props(logicalIdOf(stack.schedulerDeadLetterQueue)).FifoQueue).toBeUndefined();
  });

  it('api and worker: schedules in the group only, PassRole on the scheduler role only; ingress neither', () => {
    const roleArn = { 'Fn::GetAtt': [logicalIdOf(stack.schedulerRole), 'Arn'] };
    for (const fn of ['ApiFunction', 'WorkerFunction']) {
      const statements = statementsOfRole(roleOfFunction(fn));
      const sched = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')));
      expect(sched).toHaveLength(1);
      expect(actionsOf(sched[0] as Json).sort()).toEqual([
        'scheduler:CreateSchedule',
        'scheduler:DeleteSchedule',
        'scheduler:GetSchedule',
      ]);
      expect(JSON.stringify(sched[0]?.Resource)).toMatch(/:schedule\/OrderOrchestrator-OrderTimers-[A-Z0-9]+\/\*"/);
      const pass = statements.filter((s) => actionsOf(s).includes('iam:PassRole'));
      expect(pass).toHaveLength(1);
      expect(pass[0]?.Resource).toEqual(roleArn);
    }
    const ingress = statementsOfRole(roleOfFunction('IngressFunction'));
    expect(ingress.flatMap(actionsOf).filter((a) => /^(scheduler|iam|dynamodb|events):/.test(a))).toEqual([]);
  });
});

describe('secret, event bus, grants', () => {
  it('StripeKeys secret shows the JSON structure, is retained, and every function may read it', () => {
    const id = logicalIdOf(stack.stripeSecret);
    const gen = props(id).GenerateSecretString as Json;
    expect(JSON.parse(String(gen.SecretStringTemplate))).toEqual({
      secretKey: expect.stringMatching(/^sk_/),
      webhookSecrets: [expect.stringMatching(/^whsec_/)],
    });
    expect(resources[id]?.DeletionPolicy).toBe('Retain');
    for (const fn of Object.keys(FUNCTIONS)) {
      const read = statementsOfRole(roleOfFunction(fn)).find((s) =>
        actionsOf(s).includes('secretsmanager:GetSecretValue'),
      );
      expect(read?.Resource, fn).toEqual({ Ref: id });
    }
  });

  it('event bus; api and worker may put events on it', () => {
    const bus = logicalIdOf(stack.eventBus);
    expect(resources[bus]?.Type).toBe('AWS::Events::EventBus');
    for (const fn of ['ApiFunction', 'WorkerFunction']) {
      const put = statementsOfRole(roleOfFunction(fn)).find((s) => actionsOf(s).includes('events:PutEvents'));
      expect(put?.Resource, fn).toEqual({ 'Fn::GetAtt': [bus, 'Arn'] });
    }
  });

  it('table read/write for api and worker, send-to-queue for the ingress', () => {
    const table = logicalIdOf(stack.table);
    for (const fn of ['ApiFunction', 'WorkerFunction']) {
      const s = statementsOfRole(roleOfFunction(fn)).find((x) => actionsOf(x).includes('dynamodb:PutItem'));
      expect(JSON.stringify(s?.Resource), fn).toContain(`"${table}"`);
    }
    const send = statementsOfRole(roleOfFunction('IngressFunction')).find((s) =>
      actionsOf(s).includes('sqs:SendMessage'),
    );
    expect(send?.Resource).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack.queue), 'Arn'] });
  });
});

describe('monitoring', () => {
  const topicRef = () => ({ Ref: logicalIdOf(stack.monitoring.topic) });

  it('an SNS topic that requires TLS, and no subscription without alarmEmail', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef()],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('four alarms, all notifying the topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties ?? {});
    expect(alarms).toHaveLength(4);
    for (const a of alarms) expect(a.AlarmActions).toEqual([topicRef()]);
    const find = (metric: string, dim: (d: Json[]) => boolean) =>
      alarms.filter((a) => a.MetricName === metric && dim((a.Dimensions as Json[]) ?? []));
    const onQueue = (q: IConstruct) => (d: Json[]) =>
      d.some((x) => x.Name === 'QueueName' && refId(x.Value) === logicalIdOf(q));
    expect(find('ApproximateNumberOfMessagesVisible', onQueue(stack.deadLetterQueue))).toHaveLength(1);
    expect(find('ApproximateNumberOfMessagesVisible', onQueue(stack.schedulerDeadLetterQueue))).toHaveLength(1);
    expect(
      find('Errors', (d) => d.some((x) => x.Name === 'FunctionName' && refId(x.Value) === 'WorkerFunction')),
    ).toHaveLength(1);
    const webhookApi = logicalIdOf(stack.webhookApi);
    expect(find('5xx', (d) => d.some((x) => x.Name === 'ApiId' && refId(x.Value) === webhookApi))).toHaveLength(1);
    for (const a of alarms) {
      expect(a.Threshold).toBe(0);
      expect(a.ComparisonOperator).toBe('GreaterThanThreshold');
    }
  });

  it('a dashboard with the order funnel and webhook traffic', () => {
    const [[, dash]] = ofType('AWS::CloudWatch::Dashboard') as [[string, Resource]];
    const body = JSON.stringify(dash.Properties?.DashboardBody);
    for (const name of [
      'OrderCreated',
      'OrderPaid',
      'OrderFailed',
      'OrderCanceled',
      'OrderRefunded',
      'WebhookRejected',
      'ChargeLatency',
      'order-orchestrator',
      'AWS/ApiGateway',
      'ApproximateAgeOfOldestMessage',
    ]) {
      expect(body, name).toContain(name);
    }
  });
});

describe('outputs', () => {
  it('has the outputs the README and scripts use', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const name of [
      'ApiUrl',
      'WebhookUrl',
      'ApiKeyId',
      'StripeSecretArn',
      'EventBusName',
      'WorkQueueUrl',
      'DeadLetterQueueUrl',
    ]) {
      expect(outputs, name).toHaveProperty(name);
    }
    expect(JSON.stringify(outputs.WebhookUrl?.Value)).toContain('/webhooks/stripe');
    const stage = logicalIdOf(stack.api.deploymentStage);
    expect(outputs.ApiUrl?.Value).toEqual({
      'Fn::Join': ['', expect.arrayContaining(['https://', '/', { Ref: stage }, '/'])],
    });
    expect(props(stage).StageName).toBe('v1');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const open = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath)}`);
    expect(open).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('is enforced at synth: an unacknowledged finding fails it', () => {
    const built = buildApp({ outdir: tempOutdir(), context: { 'aws:cdk:bundling-stacks': [] } });
    new sqs.CfnQueue(built.stack, 'UnencryptedQueue', { sqsManagedSseEnabled: false });
    expect(() => built.app.synth()).toThrow(/AwsSolutions-SQS/);
  });

  it('every acknowledgement names one rule (IAM5 with its finding) and gives a specific reason', () => {
    const acks: Array<[string, string, string]> = [];
    for (const c of app.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>))
          acks.push([c.node.path, id, reason]);
      }
    }
    expect(acks.length).toBeGreaterThan(0);
    for (const [path, id, reason] of acks) {
      expect(id, path).toMatch(/AwsSolutions-[A-Z]+\d+/);
      if (id.includes('IAM5') || id.includes('IAM4')) expect(id, path).toMatch(/\[(Resource|Policy|Action)::.+\]$/);
      expect(reason.length, `${path} ${id}`).toBeGreaterThan(40);
      // Narrow scope: never on the stack or the app.
      expect(path.split('/').length, `${id} acknowledged at ${path}`).toBeGreaterThan(1);
    }
  });
});

describe('props and context', () => {
  it('removalPolicy DESTROY (prop) deletes the table, secret and log groups', () => {
    const t = variant({ stackProps: { removalPolicy: RemovalPolicy.DESTROY } });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    t.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
    for (const r of Object.values(t.findResources('AWS::Logs::LogGroup'))) expect(r.DeletionPolicy).toBe('Delete');
  });

  it('context destroyOnRemoval=true does the same; alarmEmail subscribes; corsOrigins sets CORS', () => {
    const t = variant({
      context: {
        destroyOnRemoval: 'true',
        alarmEmail: 'ops@example.com',
        corsOrigins: 'https://shop.example.com, https://m.shop.example.com',
      },
    });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    t.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
    t.resourceCountIs('AWS::SNS::Subscription', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ [ENV.CORS_ORIGINS]: 'https://shop.example.com,https://m.shop.example.com' }),
      },
    });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: Match.objectLike({
        IntegrationResponses: [
          Match.objectLike({
            ResponseTemplates: { 'application/json': Match.stringLikeRegexp('https://m\\.shop\\.example\\.com') },
          }),
        ],
      }),
    });
  });

  it('alarmEmail prop subscribes too; props win over context', () => {
    const t = variant({
      stackProps: { alarmEmail: 'pager@example.com', removalPolicy: RemovalPolicy.RETAIN },
      context: { destroyOnRemoval: true },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'pager@example.com' });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });
});

describe('payment settings (context paymentApi, paymentExpirySeconds, wechatAppId)', () => {
  const paymentEnv = (t: Template, id: string) => {
    const fn = t.toJSON().Resources[id] as { Properties: { Environment: { Variables: Json } } };
    const v = fn.Properties.Environment.Variables;
    return {
      api: v[ENV.PAYMENT_API],
      expiry: v[ENV.PAYMENT_EXPIRY_SECONDS],
      wechat: v[ENV.WECHAT_APP_ID],
    };
  };

  it('context overrides reach the API and worker functions, as the CLI passes them (strings)', () => {
    const t = variant({
      context: { paymentApi: 'sources', paymentExpirySeconds: '900', wechatAppId: 'wx0123456789abcdef' },
    });
    const defaults = variant({});
    for (const id of ['ApiFunction', 'WorkerFunction']) {
      expect(paymentEnv(t, id), id).toEqual({ api: 'sources', expiry: '900', wechat: 'wx0123456789abcdef' });
    }
    expect(paymentEnv(t, 'IngressFunction')).toEqual({ api: undefined, expiry: undefined, wechat: undefined });
    expect(paymentEnv(defaults, 'WorkerFunction')).toEqual({ api: 'payment_intents', expiry: '3600', wechat: '' });
  });

  it('the bounds 300 and 7200 are accepted, also as numbers (cdk.json context); props win over context', () => {
    expect(paymentEnv(variant({ context: { paymentExpirySeconds: 300 } }), 'ApiFunction').expiry).toBe('300');
    expect(paymentEnv(variant({ context: { paymentExpirySeconds: '7200' } }), 'WorkerFunction').expiry).toBe('7200');
    const t = variant({
      context: { paymentApi: 'sources', paymentExpirySeconds: '900' },
      stackProps: { paymentApi: 'payment_intents', paymentExpirySeconds: 1800, wechatAppId: 'wxABCDEF0123456789' },
    });
    expect(paymentEnv(t, 'ApiFunction')).toEqual({
      api: 'payment_intents',
      expiry: '1800',
      wechat: 'wxABCDEF0123456789',
    });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'an unknown API',
      { paymentApi: 'checkout_sessions' },
      /context paymentApi .*one of payment_intents, sources; got "checkout_sessions"/,
    ],
    ['an API in capitals', { paymentApi: 'SOURCES' }, /context paymentApi/],
    [
      'an expiry below 300 s',
      { paymentExpirySeconds: '299' },
      /context paymentExpirySeconds .*from 300 to 7200; got "299"/,
    ],
    ['an expiry above 7200 s', { paymentExpirySeconds: 7201 }, /context paymentExpirySeconds .*got "7201"/],
    ['a fractional expiry', { paymentExpirySeconds: '600.5' }, /context paymentExpirySeconds/],
    ['an expiry with a unit', { paymentExpirySeconds: '1h' }, /context paymentExpirySeconds/],
    ['a negative expiry', { paymentExpirySeconds: '-600' }, /context paymentExpirySeconds/],
    ['an app id without wx', { wechatAppId: 'ab0123456789abcdef' }, /context wechatAppId .*wx followed by 16/],
    ['a short app id', { wechatAppId: 'wx0123' }, /context wechatAppId/],
    ['an app id with punctuation', { wechatAppId: 'wx0123456789abcd-f' }, /context wechatAppId/],
  ])('refuses %s at synth, naming the context key', (_what, context, message) => {
    expect(() => variant({ context })).toThrow(message);
  });

  it('names every bad setting at once, and the prop when a prop is wrong', () => {
    let error: Error | undefined;
    try {
      variant({ context: { paymentApi: 'x', paymentExpirySeconds: '10', wechatAppId: 'nope' } });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('StackSettingsError');
    expect(error?.message).toMatch(/^Invalid payment settings:/);
    for (const key of ['paymentApi', 'paymentExpirySeconds', 'wechatAppId']) expect(error?.message).toContain(key);
    expect(() => variant({ stackProps: { paymentExpirySeconds: 10 } })).toThrow(/prop paymentExpirySeconds/);
  });

  it('accepts exactly what the functions accept at cold start (lambdas/config.ts)', () => {
    const cases: Array<[string | undefined, string | undefined, string | undefined]> = [
      [undefined, undefined, undefined],
      ['sources', '300', 'wx0123456789ABCDEF'],
      ['payment_intents', '7200', undefined],
      ['alipay', undefined, undefined],
      [undefined, '299', undefined],
      [undefined, '7201', undefined],
      [undefined, '3600.5', undefined],
      [undefined, undefined, 'wx0123456789abcde'],
      [undefined, undefined, 'wx0123456789abcdef0'],
      [undefined, undefined, ''],
    ];
    for (const [api, expiry, wechat] of cases) {
      let synth: ReturnType<typeof paymentSettings> | undefined;
      try {
        synth = paymentSettings({ paymentApi: api, paymentExpirySeconds: expiry, wechatAppId: wechat });
      } catch {
        synth = undefined;
      }
      let cold: ReturnType<typeof loadConfig> | undefined;
      try {
        cold = loadConfig([], {
          [ENV.PAYMENT_API]: api,
          [ENV.PAYMENT_EXPIRY_SECONDS]: expiry,
          [ENV.WECHAT_APP_ID]: wechat,
        });
      } catch {
        cold = undefined;
      }
      const label = JSON.stringify({ api, expiry, wechat });
      expect(synth === undefined, label).toBe(cold === undefined);
      if (synth && cold) {
        expect(synth, label).toEqual({
          paymentApi: cold.paymentApi,
          paymentExpirySeconds: cold.paymentExpirySeconds,
          wechatAppId: cold.wechatAppId,
        });
      }
    }
  });
});

describe('secrets', () => {
  it('every function reads the Stripe secret through the Parameters and Secrets extension layer', () => {
    for (const id of ['ApiFunction', 'IngressFunction', 'WorkerFunction']) {
      const fn = resources[id] as unknown as {
        Properties: { Layers?: unknown[]; Environment: { Variables: Record<string, unknown> } };
      };
      expect(fn.Properties.Layers, id).toHaveLength(1);
      expect(fn.Properties.Environment.Variables.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, id).toBe('2773');
      expect(fn.Properties.Environment.Variables.STRIPE_SECRET_ARN, id).toBeDefined();
    }
  });
});

describe('status function URL', () => {
  it('serves the browser status without API Gateway: a public function URL with CORS, read-only table access', () => {
    const urls = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Url') as unknown as {
      Properties: {
        AuthType: string;
        TargetFunctionArn: unknown;
        Cors: { AllowMethods: string[]; AllowOrigins: string[] };
      };
    }[];
    expect(urls).toHaveLength(1);
    expect(urls[0]?.Properties.AuthType).toBe('NONE');
    expect(urls[0]?.Properties.Cors.AllowMethods).toEqual(['GET']);
    expect(JSON.stringify(urls[0]?.Properties.TargetFunctionArn)).toContain('StatusFunction');
    const fn = resources.StatusFunction as unknown as {
      Properties: { Layers?: unknown; Environment: { Variables: Record<string, unknown> } };
    };
    expect(fn.Properties.Layers).toBeUndefined();
    expect(Object.keys(fn.Properties.Environment.Variables)).not.toContain('STRIPE_SECRET_ARN');
    const policies = Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes('StatusFunctionRole'),
    );
    const actions = JSON.stringify(policies.map((p) => p.Properties?.PolicyDocument));
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem)/);
    expect(actions).not.toContain('secretsmanager');
    expect(template.toJSON().Outputs).toHaveProperty('StatusUrl');
  });
});
