// One queue: its stats and chart, pause/resume, purge, its tasks by state (paged), and its dead letters (paged, requeue one or all).
import { start, get, post, el, fill, errorBox, noticeBox, taskLink, number, age, time, perMinute } from './dashboard.js';
import { drawDepth, windowFor } from './chart.js';

const REFRESH_MS = 5000;
const params = new URLSearchParams(location.search);
// Dead letters per page: 50, or `size` from the URL (1-500, what the API allows).
const PAGE_SIZE = Math.min(500, Math.max(1, Number.parseInt(params.get('size') ?? '50', 10) || 50));
const ns = params.get('ns') ?? 'default';
const queue = params.get('q') ?? '';
const base = `/api/queues/${encodeURIComponent(ns)}/${encodeURIComponent(queue)}`;
let cursor = null;      // where the shown page of dead letters starts (null: the first page)
let nextCursor = null;  // the last item of the shown page, when more follow
let taskCursor = null;      // where the shown page of tasks starts (the node's cursor; null: the first page)
let nextTaskCursor = null;  // the node's cursor for the page after it, when more follow
// What a listing's time means in each state (TaskSummary.AtUnixMs).
const AT_LABEL = { Scheduled: 'Due at', Failed: 'Retry at', Ready: 'Enqueued', Running: 'Started', DeadLettered: 'Failed at', Completed: 'Finished', Cancelled: 'Cancelled at' };

const say = (node) => fill('messages', node);

function card(label, value, field) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value', 'data-field': field }, value));
}

async function refreshStats() {
  const { stats, history } = await get(base);
  fill('paused', stats.paused ? el('span', { class: 'badge warn', id: 'state' }, 'paused') : el('span', { class: 'badge ok', id: 'state' }, 'active'));
  fill('stats',
    card('Ready', number(stats.ready), 'ready'),
    card('Delayed', number(stats.delayed), 'delayed'),
    card('Running', number(stats.running), 'running'),
    card('Dead', number(stats.dead), 'dead'),
    card('Oldest ready', stats.ready > 0 ? age(stats.oldestReadyAgeMs) : '–', 'oldest'),
    card('Pollers', number(stats.waitingPollers), 'pollers'),
    card('Partitions', number(stats.partitions), 'partitions'),
    card('Limits', stats.limits ?? 'none', 'limits'),
    card('Backlog trend', perMinute(stats.backlogPerMinute), 'trend'));
  document.getElementById('pause').disabled = stats.paused;
  document.getElementById('resume').disabled = !stats.paused;
  const chart = document.getElementById('chart');
  const span = history.length ? history[history.length - 1].atUnixMs - history[0].atUnixMs : 0;
  chart.dataset.points = String(drawDepth(chart, history, windowFor(span, 15 * 60000),
    'no samples yet: history is kept for the 20 deepest queues, sampled every 5 s'));
}

async function refreshDeadLetters() {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) { query.set('afterMs', String(cursor.failedAtUnixMs)); query.set('afterId', cursor.taskId); }
  const page = await get(`${base}/dead-letters?${query}`);
  nextCursor = page.more && page.items.length ? page.items[page.items.length - 1] : null;
  document.getElementById('next-page').disabled = !nextCursor;
  document.getElementById('first-page').disabled = !cursor;
  if (page.items.length === 0) {
    fill('dead-letters', el('p', { class: 'muted' }, cursor ? 'No more dead letters.' : 'No dead letters.'));
    return;
  }
  const head = el('tr', {}, el('th', {}, 'Task'), el('th', { class: 'num' }, 'Attempts'), el('th', {}, 'Failed at'), el('th', {}, 'Reason'), el('th', {}, ''));
  const rows = page.items.map((d) => el('tr', { 'data-task': d.taskId },
    el('td', {}, taskLink(d.taskId)),
    el('td', { class: 'num' }, number(d.attempt)),
    el('td', {}, time(d.failedAtUnixMs)),
    el('td', { class: 'wrap reason' }, d.reason ?? ''),
    el('td', {}, el('button', { type: 'button', class: 'requeue', onclick: () => act(`${base}/dead-letters/requeue`, { taskIds: [d.taskId] },
      (r) => `Requeued ${number(r.count)} dead letter(s).`) }, 'Requeue'))));
  fill('dead-letters', el('table', { id: 'dead-letter-table' }, el('thead', {}, head), el('tbody', {}, rows)));
}

async function refreshTasks() {
  const state = document.getElementById('task-state').value;
  const query = new URLSearchParams({ state, limit: String(PAGE_SIZE) });
  if (taskCursor) query.set('after', taskCursor);
  let page;
  try {
    page = await get(`${base}/tasks?${query}`);
  } catch (e) {
    nextTaskCursor = null;
    document.getElementById('tasks-next-page').disabled = true;
    fill('tasks', errorBox(e)); // e.g. completed tasks on a node that keeps no task history
    return;
  }
  nextTaskCursor = page.next;
  document.getElementById('tasks-next-page').disabled = !nextTaskCursor;
  document.getElementById('tasks-first-page').disabled = !taskCursor;
  if (page.items.length === 0) {
    fill('tasks', el('p', { class: 'muted' }, taskCursor ? 'No more tasks.' : 'No tasks in this state.'));
    return;
  }
  const head = el('tr', {}, el('th', {}, 'Task'), el('th', { class: 'num' }, 'Priority'), el('th', { class: 'num' }, 'Attempt'),
    el('th', {}, AT_LABEL[state] ?? 'At'), el('th', {}, 'Worker'), el('th', {}, 'Reason'));
  const rows = page.items.map((t) => el('tr', { 'data-task': t.taskId },
    el('td', {}, taskLink(t.taskId)),
    el('td', { class: 'num' }, number(t.priority)),
    el('td', { class: 'num' }, number(t.attempt)),
    el('td', {}, t.atUnixMs > 0 ? time(t.atUnixMs) : '–'),
    el('td', { class: 'worker' }, t.worker ?? '–'),
    el('td', { class: 'wrap reason' }, t.reason ?? '')));
  fill('tasks', el('table', { id: 'task-table' }, el('thead', {}, head), el('tbody', {}, rows)));
}

async function refresh() {
  await Promise.all([refreshStats(), refreshTasks(), refreshDeadLetters()]);
}

async function act(path, body, describe) {
  try {
    const reply = await post(path, body);
    say(noticeBox(describe(reply)));
  } catch (e) {
    say(errorBox(e));
  }
  await refresh().catch((e) => say(errorBox(e)));
}

document.getElementById('pause').addEventListener('click', () => act(`${base}/pause`, {}, () => `Paused: nothing is dispatched until resumed.`));
document.getElementById('resume').addEventListener('click', () => act(`${base}/resume`, {}, () => 'Resumed.'));
document.getElementById('purge').addEventListener('click', () => {
  if (confirm(`Purge ${ns}/${queue}? Every ready, delayed and dead-lettered task is dropped (running ones finish).`))
    act(`${base}/purge`, {}, (r) => `Purged ${number(r.purged)} task(s).`);
});
document.getElementById('requeue-all').addEventListener('click', () => {
  if (confirm(`Requeue every dead letter of ${ns}/${queue} with fresh attempts?`))
    act(`${base}/dead-letters/requeue`, { all: true }, (r) => `Requeued ${number(r.count)} dead letter(s).`);
});
document.getElementById('task-state').addEventListener('change', () => { taskCursor = null; refreshTasks().catch((e) => say(errorBox(e))); });
document.getElementById('tasks-next-page').addEventListener('click', () => { taskCursor = nextTaskCursor; refreshTasks().catch((e) => say(errorBox(e))); });
document.getElementById('tasks-first-page').addEventListener('click', () => { taskCursor = null; refreshTasks().catch((e) => say(errorBox(e))); });
document.getElementById('next-page').addEventListener('click', () => { cursor = nextCursor; refreshDeadLetters().catch((e) => say(errorBox(e))); });
document.getElementById('first-page').addEventListener('click', () => { cursor = null; refreshDeadLetters().catch((e) => say(errorBox(e))); });

fill('title', ns === 'default' ? queue : `${ns}/${queue}`);
document.title = `${queue} · Conduit`;
await start();
try {
  await refresh();
  setInterval(() => refreshStats().catch((e) => say(errorBox(e))), REFRESH_MS);
} catch (e) {
  say(errorBox(e));
}
