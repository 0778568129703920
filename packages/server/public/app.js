// otel-audit dashboard (issue 7 "Dashboard"). An ES module without a build
// step or framework. Every value that comes from a record is put into the
// page with textContent / createTextNode, never as HTML: records carry
// attacker-controlled strings (user agents, paths, names), and always through
// `text` (dom.js), which shows bidi and invisible controls as escapes. The API token
// lives in sessionStorage and is sent as a bearer header; the live stream
// authenticates with a short-lived ticket, never the token in a URL.

import { el, localTime, openable, recordMillis, text } from './dom.js';
import { drawChart } from './chart.js';
import { alertItem } from './alerts.js';
import { exportRecords } from './export.js';
import { purgedNotice } from './purged.js';
import { integrityView } from './integrity.js';

const TOKEN_KEY = 'otel-audit-token';
const $ = (id) => document.getElementById(id);

// serverStream: the server's own access stream (from the stream ticket), left out of the log and Live unless asked for.
const state = { token: sessionStorage.getItem(TOKEN_KEY), cursors: [], nextCursor: null, filters: {}, source: null, page: 0, serverStream: null };

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  let res;
  try {
    res = await fetch(path, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${state.token}` } });
  } catch {
    // fetch says only "Failed to fetch": say what the user can do about it.
    throw new ApiError(0, 'NETWORK', 'cannot reach the otel-audit server (stopped, or the network is down); what is shown may be out of date');
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new ApiError(res.status, body?.error?.code, body?.error?.message || `HTTP ${res.status}`);
    if (res.status === 401) signOut('Your token was refused; sign in again.');
    throw err;
  }
  return body;
}

function windowSince() {
  const hours = Number($('window').value);
  return new Date(Date.now() - hours * 3_600_000).toISOString();
}

// ---------- sign in ----------

function showLogin(message = '') {
  $('login').hidden = false;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('who').textContent = '';
  $('login-error').textContent = text(message);
  // Signed out (Log out, a refused token): focus would be left on a hidden control; put it in the token field.
  if (!$('login').contains(document.activeElement)) $('token').focus();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  if (state.source) state.source.close();
  state.source = null;
  clearTimeout(state.retry);
  showLogin(message);
}

async function signIn(token) {
  state.token = token;
  try {
    await api('/api/audit/stats?' + new URLSearchParams({ since: windowSince() }));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) showLogin(e.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('who').textContent = 'signed in';
  // The sign-in form (and the focused button) is gone: start keyboard and screen-reader users at the top of the app.
  if (document.activeElement === document.body || $('login').contains(document.activeElement)) $('title').focus({ preventScroll: true });
  // The ticket names the server's own stream, which the log leaves out by default: get it first.
  await startLive();
  await refreshAll();
}

// ---------- summary and chart ----------

async function loadStats() {
  const stats = await api('/api/audit/stats?' + new URLSearchParams({ since: windowSince() }));
  $('card-events').textContent = String(stats.total);
  $('card-failed').textContent = String(stats.failedLogins);
  $('card-config').textContent = String(stats.configChanges);
  $('card-actors').textContent = String(stats.distinctActors);
  drawChart($('chart'), $('legend'), stats.series, stats.bucket, stats.since, stats.until);
}

// ---------- integrity badge ----------

function age(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

async function loadIntegrity() {
  const badge = $('integrity');
  badge.className = 'badge badge-unknown';
  badge.textContent = 'integrity: checking…';
  $('integrity-status').textContent = '';
  let checkpointText = 'no signed checkpoint';
  // Checkpoint rows whose stored columns disagree with their signed note: the verification
  // report reads the notes only, so the badge says so itself.
  let disagreeing = [];
  try {
    const cps = await api('/api/audit/checkpoints?limit=50');
    disagreeing = cps.checkpoints.filter((c) => c.status === 'mismatch' || c.status === 'malformed');
    if (cps.latestValid) checkpointText = `signed checkpoint ${age(cps.latestValid.ageSeconds)} ago`;
    else if (!cps.verifierKeys) checkpointText = 'no verifier keys configured';
  } catch (e) {
    checkpointText = e.message;
  }
  try {
    const answer = await api('/api/audit/integrity?' + new URLSearchParams({ since: windowSince() }));
    const view = integrityView(answer, disagreeing, checkpointText);
    badge.className = `badge badge-${view.state}`;
    badge.textContent = text(view.badge);
    badge.title = text(`verified at ${answer.verifiedAt}`);
    // Announced once per check (the badge's colour is not the message): "integrity: intact (…)" or "… problem(s) found".
    $('integrity-status').textContent = text(view.badge);
    $('integrity-summary').textContent = text(view.summary);
    $('integrity-findings').replaceChildren(...view.lines.map((l) => el('li', { className: `finding-${l.severity}` }, text(l.line))));
    // A window that is not intact opens the panel: the reasons are the point, not a tooltip.
    showIntegrityPanel(view.state !== 'ok');
  } catch (e) {
    const edited = disagreeing.length > 0 ? ` · ${disagreeing.length} checkpoint row(s) disagree with their signed note` : '';
    badge.className = `badge ${edited === '' ? 'badge-unknown' : 'badge-bad'}`;
    badge.textContent = text(`integrity: not checked${edited} · ${checkpointText}`);
    badge.title = text(e.message);
    $('integrity-status').textContent = badge.textContent;
    $('integrity-summary').textContent = text(`The window could not be checked: ${e.message}`);
    $('integrity-findings').replaceChildren(...disagreeing.map((c) => el('li', { className: 'finding-error' }, text(`error · checkpoint row · ${c.stream}: ${c.problem}`))));
  }
}

function showIntegrityPanel(open) {
  $('integrity-panel').hidden = !open;
  $('integrity').setAttribute('aria-expanded', String(open));
}

// ---------- log table ----------

function readFilters() {
  const form = new FormData($('filters'));
  const filters = {};
  for (const [k, v] of form.entries()) {
    if (typeof v !== 'string' || v === '') continue;
    filters[k] = k === 'since' || k === 'until' ? new Date(v).toISOString() : v;
  }
  if (!filters.since) filters.since = windowSince();
  return filters;
}

/** Whether the server's own access records are left out (the checkbox unticked and the stream known). */
const ownLeftOut = () => !$('include-own').checked && state.serverStream !== null;

/** The query of the log's filters, with the server's own stream left out when it is. */
function logParams() {
  return ownLeftOut() ? { ...state.filters, exclude_stream: state.serverStream } : { ...state.filters };
}

function row(item, fresh = false) {
  const r = item.record;
  const ms = recordMillis(item);
  const tr = el('tr', { className: fresh ? 'fresh' : '' },
    el('td', { title: text(item.timestamp ?? r.time) }, Number.isFinite(ms) ? localTime(ms) : text(item.timestamp)),
    el('td', {}, text(r.type)),
    el('td', {}, text(r.action)),
    el('td', { className: `outcome-${r.outcome}` }, text(r.outcome)),
    el('td', {}, text(r.severity)),
    el('td', {}, text(r.actor?.id)),
    el('td', {}, [r.target?.type, r.target?.id].filter((x) => x !== undefined).map(text).join(':')),
    el('td', { className: 'stream', title: text(r.stream) }, text(r.stream)),
    el('td', {}, String(r.seq)),
  );
  // Rows open their record by keyboard too: focusable, Enter or Space.
  return openable(tr, () => void showDetails(item));
}

async function loadLogs(cursor) {
  $('logs-error').textContent = '';
  const params = new URLSearchParams({ ...logParams(), limit: '25' });
  if (cursor) params.set('cursor', cursor);
  try {
    const page = await api('/api/audit/logs?' + params);
    $('log-rows').replaceChildren(...page.records.map((item) => row(item)));
    state.nextCursor = page.nextCursor;
    // A pager button that disables itself while focused would drop focus to the page's start: keep it in the pager.
    const focused = document.activeElement;
    $('next-page').disabled = !page.nextCursor;
    $('prev-page').disabled = state.page === 0;
    if ((focused === $('next-page') || focused === $('prev-page')) && focused.disabled) {
      (focused === $('next-page') && !$('prev-page').disabled ? $('prev-page') : !$('next-page').disabled ? $('next-page') : $('first-page')).focus();
    }
    $('page-info').textContent = `page ${state.page + 1} · ${page.records.length} record(s)`;
    $('logs-purged').textContent = text(purgedNotice(page.purged || []));
    $('logs-purged').hidden = $('logs-purged').textContent === '';
  } catch (e) {
    $('logs-purged').hidden = true;
    $('logs-error').textContent = text(e.message);
  }
}

async function loadAlerts() {
  const page = await api('/api/audit/logs?' + new URLSearchParams({ type: 'alert', since: windowSince(), limit: '20' }));
  $('alerts').replaceChildren(...page.records.map((item) => alertItem(item, openDetails)));
}

// ---------- details ----------

/**
 * Indented JSON, each line escaped on its own: `text()` escapes control
 * characters, so the layout's newlines, passed through it whole, showed as
 * `\u000A` on one long line. JSON.stringify escapes those inside values, so
 * every newline left is layout.
 */
const prettyJson = (v) => JSON.stringify(v, null, 2).split('\n').map(text).join('\n');

const openDetails = (item) => void showDetails(item);

// The row or alert item that opened the details: Close (or Escape) returns focus to it.
let detailsOpener = null;

async function showDetails(item) {
  const r = item.record;
  const active = document.activeElement;
  if (active && active !== document.body && !$('details').contains(active)) detailsOpener = active;
  $('details').hidden = false;
  const meta = $('details-meta');
  const pairs = [
    ['id', r.id], ['stream', r.stream], ['seq', String(r.seq)], ['time', item.timestamp || r.time], ['hash', item.checksum], ['prev', r.prev],
    ['type / action', `${text(r.type)} / ${text(r.action)}`], ['outcome', r.outcome], ['actor', text(r.actor)], ['target', text(r.target)],
    ['request', text(r.request)], ['error', text(r.error)], ['withheld', (item.withheld || []).join(', ')], ['inclusion', 'checking…'],
  ];
  meta.replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', k === 'inclusion' ? { id: 'meta-inclusion', 'aria-live': 'polite' } : { id: `meta-${k.replace(/\W+/g, '-')}` }, text(v))]));
  $('details-old').textContent = prettyJson(r.old ?? null);
  $('details-new').textContent = prettyJson(r.new ?? null);
  $('details-record').textContent = prettyJson(r);
  // The panel is below the log: bring it into view and move focus there, or a click seems to do nothing.
  $('details').scrollIntoView({ block: 'start' });
  $('details-title').focus({ preventScroll: true });
  const inclusion = $('meta-inclusion');
  try {
    const proof = await api('/api/audit/proof?' + new URLSearchParams({ stream: r.stream, seq: String(r.seq) }));
    // recordMatchesHash null: the record could not be read back to check it (verify says why).
    const unchecked = proof.recordMatchesHash === null ? ' (whether the record as stored still hashes to its checksum could not be checked; run verify)' : '';
    if (proof.included === null) {
      inclusion.className = proof.recordMatchesHash === false ? 'included-no' : '';
      inclusion.textContent = text(`${proof.recordMatchesHash === false ? 'EDITED: this record as stored does not hash to its checksum; ' : ''}${proof.message}${unchecked}`);
    } else {
      const cp = proof.checkpoint;
      // recordMatchesHash false: the stored checksum is proven, but the record as stored no longer hashes to it (edited).
      const edited = proof.recordMatchesHash === false;
      inclusion.className = proof.included && cp.status !== 'mismatch' && !edited ? 'included-yes' : 'included-no';
      const problem = cp.status === 'mismatch' ? `; MISMATCH: ${cp.problem}` : '';
      const content = edited ? 'EDITED: this record as stored does not hash to its checksum, so what is shown is not what was logged; its checksum is ' : '';
      inclusion.textContent = text(`${content}${proof.included ? 'included' : 'NOT included'} in checkpoint of size ${cp.size} (signature: ${cp.signature}${problem})${unchecked}`);
    }
  } catch (e) {
    inclusion.textContent = text(e.message);
  }
}

// ---------- live stream ----------

// Seconds to wait before the next reconnection attempt: 3, 6, 12, … up to 60.
let liveRetrySeconds = 3;

async function startLive() {
  if (state.source) state.source.close();
  state.source = null;
  const status = $('live-status');
  try {
    const { ticket, name, role, serverStream } = await api('/api/audit/stream-ticket', { method: 'POST' });
    $('who').textContent = text(`signed in as ${name} (${role})`);
    if (typeof serverStream === 'string') state.serverStream = serverStream;
    const source = new EventSource('/api/audit/stream?' + new URLSearchParams({ ticket }));
    state.source = source;
    source.addEventListener('open', () => { status.textContent = 'connected'; liveRetrySeconds = 3; });
    source.addEventListener('record', (ev) => onLive(JSON.parse(ev.data), false));
    source.addEventListener('alert', (ev) => onLive(JSON.parse(ev.data), true));
    source.addEventListener('error', () => {
      // Tickets are single-use: reconnect with a fresh one.
      source.close();
      if (state.token && state.source === source) retryLive('disconnected');
    });
  } catch (e) {
    // Signed out (401) stays out; anything else — the server stopped, a 503 — is retried.
    if (state.token) retryLive(`offline (${e.message})`);
    else status.textContent = text(`offline (${e.message})`);
  }
}

function retryLive(why) {
  const wait = liveRetrySeconds;
  liveRetrySeconds = Math.min(60, liveRetrySeconds * 2);
  $('live-status').textContent = text(`${why}; retrying in ${wait} s (records of the meantime show in the log, not here)`);
  clearTimeout(state.retry);
  state.retry = setTimeout(() => { if (state.token) void startLive(); }, wait * 1000);
}

function onLive(item, isAlert) {
  const r = item.record;
  const live = $('live');
  // The server's own records are kept (hidden) so ticking the box shows them without a reload.
  const own = r.stream === state.serverStream;
  const li = el('li', { className: own ? 'own' : '' }, `${text(r.type)}/${text(r.action)} ${text(r.outcome)} · ${text(r.actor?.id ?? '')}`);
  li.hidden = own && ownLeftOut();
  live.prepend(li);
  while (live.children.length > 100) live.lastChild.remove();
  if (isAlert) $('alerts').prepend(alertItem(item, openDetails));
  if (own && ownLeftOut()) return;
  if (state.page === 0 && matches(r)) {
    const rows = $('log-rows');
    rows.prepend(row(item, true));
    while (rows.children.length > 25) {
      // Keep focus in the log when the row being dropped is the focused one.
      if (rows.lastChild === document.activeElement) rows.lastChild.previousElementSibling?.focus();
      rows.lastChild.remove();
    }
  }
}

function matches(r) {
  const f = state.filters;
  const eq = (want, got) => want === undefined || want === got;
  return eq(f.type, r.type) && eq(f.action, r.action) && eq(f.outcome, r.outcome) && eq(f.severity, r.severity) && eq(f.actor, r.actor?.id)
    && eq(f.target_type, r.target?.type) && eq(f.target_id, r.target?.id) && f.q === undefined && f.until === undefined;
}

// ---------- wiring ----------

async function refreshAll() {
  state.filters = readFilters();
  state.page = 0;
  state.cursors = [];
  await Promise.all([loadStats().catch((e) => { $('logs-error').textContent = text(e.message); }), loadLogs(), loadAlerts().catch(() => undefined)]);
  await loadIntegrity();
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = $('token').value.trim();
  $('token').value = '';
  if (token) void signIn(token);
});
$('logout').addEventListener('click', () => signOut(''));
$('window').addEventListener('change', () => void refreshAll());
$('filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.filters = readFilters();
  state.page = 0;
  state.cursors = [];
  void loadLogs();
});
$('filters').addEventListener('reset', () => setTimeout(() => { state.filters = readFilters(); state.page = 0; state.cursors = []; void loadLogs(); }, 0));
$('next-page').addEventListener('click', () => {
  if (!state.nextCursor) return;
  state.cursors.push(state.nextCursor);
  state.page++;
  void loadLogs(state.nextCursor);
});
$('prev-page').addEventListener('click', () => {
  if (state.page === 0) return;
  // cursors[i] opened page i + 1; page 1 has none.
  state.cursors.pop();
  state.page--;
  void loadLogs(state.cursors[state.cursors.length - 1]);
});
$('first-page').addEventListener('click', () => {
  state.page = 0;
  state.cursors = [];
  void loadLogs();
});
function closeDetails() {
  $('details').hidden = true;
  // Back to the row or alert that opened it; if a reload replaced it, to the log's first row (or its table).
  const back = detailsOpener && detailsOpener.isConnected && !detailsOpener.closest('[hidden]') ? detailsOpener : $('log-rows').firstElementChild;
  detailsOpener = null;
  if (back) back.focus();
  else { $('log-table').tabIndex = -1; $('log-table').focus(); }
}
$('close-details').addEventListener('click', closeDetails);
$('details').addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape') return;
  ev.preventDefault();
  closeDetails();
});
$('include-own').addEventListener('change', () => {
  for (const li of $('live').querySelectorAll('li.own')) li.hidden = ownLeftOut();
  state.page = 0;
  state.cursors = [];
  void loadLogs();
});
$('export').addEventListener('click', async () => {
  // Disabling the focused button drops focus to the page's start; give it back when the export ends.
  const hadFocus = document.activeElement === $('export');
  $('export').disabled = true;
  try {
    await exportRecords({
      params: logParams(), format: $('export-format').value, token: state.token,
      status: $('export-status'), notice: $('export-purged'), onUnauthorized: () => signOut('Your token was refused; sign in again.'),
    });
  } finally {
    $('export').disabled = false;
    if (hadFocus && (document.activeElement === document.body || document.activeElement === null)) $('export').focus();
  }
});
$('integrity').addEventListener('click', () => showIntegrityPanel($('integrity-panel').hidden && !$('app').hidden));

if (state.token) void signIn(state.token);
else showLogin();
