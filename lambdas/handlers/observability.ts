/**
 * Powertools Logger and Metrics, one of each per function instance. Every log line of a request
 * carries the order id and the Stripe event id when known (appendKeys per record / request).
 * Metrics are CloudWatch EMF lines in the function's log, no API call.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LifecycleEvent } from '../domain/index.js';
import type { EventPublisher } from '../ports/index.js';

export const SERVICE = 'order-orchestrator';
export const METRICS_NAMESPACE = 'OrderOrchestrator';

export const logger = new Logger({ serviceName: SERVICE });
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE,
  // Every handler adds a metric per invocation, so "no metrics to publish" only happens where
  // invocations overlap in one process (the sandbox): keep that notice at debug level.
  logger: {
    debug: (...a: unknown[]) => logger.debug(String(a[0]), ...a.slice(1).map((x) => ({ detail: x }))),
    info: (...a: unknown[]) => logger.info(String(a[0])),
    warn: (...a: unknown[]) => logger.debug(String(a[0])),
    error: (...a: unknown[]) => logger.error(String(a[0])),
  },
});

const LIFECYCLE_METRIC: Record<LifecycleEvent['type'], string> = {
  'order.paid': 'OrderPaid',
  'order.failed': 'OrderFailed',
  'order.canceled': 'OrderCanceled',
  'order.refunded': 'OrderRefunded',
};

/**
 * Counts lifecycle events as they are published, and the charge latency (source chargeable →
 * paid). A redelivery may publish twice (at-least-once), so the counts are an upper bound.
 */
export function measuredPublisher(inner: EventPublisher, now: () => Date): EventPublisher {
  return {
    async publish(event: LifecycleEvent) {
      await inner.publish(event);
      metrics.addMetric(LIFECYCLE_METRIC[event.type], MetricUnit.Count, 1);
      const { chargeableAt } = event.order;
      if (event.type === 'order.paid' && chargeableAt) {
        metrics.addMetric('ChargeLatency', MetricUnit.Milliseconds, now().getTime() - new Date(chargeableAt).getTime());
      }
    },
  };
}
