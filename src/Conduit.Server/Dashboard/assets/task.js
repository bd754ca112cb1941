// Task lookup by id: its state, and from the task history its payload, result and every attempt (what GetTask answers); cancel.
import { start, get, post, el, fill, errorBox, noticeBox, queueLink, number, time } from './dashboard.js';

const id = new URLSearchParams(location.search).get('id');
const cancellable = new Set(['Scheduled', 'Ready', 'Running', 'Failed']);
const PREVIEW_CHARS = 2000;

/** Bytes (base64 in the JSON) as text: UTF-8, cut to PREVIEW_CHARS; null when there are none. Shown as a text node, never HTML. */
function text(base64) {
  if (base64 === null || base64 === undefined) return null;
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return decoded.length > PREVIEW_CHARS ? `${decoded.slice(0, PREVIEW_CHARS)}… (${number(bytes.length)} bytes)` : decoded;
}

/** The task history's part (docs/results.md): absent when the node keeps none, or it was trimmed, or the task has not started. */
function details(d) {
  if (!d) return el('p', { class: 'muted' }, 'No task history: the node keeps none, or it was trimmed.');
  const facts = el('dl', {},
    el('dt', {}, 'Enqueued'), el('dd', {}, d.enqueuedAtUnixMs > 0 ? time(d.enqueuedAtUnixMs) : '–'),
    el('dt', {}, 'Finished'), el('dd', {}, d.finishedAtUnixMs > 0 ? time(d.finishedAtUnixMs) : '–'),
    el('dt', {}, 'Payload'), el('dd', { class: 'wrap', id: 'payload' }, text(d.payload) ?? '–'),
    el('dt', {}, 'Result'), el('dd', { class: 'wrap', id: 'result' }, text(d.output) ?? '–'));
  if (!d.attempts.length) return facts;
  const head = el('tr', {}, el('th', { class: 'num' }, 'Attempt'), el('th', {}, 'Started'), el('th', {}, 'Ended'), el('th', {}, 'Outcome'),
    el('th', {}, 'Worker'), el('th', {}, 'Reason'));
  const rows = d.attempts.map((a) => el('tr', { 'data-attempt': String(a.attempt) },
    el('td', { class: 'num' }, number(a.attempt)),
    el('td', {}, a.startedAtUnixMs > 0 ? time(a.startedAtUnixMs) : '–'),
    el('td', {}, a.endedAtUnixMs > 0 ? time(a.endedAtUnixMs) : '–'),
    el('td', {}, a.outcome),
    el('td', { class: 'worker' }, a.worker ?? '–'),
    el('td', { class: 'wrap reason' }, a.reason ?? '')));
  return [facts, el('h2', {}, 'Attempts'), el('table', { id: 'attempt-table' }, el('thead', {}, head), el('tbody', {}, rows))];
}

const badge = { Completed: 'badge ok', DeadLettered: 'badge bad', Cancelled: 'badge warn', Failed: 'badge warn' };

/** "n of max"; a settled task's partition no longer knows its attempts, the history's last one does. */
function attemptText(task) {
  const attempt = task.attempt > 0 ? task.attempt : (task.details?.attempts.at(-1)?.attempt ?? 0);
  return task.maxAttempts > 0 ? `${number(attempt)} of ${number(task.maxAttempts)}` : number(attempt);
}

async function show() {
  const task = await get(`/api/tasks?id=${encodeURIComponent(id)}`);
  const cancel = cancellable.has(task.status)
    ? el('button', { type: 'button', class: 'danger', id: 'cancel', onclick: async () => {
        if (!confirm(`Cancel task ${task.taskId}?`)) return;
        try {
          await post(`/api/tasks/cancel?id=${encodeURIComponent(task.taskId)}`);
          fill('messages', noticeBox('Cancelled.'));
        } catch (e) {
          fill('messages', errorBox(e));
        }
        await show().catch((e) => fill('messages', errorBox(e)));
      } }, 'Cancel task')
    : null;
  fill('task', el('dl', {},
    el('dt', {}, 'Task'), el('dd', { id: 'task-id-value' }, task.taskId),
    el('dt', {}, 'Queue'), el('dd', {}, queueLink(task.namespace, task.queue)),
    el('dt', {}, 'Status'), el('dd', {}, el('span', { class: badge[task.status] ?? 'badge', id: 'status' }, task.status)),
    el('dt', {}, 'Attempt'), el('dd', { id: 'attempts' }, attemptText(task)),
    el('dt', {}, 'Priority'), el('dd', {}, number(task.priority)),
    el('dt', {}, 'Runs at'), el('dd', {}, time(task.runAtUnixMs)),
    el('dt', {}, 'Last error'), el('dd', { id: 'last-error' }, task.lastError ?? '–')),
    el('div', { class: 'actions' }, cancel),
    details(task.details));
}

await start();
if (id) {
  document.getElementById('task-id').value = id;
  show().catch((e) => fill('messages', errorBox(e)));
}
