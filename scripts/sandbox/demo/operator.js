// The operator view: recent orders from the demo back end (`GET /demo/operator.json`, which
// calls `GET /orders?limit=50` with the API key), refreshed every 3 s.
import { apiName, byId, clearError, formatAmount, formatTime, methodName, setStatus, showError } from './common.js';

const REFRESH_MS = 3000;
const body = byId('orders-body');
const updated = byId('updated');
const error = byId('operator-error');

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(o) {
  const tr = document.createElement('tr');
  tr.dataset.orderId = String(o.id);
  tr.dataset.api = String(o.api ?? '');
  const id = document.createElement('td');
  const code = document.createElement('code');
  code.textContent = String(o.id);
  id.append(code);
  const status = document.createElement('td');
  const badge = document.createElement('span');
  badge.className = 'status small';
  setStatus(badge, o.status);
  status.append(badge);
  const deadline = o.deadline ?? (o.status === 'pending' ? o.pendingExpiresAt : undefined);
  const reason = [o.failureReason, o.cancelReason].filter((r) => typeof r === 'string' && r !== '').join(' · ');
  tr.append(
    id,
    cell(methodName(o.paymentMethod)),
    cell(apiName(o.api), 'api'),
    cell(formatAmount(o.amount, o.currency), 'num'),
    status,
    cell(formatTime(o.createdAt, true)),
    cell(formatTime(deadline, true)),
    cell(reason || '—', 'reason'),
  );
  return tr;
}

async function refresh() {
  try {
    const res = await fetch('/demo/operator.json', { cache: 'no-store' });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      showError(error, data?.error?.message ?? `The shop answered ${res.status}.`);
    } else {
      clearError(error);
      const orders = Array.isArray(data.orders) ? data.orders : [];
      if (orders.length === 0) {
        const tr = document.createElement('tr');
        const td = cell('No orders yet. Create one in the shop.', 'empty');
        td.colSpan = 8;
        tr.append(td);
        body.replaceChildren(tr);
      } else {
        body.replaceChildren(...orders.map(row));
      }
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    }
  } catch {
    showError(error, 'Could not reach the shop. Is the sandbox running?');
  }
  setTimeout(refresh, REFRESH_MS);
}

void refresh();
