// The schedules of one namespace: when each runs next, its last run, and pause/resume, run now and delete.
import { start, get, post, el, fill, errorBox, noticeBox, queueLink, taskLink, number, time } from './dashboard.js';

const REFRESH_MS = 5000;
// The namespace from the URL; without one, `default`, or the first namespace of a key that may not use `default`.
let ns = new URLSearchParams(location.search).get('ns') || 'default';
const say = (node) => fill('messages', node);

/** "in 3 min" / "2 h ago": how far a time is from now, beside the time itself. */
function relative(unixMs) {
  const s = Math.round((unixMs - Date.now()) / 1000);
  const span = Math.abs(s);
  const text = span < 60 ? `${span} s` : span < 3600 ? `${Math.round(span / 60)} min` : span < 86400 ? `${Math.round(span / 3600)} h` : `${Math.round(span / 86400)} d`;
  return s >= 0 ? `in ${text}` : `${text} ago`;
}

async function act(name, action, confirmText, done) {
  if (confirmText && !confirm(confirmText)) return;
  try {
    const reply = await post(`/api/schedules/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${action}`);
    say(noticeBox(done(reply)));
  } catch (e) {
    say(errorBox(e));
  }
  await refresh().catch((e) => say(errorBox(e)));
}

function row(s) {
  const next = s.nextDue.length ? s.nextDue[0] : 0;
  return el('tr', { 'data-schedule': s.name },
    el('td', {}, s.name),
    el('td', {}, queueLink(s.namespace, s.queue)),
    el('td', { class: 'wrap', 'data-field': 'when' }, s.when),
    el('td', { 'data-field': 'state' }, s.paused ? el('span', { class: 'badge warn' }, 'paused') : el('span', { class: 'badge ok' }, 'active')),
    el('td', { 'data-field': 'next', title: s.nextDue.map(time).join('\n') }, next ? `${time(next)} (${relative(next)})` : '–'),
    el('td', { 'data-field': 'last' }, s.lastDue ? time(s.lastDue) : '–', s.lastTaskId ? [' ', taskLink(s.lastTaskId)] : null),
    el('td', { class: 'num', 'data-field': 'runs' }, number(s.runs)),
    el('td', { class: 'num', 'data-field': 'skipped' }, number(s.skipped)),
    el('td', {},
      s.paused
        ? el('button', { type: 'button', class: 'resume', onclick: () => act(s.name, 'resume', null, () => `Resumed ${s.name}.`) }, 'Resume')
        : el('button', { type: 'button', class: 'pause', onclick: () => act(s.name, 'pause', null, () => `Paused ${s.name}.`) }, 'Pause'),
      ' ',
      el('button', { type: 'button', class: 'trigger', onclick: () => act(s.name, 'trigger', null, (r) => `Ran ${s.name} now: task ${r.taskId}.`) }, 'Run now'),
      ' ',
      el('button', { type: 'button', class: 'delete danger', onclick: () => act(s.name, 'delete',
        `Delete schedule ${s.name}? Tasks it already enqueued stay.`, () => `Deleted ${s.name}.`) }, 'Delete')));
}

let shown = 0; // the latest refresh asked for: an older answer that comes later (the timer's, beside an action's) is dropped

async function refresh() {
  const mine = ++shown;
  const list = await get(`/api/schedules?ns=${encodeURIComponent(ns)}`);
  if (mine !== shown) return;
  const notes = [];
  if (list.unanswered.length) notes.push(el('p', { class: 'error' }, `Not answered in time by: ${list.unanswered.join(', ')}; the list may be incomplete.`));
  if (list.more) notes.push(el('p', { class: 'muted' }, 'More schedules than one page shows (the first 1,000 by name).'));
  if (list.schedules.length === 0) {
    fill('schedules', el('p', { class: 'muted' }, `No schedules in namespace ${ns}.`), notes);
    return;
  }
  const head = el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'Queue'), el('th', {}, 'When'), el('th', {}, 'State'),
    el('th', {}, 'Next due'), el('th', {}, 'Last run'), el('th', { class: 'num' }, 'Runs'), el('th', { class: 'num' }, 'Skipped'), el('th', {}, ''));
  fill('schedules', el('table', {}, el('thead', {}, head), el('tbody', {}, list.schedules.map(row))), notes);
}

const session = await start();
const allowed = (session.namespaces ?? '*').split(',');
if (!new URLSearchParams(location.search).get('ns') && !allowed.includes('*') && !allowed.includes('default')) ns = allowed[0];
document.getElementById('namespace').value = ns;
await refresh().catch((e) => fill('schedules', errorBox(e)));
setInterval(() => refresh().catch((e) => say(errorBox(e))), REFRESH_MS);
