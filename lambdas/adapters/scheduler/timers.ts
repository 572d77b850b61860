/**
 * Timers as EventBridge Scheduler one-time schedules that send the timer's work message to the
 * FIFO work queue (docs/architecture.md, "Timers").
 *
 * - Expression `at(yyyy-mm-ddThh:mm:ss)`: no `Z`, no fraction; the zone is the separate
 *   `ScheduleExpressionTimezone`. Rounded UP to the whole second so a timer never fires early.
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#one-time
 * - `ActionAfterCompletion: DELETE`: a fired one-time schedule deletes itself, so finished
 *   orders do not pile up against the account's schedule quota.
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-delete.html
 * - Names: 1–64 characters of `[0-9A-Za-z_.-]`, unique within the schedule group. Checked here,
 *   before any call, so a bad name is a clear error instead of a ValidationException.
 *   https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
 * - A FIFO target needs `SqsParameters.MessageGroupId`; Scheduler cannot set a deduplication id,
 *   which is why the queue has content-based deduplication on.
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html
 * - Delivery retries and a dead-letter queue for events Scheduler could not deliver.
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-retry-policy.html
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
 *
 * Idempotent: creating a name that exists (ConflictException) and deleting a name that does not
 * (ResourceNotFoundException) are success.
 */
import { CreateScheduleCommand, DeleteScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { TimerSpec, Timers } from '../../ports/index.js';
import { SCHEDULER } from '../../spec.js';
import { awsErrorName, toAwsPortError } from '../aws-errors.js';
import { encodeWorkMessage } from '../messages.js';

export const SCHEDULE_NAME_PATTERN = /^[0-9A-Za-z_.-]{1,64}$/;

export interface SchedulerTimersOptions {
  /** The stack's schedule group (created by the stack, never by this code). */
  groupName: string;
  /** The FIFO work queue. */
  queueArn: string;
  /** The role Scheduler assumes to send to the queue. */
  roleArn: string;
  /** Where Scheduler puts events it could not deliver. */
  dlqArn: string;
}

/** Throws a RangeError unless `name` is a valid Scheduler schedule name. */
export function assertScheduleName(name: string): void {
  if (typeof name !== 'string' || !SCHEDULE_NAME_PATTERN.test(name))
    throw new RangeError(
      `Invalid schedule name ${JSON.stringify(name)}: 1 to 64 characters of [0-9A-Za-z_.-] are allowed.`,
    );
}

/**
 * The Scheduler one-time expression for `d`, in UTC: `at(2026-11-21T15:45:00)`. A fractional
 * second rounds up (15:44:59.001 → 15:45:00), never down. RangeError on an invalid Date.
 */
export function atExpression(d: Date): string {
  const ms = d instanceof Date ? d.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new RangeError(`Invalid timer instant: ${String(d)}`);
  const iso = new Date(Math.ceil(ms / 1000) * 1000).toISOString();
  // Four-digit years only: toISOString writes ±YYYYYY outside 0000–9999.
  if (!/^\d{4}-/.test(iso)) throw new RangeError(`Timer instant out of range: ${iso}`);
  return `at(${iso.slice(0, 19)})`;
}

export class SchedulerTimers implements Timers {
  constructor(
    private readonly client: SchedulerClient,
    private readonly opts: SchedulerTimersOptions,
  ) {}

  async schedule(timer: TimerSpec): Promise<void> {
    assertScheduleName(timer.name);
    const expression = atExpression(timer.at);
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: timer.name,
          GroupName: this.opts.groupName,
          ScheduleExpression: expression,
          ScheduleExpressionTimezone: SCHEDULER.timezone,
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Target: {
            Arn: this.opts.queueArn,
            RoleArn: this.opts.roleArn,
            Input: encodeWorkMessage(timer.message),
            SqsParameters: { MessageGroupId: timer.message.groupId },
            RetryPolicy: {
              MaximumRetryAttempts: SCHEDULER.maximumRetryAttempts,
              MaximumEventAgeInSeconds: SCHEDULER.maximumEventAgeSeconds,
            },
            DeadLetterConfig: { Arn: this.opts.dlqArn },
          },
        }),
      );
    } catch (e) {
      if (awsErrorName(e) === 'ConflictException') return; // the schedule exists: idempotent success
      throw toAwsPortError(e, `Scheduler CreateSchedule ${this.opts.groupName}/${timer.name}`);
    }
  }

  async cancel(name: string): Promise<void> {
    assertScheduleName(name);
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.opts.groupName }));
    } catch (e) {
      if (awsErrorName(e) === 'ResourceNotFoundException') return; // already gone (fired, or never created)
      throw toAwsPortError(e, `Scheduler DeleteSchedule ${this.opts.groupName}/${name}`);
    }
  }
}
