// The alerts panel of the otel-audit dashboard (DESIGN §7 alert records):
// one item per alert record, naming what the alert is about — the rule, its
// group (`details.group`, e.g. actor.id: mallory) and count — rather than
// the record's actor, which is the rule engine itself ("otel-audit"). An item
// opens the alert record's details, by click or Enter/Space, like a log row.
// Record text goes through `text` (dom.js).
import { el, localTime, openable, recordMillis, text } from './dom.js';

/** `details.group` as `key: value, …` (empty without group_by). */
function groupText(group) {
  if (group === null || typeof group !== 'object' || Array.isArray(group)) return text(group);
  return Object.entries(group).map(([k, v]) => `${text(k)}: ${text(v)}`).join(', ');
}

/** The list item of one alert record (`item` as the API returns it); `open(item)` shows its details. */
export function alertItem(item, open) {
  const r = item.record;
  const d = r.details !== null && typeof r.details === 'object' ? r.details : {};
  // Without a group (a rule without group_by, or an alert from elsewhere), the record's actor.
  const about = groupText(d.group) || (r.actor?.id === undefined ? '' : `actor: ${text(r.actor.id)}`);
  const count = typeof d.count === 'number' ? ` · count ${d.count}` : '';
  const ms = recordMillis(item);
  const when = Number.isFinite(ms) ? localTime(ms, false) : text(item.timestamp);
  const li = el('li', { className: 'alert-item', title: 'open the alert record' },
    el('span', { className: 'alert-head' }, `${text(r.severity)} · ${text(r.action)}`),
    el('span', { className: 'alert-about' }, about === '' ? 'no group' : about),
    el('span', { className: 'alert-when' }, `${when}${count}`));
  li.setAttribute('aria-label', `alert ${text(r.action)}, ${about === '' ? 'no group' : about}${count}, ${when}; press Enter for details`);
  return openable(li, () => open(item));
}
