/**
 * The wire format of the work queue: what the ingress, the API and the Scheduler timers put on
 * the FIFO queue and what the worker reads back.
 *
 *   {"v":1,"groupId":"ord_…","dedupId":"evt_…","event":{"type":"source.chargeable","id":"evt_…",…}}
 *
 * Versioned because messages outlive deploys: a message can wait in the queue (up to 14 days),
 * in its dead-letter queue, or inside a Scheduler schedule's target input for hours, and is then
 * read by whatever worker code is deployed by then. A new format gets a new `v`; the decoder
 * keeps reading every version still in flight, and refuses what it does not know with a clear
 * MalformedMessageError instead of misreading it.
 */
import { ORDER_EVENT_TYPES, type OrderEvent } from '../domain/index.js';
import type { WorkMessage } from '../ports/index.js';

export const WORK_MESSAGE_VERSION = 1;

/** A queue message this code cannot read. Retrying will not help: it belongs in the dead-letter queue. */
export class MalformedMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMessageError';
  }
}

export function encodeWorkMessage(m: WorkMessage): string {
  return JSON.stringify({ v: WORK_MESSAGE_VERSION, groupId: m.groupId, dedupId: m.dedupId, event: m.event });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const KNOWN_TYPES: ReadonlySet<string> = new Set(ORDER_EVENT_TYPES);

export function decodeWorkMessage(body: string): WorkMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (e) {
    throw new MalformedMessageError(`Work message is not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(raw)) throw new MalformedMessageError('Work message is not a JSON object.');
  if (raw.v !== WORK_MESSAGE_VERSION)
    throw new MalformedMessageError(
      `Unknown work message version ${JSON.stringify(raw.v) ?? 'undefined'}; this code reads v${WORK_MESSAGE_VERSION}.`,
    );
  const { groupId, dedupId, event } = raw;
  if (!nonEmpty(groupId)) throw new MalformedMessageError('Work message v1 has no groupId.');
  if (!nonEmpty(dedupId)) throw new MalformedMessageError('Work message v1 has no dedupId.');
  if (!isRecord(event)) throw new MalformedMessageError('Work message v1 has no event object.');
  if (!nonEmpty(event.type)) throw new MalformedMessageError('Work message v1: event.type is missing.');
  if (!KNOWN_TYPES.has(event.type))
    throw new MalformedMessageError(`Work message v1: unknown event.type ${JSON.stringify(event.type)}.`);
  if (!nonEmpty(event.id)) throw new MalformedMessageError('Work message v1: event.id is missing.');
  if (!nonEmpty(event.at)) throw new MalformedMessageError('Work message v1: event.at is missing.');
  return { groupId, dedupId, event: event as unknown as OrderEvent };
}
