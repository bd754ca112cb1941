// The overview: depth chart of all queues, the queue table, cluster members and partitions per node. Refreshes every 5 s.
import { start, get, el, fill, errorBox, queueLink, number, age, perMinute } from './dashboard.js';
import { drawDepth, windowFor } from './chart.js';

const REFRESH_MS = 5000;

function queuesTable(list) {
  if (list.queues.length === 0) return [el('p', { class: 'muted' }, 'No queues yet: a queue appears once a task is enqueued to it.')];
  const head = el('tr', {}, el('th', {}, 'Queue'),
    ...['Ready', 'Delayed', 'Running', 'Dead', 'Oldest ready', 'Pollers', 'Partitions', 'Backlog trend'].map((h) => el('th', { class: 'num' }, h)),
    el('th', {}, 'State'));
  const rows = list.queues.map((q) => el('tr', { 'data-queue': `${q.namespace}/${q.queue}` },
    el('td', {}, queueLink(q.namespace, q.queue)),
    el('td', { class: 'num', 'data-field': 'ready' }, number(q.ready)),
    el('td', { class: 'num', 'data-field': 'delayed' }, number(q.delayed)),
    el('td', { class: 'num', 'data-field': 'running' }, number(q.running)),
    el('td', { class: q.dead > 0 ? 'num dead' : 'num', 'data-field': 'dead' }, number(q.dead)),
    el('td', { class: 'num' }, q.ready > 0 ? age(q.oldestReadyAgeMs) : '–'),
    el('td', { class: 'num' }, number(q.waitingPollers)),
    el('td', { class: 'num' }, number(q.partitions)),
    el('td', { class: 'num', title: 'change of ready + delayed + running over the last minute' }, perMinute(q.backlogPerMinute)),
    el('td', {}, q.paused ? el('span', { class: 'badge warn' }, 'paused') : el('span', { class: 'badge ok' }, 'active'))));
  const notes = [];
  if (list.more) notes.push(el('p', { class: 'muted' }, 'More queues run than are listed (the first 1,000 by name).'));
  if (list.unanswered.length) notes.push(el('p', { class: 'error' }, `Did not answer in time: ${list.unanswered.join(', ')}`));
  return [el('table', { id: 'queue-table' }, el('thead', {}, head), el('tbody', {}, rows)), ...notes];
}

// akka.tcp://conduit-cluster@10.0.0.5:5053 -> 10.0.0.5:5053 (the full address is the cell's tooltip).
const shortAddress = (address) => address.replace(/^akka(\.tcp)?:\/\/[^@]*@/, '');

function membersTable(cluster) {
  const head = el('tr', {}, ...['Address', 'Roles', 'Status', 'Reachable'].map((h) => el('th', {}, h)));
  const rows = cluster.members.map((m) => el('tr', {},
    el('td', { title: m.address }, shortAddress(m.address), m.address === cluster.self ? el('span', { class: 'muted' }, ' (this node)') : null),
    el('td', {}, m.roles.join(', ')),
    el('td', {}, el('span', { class: m.status === 'Up' ? 'badge ok' : 'badge warn' }, m.status),
      m.address === cluster.leader ? [' ', el('span', { class: 'badge leader' }, 'leader')] : null),
    el('td', {}, el('span', { class: m.reachable ? 'badge ok' : 'badge bad' }, m.reachable ? 'yes' : 'unreachable'))));
  const leader = cluster.leader ? null : el('p', { class: 'error' }, 'No leader: the node has not joined a cluster yet.');
  return [el('table', {}, el('thead', {}, head), el('tbody', {}, rows)), leader];
}

function partitionsTable(cluster) {
  if (!cluster.sharding) return [el('p', { class: 'error' }, `Shard stats unavailable: ${cluster.shardingError ?? 'no answer'}`)];
  const head = el('tr', {}, el('th', {}, 'Node'), el('th', { class: 'num' }, 'Shards'), el('th', { class: 'num' }, 'Partitions'));
  const rows = cluster.sharding.regions.map((r) => el('tr', {},
    el('td', { title: r.node }, shortAddress(r.node)),
    el('td', { class: 'num' }, number(r.shards.length)),
    el('td', { class: 'num' }, number(r.shards.reduce((sum, s) => sum + s.entities, 0)))));
  const notes = [];
  if (cluster.sharding.unanswered.length) notes.push(el('p', { class: 'error' }, `Did not answer: ${cluster.sharding.unanswered.join(', ')}`));
  const local = cluster.localPartitions;
  if (local && local.entityIds.length) {
    notes.push(el('details', {}, el('summary', {}, `Partitions on this node (${local.entityIds.length}${local.truncated ? '+' : ''})`),
      el('p', { class: 'wrap' }, local.entityIds.join('  '))));
  }
  return [el('table', {}, el('thead', {}, head), el('tbody', {}, rows)), ...notes];
}

async function refresh() {
  const [queues, cluster, history] = await Promise.allSettled([get('/api/queues'), get('/api/cluster'), get('/api/history')]);
  fill('queues', queues.status === 'fulfilled' ? queuesTable(queues.value) : errorBox(queues.reason));
  if (cluster.status === 'fulfilled') {
    fill('node', shortAddress(cluster.value.self));
    fill('members', membersTable(cluster.value));
    fill('partitions', partitionsTable(cluster.value));
  } else {
    fill('members', errorBox(cluster.reason));
    fill('partitions', errorBox(cluster.reason));
  }
  if (history.status === 'fulfilled') {
    const points = history.value.totals;
    const span = points.length ? points[points.length - 1].atUnixMs - points[0].atUnixMs : 0;
    const drawn = drawDepth(document.getElementById('chart'), points, windowFor(span, history.value.windowMs));
    document.getElementById('chart').dataset.points = String(drawn);
  } else {
    fill('problems', errorBox(history.reason));
  }
}

await start();
await refresh();
setInterval(() => refresh().catch((e) => fill('problems', errorBox(e))), REFRESH_MS);
