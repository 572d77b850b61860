/**
 * Events: `GET /v1/events/{id}`.
 *
 * Every change Stripe announces is recorded as an event with a snapshot of the object
 * (`data.object`) when it happens (SimState.emit) and delivered as a signed webhook
 * (webhooks.ts); this endpoint reads the record, e.g. to confirm a webhook's event.
 * `pending_webhooks` drops to 0 once delivered. https://docs.stripe.com/api/events/retrieve ·
 * https://docs.stripe.com/webhooks#verify-events
 */

import { noSuch } from '../errors.js';
import { type ApiResult, ok } from '../params.js';
import type { SimState } from '../state.js';

export function getEvent(st: SimState, id: string): ApiResult {
  const e = st.events.get(id);
  if (!e) throw noSuch('event', id, 'id');
  return ok(e);
}
