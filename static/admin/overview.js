/**
 * The overview: connections, rooms, messages per second, memory, open
 * descriptors against the limit, the store's and the bus's health and the
 * webhook backlog, from GET /admin/api/overview every few seconds.
 *
 * @module
 */

import {
  api,
  bytesText,
  fill,
  numberText,
  refreshEvery,
  text,
} from "./console.js";

const REFRESH_MS = 3_000;

function put(id, value) {
  const cell = document.getElementById(id);
  cell.textContent = value;
  return cell;
}

function count(value) {
  return value === null ? text.unknown : numberText(value);
}

function healthText(part) {
  return `${part.backend}: ${
    part.ok ? text.ok : `${text.down} (${part.error})`
  }`;
}

refreshEvery(REFRESH_MS, async () => {
  const o = await api("overview");
  put("ov-connections", count(o.connections));
  put("ov-rooms", count(o.rooms));
  put(
    "ov-rate",
    o.messagesPerSecond === null
      ? text.unknown
      : fill(text.perSecond, { rate: numberText(o.messagesPerSecond, 1) }),
  );
  put(
    "ov-memory",
    o.memory.residentBytes === null
      ? text.unknown
      : bytesText(o.memory.residentBytes),
  );
  put(
    "ov-fds",
    o.descriptors.open === null
      ? text.unknown
      : o.descriptors.limit === null
      ? numberText(o.descriptors.open)
      : fill(text.ofLimit, {
        used: numberText(o.descriptors.open),
        limit: numberText(o.descriptors.limit),
      }),
  );
  put("ov-store", healthText(o.store)).classList.toggle("bad", !o.store.ok);
  put("ov-bus", healthText(o.bus)).classList.toggle("bad", !o.bus.ok);
  put(
    "ov-webhooks",
    o.webhooks === null ? text.webhooksOff : fill(text.backlog, {
      pending: numberText(o.webhooks.pending),
      age: numberText(o.webhooks.oldestPendingSeconds),
    }),
  );
  put("ov-uptime", `${numberText(o.uptimeSeconds)} s`);
});
