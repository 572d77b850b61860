/**
 * What Lambda's SQS event source mapping does, for the sandbox: long-poll the FIFO queue,
 * invoke the worker with a batch, delete the records it did not report in
 * `batchItemFailures`, leave the others for redelivery. The queue's redrive policy moves a
 * message to the DLQ after QUEUE.maxReceiveCount receives, as in AWS.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 *
 * One difference, on purpose: a failed record becomes visible again after `retryDelaySeconds`
 * (ChangeMessageVisibility) instead of the full visibility timeout (QUEUE.visibilityTimeoutSeconds,
 * minutes in AWS), so retries show up in seconds on a laptop and in tests.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { QUEUE, WORKER } from '../../lib/spec.js';
import { lambdaContext } from './apigw.js';

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  worker: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  /** Parallel pollers, like Lambda's concurrency; FIFO keeps each group in order regardless. */
  concurrency?: number;
  retryDelaySeconds?: number;
  /**
   * ReceiveMessage long-poll wait, seconds (default 1). 0 = short polling, with `idleDelayMs`
   * between empty receives: moto's long poll spins (holding its one Python process) while a FIFO
   * queue has visible messages whose groups are all in flight, which starves every other call
   * under load; short polling avoids it.
   */
  waitTimeSeconds?: number;
  /** Pause after an empty short-poll receive: 50 ms, doubling while the queue stays empty, up to this (default 500 ms). */
  idleDelayMs?: number;
  onError?: (e: unknown) => void;
  /** Called after every invocation, for counters. */
  onInvoke?: (records: number, failed: number) => void;
}

export interface EventSource {
  stop(): Promise<void>;
  /** Worker invocations and records so far. */
  stats(): { invocations: number; records: number; failed: number };
}

export function startEventSource(o: EventSourceOptions): EventSource {
  let running = true;
  const stats = { invocations: 0, records: 0, failed: 0 };
  const region = o.queueArn.split(':')[3] ?? 'us-east-1';

  let idle = 0;
  async function once(): Promise<void> {
    const out = await o.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: o.queueUrl,
        MaxNumberOfMessages: WORKER.batchSize,
        WaitTimeSeconds: o.waitTimeSeconds ?? 1,
        VisibilityTimeout: QUEUE.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      if ((o.waitTimeSeconds ?? 1) === 0) {
        idle += 1;
        const pause = Math.min(o.idleDelayMs ?? 500, 50 * 2 ** Math.min(idle - 1, 10));
        await new Promise((r) => setTimeout(r, pause));
      }
      return;
    }
    idle = 0;
    const records: SQSRecord[] = messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? 'sandbox',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        MessageGroupId: m.Attributes?.MessageGroupId,
        MessageDeduplicationId: m.Attributes?.MessageDeduplicationId,
        SequenceNumber: m.Attributes?.SequenceNumber,
      } as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: o.queueArn,
      awsRegion: region,
    }));
    let failedIds: Set<string>;
    try {
      const res = await o.worker({ Records: records }, lambdaContext('WorkerFunction', WORKER.timeoutSeconds * 1000));
      failedIds = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (e) {
      // A function error fails the whole batch, as in Lambda.
      o.onError?.(e);
      failedIds = new Set(records.map((r) => r.messageId));
    }
    stats.invocations += 1;
    stats.records += records.length;
    stats.failed += failedIds.size;
    o.onInvoke?.(records.length, failedIds.size);
    const done = records.filter((r) => !failedIds.has(r.messageId));
    if (done.length > 0) {
      await o.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: o.queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    for (const r of records.filter((x) => failedIds.has(x.messageId))) {
      await o.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: o.queueUrl,
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: o.retryDelaySeconds ?? 2,
          }),
        )
        .catch((e) => o.onError?.(e));
    }
  }

  const loops = Array.from({ length: o.concurrency ?? 4 }, async () => {
    while (running) {
      try {
        await once();
      } catch (e) {
        o.onError?.(e);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  });

  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
    stats: () => ({ ...stats }),
  };
}
