/**
 * The Traffic Watcher's web page: one HTML string with its CSS and script inline (no framework,
 * nothing fetched from elsewhere). The script listens to `/events` (server-sent events, one
 * snapshot each) and draws the rate charts on canvases with its own small code.
 *
 * @module
 */

/** Options of {@link watcherPage}. */
export interface PageOptions {
  /** Device name, for the title. */
  readonly device: string;
  /** Seconds of history the charts span. */
  readonly windowSeconds: number;
}

/** `text` with the five HTML special characters escaped. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

const STYLE = `
:root {
  --bg: #0d1117; --panel: #161b22; --line: #30363d; --grid: #21262d; --text: #e6edf3;
  --muted: #8b949e; --bits: #58a6ff; --packets: #3fb950; --bad: #f85149;
  color-scheme: dark;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
header {
  display: flex; align-items: baseline; gap: 18px; flex-wrap: wrap;
  padding: 14px 24px; border-bottom: 1px solid var(--line);
}
h1 { font-size: 19px; margin: 0; font-weight: 600; }
h2 { font-size: 13px; margin: 0 0 10px; font-weight: 600; color: var(--muted);
  text-transform: uppercase; letter-spacing: .06em; }
.muted { color: var(--muted); }
#status { margin-left: auto; font-size: 13px; }
#status::before { content: "\\25CF  "; color: var(--muted); }
#status.live::before { color: var(--packets); }
#status.down::before { color: var(--bad); }
main {
  display: grid; gap: 16px; padding: 18px 24px 28px;
  grid-template-columns: repeat(2, minmax(0, 1fr));
}
.cards { grid-column: 1 / -1; display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); }
.card, .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.card { padding: 10px 16px; }
.card .label { font-size: 12px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .06em; }
.card .value { font-size: 24px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card .sub { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.panel { padding: 14px 16px; min-width: 0; }
.wide { grid-column: 1 / -1; }
canvas { display: block; width: 100%; height: 230px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { padding: 5px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--grid); }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
th.l, td.l { text-align: left; }
td.addr { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
tbody tr:hover { background: #1c2330; }
.empty td { color: var(--muted); text-align: left; }
.mix { display: flex; height: 16px; border-radius: 4px; overflow: hidden; margin-bottom: 12px;
  background: var(--grid); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 8px; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
`;

// The browser-side script: plain JavaScript, kept small. Formatting follows format.ts.
const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const WINDOW = Number(document.body.dataset.window) * 1000;
const COLORS = { "TCP": "#58a6ff", "UDP": "#3fb950", "ICMP": "#d29922", "ICMPv6": "#db6d28",
  "ARP": "#bc8cff", "other IPv4": "#8b949e", "other IPv6": "#f778ba", "other": "#6e7681" };
const PREFIX = ["", "k", "M", "G", "T", "P"];
function si(n, unit) {
  if (!(n > 0)) return "0 " + unit;
  let i = 0;
  while (n >= 999.5 && i < PREFIX.length - 1) { n /= 1000; i++; }
  const t = i === 0 ? String(Math.round(n)) : n.toFixed(n < 9.995 ? 2 : n < 99.95 ? 1 : 0);
  return t + " " + PREFIX[i] + unit;
}
const bits = (n) => si(n, "bit/s");
const bytes = (n) => si(n, "B");
const count = (n) => String(Math.round(n)).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ",");
const pps = (n) => !(n > 0) ? "0.0" : n < 99.95 ? n.toFixed(1) : count(n);
const ppsAxis = (n) => (n >= 1000 ? si(n, "") : Number.isInteger(n) ? String(n) : n.toFixed(1)) + " pkt/s";
const share = (a, b) => b > 0 ? (a / b * 100).toFixed(1) + "%" : "0.0%";
// ICMP's "ports" are the echo identifier: shown as bare addresses.
function endpoint(a, p, proto) {
  if (p === 0 || (proto !== "TCP" && proto !== "UDP")) return a;
  return (a.includes(":") ? "[" + a + "]" : a) + ":" + p;
}
function duration(s) {
  s = Math.max(0, Math.floor(s));
  const p = (n) => String(n).padStart(2, "0");
  const d = Math.floor(s / 86400);
  const t = p(Math.floor(s % 86400 / 3600)) + ":" + p(Math.floor(s % 3600 / 60)) + ":" + p(s % 60);
  return d > 0 ? d + "d " + t : t;
}

// A step of 1, 2 or 5 times a power of ten giving about \`ticks\` intervals up to max.
function niceStep(max, ticks) {
  const raw = max / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function drawChart(canvas, history, key, color, format) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const left = 86, right = 14, top = 10, bottom = 34;
  const pw = w - left - right, ph = h - top - bottom;
  const style = getComputedStyle(document.body);
  const grid = style.getPropertyValue("--grid"), muted = style.getPropertyValue("--muted");
  const line = style.getPropertyValue("--line");
  let max = 0;
  for (const s of history) max = Math.max(max, s[key]);
  const step = niceStep(max > 0 ? max : 1, 4);
  const ymax = Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => top + ph - (v / ymax) * ph;
  const now = history.length ? history[history.length - 1].time : Date.now();
  const x = (t) => left + pw - ((now - t) / WINDOW) * pw;
  ctx.font = "12px system-ui, sans-serif";
  ctx.lineWidth = 1;
  // y axis: grid lines and labels with units
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let v = 0; v <= ymax + step / 2; v += step) {
    const yy = Math.round(y(v)) + 0.5;
    ctx.strokeStyle = v === 0 ? line : grid;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(left + pw, yy); ctx.stroke();
    ctx.fillStyle = muted;
    ctx.fillText(format(v), left - 8, yy);
  }
  // x axis: seconds before the latest sample
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const span = WINDOW / 1000;
  const xs = niceStep(span, 6);
  for (let s = 0; s <= span + 1e-9; s += xs) {
    const xx = Math.round(left + pw - (s / span) * pw) + 0.5;
    ctx.strokeStyle = grid;
    ctx.beginPath(); ctx.moveTo(xx, top); ctx.lineTo(xx, top + ph); ctx.stroke();
    ctx.fillStyle = muted;
    ctx.fillText(s === 0 ? "now" : "-" + s + " s", xx, top + ph + 6);
  }
  ctx.fillText("time (seconds ago)", left + pw / 2, top + ph + 20);
  const points = history.filter((s) => now - s.time <= WINDOW);
  if (points.length === 0) return;
  ctx.save();
  ctx.beginPath(); ctx.rect(left, top - 2, pw, ph + 4); ctx.clip();
  ctx.beginPath();
  points.forEach((s, i) => i === 0 ? ctx.moveTo(x(s.time), y(s[key])) : ctx.lineTo(x(s.time), y(s[key])));
  ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.lineJoin = "round"; ctx.stroke();
  ctx.lineTo(x(points[points.length - 1].time), y(0));
  ctx.lineTo(x(points[0].time), y(0));
  ctx.closePath();
  ctx.globalAlpha = 0.18; ctx.fillStyle = color; ctx.fill();
  ctx.restore();
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function fill(tbody, rows, columns, empty) {
  const out = [];
  for (const r of rows) {
    const tr = document.createElement("tr");
    for (const [f, cls] of columns) cell(tr, f(r), cls);
    out.push(tr);
  }
  if (out.length === 0) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    cell(tr, empty).colSpan = columns.length;
    out.push(tr);
  }
  tbody.replaceChildren(...out);
}

let last = null;
let received = 0;
function render(s) {
  last = s;
  $("device").textContent = s.device;
  $("filter").textContent = "filter: " + (s.filter === null ? "none" : s.filter);
  $("uptime").textContent = "up " + duration(s.uptime);
  $("bps").textContent = bits(s.bitsPerSecond);
  $("bps-peak").textContent = "peak " + bits(s.peakBitsPerSecond);
  $("pps").textContent = pps(s.packetsPerSecond);
  $("pps-peak").textContent = "peak " + pps(s.peakPacketsPerSecond) + " pkt/s";
  $("total").textContent = bytes(s.totalBytes);
  $("total-packets").textContent = count(s.totalPackets) + " packets";
  $("flows-active").textContent = count(s.activeFlows);
  $("flows-seen").textContent = count(s.flowsSeen) + " seen, " + count(s.flowsEvicted) + " evicted";
  $("drops").textContent = s.stats === null ? "n/a" : count(s.stats.dropped + s.stats.interfaceDropped);
  $("drops-sub").textContent = s.stats === null ? "" : count(s.stats.received) + " received";
  const cb = $("chart-bits"), cp = $("chart-packets");
  drawChart(cb, s.history, "bitsPerSecond", getComputedStyle(document.body).getPropertyValue("--bits"), bits);
  drawChart(cp, s.history, "packetsPerSecond", getComputedStyle(document.body).getPropertyValue("--packets"), ppsAxis);
  cb.dataset.samples = cp.dataset.samples = String(received);
  cb.dataset.last = String(s.bitsPerSecond);
  cp.dataset.last = String(s.packetsPerSecond);
  const mix = [];
  for (const p of s.protocols) {
    if (p.bytes <= 0 || s.totalBytes <= 0) continue;
    const seg = document.createElement("div");
    seg.style.width = (p.bytes / s.totalBytes * 100) + "%";
    seg.style.background = COLORS[p.name] || "#6e7681";
    seg.title = p.name + " " + share(p.bytes, s.totalBytes);
    mix.push(seg);
  }
  $("mix").replaceChildren(...mix);
  fill($("protocols").tBodies[0], s.protocols, [
    [(p) => p.name, "l name"],
    [(p) => pps(p.packetsPerSecond)],
    [(p) => bits(p.bitsPerSecond)],
    [(p) => count(p.packets)],
    [(p) => bytes(p.bytes)],
    [(p) => share(p.bytes, s.totalBytes)],
  ], "");
  for (const tr of $("protocols").tBodies[0].rows) {
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = COLORS[tr.cells[0].textContent] || "#6e7681";
    tr.cells[0].prepend(sw);
  }
  $("ipshare").textContent = "IPv4 " + share(s.ipBytes.ipv4, s.totalBytes) + " \\u00b7 IPv6 " +
    share(s.ipBytes.ipv6, s.totalBytes) + " \\u00b7 non-IP " +
    share(s.totalBytes - s.ipBytes.ipv4 - s.ipBytes.ipv6, s.totalBytes) + " of bytes";
  fill($("flows").tBodies[0], s.flows, [
    [(f) => f.protocol, "l"],
    [(f) => endpoint(f.client, f.clientPort, f.protocol), "l addr client"],
    [(f) => endpoint(f.server, f.serverPort, f.protocol), "l addr server"],
    [(f) => count(f.packets)],
    [(f) => bytes(f.bytes)],
    [(f) => bits(f.bitsPerSecond)],
    [(f) => f.state, "l"],
  ], "no flows yet");
  fill($("talkers").tBodies[0], s.talkers, [
    [(t) => t.address, "l addr"],
    [(t) => bytes(t.bytesSent)],
    [(t) => bytes(t.bytesReceived)],
    [(t) => bits(t.bitsPerSecond)],
    [(t) => count(t.packets)],
  ], "no IP traffic yet");
}

function status(text, cls) {
  const el = $("status");
  el.textContent = text;
  el.className = cls;
}

const events = new EventSource("events");
events.onopen = () => status("live", "live");
events.onmessage = (e) => { received++; render(JSON.parse(e.data)); };
events.addEventListener("end", () => { events.close(); status("stopped", "down"); });
events.onerror = () => status(events.readyState === 2 ? "stopped" : "reconnecting\\u2026", "down");
window.addEventListener("resize", () => { if (last) render(last); });
`;

/** The whole page. */
export function watcherPage(options: PageOptions): string {
  const device = escapeHtml(options.device);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Traffic Watcher: ${device}</title>
<style>${STYLE}</style>
</head>
<body data-window="${Number(options.windowSeconds)}">
<header>
  <h1>Traffic Watcher</h1>
  <span id="device">${device}</span>
  <span class="muted" id="filter"></span>
  <span class="muted" id="uptime"></span>
  <span id="status">connecting\u2026</span>
</header>
<main>
  <div class="cards">
    <div class="card"><div class="label">Throughput</div><div class="value" id="bps">0 bit/s</div><div class="sub" id="bps-peak"></div></div>
    <div class="card"><div class="label">Packets / s</div><div class="value" id="pps">0.0</div><div class="sub" id="pps-peak"></div></div>
    <div class="card"><div class="label">Total</div><div class="value" id="total">0 B</div><div class="sub" id="total-packets"></div></div>
    <div class="card"><div class="label">Active flows</div><div class="value" id="flows-active">0</div><div class="sub" id="flows-seen"></div></div>
    <div class="card"><div class="label">Drops</div><div class="value" id="drops">n/a</div><div class="sub" id="drops-sub"></div></div>
  </div>
  <section class="panel"><h2>Throughput (bit/s)</h2><canvas id="chart-bits" data-samples="0" aria-label="bits per second over time"></canvas></section>
  <section class="panel"><h2>Packets per second</h2><canvas id="chart-packets" data-samples="0" aria-label="packets per second over time"></canvas></section>
  <section class="panel wide"><h2>Top flows (by bytes)</h2>
    <table id="flows"><thead><tr><th class="l">Proto</th><th class="l">Client</th><th class="l">Server</th><th>Packets</th><th>Bytes</th><th>bit/s</th><th class="l">State</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="panel"><h2>Protocol mix (bytes)</h2>
    <div class="mix" id="mix"></div>
    <table id="protocols"><thead><tr><th class="l">Protocol</th><th>pkt/s</th><th>bit/s</th><th>Packets</th><th>Bytes</th><th>Share</th></tr></thead><tbody></tbody></table>
    <p class="muted" id="ipshare"></p>
  </section>
  <section class="panel"><h2>Top talkers (by bytes)</h2>
    <table id="talkers"><thead><tr><th class="l">Host</th><th>Sent</th><th>Received</th><th>bit/s</th><th>Packets</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
