/**
 * WorkQueue on the SQS FIFO queue.
 *
 * - `MessageGroupId` = the order id (else the Stripe source id), docs/architecture.md "Queue": SQS delivers
 *   one group in order, one batch at a time, so each order has one writer at a time.
 * - `MessageDeduplicationId` = the Stripe event id: a webhook Stripe delivers twice within the
 *   5-minute deduplication interval is accepted and dropped by SQS. Later duplicates are caught by
 *   the state machine (duplicates are no-ops).
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-exactly-once-processing.html
 * - The body is the versioned wire format of ../messages.ts.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkMessage, WorkQueue } from '../../ports/index.js';
import { toAwsPortError } from '../aws-errors.js';
import { encodeWorkMessage } from '../messages.js';

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(message: WorkMessage): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: encodeWorkMessage(message),
          MessageGroupId: message.groupId,
          MessageDeduplicationId: message.dedupId,
        }),
      );
    } catch (e) {
      throw toAwsPortError(e, `SQS SendMessage ${message.event.type} ${message.dedupId}`);
    }
  }
}
