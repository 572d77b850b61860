/**
 * The SQS FIFO consumer: one `handleEvent` per record, with Powertools' FIFO batch processor
 * and partial batch responses (the event source mapping has ReportBatchItemFailures).
 * A failed record fails the rest of its message group too (`skipGroupOnError`), keeping each
 * order's events in order, while other orders in the batch go on.
 * https://docs.powertools.aws.dev/lambda/typescript/latest/features/batch/#fifo-queues
 *
 * Transient errors (throttling, Stripe 5xx/429/timeouts, lost races) fail the record so SQS
 * redelivers it; after five receives it moves to the DLQ (alarmed, `npm run dlq:redrive`).
 * Permanent problems (a malformed message, an event the state machine rejects) are logged with
 * the order id and acknowledged: retrying them could never succeed.
 */

import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeWorkMessage, MalformedMessageError } from '../adapters/messages.js';
import { type Deps, handleEvent } from '../app/index.js';
import { logger, metrics } from './observability.js';

export type RecordOutcome = 'applied' | 'ignored' | 'duplicate' | 'unknown_order' | 'rejected' | 'malformed';

/** Processes one record; throws only when SQS should redeliver it. */
export async function processRecord(deps: Deps, record: SQSRecord): Promise<RecordOutcome> {
  let message: ReturnType<typeof decodeWorkMessage>;
  try {
    message = decodeWorkMessage(record.body);
  } catch (e) {
    if (e instanceof MalformedMessageError) {
      logger.error('malformed message acknowledged', { messageId: record.messageId, reason: e.message });
      return 'malformed';
    }
    throw e;
  }
  const { event } = message;
  logger.appendKeys({ orderId: event.orderId ?? message.groupId, stripeEventId: event.id, eventType: event.type });
  try {
    const result = await handleEvent(deps, event);
    if (result.outcome === 'rejected') {
      logger.error('event rejected by the state machine; acknowledged', {
        code: result.error.code,
        reason: result.error.message,
      });
    } else if (result.outcome === 'unknown_order') {
      logger.warn('event for an unknown order; acknowledged');
    } else {
      logger.info('event processed', {
        outcome: result.outcome,
        status: result.order.status,
        version: result.order.version,
        ...(result.outcome === 'ignored' ? { reason: result.reason } : {}),
      });
    }
    return result.outcome;
  } finally {
    logger.removeKeys(['orderId', 'stripeEventId', 'eventType']);
  }
}

export function makeWorkerHandler(getDeps: () => Promise<Deps>) {
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    metrics.addMetric('RecordsReceived', MetricUnit.Count, event.Records.length);
    const deps = await getDeps();
    const processor = new SqsFifoPartialProcessorAsync();
    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        try {
          return await processRecord(deps, record);
        } catch (e) {
          logger.warn('record failed; SQS will redeliver it', {
            messageId: record.messageId,
            error: (e as Error).message,
          });
          throw e;
        }
      },
      processor,
      { context, skipGroupOnError: true },
    );
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
