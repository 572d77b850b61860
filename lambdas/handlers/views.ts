/**
 * What the API shows of an order: everything but the outbox; for the customer, less. Typed by the
 * response schemas docs/openapi.json documents (types only: the status function loads no zod).
 */
import type { z } from 'zod';
import type { Order } from '../domain/index.js';
import type { OrderView, StatusView } from './api-schema.js';

export const orderView = (o: Order): z.input<typeof OrderView> => {
  const { outbox: _outbox, ...rest } = o;
  return {
    ...rest,
    history: o.history.map((h) => ({
      type: h.type,
      at: h.at,
      from: h.from,
      to: h.to,
      ...(h.ignored ? { ignored: h.ignored } : {}),
    })),
  };
};

export const statusView = (o: Order): z.input<typeof StatusView> => ({
  id: o.id,
  status: o.status,
  amount: o.amount,
  currency: o.currency,
  paymentMethod: o.paymentMethod,
  payment: o.payment,
  pendingExpiresAt: o.pendingExpiresAt,
  ...(o.deadline ? { deadline: o.deadline } : {}),
  updatedAt: o.updatedAt,
  history: o.history.filter((h) => !h.ignored).map((h) => ({ type: h.type, at: h.at, to: h.to })),
});
