/** What the API shows of an order: everything but the outbox; for the customer, less. */
import type { Order } from '../domain/index.js';

export const orderView = (o: Order) => {
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

export const statusView = (o: Order) => ({
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
