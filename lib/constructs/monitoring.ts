/**
 * Alarms (to one SNS topic, optionally e-mailed) and the operations dashboard: the order funnel
 * from the functions' custom metrics (Powertools, namespace OrderOrchestrator, dimension
 * `service`) and the webhook traffic through API Gateway and the work queue.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Powertools metrics: namespace and the `service` dimension it adds to every metric. */
export const METRICS = {
  namespace: 'OrderOrchestrator',
  serviceName: 'order-orchestrator',
  funnel: ['OrderCreated', 'OrderPaid', 'OrderFailed', 'OrderCanceled', 'OrderRefunded'],
  webhookRejected: 'WebhookRejected',
  chargeLatency: 'ChargeLatency',
} as const;

export interface MonitoringProps {
  alarmEmail?: string | undefined;
  /** The storefront REST API. */
  api: apigw.RestApi;
  /** The webhook HTTP API: its one route is POST /webhooks/stripe, so API-level metrics are the route's. */
  webhookApi: apigwv2.IHttpApi;
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
  schedulerDeadLetterQueue: sqs.Queue;
  apiFunction: lambda.IFunction;
  ingressFunction: lambda.IFunction;
  workerFunction: lambda.IFunction;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cw.Alarm[];
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const period = Duration.minutes(1);

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Order orchestrator alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subs.EmailSubscription(props.alarmEmail));

    const stage = props.api.deploymentStage.stageName;
    const apiMetric = (metricName: string, statistic: string) =>
      new cw.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        statistic,
        period,
        dimensionsMap: { ApiName: props.api.restApiName, Stage: stage },
      });
    // HTTP API metric names (4xx, 5xx, Count, Latency) by ApiId.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
    const webhookMetric = (metricName: string, statistic: string) =>
      props.webhookApi.metric(metricName, { statistic, period });

    const workDlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period,
      statistic: 'Maximum',
    });
    const schedulerDlqDepth = props.schedulerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period,
      statistic: 'Maximum',
    });
    const webhook5xx = webhookMetric('5xx', 'Sum');

    const alarm = (alarmId: string, description: string, metric: cw.IMetric, threshold: number) =>
      new cw.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [
      alarm(
        'WorkDeadLetterQueueAlarm',
        'Order events reached the work dead-letter queue: inspect them, fix the cause, then redrive (README).',
        workDlqDepth,
        0,
      ),
      alarm(
        'WorkerErrorsAlarm',
        'The worker function failed (errors or timeouts outside the per-record batch failures).',
        props.workerFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        0,
      ),
      alarm(
        'WebhookServerErrorsAlarm',
        'POST /webhooks/stripe answered 5xx: Stripe retries, but events are delayed. Check the ingress function.',
        webhook5xx.with({ period: Duration.minutes(5) }),
        0,
      ),
      alarm(
        'SchedulerDeadLetterQueueAlarm',
        'EventBridge Scheduler could not deliver an order timer to the work queue; deadlines may be missed.',
        schedulerDlqDepth,
        0,
      ),
    ];
    const action = new cwActions.SnsAction(this.topic);
    for (const a of this.alarms) {
      a.addAlarmAction(action);
      a.addOkAction(action);
    }

    const custom = (metricName: string, statistic = 'Sum') =>
      new cw.Metric({
        namespace: METRICS.namespace,
        metricName,
        statistic,
        period: Duration.minutes(5),
        dimensionsMap: { service: METRICS.serviceName },
      });

    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          new cw.TextWidget({
            markdown:
              '# Order orchestrator\nOrder funnel (custom metrics), webhook traffic, the work queue and its dead-letter queues.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new cw.GraphWidget({
            title: 'Order funnel',
            left: METRICS.funnel.map((name) => custom(name)),
            width: 12,
            stacked: false,
          }),
          new cw.GraphWidget({
            title: 'Charge latency (ms)',
            left: ['p50', 'p90', 'p99'].map((stat) =>
              custom(METRICS.chargeLatency, stat).with({ label: `ChargeLatency ${stat}` }),
            ),
            width: 6,
          }),
          new cw.SingleValueWidget({
            title: 'Orders (period)',
            metrics: [custom('OrderCreated'), custom('OrderPaid'), custom('OrderFailed')],
            width: 6,
          }),
        ],
        [
          new cw.GraphWidget({
            title: 'Webhooks: requests and rejections',
            left: [
              webhookMetric('Count', 'Sum').with({ label: 'POST /webhooks/stripe' }),
              custom(METRICS.webhookRejected).with({ label: 'WebhookRejected' }),
            ],
            right: [webhook5xx.with({ label: '5XX' }), webhookMetric('4xx', 'Sum').with({ label: '4XX' })],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'Webhook latency (ms)',
            left: [
              webhookMetric('Latency', 'p50').with({ label: 'p50' }),
              webhookMetric('Latency', 'p99').with({ label: 'p99' }),
            ],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'API (all routes)',
            left: [apiMetric('Count', 'Sum').with({ label: 'requests' })],
            right: [
              apiMetric('4XXError', 'Sum').with({ label: '4XX' }),
              apiMetric('5XXError', 'Sum').with({ label: '5XX' }),
            ],
            width: 8,
          }),
        ],
        [
          new cw.GraphWidget({
            title: 'Work queue',
            left: [
              props.queue.metricApproximateNumberOfMessagesVisible({ period, label: 'visible' }),
              props.queue.metricApproximateNumberOfMessagesNotVisible({ period, label: 'in flight' }),
            ],
            right: [props.queue.metricApproximateAgeOfOldestMessage({ period, label: 'age of oldest (s)' })],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'Dead-letter queues',
            left: [workDlqDepth.with({ label: 'work DLQ' }), schedulerDlqDepth.with({ label: 'scheduler DLQ' })],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'Functions: errors and throttles',
            left: [props.apiFunction, props.ingressFunction, props.workerFunction].map((fn, i) =>
              fn.metricErrors({ period, label: `${['api', 'ingress', 'worker'][i]} errors` }),
            ),
            right: [props.apiFunction, props.ingressFunction, props.workerFunction].map((fn, i) =>
              fn.metricThrottles({ period, label: `${['api', 'ingress', 'worker'][i]} throttles` }),
            ),
            width: 8,
          }),
        ],
        [new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 })],
      ],
    });
  }
}
