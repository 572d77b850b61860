/**
 * EventPublisher on an EventBridge bus: one PutEvents entry per order lifecycle event,
 * `detail-type` = the event type (`order.paid`, …), `detail` = the order summary (no history,
 * no secrets), `source` = the stack's event source.
 *
 * PutEvents can succeed as a call and still fail entries (FailedEntryCount > 0, an ErrorCode per
 * entry); such a failure is reported as a TransientError so the worker retries the effect.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-failures.html
 */
import { type EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import type { LifecycleEvent } from '../../domain/index.js';
import { type EventPublisher, TransientError } from '../../ports/index.js';
import { NAMES } from '../../spec.js';
import { toAwsPortError } from '../aws-errors.js';

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source: string = NAMES.eventSource,
  ) {}

  async publish(event: LifecycleEvent): Promise<void> {
    const context = `EventBridge PutEvents ${event.type} ${event.order.id} (${this.busName})`;
    let out: PutEventsCommandOutput;
    try {
      out = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.busName,
              Source: this.source,
              DetailType: event.type,
              Detail: JSON.stringify(event.order),
            },
          ],
        }),
      );
    } catch (e) {
      throw toAwsPortError(e, context);
    }
    if ((out.FailedEntryCount ?? 0) > 0) {
      const failed = out.Entries?.find((x) => x.ErrorCode !== undefined);
      throw new TransientError(
        `${context}: entry failed: ${failed?.ErrorCode ?? 'unknown error'}${failed?.ErrorMessage ? `: ${failed.ErrorMessage}` : ''}`,
      );
    }
  }
}
