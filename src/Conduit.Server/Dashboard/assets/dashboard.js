// Shared by every page: the session, the API calls (with the anti-CSRF header on POSTs), DOM building that never
// parses data as HTML (text goes in as text nodes), and number/time formats.

const CSRF_HEADER = 'X-Conduit-Csrf';
let session = null;

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

/** Reads the session (redirects to the login page without one) and draws the page header. */
export async function start() {
  session = await call('GET', '/api/session');
  document.body.prepend(header(session));
  return session;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') {
    init.headers[CSRF_HEADER] = session?.csrfToken ?? '';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(path, init);
  if (response.status === 401 && !location.pathname.endsWith('/login')) {
    location.assign('/ui/login');
    throw new ApiError('log in first', 401);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(data?.message ?? `${response.status} ${response.statusText}`, response.status);
  return data;
}

/** An element with attributes and children; strings become text nodes, never HTML. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replaces the content of the element with id `id`. */
export function fill(id, ...children) {
  const target = document.getElementById(id);
  target.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return target;
}

export const errorBox = (error) => el('div', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error));
export const noticeBox = (text) => el('div', { class: 'notice', role: 'status' }, text);

export const queueLink = (ns, queue) =>
  el('a', { href: `/ui/queue?ns=${encodeURIComponent(ns)}&q=${encodeURIComponent(queue)}` }, ns === 'default' ? queue : `${ns}/${queue}`);
export const taskLink = (id) => el('a', { href: `/ui/task?id=${encodeURIComponent(id)}` }, id);

export function number(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
}

export function age(ms) {
  if (!ms || ms <= 0) return '–';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function time(unixMs) {
  return unixMs > 0 ? new Date(unixMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
}

export function perMinute(value) {
  if (value === null || value === undefined) return '–';
  const rounded = Math.round(value);
  return `${rounded > 0 ? '+' : ''}${rounded.toLocaleString('en-US')}/min`;
}

function header(who) {
  const search = el('input', { name: 'id', placeholder: 'task id (ns/queue#p:seq)', 'aria-label': 'task id', required: true });
  const form = el('form', { action: '/ui/task', method: 'get', role: 'search' }, search, el('button', { type: 'submit' }, 'Find task'));
  const logout = who.keysRequired
    ? el('button', { type: 'button', onclick: async () => { await post('/api/logout'); location.assign('/ui/login'); } }, 'Log out')
    : null;
  return el('header', {},
    el('a', { class: 'brand', href: '/ui/' }, 'Conduit'),
    el('a', { href: '/ui/' }, 'Overview'),
    el('a', { href: '/ui/schedules' }, 'Schedules'),
    form,
    el('span', { class: 'who' }, who.keysRequired ? `key ${who.user}` : 'no API keys (open)'),
    logout);
}
