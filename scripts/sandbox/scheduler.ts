/**
 * What EventBridge Scheduler does, for the sandbox (moto stores schedules but never fires
 * them): every tick, find the group's one-time schedules whose `at()` instant has come on the
 * sandbox clock, send their input to the target FIFO queue with their MessageGroupId, and delete
 * them (ActionAfterCompletion DELETE). Every timer of an order fires the same way, whatever its
 * kind: `<orderId>-pending` (both APIs), `<orderId>-deadline` (Sources), `<orderId>-recheck`
 * (PaymentIntents); test/e2e/payment-intents.test.ts runs the PaymentIntents ones.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#one-time
 */
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface PendingSchedule {
  name: string;
  /** The instant it fires, UTC. */
  at: string;
  expression: string;
  timezone: string;
  target: { arn: string; messageGroupId: string | undefined };
}

interface Cached extends PendingSchedule {
  input: string;
  deleteAfter: boolean;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in an IANA time zone → the UTC instant. */
export function parseAt(expression: string, timezone: string): Date {
  const m = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (!m?.[1]) throw new Error(`not a one-time schedule expression: ${expression}`);
  const asUtc = new Date(`${m[1]}Z`);
  if (timezone === 'UTC' || timezone === 'Etc/UTC') return asUtc;
  // The zone's offset at that wall-clock time, read through Intl.
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' }).formatToParts(
    asUtc,
  );
  const offset = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const o = /GMT([+-])(\d{2}):(\d{2})/.exec(offset);
  const minutes = o ? (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3])) : 0;
  return new Date(asUtc.getTime() - minutes * 60_000);
}

export interface SchedulePumpOptions {
  scheduler: SchedulerClient;
  sqs: SQSClient;
  groupName: string;
  now: () => Date;
  intervalMs?: number;
  /**
   * Due schedules fired at once (default 1, one after the other). EventBridge Scheduler fires
   * independently; several at a time keep a large batch of due timers (a clock jump) quick.
   */
  concurrency?: number;
  onFire?: (s: PendingSchedule) => void;
  onError?: (e: unknown) => void;
}

export interface SchedulePump {
  pending(): Promise<PendingSchedule[]>;
  /** Fires everything due now; returns what fired. */
  tick(): Promise<PendingSchedule[]>;
  fired(): number;
  stop(): Promise<void>;
}

export function startSchedulePump(o: SchedulePumpOptions): SchedulePump {
  const cache = new Map<string, Cached>();
  const queueUrls = new Map<string, string>();
  let firedCount = 0;
  let running = true;
  let busy: Promise<PendingSchedule[]> = Promise.resolve([]);

  async function refresh(): Promise<Cached[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await o.scheduler.send(
        new ListSchedulesCommand({ GroupName: o.groupName, NextToken: token, MaxResults: 100 }),
      );
      for (const s of page.Schedules ?? []) if (s.Name) names.push(s.Name);
      token = page.NextToken;
    } while (token);
    const live = new Set(names);
    for (const name of cache.keys()) if (!live.has(name)) cache.delete(name);
    for (const name of names) {
      if (cache.has(name)) continue;
      try {
        const s = await o.scheduler.send(new GetScheduleCommand({ GroupName: o.groupName, Name: name }));
        const expression = s.ScheduleExpression ?? '';
        const timezone = s.ScheduleExpressionTimezone ?? 'UTC';
        cache.set(name, {
          name,
          expression,
          timezone,
          at: parseAt(expression, timezone).toISOString(),
          target: { arn: s.Target?.Arn ?? '', messageGroupId: s.Target?.SqsParameters?.MessageGroupId },
          input: s.Target?.Input ?? '',
          deleteAfter: s.ActionAfterCompletion === 'DELETE',
        });
      } catch (e) {
        if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
      }
    }
    return [...cache.values()];
  }

  async function queueUrl(arn: string): Promise<string> {
    const known = queueUrls.get(arn);
    if (known) return known;
    const name = arn.split(':').pop() ?? '';
    const { QueueUrl } = await o.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`no queue for ${arn}`);
    queueUrls.set(arn, QueueUrl);
    return QueueUrl;
  }

  async function fireOne(s: Cached): Promise<void> {
    await o.sqs.send(
      new SendMessageCommand({
        QueueUrl: await queueUrl(s.target.arn),
        MessageBody: s.input,
        ...(s.target.messageGroupId ? { MessageGroupId: s.target.messageGroupId } : {}),
      }),
    );
    if (s.deleteAfter) {
      await o.scheduler.send(new DeleteScheduleCommand({ GroupName: o.groupName, Name: s.name })).catch((e) => {
        if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
      });
    }
    cache.delete(s.name);
    firedCount += 1;
    o.onFire?.(s);
  }

  async function fireDue(): Promise<PendingSchedule[]> {
    const now = o.now().getTime();
    const due = (await refresh()).filter((s) => new Date(s.at).getTime() <= now);
    const fired: PendingSchedule[] = [];
    let next = 0;
    const lanes = Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 1, due.length)) }, async () => {
      for (let i = next++; i < due.length; i = next++) {
        const s = due[i] as Cached;
        await fireOne(s);
        fired.push(s);
      }
    });
    await Promise.all(lanes);
    return fired;
  }

  const tick = () => {
    busy = busy.then(fireDue, fireDue);
    return busy;
  };

  const loop = (async () => {
    while (running) {
      await tick().catch((e) => o.onError?.(e));
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 500));
    }
  })();

  return {
    async pending() {
      await busy.catch(() => undefined);
      return (await refresh())
        .map(({ input: _i, deleteAfter: _d, ...rest }) => rest)
        .sort((a, b) => a.at.localeCompare(b.at));
    },
    tick,
    fired: () => firedCount,
    async stop() {
      running = false;
      await loop;
    },
  };
}
