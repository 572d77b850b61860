/**
 * The order orchestrator on AWS (docs/architecture.md): REST API → API function, HTTP API (webhooks) →
 * ingress function, a Lambda function URL → status function, SQS FIFO work
 * queue → worker, DynamoDB order table, EventBridge Scheduler timers, Stripe keys in Secrets
 * Manager, lifecycle events on an EventBridge bus, alarms and a dashboard.
 *
 * Resource settings come from lib/spec.ts, the single source of truth shared with the local
 * sandbox; the environment variable names from lambdas/config.ts.
 *
 * Over the project's 400-line guide on purpose: it is the one stack, read top to bottom as what
 * gets deployed; the reusable pieces already live in lib/constructs/ (functions, monitoring), and
 * what is left is wiring between resources that would only be passed back and forth if split.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { ENV, WECHAT_APP_ID_PATTERN } from '../lambdas/config.js';
import { PAYMENT_APIS, PAYMENT_EXPIRY_SECONDS, type PaymentApi } from '../lambdas/domain/index.js';
import { createOrchestratorFunction } from './constructs/lambda-function.js';
import { METRICS, Monitoring } from './constructs/monitoring.js';
import { API, QUEUE, TABLE_SCHEMA, WORKER } from './spec.js';

export const STACK_NAME = 'OrderOrchestrator';

export interface OrderOrchestratorStackProps extends StackProps {
  /**
   * What happens to the order table and the Stripe secret (and the log groups) when they leave
   * the stack. Default RETAIN: orders and keys are money records. Context `destroyOnRemoval=true`
   * selects DESTROY (for test deployments).
   */
  removalPolicy?: RemovalPolicy;
  /** E-mail address subscribed to the alarm topic. Context `alarmEmail`. Default: no subscription. */
  alarmEmail?: string;
  /** Origins allowed to call GET /orders/{id}/status from a browser. Context `corsOrigins` (comma-separated). Default ['*']. */
  corsOrigins?: string[];
  /**
   * The Stripe API of new orders unless a request names one (`stripeApi`). Context `paymentApi`
   * (payment_intents | sources). Default payment_intents. Env PAYMENT_API of the API and worker.
   */
  paymentApi?: PaymentApi;
  /**
   * PaymentIntents: seconds an unpaid order waits before it expires (300 to 7200). Context
   * `paymentExpirySeconds`. Default 3600. Env PAYMENT_EXPIRY_SECONDS of the API and worker.
   */
  paymentExpirySeconds?: number;
  /**
   * WeChat Open Platform app id (`wx` + 16 characters), for WeChat Pay inside the merchant's iOS
   * or Android app. Context `wechatAppId`. Default none. Env WECHAT_APP_ID of the API and worker.
   */
  wechatAppId?: string;
}

/** The payment settings the API and worker functions read (lambdas/config.ts), validated at synth. */
export interface PaymentSettings {
  paymentApi: PaymentApi;
  paymentExpirySeconds: number;
  wechatAppId: string | undefined;
}

/** A deployment setting (prop or context) that the functions would refuse: `cdk synth` stops with its message. */
export class StackSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackSettingsError';
  }
}

/**
 * Validates the payment settings as the functions' cold start would (lambdas/config.ts), so a bad
 * value fails `cdk synth` with a message naming the context key instead of every cold start.
 * `origin` says where a value came from (prop or context), for the message.
 */
export function paymentSettings(
  input: { paymentApi?: unknown; paymentExpirySeconds?: unknown; wechatAppId?: unknown },
  origin: (key: string) => string = (key) => `context ${key}`,
): PaymentSettings {
  const problems: string[] = [];
  const text = (v: unknown): string | undefined => {
    if (v === undefined || v === null) return undefined;
    const s = String(v).trim();
    return s === '' ? undefined : s;
  };
  const api = text(input.paymentApi) ?? 'payment_intents';
  if (!(PAYMENT_APIS as readonly string[]).includes(api)) {
    problems.push(`${origin('paymentApi')} must be one of ${PAYMENT_APIS.join(', ')}; got "${api}"`);
  }
  const rawExpiry = text(input.paymentExpirySeconds);
  const expiry = rawExpiry === undefined ? PAYMENT_EXPIRY_SECONDS.default : Number(rawExpiry);
  if (
    (rawExpiry !== undefined && !/^\d+$/.test(rawExpiry)) ||
    expiry < PAYMENT_EXPIRY_SECONDS.min ||
    expiry > PAYMENT_EXPIRY_SECONDS.max
  ) {
    problems.push(
      `${origin('paymentExpirySeconds')} must be a whole number of seconds from ${PAYMENT_EXPIRY_SECONDS.min} to ${PAYMENT_EXPIRY_SECONDS.max}; got "${rawExpiry}"`,
    );
  }
  const wechatAppId = text(input.wechatAppId);
  if (wechatAppId !== undefined && !WECHAT_APP_ID_PATTERN.test(wechatAppId)) {
    problems.push(
      `${origin('wechatAppId')} must be a WeChat Open Platform app id, wx followed by 16 letters or digits; got "${wechatAppId}"`,
    );
  }
  if (problems.length > 0) throw new StackSettingsError(`Invalid payment settings:\n  - ${problems.join('\n  - ')}`);
  return { paymentApi: api as PaymentApi, paymentExpirySeconds: expiry, wechatAppId };
}

/** Stripe keys placeholder: the structure the functions read. Fill it with `aws secretsmanager put-secret-value`. */
const STRIPE_SECRET_TEMPLATE = {
  secretKey: 'sk_REPLACE_WITH_YOUR_STRIPE_SECRET_KEY',
  webhookSecrets: ['whsec_REPLACE_WITH_YOUR_WEBHOOK_SIGNING_SECRET'],
};

const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** cdk-nag acknowledgement on one construct (and its children). */
function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

function contextString(scope: Construct, key: string): string | undefined {
  const v: unknown = scope.node.tryGetContext(key);
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

function contextBool(scope: Construct, key: string): boolean {
  const v: unknown = scope.node.tryGetContext(key);
  return v === true || v === 'true' || v === '1';
}

export class OrderOrchestratorStack extends Stack {
  readonly api: apigw.RestApi;
  readonly webhookApi: apigwv2.HttpApi;
  readonly apiFunction: lambda.IFunction;
  readonly statusUrl: lambda.FunctionUrl;
  readonly ingressFunction: lambda.IFunction;
  readonly workerFunction: lambda.IFunction;
  readonly table: dynamodb.Table;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedulerDeadLetterQueue: sqs.Queue;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
  readonly stripeSecret: secretsmanager.Secret;
  readonly eventBus: events.EventBus;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string = STACK_NAME, props: OrderOrchestratorStackProps = {}) {
    const {
      removalPolicy: removalProp,
      alarmEmail: alarmEmailProp,
      corsOrigins: corsProp,
      paymentApi: paymentApiProp,
      paymentExpirySeconds: paymentExpiryProp,
      wechatAppId: wechatAppIdProp,
      ...stackProps
    } = props;
    super(scope, id, {
      stackName: STACK_NAME,
      description: 'WeChat Pay / Alipay order orchestrator (Stripe PaymentIntents or Sources, webhook-driven)',
      ...stackProps,
    });

    const removalPolicy =
      removalProp ?? (contextBool(this, 'destroyOnRemoval') ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN);
    const alarmEmail = alarmEmailProp ?? contextString(this, 'alarmEmail');
    const corsOrigins = corsProp ??
      contextString(this, 'corsOrigins')
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean) ?? ['*'];
    if (corsOrigins.length === 0) throw new Error('corsOrigins must name at least one origin (or *)');
    // Props win over context, as for the settings above; validated before any resource exists.
    const paymentProps = {
      paymentApi: paymentApiProp,
      paymentExpirySeconds: paymentExpiryProp,
      wechatAppId: wechatAppIdProp,
    } as Record<string, unknown>;
    const payment = paymentSettings(
      {
        paymentApi: paymentApiProp ?? contextString(this, 'paymentApi'),
        paymentExpirySeconds: paymentExpiryProp ?? contextString(this, 'paymentExpirySeconds'),
        wechatAppId: wechatAppIdProp ?? contextString(this, 'wechatAppId'),
      },
      (key) => (paymentProps[key] !== undefined ? `prop ${key}` : `context ${key} (-c ${key}=…)`),
    );

    // ---- Data: orders ------------------------------------------------------------------------
    this.table = new dynamodb.Table(this, 'OrderTable', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy,
    });
    const projection = (p: string) =>
      p === 'KEYS_ONLY' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL;
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.bySourceIndex.name,
      partitionKey: { name: TABLE_SCHEMA.bySourceIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      projectionType: projection(TABLE_SCHEMA.bySourceIndex.projection),
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.recentIndex.name,
      partitionKey: { name: TABLE_SCHEMA.recentIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.recentIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: projection(TABLE_SCHEMA.recentIndex.projection),
    });

    // ---- Work queue (FIFO, one group per order) and its dead-letter queue --------------------
    const fifoSettings = {
      fifo: QUEUE.fifo,
      contentBasedDeduplication: QUEUE.contentBasedDeduplication,
      retentionPeriod: Duration.seconds(QUEUE.retentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    } as const;
    this.deadLetterQueue = new sqs.Queue(this, 'WorkDeadLetterQueue', {
      ...fifoSettings,
      visibilityTimeout: Duration.seconds(QUEUE.visibilityTimeoutSeconds),
    });
    this.queue = new sqs.Queue(this, 'WorkQueue', {
      ...fifoSettings,
      visibilityTimeout: Duration.seconds(QUEUE.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: QUEUE.maxReceiveCount },
    });

    // ---- Timers: EventBridge Scheduler -------------------------------------------------------
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'OrderTimers', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerDeadLetterQueue = new sqs.Queue(this, 'SchedulerDeadLetterQueue', {
      retentionPeriod: Duration.seconds(QUEUE.retentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // The role Scheduler assumes to deliver a timer: send to the work queue and its own DLQ, nothing else.
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to deliver order timers to the work queue',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    this.queue.grantSendMessages(this.schedulerRole);
    this.schedulerDeadLetterQueue.grantSendMessages(this.schedulerRole);

    // ---- Secrets and events ------------------------------------------------------------------
    this.stripeSecret = new secretsmanager.Secret(this, 'StripeKeys', {
      description:
        'Stripe keys of the order orchestrator: {"secretKey":"sk_…","webhookSecrets":["whsec_…"]}. ' +
        'Set with: aws secretsmanager put-secret-value --secret-id <StripeSecretArn> --secret-string file://stripe.json',
      // A template with a generated extra field: the structure is visible, and nobody can know
      // (and sign webhooks with) the placeholder before the merchant sets the real values.
      generateSecretString: {
        secretStringTemplate: JSON.stringify(STRIPE_SECRET_TEMPLATE),
        generateStringKey: 'placeholder',
        excludePunctuation: true,
        passwordLength: 32,
      },
      removalPolicy,
    });
    this.eventBus = new events.EventBus(this, 'OrderEvents', {
      description: 'Order lifecycle events (source orders.orchestrator)',
    });

    // ---- Functions ---------------------------------------------------------------------------
    const common: Record<string, string> = {
      [ENV.STRIPE_SECRET_ARN]: this.stripeSecret.secretArn,
      POWERTOOLS_SERVICE_NAME: METRICS.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS.namespace,
    };
    const orderState: Record<string, string> = {
      [ENV.TABLE_NAME]: this.table.tableName,
      [ENV.QUEUE_ARN]: this.queue.queueArn,
      [ENV.SCHEDULE_GROUP]: this.scheduleGroup.scheduleGroupName,
      [ENV.SCHEDULER_ROLE_ARN]: this.schedulerRole.roleArn,
      [ENV.SCHEDULER_DLQ_ARN]: this.schedulerDeadLetterQueue.queueArn,
      [ENV.EVENT_BUS_NAME]: this.eventBus.eventBusName,
      // The API creates payments with these; the worker's expiry and re-check rules read them too.
      [ENV.PAYMENT_API]: payment.paymentApi,
      [ENV.PAYMENT_EXPIRY_SECONDS]: String(payment.paymentExpirySeconds),
      // Empty when none (the functions read '' as unset): declared all the same, so that
      // `sam local invoke --env-vars env.json` can set it (SAM only overrides declared variables).
      [ENV.WECHAT_APP_ID]: payment.wechatAppId ?? '',
    };
    const logRemovalPolicy = removalPolicy;

    const api = createOrchestratorFunction(this, 'ApiFunction', {
      entry: 'lambdas/entry/api.ts',
      description: 'Storefront API: create, read and cancel orders; browser-safe order status',
      timeout: Duration.seconds(15),
      memorySize: 512,
      environment: { ...common, ...orderState, [ENV.CORS_ORIGINS]: corsOrigins.join(',') },
      logRetention: LOG_RETENTION,
      logRemovalPolicy,
    });
    const ingress = createOrchestratorFunction(this, 'IngressFunction', {
      entry: 'lambdas/entry/ingress.ts',
      description: 'Stripe webhook ingress: verifies the signature on the raw body, enqueues the event',
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: { ...common, [ENV.QUEUE_URL]: this.queue.queueUrl },
      logRetention: LOG_RETENTION,
      logRemovalPolicy,
    });
    const worker = createOrchestratorFunction(this, 'WorkerFunction', {
      entry: 'lambdas/entry/worker.ts',
      description: 'Order worker: applies Stripe events and timers to orders, one FIFO group per order',
      timeout: Duration.seconds(WORKER.timeoutSeconds),
      memorySize: WORKER.memoryMb,
      environment: { ...common, ...orderState, [ENV.QUEUE_URL]: this.queue.queueUrl },
      logRetention: LOG_RETENTION,
      logRemovalPolicy,
    });
    // The customer's browser polls the status every few seconds: the most frequent request of an
    // order. A function URL costs only the invocation (no API Gateway request charge), and this
    // function reads the table and nothing else. https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html
    const statusFn = createOrchestratorFunction(this, 'StatusFunction', {
      entry: 'lambdas/entry/status.ts',
      description: "Order status for the customer's browser (function URL, authorized by the order's client secret)",
      timeout: Duration.seconds(5),
      memorySize: 256,
      readsSecrets: false,
      environment: { POWERTOOLS_SERVICE_NAME: METRICS.serviceName, [ENV.TABLE_NAME]: this.table.tableName },
      logRetention: LOG_RETENTION,
      logRemovalPolicy,
    });
    this.statusUrl = statusFn.fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      cors: {
        allowedOrigins: corsOrigins,
        allowedMethods: [lambda.HttpMethod.GET],
        allowedHeaders: ['Content-Type'],
        maxAge: Duration.hours(1),
      },
    });
    this.table.grantReadData(statusFn.fn);
    this.apiFunction = api.fn;
    this.ingressFunction = ingress.fn;
    this.workerFunction = worker.fn;

    worker.fn.addEventSource(
      new SqsEventSource(this.queue, { batchSize: WORKER.batchSize, reportBatchItemFailures: true }),
    );

    // ---- Grants (only through CDK grants) ----------------------------------------------------
    for (const f of [api, ingress, worker]) this.stripeSecret.grantRead(f.fn);
    this.queue.grantSendMessages(ingress.fn);
    const scheduleArn = this.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });
    for (const f of [api, worker]) {
      this.table.grantReadWriteData(f.fn);
      this.eventBus.grantPutEventsTo(f.fn);
      // Timers: create, read and delete schedules in the stack's group only, passing only the scheduler role.
      iam.Grant.addToPrincipal({
        grantee: f.fn,
        actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
        resourceArns: [scheduleArn],
      });
      this.schedulerRole.grantPassRole(f.role);
    }

    // ---- REST API ----------------------------------------------------------------------------
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: LOG_RETENTION, removalPolicy });
    const statusPath = '/orders/{id}/status';
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: 'OrderOrchestratorApi',
      description: 'Storefront API (API key) of the order orchestrator',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Access and execution logs need API Gateway's account-level CloudWatch role; kept on stack deletion
      // because it is shared by every REST API of the account and region.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Never log request bodies: order data.
        dataTraceEnabled: false,
        tracingEnabled: true,
        throttlingRateLimit: API.throttle.rateLimit,
        throttlingBurstLimit: API.throttle.burstLimit,
        methodOptions: {
          [`${statusPath}/GET`]: {
            throttlingRateLimit: API.statusThrottle.rateLimit,
            throttlingBurstLimit: API.statusThrottle.burstLimit,
          },
        },
      },
    });

    // The RestApi's own `Endpoint…` output duplicates ApiUrl below.
    this.api.node.tryRemoveChild('Endpoint');

    // Errors produced by API Gateway itself (missing key, throttled, …) in the API's error format.
    const gatewayErrorTemplate = {
      'application/json': '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}',
    };
    const allowOrigin = corsOrigins.includes('*')
      ? "'*'"
      : corsOrigins.length === 1
        ? `'${corsOrigins[0]}'`
        : undefined;
    for (const [gid, type] of [
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(gid, {
        type,
        templates: gatewayErrorTemplate,
        ...(allowOrigin ? { responseHeaders: { 'Access-Control-Allow-Origin': allowOrigin } } : {}),
      });
    }

    const apiIntegration = new apigw.LambdaIntegration(api.fn, { proxy: true, allowTestInvoke: false });
    const withKey: apigw.MethodOptions = { apiKeyRequired: true };

    const orders = this.api.root.addResource('orders');
    const order = orders.addResource('{id}');
    const keyedMethods = [
      orders.addMethod('POST', apiIntegration, withKey),
      orders.addMethod('GET', apiIntegration, withKey),
      order.addMethod('GET', apiIntegration, withKey),
      order.addResource('cancel').addMethod('POST', apiIntegration, withKey),
    ];
    const status = order.addResource('status', {
      defaultCorsPreflightOptions: {
        allowOrigins: corsOrigins,
        allowMethods: ['GET', 'OPTIONS'],
        allowHeaders: ['Content-Type'],
        maxAge: Duration.hours(1),
      },
    });
    const statusMethod = status.addMethod('GET', apiIntegration, { apiKeyRequired: false });

    const apiKey = this.api.addApiKey('StorefrontApiKey', {
      description: 'Storefront back end key for /orders (never give it to browsers)',
    });
    const plan = this.api.addUsagePlan('UsagePlan', {
      name: 'OrderOrchestratorStorefront',
      description: 'Throttling of the storefront routes',
      throttle: { rateLimit: API.throttle.rateLimit, burstLimit: API.throttle.burstLimit },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    plan.addApiKey(apiKey);

    // ---- Webhook endpoint: an HTTP API -------------------------------------------------------
    // Stripe's webhooks need none of the REST API's features (API keys, usage plans, request
    // validation): only a route to the ingress, which verifies the signature on the raw body. An
    // HTTP API does that at $1.00 per million requests against $3.50 for a REST API, and webhooks
    // are most of an order's API Gateway requests. https://aws.amazon.com/api-gateway/pricing/
    // Payload format 1.0 gives the ingress the same event as a REST proxy integration.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    const webhookAccessLogs = new logs.LogGroup(this, 'WebhookApiAccessLogs', {
      retention: LOG_RETENTION,
      removalPolicy,
    });
    this.webhookApi = new apigwv2.HttpApi(this, 'WebhookApi', {
      apiName: 'OrderOrchestratorWebhooks',
      description: 'Stripe webhook endpoint of the order orchestrator',
      createDefaultStage: false,
    });
    const webhookStage = new apigwv2.HttpStage(this, 'WebhookStage', {
      httpApi: this.webhookApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: API.webhookThrottle.rateLimit, burstLimit: API.webhookThrottle.burstLimit },
      // HTTP APIs log only what the format names; never the body.
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(webhookAccessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            ip: apigw.AccessLogField.contextIdentitySourceIp(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            routeKey: '$context.routeKey',
            protocol: apigw.AccessLogField.contextProtocol(),
            status: apigw.AccessLogField.contextStatus(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    const [webhookRoute] = this.webhookApi.addRoutes({
      path: API.webhookPath,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('IngressIntegration', ingress.fn, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_1_0,
      }),
    });

    // ---- Monitoring --------------------------------------------------------------------------
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarmEmail,
      api: this.api,
      webhookApi: this.webhookApi,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      schedulerDeadLetterQueue: this.schedulerDeadLetterQueue,
      apiFunction: api.fn,
      ingressFunction: ingress.fn,
      workerFunction: worker.fn,
    });

    // ---- Outputs -----------------------------------------------------------------------------
    const out = (oid: string, value: string, description: string) => new CfnOutput(this, oid, { value, description });
    out('ApiUrl', this.api.url, 'Base URL of the REST API (stage v1)');
    out(
      'WebhookUrl',
      `${webhookStage.url.replace(/\/$/, '')}${API.webhookPath}`,
      'Register this URL as the Stripe webhook endpoint',
    );
    out('ApiKeyId', apiKey.keyId, 'aws apigateway get-api-key --include-value --api-key <ApiKeyId>');
    out(
      'StripeSecretArn',
      this.stripeSecret.secretArn,
      'Put the Stripe keys here (aws secretsmanager put-secret-value)',
    );
    out(
      'StatusUrl',
      this.statusUrl.url,
      "For customers' browsers: GET <StatusUrl>orders/{id}/status?client_secret=… (no API Gateway charge)",
    );
    out('EventBusName', this.eventBus.eventBusName, 'Order lifecycle events');
    out('WorkQueueUrl', this.queue.queueUrl, 'SQS FIFO work queue');
    out('DeadLetterQueueUrl', this.deadLetterQueue.queueUrl, 'Work dead-letter queue (redrive script)');
    out('SchedulerDeadLetterQueueUrl', this.schedulerDeadLetterQueue.queueUrl, 'Undeliverable timers');
    out('TableName', this.table.tableName, 'Order table');
    out('AlarmTopicArn', this.monitoring.topic.topicArn, 'Alarm notifications');

    // ---- cdk-nag (AwsSolutions) acknowledgements, each on the narrowest construct ------------
    for (const f of [api, ingress, worker, statusFn]) {
      acknowledge(
        f.fn,
        'AwsSolutions-L1',
        'Node.js 22 is the runtime this code is built and tested for (esbuild target node22, @types/node 22); moving to a newer runtime is a deliberate, tested upgrade.',
      );
    }
    // How cdk-nag prints the group in the schedule ARN: its (generated) name, or <LogicalId> if a token.
    const groupInArn = Token.isUnresolved(this.scheduleGroup.scheduleGroupName)
      ? `<${this.getLogicalId(this.scheduleGroup.node.defaultChild as scheduler.CfnScheduleGroup)}>`
      : this.scheduleGroup.scheduleGroupName;
    for (const f of [api, worker]) {
      const policy = f.role.node.findChild('DefaultPolicy');
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.table.node.defaultChild as dynamodb.CfnTable)}.Arn>/index/*]`,
        'table.grantReadWriteData: the function queries the bySourceId and byDay indexes of its own table; the wildcard covers only that table’s indexes.',
      );
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${groupInArn}/*]`,
        'Order timers are created at run time with names derived from order ids; the wildcard is limited to schedules in the stack’s own schedule group.',
      );
    }
    acknowledge(
      statusFn.role.node.findChild('DefaultPolicy'),
      `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.table.node.defaultChild as dynamodb.CfnTable)}.Arn>/index/*]`,
      'table.grantReadData: read-only access to the order table and its own indexes; the wildcard covers only that table’s indexes.',
    );
    acknowledge(
      this.schedulerDeadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the EventBridge Scheduler targets (set per schedule at run time), so it has no DLQ of its own.',
    );
    acknowledge(
      this.stripeSecret,
      'AwsSolutions-SMG4',
      'Stripe API keys and webhook signing secrets are rolled in the Stripe Dashboard and then written here; Secrets Manager cannot rotate them.',
    );
    const cloudWatchRole = this.api.node.findChild('CloudWatchRole');
    acknowledge(
      cloudWatchRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'API Gateway’s account-level logging role; AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it.',
    );
    acknowledge(
      this.api.deploymentStage,
      'AwsSolutions-APIG3',
      'A WAF web ACL (and its cost) is left to the merchant: the storefront routes need an API key and are throttled by the usage plan.',
    );
    for (const m of keyedMethods) {
      acknowledge(
        m,
        'AwsSolutions-COG4',
        'Server-to-server route of the merchant’s storefront back end: authorized by API key and usage plan, no end-user identities (no Cognito).',
      );
      acknowledge(
        m,
        'AwsSolutions-APIG4',
        'Authorized by an API key and usage plan (apiKeyRequired): called only by the merchant’s storefront back end.',
      );
    }
    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'The API function validates every request against the zod schemas that docs/openapi.json is generated from, and names each invalid field in the API’s error format; API Gateway’s model validation would answer in another format.',
    );
    const statusWhy =
      'Browser-safe status route: authorized by the order’s own client secret, checked in constant time by the function; throttled per method.';
    acknowledge(statusMethod, 'AwsSolutions-COG4', statusWhy);
    acknowledge(statusMethod, 'AwsSolutions-APIG4', statusWhy);
    if (webhookRoute)
      acknowledge(
        webhookRoute,
        'AwsSolutions-APIG4',
        'Stripe webhook: authenticated by the Stripe-Signature HMAC on the raw body, verified by the ingress function; Stripe cannot send API keys or Cognito tokens.',
      );
  }
}
