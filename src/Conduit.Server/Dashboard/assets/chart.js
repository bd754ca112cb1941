// A line chart in SVG, drawn with DOM calls (no library, nothing parsed as markup).
// series: [{ name, className, values: [number...] }] sharing `times` (Unix ms, oldest first).

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 800, HEIGHT = 220, LEFT = 56, RIGHT = 12, TOP = 10, BOTTOM = 24;

function svgEl(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function niceMax(value) {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function label(ms) {
  const s = Math.round(ms / 1000);
  return s === 0 ? 'now' : s % 60 === 0 ? `-${s / 60}m` : `-${s}s`;
}

// Time windows the chart shows (minutes) and the step of their ticks (seconds).
const WINDOWS = [[2, 30], [5, 60], [10, 120], [15, 180]];

/** The smallest window that holds `spanMs` of samples (at most the history's `maxMs`). */
export function windowFor(spanMs, maxMs) {
  for (const [minutes] of WINDOWS) if (minutes * 60000 >= Math.min(spanMs, maxMs)) return minutes * 60000;
  return maxMs;
}

/** Draws into `svg` (replacing what was there); returns the number of points drawn per series. */
export function drawChart(svg, times, series, windowMs, emptyText = 'no samples yet') {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const plotW = WIDTH - LEFT - RIGHT, plotH = HEIGHT - TOP - BOTTOM;
  const now = times.length ? times[times.length - 1] : Date.now();
  const span = Math.max(windowMs, 1);
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (t) => LEFT + plotW * (1 - (now - t) / span);
  const y = (v) => TOP + plotH * (1 - v / max);

  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    svg.append(svgEl('line', { class: 'axis', x1: LEFT, x2: WIDTH - RIGHT, y1: y(value), y2: y(value) }));
    svg.append(svgEl('text', { x: LEFT - 6, y: y(value) + 4, 'text-anchor': 'end' }, Math.round(value).toLocaleString('en-US')));
  }
  const stepMs = (WINDOWS.find(([minutes]) => minutes * 60000 >= span)?.[1] ?? span / 5000) * 1000;
  for (let ago = 0; ago <= span + 1; ago += stepMs) {
    const anchor = ago === 0 ? 'end' : ago + stepMs > span + 1 ? 'start' : 'middle';
    svg.append(svgEl('text', { x: x(now - ago), y: HEIGHT - 6, 'text-anchor': anchor }, label(ago)));
  }
  if (times.length === 0) {
    svg.append(svgEl('text', { x: LEFT + plotW / 2, y: TOP + plotH / 2, 'text-anchor': 'middle' }, emptyText));
    return 0;
  }
  for (const s of series) {
    const points = s.values.map((v, i) => `${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const line = svgEl('polyline', { class: `series ${s.className}`, points, 'data-series': s.name });
    line.append(svgEl('title', {}, s.name));
    svg.append(line);
    if (times.length === 1) svg.append(svgEl('circle', { class: `series ${s.className}`, cx: x(times[0]), cy: y(s.values[0]), r: 3 }));
  }
  return times.length;
}

/** The chart of a depth history (points from the API: atUnixMs, ready, delayed, running, dead). */
export function drawDepth(svg, points, windowMs, emptyText) {
  const times = points.map((p) => p.atUnixMs);
  return drawChart(svg, times, [
    { name: 'ready', className: 's-ready', values: points.map((p) => p.ready) },
    { name: 'delayed', className: 's-delayed', values: points.map((p) => p.delayed) },
    { name: 'running', className: 's-running', values: points.map((p) => p.running) },
    { name: 'dead', className: 's-dead', values: points.map((p) => p.dead) },
  ], windowMs, emptyText);
}
