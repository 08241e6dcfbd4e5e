/**
 * Traffic Watcher: what goes over a device right now. Total rates (packets/s, bits/s), top
 * talkers and top flows by bytes, the protocol mix and the capture's drops, refreshed once per
 * interval: in the terminal (top-like, on the alternate screen), or with `--web PORT` as a local
 * web page with live charts (server-sent events; nothing is fetched from elsewhere).
 *
 *   deno run --allow-ffi --allow-net examples/traffic_watcher.ts eth0
 *   bun examples/traffic_watcher.ts eth0 --web 8080
 *
 * The counting, the terminal view and the page live in examples/watcher/.
 */
import { openLive } from "../mod.ts";
import { args } from "./_common.ts";
import { type DropStats, TrafficAggregator, type WatcherSnapshot } from "./watcher/aggregate.ts";
import { renderTerminal } from "./watcher/render.ts";
import { type HttpServer, serveHttp } from "./watcher/serve.ts";
import { LOOPBACK_HOSTS, WatcherWeb } from "./watcher/web.ts";

const { values, positionals } = args(
  `
Usage: traffic_watcher.ts DEVICE [options]

A live view of the traffic on DEVICE: rates, top talkers, top flows, protocol mix, drops.
  --filter EXPR       a BPF filter (default: every packet)
  --interval SECONDS  refresh interval (default 1)
  --top N             rows of top talkers and top flows (default 10)
  --web PORT          serve a web page with live charts on PORT (0: any free port)
                      instead of the terminal view
  --host ADDRESS      address the web page binds (default 127.0.0.1)
  --duration SECONDS  stop after this long (default: until Ctrl-C)
  --snaplen BYTES     bytes captured per packet, enough for the headers (default 256)

Deno: deno run --allow-ffi --allow-net examples/traffic_watcher.ts DEVICE
Bun:  bun examples/traffic_watcher.ts DEVICE
`,
  {
    filter: { type: "string" },
    interval: { type: "string" },
    top: { type: "string" },
    web: { type: "string" },
    host: { type: "string" },
    duration: { type: "string" },
    snaplen: { type: "string" },
  },
  1,
);

function option(
  name: string,
  fallback: number,
  check: (n: number) => boolean,
  what: string,
): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (typeof text !== "string" || text.trim() === "" || !check(n)) {
    console.error(`--${name} must be ${what}`);
    process.exit(2);
  }
  return n;
}

const device = positionals[0];
const filter = (values.filter as string | undefined) ?? null;
const interval = option("interval", 1, (n) => n >= 0.1 && n <= 3600, "between 0.1 and 3600");
const top = option("top", 10, (n) => Number.isInteger(n) && n >= 1 && n <= 100, "1 to 100");
const webPort = option(
  "web",
  -1,
  (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
  "a port number (0: any free port)",
);
const duration = option("duration", 0, (n) => n > 0, "a positive number of seconds");
const snaplen = option(
  "snaplen",
  256,
  (n) => Number.isInteger(n) && n >= 64 && n <= 262144,
  "an integer from 64 to 262144",
);
const host = (values.host as string | undefined) ?? "127.0.0.1";

/** The terminal view: the alternate screen with the cursor hidden, redrawn in place. */
class TerminalView {
  readonly #out = process.stdout;
  readonly #tty = process.stdout.isTTY === true;
  #active = false;

  enter(): void {
    if (!this.#tty) return;
    this.#active = true;
    this.#out.write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
  }

  draw(snapshot: WatcherSnapshot): void {
    if (!this.#tty) {
      this.#out.write(renderTerminal(snapshot, { width: 120, height: 200 }) + "\n\n");
      return;
    }
    const width = this.#out.columns || 100;
    const height = this.#out.rows || 40;
    const text = renderTerminal(snapshot, { width, height, color: true });
    // Home, each line followed by "erase to end of line", then erase below: no flicker.
    this.#out.write("\x1b[H" + text.split("\n").join("\x1b[K\r\n") + "\x1b[K\x1b[J");
  }

  leave(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#out.write("\x1b[?25h\x1b[?1049l");
  }
}

const capture = openLive(device, { snaplen, filter: filter ?? undefined, timeout: 100 });
const aggregator = new TrafficAggregator({
  device,
  filter,
  top,
  maxFlows: 10000,
  idleTimeout: 60,
  historyLength: 120,
});
const controller = new AbortController();
let stopping = false;
const view = webPort < 0 ? new TerminalView() : null;

const stop = (): void => {
  if (stopping) {
    // A second Ctrl-C while stopping: leave at once.
    view?.leave();
    process.exit(130);
  }
  stopping = true;
  controller.abort();
};
const signals: ("SIGINT" | "SIGTERM" | "SIGHUP")[] = process.platform === "win32"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];
for (const s of signals) process.on(s, stop);

let web: WatcherWeb | null = null;
let server: HttpServer | null = null;
let timer: ReturnType<typeof setInterval> | undefined;
let deadline: ReturnType<typeof setTimeout> | undefined;
let failure: unknown = null;
try {
  if (webPort >= 0) {
    const loopback = host === "127.0.0.1" || host === "::1" || host === "localhost";
    web = new WatcherWeb({
      device,
      windowSeconds: Math.round(120 * interval),
      allowedHosts: loopback ? LOOPBACK_HOSTS : null,
    });
    server = serveHttp({ hostname: host, port: webPort, handler: web.handle });
    const shown = host.includes(":") ? `[${host}]` : host;
    console.log(
      `Traffic Watcher on ${device}${filter ? ` (filter: ${filter})` : ""}: ` +
        `http://${shown}:${server.port}/ (Ctrl-C stops)`,
    );
  }
  view?.enter();

  const tick = (): void => {
    let stats: DropStats | null = null;
    try {
      const s = capture.stats();
      stats = { received: s.received, dropped: s.dropped, interfaceDropped: s.interfaceDropped };
    } catch { /* not every platform has them */ }
    const snapshot = aggregator.snapshot(Date.now(), stats);
    if (web) web.publish(snapshot);
    else view?.draw(snapshot);
  };
  tick();
  timer = setInterval(tick, interval * 1000);
  if (duration > 0) deadline = setTimeout(stop, duration * 1000);

  // The fast path: whole batches per await, one reused decoder inside the aggregator.
  for await (const batch of capture.batches({ signal: controller.signal })) {
    for (const p of batch) {
      aggregator.add(p.linkType, p.data, p.length, p.seconds + p.nanoseconds / 1e9);
    }
  }
} catch (e) {
  if (!controller.signal.aborted) failure = e;
} finally {
  clearInterval(timer);
  clearTimeout(deadline);
  capture.close();
  web?.close();
  await server?.close();
  view?.leave();
  for (const s of signals) process.off(s, stop);
}
if (failure !== null) {
  console.error(failure instanceof Error ? failure.message : failure);
  process.exit(1);
}
