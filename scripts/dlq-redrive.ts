/**
 * `npm run dlq:redrive`: moves the messages of the work dead-letter queue back to the work queue,
 * once the cause of their failures is fixed (the DLQ depth alarm fired, the logs named the order).
 * For operators:
 *
 *   npm run dlq:redrive -- --dlq-url <DeadLetterQueueUrl> --queue-url <WorkQueueUrl> [--dry-run] [--max N]
 *   npm run dlq:redrive -- --stack OrderOrchestrator [--dry-run] [--max N]
 *
 * The URLs can also come from the environment (DLQ_URL, QUEUE_URL), or from the stack's outputs
 * `DeadLetterQueueUrl` and `WorkQueueUrl` with `--stack` (that needs @aws-sdk/client-cloudformation,
 * which this project does not install: without it, pass the URLs, e.g. from
 * `aws cloudformation describe-stacks --stack-name OrderOrchestrator --query "Stacks[0].Outputs"`).
 * Credentials and region are the AWS SDK's usual ones; AWS_ENDPOINT_URL reaches moto or LocalStack.
 *
 * What it does, message by message, in the order the FIFO DLQ delivers them:
 * - sends the body back to the work queue with the same MessageGroupId (its order), so the
 *   order's events stay in order, and the same message attributes;
 * - with a fresh MessageDeduplicationId: the original one (the Stripe event id, or a content
 *   hash) may still be inside SQS's 5-minute deduplication interval, and then SQS would accept
 *   the send and silently drop the message
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html).
 *   The fresh id is `redrive-<DLQ message id>`: running the script again after a crash between
 *   the send and the delete does not enqueue the message a second time within those 5 minutes
 *   (and a later duplicate is a no-op for the worker: every event is idempotent);
 * - deletes it from the DLQ only after the work queue accepted it, so nothing is ever lost;
 * - if a send fails, the later messages of the same group are left in the DLQ too (moving them
 *   would put that order's events out of order); the exit code is then 1.
 * `--dry-run` lists what would move and leaves everything in place (visible again at once).
 * (SQS's own StartMessageMoveTask redrive is another option in the console or CLI; this script
 * works the same everywhere, moto included, and reports per order.)
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  sqs: SQSClient;
  dlqUrl: string;
  queueUrl: string;
  /** List what would move; change nothing. */
  dryRun?: boolean;
  /** Stop after this many messages. */
  max?: number;
  /** Progress lines (default: stdout). */
  log?: (line: string) => void;
  /** How long a received message stays hidden while it is moved (default 60 s). */
  visibilityTimeoutSeconds?: number;
}

export interface RedriveResult {
  /** Sent to the work queue and deleted from the DLQ. */
  moved: number;
  /** Seen in a dry run (left in the DLQ). */
  seen: number;
  /** Sends that failed (left in the DLQ). */
  failed: number;
  /** Left in the DLQ because an earlier message of their group failed. */
  skipped: number;
  /** Messages moved per MessageGroupId (order id). */
  groups: Record<string, number>;
}

/** Visible + in-flight messages of a queue. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** The group of a message: the FIFO attribute, else the `groupId` of the work-message body. */
function groupOf(m: Message): string | undefined {
  const attribute = m.Attributes?.MessageGroupId;
  if (attribute) return attribute;
  try {
    const body = JSON.parse(m.Body ?? '') as { groupId?: unknown };
    return typeof body.groupId === 'string' && body.groupId ? body.groupId : undefined;
  } catch {
    return undefined;
  }
}

/** Message attributes as SendMessage takes them. */
function attributesOf(m: Message): Record<string, MessageAttributeValue> | undefined {
  const a = m.MessageAttributes;
  if (!a || Object.keys(a).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(a).map(([k, v]) => [
      k,
      {
        DataType: v.DataType ?? 'String',
        ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : {}),
        ...(v.BinaryValue !== undefined ? { BinaryValue: v.BinaryValue } : {}),
      },
    ]),
  );
}

const summary = (m: Message) => (m.Body ?? '').replace(/\s+/g, ' ').slice(0, 140);

export async function redriveDlq(o: RedriveOptions): Promise<RedriveResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const max = o.max ?? Number.POSITIVE_INFINITY;
  const tag = o.dryRun ? '[dry run] ' : '';
  const result: RedriveResult = { moved: 0, seen: 0, failed: 0, skipped: 0, groups: {} };
  const handled = () => result.moved + result.seen + result.failed + result.skipped;
  log(`${tag}DLQ ${o.dlqUrl}: about ${await queueDepth(o.sqs, o.dlqUrl)} message(s); target ${o.queueUrl}`);

  const seenIds = new Set<string>();
  /** A dry run hides what it reads while it reads; it shows the messages again at the end. */
  const toRelease: string[] = [];
  const failedGroups = new Set<string>();
  /** Receipt handles to make visible again at the end (dry run, skipped messages). */
  const release: string[] = [];
  try {
    while (handled() < max) {
      const batch = await o.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: o.dlqUrl,
          MaxNumberOfMessages: Math.min(10, max - handled()),
          WaitTimeSeconds: 1,
          VisibilityTimeout: o.visibilityTimeoutSeconds ?? 60,
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'ApproximateReceiveCount'],
          MessageAttributeNames: ['All'],
        }),
      );
      const fresh = (batch.Messages ?? []).filter((m) => !seenIds.has(m.MessageId ?? ''));
      if (fresh.length === 0) break;
      for (const m of fresh) {
        if (handled() >= max) {
          release.push(m.ReceiptHandle ?? '');
          continue;
        }
        const id = m.MessageId ?? '';
        seenIds.add(id);
        const group = groupOf(m);
        const where = `${id} (group ${group ?? '-'})`;
        if (o.dryRun) {
          result.seen += 1;
          release.push(m.ReceiptHandle ?? '');
          log(`  would move ${where}: ${summary(m)}`);
          continue;
        }
        if (group !== undefined && failedGroups.has(group)) {
          result.skipped += 1;
          release.push(m.ReceiptHandle ?? '');
          log(`  skipped ${where}: an earlier message of its group failed (left in the DLQ)`);
          continue;
        }
        try {
          const attributes = attributesOf(m);
          await o.sqs.send(
            new SendMessageCommand({
              QueueUrl: o.queueUrl,
              MessageBody: m.Body ?? '',
              ...(group !== undefined ? { MessageGroupId: group } : {}),
              MessageDeduplicationId: `redrive-${id}`.slice(0, 128),
              ...(attributes ? { MessageAttributes: attributes } : {}),
            }),
          );
        } catch (e) {
          result.failed += 1;
          if (group !== undefined) failedGroups.add(group);
          release.push(m.ReceiptHandle ?? '');
          log(`  FAILED ${where}: ${(e as Error).message} (left in the DLQ)`);
          continue;
        }
        // Sent: only now is it safe to delete. A failed delete leaves a duplicate, never a loss.
        try {
          await o.sqs.send(new DeleteMessageCommand({ QueueUrl: o.dlqUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
        } catch (e) {
          log(`  moved ${where}, but deleting it from the DLQ failed (${(e as Error).message}): it may come again`);
        }
        result.moved += 1;
        if (group !== undefined) result.groups[group] = (result.groups[group] ?? 0) + 1;
        log(`  moved ${where}`);
      }
    }
  } finally {
    for (const receipt of release) {
      await o.sqs
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: o.dlqUrl, ReceiptHandle: receipt, VisibilityTimeout: 0 }))
        .catch(() => undefined);
    }
  }
  for (const handle of toRelease) {
    await o.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: o.dlqUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }),
    );
  }
  log(
    o.dryRun
      ? `[dry run] ${result.seen} message(s) would be moved; nothing changed`
      : `moved ${result.moved} message(s) of ${Object.keys(result.groups).length} order(s)` +
          (result.failed ? `; ${result.failed} failed` : '') +
          (result.skipped ? `; ${result.skipped} left behind a failure` : '') +
          `; DLQ now about ${await queueDepth(o.sqs, o.dlqUrl)}`,
  );
  return result;
}

/** The stack's queue URLs, through CloudFormation (only when @aws-sdk/client-cloudformation is installed). */
async function stackUrls(stackName: string): Promise<{ dlqUrl: string; queueUrl: string }> {
  const name = '@aws-sdk/client-cloudformation';
  let cfn: {
    CloudFormationClient: new (c: object) => { send(c: unknown): Promise<unknown> };
    DescribeStacksCommand: new (i: { StackName: string }) => unknown;
  };
  try {
    cfn = (await import(name)) as typeof cfn;
  } catch {
    throw new UsageError(
      `--stack needs ${name}, which is not installed. Pass --dlq-url and --queue-url (the stack outputs ` +
        `DeadLetterQueueUrl and WorkQueueUrl: aws cloudformation describe-stacks --stack-name ${stackName} --query "Stacks[0].Outputs").`,
    );
  }
  const out = (await new cfn.CloudFormationClient({}).send(
    new cfn.DescribeStacksCommand({ StackName: stackName }),
  )) as {
    Stacks?: { Outputs?: { OutputKey?: string; OutputValue?: string }[] }[];
  };
  const outputs = out.Stacks?.[0]?.Outputs ?? [];
  const value = (key: string) => outputs.find((x) => x.OutputKey === key)?.OutputValue;
  const dlqUrl = value('DeadLetterQueueUrl');
  const queueUrl = value('WorkQueueUrl');
  if (!dlqUrl || !queueUrl) throw new Error(`stack ${stackName} has no DeadLetterQueueUrl / WorkQueueUrl outputs`);
  return { dlqUrl, queueUrl };
}

class UsageError extends Error {}

const USAGE =
  'usage: npm run dlq:redrive -- --dlq-url <DeadLetterQueueUrl> --queue-url <WorkQueueUrl> [--dry-run] [--max N]\n' +
  '       npm run dlq:redrive -- --stack <StackName> [--dry-run] [--max N]\n' +
  '       (or DLQ_URL and QUEUE_URL in the environment; AWS_ENDPOINT_URL for moto or LocalStack)';

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  let values: {
    'dlq-url'?: string;
    'queue-url'?: string;
    stack?: string;
    'dry-run'?: boolean;
    max?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'dlq-url': { type: 'string' },
        'queue-url': { type: 'string' },
        stack: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        max: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    console.error(`--max must be a whole number ≥ 1\n${USAGE}`);
    return 2;
  }
  try {
    let dlqUrl = values['dlq-url'] ?? process.env.DLQ_URL;
    let queueUrl = values['queue-url'] ?? process.env.QUEUE_URL;
    if (values.stack && (!dlqUrl || !queueUrl)) ({ dlqUrl, queueUrl } = await stackUrls(values.stack));
    if (!dlqUrl || !queueUrl) {
      console.error(USAGE);
      return 2;
    }
    const sqs = new SQSClient({});
    try {
      const r = await redriveDlq({
        sqs,
        dlqUrl,
        queueUrl,
        dryRun: values['dry-run'] === true,
        ...(max !== undefined ? { max } : {}),
      });
      return r.failed > 0 || r.skipped > 0 ? 1 : 0;
    } finally {
      sqs.destroy();
    }
  } catch (e) {
    console.error(`dlq:redrive failed: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then((code) => {
    process.exitCode = code;
  });
}
