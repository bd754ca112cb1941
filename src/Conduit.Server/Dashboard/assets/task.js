// Task lookup by id: its state and attempts (what GetTask answers), and cancel.
import { start, get, post, el, fill, errorBox, noticeBox, queueLink, number, time } from './dashboard.js';

const id = new URLSearchParams(location.search).get('id');
const cancellable = new Set(['Scheduled', 'Ready', 'Running', 'Failed']);
const badge = { Completed: 'badge ok', DeadLettered: 'badge bad', Cancelled: 'badge warn', Failed: 'badge warn' };

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
    el('dt', {}, 'Attempt'), el('dd', { id: 'attempts' }, `${number(task.attempt)} of ${number(task.maxAttempts)}`),
    el('dt', {}, 'Priority'), el('dd', {}, number(task.priority)),
    el('dt', {}, 'Runs at'), el('dd', {}, time(task.runAtUnixMs)),
    el('dt', {}, 'Last error'), el('dd', { id: 'last-error' }, task.lastError ?? '–')),
    el('div', { class: 'actions' }, cancel));
}

await start();
if (id) {
  document.getElementById('task-id').value = id;
  show().catch((e) => fill('messages', errorBox(e)));
}
