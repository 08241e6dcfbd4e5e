/// <reference lib="dom" />
// The Traffic Watcher (examples/traffic_watcher.ts, examples/watcher/): the aggregation and the
// terminal renderer on built packets (exact numbers), the web handler, then the real program:
// its terminal view in a pseudo-terminal (tmux) and its web page in headless Chromium, each
// capturing one end of a veth pair while known flows are injected from the other end.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { arp, buildPacket, ethernet, icmpEcho, ipv4, ipv6, tcp, udp } from "../src/build/mod.ts";
import { TrafficAggregator, type WatcherSnapshot } from "../examples/watcher/aggregate.ts";
import {
  formatBits,
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatPps,
  formatShare,
} from "../examples/watcher/format.ts";
import { renderTerminal, sparkline } from "../examples/watcher/render.ts";
import { LOOPBACK_HOSTS, WatcherWeb } from "../examples/watcher/web.ts";
import {
  createVethPair,
  frame,
  netnsUnavailable,
  runtimeCommand,
  type VethPair,
} from "./_netns.ts";
import { repoRoot } from "./_helpers.ts";

const T0 = 1_700_000_000;
const MAC1 = "02:00:00:00:00:01";
const eth = ethernet({ src: MAC1, dst: "02:00:00:00:00:02" });

/** 16 packets, 5482 bytes, between T0+0.1 and T0+1.6 (see the comments for each group). */
function feed(a: TrafficAggregator): void {
  const add = (f: Uint8Array, t: number): void => a.add(1, f, f.length, T0 + t);
  const v4 = (src: string, dst: string): ReturnType<typeof ipv4> => ipv4({ src, dst });
  // UDP 10.0.0.1:40001 -> 10.0.0.2:5001: 4 x 1000 bytes, and 2 x 100 bytes back
  for (let i = 0; i < 4; i++) {
    add(
      buildPacket([
        eth,
        v4("10.0.0.1", "10.0.0.2"),
        udp({ srcPort: 40001, dstPort: 5001 }),
        new Uint8Array(958),
      ]),
      0.1 + i * 0.1,
    );
  }
  for (let i = 0; i < 2; i++) {
    add(
      buildPacket([
        eth,
        v4("10.0.0.2", "10.0.0.1"),
        udp({ srcPort: 5001, dstPort: 40001 }),
        new Uint8Array(58),
      ]),
      0.5 + i * 0.1,
    );
  }
  // TCP 10.0.0.1:40002 -> 10.0.0.3:80: handshake (3 x 54 bytes), 3 x 300 bytes of data
  add(
    buildPacket([eth, v4("10.0.0.1", "10.0.0.3"), tcp({ srcPort: 40002, dstPort: 80, seq: 100 })]),
    0.7,
  );
  add(
    buildPacket([
      eth,
      v4("10.0.0.3", "10.0.0.1"),
      tcp({ srcPort: 80, dstPort: 40002, seq: 500, ack: 101, flags: "SA" }),
    ]),
    0.8,
  );
  add(
    buildPacket([
      eth,
      v4("10.0.0.1", "10.0.0.3"),
      tcp({ srcPort: 40002, dstPort: 80, seq: 101, ack: 501 }),
    ]),
    0.9,
  );
  for (let i = 0; i < 3; i++) {
    add(
      buildPacket([
        eth,
        v4("10.0.0.1", "10.0.0.3"),
        tcp({ srcPort: 40002, dstPort: 80, seq: 101 + i * 246, ack: 501, flags: "PA" }),
        new Uint8Array(246),
      ]),
      1.0 + i * 0.1,
    );
  }
  // ICMP echo (46 bytes), ARP (42), IPv6 UDP (72), a non-IP frame (60)
  add(buildPacket([eth, v4("10.0.0.1", "10.0.0.4"), icmpEcho({ id: 7, seq: 1 }), "ping"]), 1.3);
  add(
    buildPacket([
      ethernet({ src: MAC1, dst: "ff:ff:ff:ff:ff:ff" }),
      arp({ senderMac: MAC1, senderIp: "10.0.0.1", targetIp: "10.0.0.2" }),
    ]),
    1.4,
  );
  add(
    buildPacket([
      eth,
      ipv6({ src: "fd00::1", dst: "fd00::2" }),
      udp({ srcPort: 40003, dstPort: 6000 }),
      new Uint8Array(10),
    ]),
    1.5,
  );
  add(frame(0, 60), 1.6);
}

function udpFrame(src: string, srcPort: number, size: number): Uint8Array {
  return buildPacket([
    eth,
    ipv4({ src, dst: "10.9.9.9" }),
    udp({ srcPort, dstPort: 9 }),
    new Uint8Array(size - 42),
  ]);
}

function firstSnapshot(): { a: TrafficAggregator; s: WatcherSnapshot } {
  const a = new TrafficAggregator({
    device: "vB",
    filter: "udp or tcp or icmp",
    start: T0 * 1000,
    top: 3,
  });
  feed(a);
  return { a, s: a.snapshot(T0 * 1000 + 2000, { received: 16, dropped: 1, interfaceDropped: 2 }) };
}

describe("traffic watcher: aggregation", () => {
  test("totals, rates, protocol mix, IP versions over the first 2 s", () => {
    const { s } = firstSnapshot();
    assert.equal(s.device, "vB");
    assert.equal(s.filter, "udp or tcp or icmp");
    assert.equal(s.uptime, 2);
    assert.equal(s.interval, 2);
    assert.equal(s.totalPackets, 16);
    assert.equal(s.totalBytes, 5482);
    assert.equal(s.packetsPerSecond, 8);
    assert.equal(s.bitsPerSecond, 21928);
    assert.equal(s.peakBitsPerSecond, 21928);
    assert.deepEqual(
      s.protocols.map((p) => [p.name, p.packets, p.bytes, p.packetsPerSecond, p.bitsPerSecond]),
      [
        ["TCP", 6, 1062, 3, 4248],
        ["UDP", 7, 4272, 3.5, 17088],
        ["ICMP", 1, 46, 0.5, 184],
        ["ICMPv6", 0, 0, 0, 0],
        ["ARP", 1, 42, 0.5, 168],
        ["other IPv4", 0, 0, 0, 0],
        ["other IPv6", 0, 0, 0, 0],
        ["other", 1, 60, 0.5, 240],
      ],
    );
    assert.deepEqual(s.ipBytes, { ipv4: 5308, ipv6: 72 });
    assert.deepEqual(s.stats, { received: 16, dropped: 1, interfaceDropped: 2 });
    assert.deepEqual(s.history, [{
      time: T0 * 1000 + 2000,
      packetsPerSecond: 8,
      bitsPerSecond: 21928,
    }]);
  });

  test("top flows and top talkers by bytes, from the flow table", () => {
    const { s } = firstSnapshot();
    assert.equal(s.activeFlows, 4);
    assert.equal(s.flowsSeen, 4);
    assert.equal(s.flowsEvicted, 0);
    assert.deepEqual(s.flows, [
      {
        protocol: "UDP",
        client: "10.0.0.1",
        clientPort: 40001,
        server: "10.0.0.2",
        serverPort: 5001,
        packets: 6,
        bytes: 4200,
        bitsPerSecond: 16800,
        state: "",
      },
      {
        protocol: "TCP",
        client: "10.0.0.1",
        clientPort: 40002,
        server: "10.0.0.3",
        serverPort: 80,
        packets: 6,
        bytes: 1062,
        bitsPerSecond: 4248,
        state: "established",
      },
      {
        protocol: "UDP",
        client: "fd00::1",
        clientPort: 40003,
        server: "fd00::2",
        serverPort: 6000,
        packets: 1,
        bytes: 72,
        bitsPerSecond: 288,
        state: "",
      },
    ]);
    assert.deepEqual(s.talkers, [
      {
        address: "10.0.0.1",
        packets: 13,
        bytesSent: 5054,
        bytesReceived: 254,
        bytes: 5308,
        bitsPerSecond: 21232,
      },
      {
        address: "10.0.0.2",
        packets: 6,
        bytesSent: 200,
        bytesReceived: 4000,
        bytes: 4200,
        bitsPerSecond: 16800,
      },
      {
        address: "10.0.0.3",
        packets: 6,
        bytesSent: 54,
        bytesReceived: 1008,
        bytes: 1062,
        bitsPerSecond: 4248,
      },
    ]);
  });

  test("the next snapshot's rates cover only the packets since the previous one", () => {
    const { a } = firstSnapshot();
    const f = buildPacket([
      eth,
      ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }),
      udp({ srcPort: 40001, dstPort: 5001 }),
      new Uint8Array(958),
    ]);
    a.add(1, f, f.length, T0 + 2.5);
    const s = a.snapshot(T0 * 1000 + 3000);
    assert.equal(s.interval, 1);
    assert.equal(s.packetsPerSecond, 1);
    assert.equal(s.bitsPerSecond, 8000);
    assert.equal(s.peakBitsPerSecond, 21928, "the peak stays");
    assert.equal(s.peakPacketsPerSecond, 8);
    assert.equal(s.totalPackets, 17);
    assert.equal(s.totalBytes, 6482);
    assert.deepEqual(s.protocols[1], {
      name: "UDP",
      packets: 8,
      bytes: 5272,
      packetsPerSecond: 1,
      bitsPerSecond: 8000,
    });
    assert.equal(s.protocols[0].bitsPerSecond, 0);
    assert.deepEqual([s.flows[0].bytes, s.flows[0].bitsPerSecond, s.flows[1].bitsPerSecond], [
      5200,
      8000,
      0,
    ]);
    assert.deepEqual([s.talkers[0].bitsPerSecond, s.talkers[2].bitsPerSecond], [8000, 0]);
    assert.equal(s.stats, null);
    assert.deepEqual(s.history.map((h) => h.bitsPerSecond), [21928, 8000]);
  });

  test("idle flows expire; the history keeps its length", () => {
    const a = new TrafficAggregator({ start: T0 * 1000, idleTimeout: 10, historyLength: 3 });
    feed(a);
    assert.equal(a.snapshot(T0 * 1000 + 10_500).activeFlows, 4);
    assert.equal(a.snapshot(T0 * 1000 + 11_250).activeFlows, 2, "flows last seen by T0+1.25 left");
    const s = a.snapshot(T0 * 1000 + 20_000);
    assert.equal(s.activeFlows, 0);
    assert.deepEqual([s.flows, s.talkers], [[], []]);
    assert.equal(s.totalPackets, 16, "totals stay");
    const t = a.snapshot(T0 * 1000 + 21_000);
    assert.deepEqual(
      t.history.map((h) => h.time),
      [11_250, 20_000, 21_000].map((x) => T0 * 1000 + x),
    );
  });

  test("the flow table is bounded: the least recently seen flows are evicted", () => {
    const a = new TrafficAggregator({ start: T0 * 1000, maxFlows: 3, top: 10 });
    for (let i = 0; i < 5; i++) {
      const f = udpFrame("10.0.1.1", 1000 + i, 100 + i);
      a.add(1, f, f.length, T0 + i);
    }
    const s = a.snapshot(T0 * 1000 + 5000);
    assert.deepEqual([s.activeFlows, s.flowsSeen, s.flowsEvicted], [3, 5, 2]);
    assert.deepEqual(s.flows.map((f) => [f.clientPort, f.bytes]), [[1004, 104], [1003, 103], [
      1002,
      102,
    ]]);
    assert.deepEqual(s.talkers.map((t) => [t.address, t.bytes]), [["10.0.1.1", 309], [
      "10.9.9.9",
      309,
    ]]);
    assert.equal(s.totalBytes, 510);
  });

  test("an empty interval has zero rates; a zero-length interval too", () => {
    const a = new TrafficAggregator({ start: T0 * 1000 });
    const s = a.snapshot(T0 * 1000);
    assert.deepEqual([s.interval, s.packetsPerSecond, s.bitsPerSecond, s.totalPackets], [
      0,
      0,
      0,
      0,
    ]);
    assert.equal(s.protocols.length, 8);
    assert.ok(s.protocols.every((p) => p.packets === 0 && p.bitsPerSecond === 0));
  });
});

describe("traffic watcher: terminal renderer", () => {
  test("number formats", () => {
    assert.deepEqual(
      [0, 999, 999.5, 21928, 1.5e6, 2.345e9].map(formatBits),
      ["0 bit/s", "999 bit/s", "1.00 kbit/s", "21.9 kbit/s", "1.50 Mbit/s", "2.35 Gbit/s"],
    );
    assert.deepEqual([0, 512, 5482, 99_960, 123_456_789].map(formatBytes), [
      "0 B",
      "512 B",
      "5.48 kB",
      "100 kB",
      "123 MB",
    ]);
    assert.equal(formatCount(1234567), "1,234,567");
    assert.deepEqual([0, 8, 99.94, 1234.4].map(formatPps), ["0.0", "8.0", "99.9", "1,234"]);
    assert.deepEqual([0, 3725, 90061].map(formatDuration), ["00:00:00", "01:02:05", "1d 01:01:01"]);
    assert.equal(formatEndpoint("fd00::1", 53), "[fd00::1]:53");
    assert.equal(formatEndpoint("10.0.0.1", 0), "10.0.0.1");
    assert.equal(formatShare(1, 3), "33.3%");
    assert.equal(formatShare(1, 0), "0.0%");
    assert.equal(sparkline([0, 1, 2, 4, 8], 4), "▁▂▄█");
    assert.equal(sparkline([0, 0], 5), "  ");
  });

  test("a 120x40 screen: exact header, protocol, talker and flow lines", () => {
    const { s } = firstSnapshot();
    const text = renderTerminal(s, { width: 120, height: 40 });
    const lines = text.split("\n");
    assert.equal(lines.length, 27);
    assert.ok(lines.every((l) => l.length <= 120), "no line wider than the screen");
    assert.equal(
      lines[0],
      "Traffic Watcher | vB | filter: udp or tcp or icmp".padEnd(108) + " up 00:00:02",
    );
    assert.equal(lines[1], "─".repeat(120));
    assert.equal(
      lines[2],
      "Rate    21.9 kbit/s   8.0 pkt/s       Peak  21.9 kbit/s   8.0 pkt/s       Interval 2.0 s",
    );
    assert.equal(
      lines[3],
      "Total   5.48 kB       16 packets      Flows 4 active, 4 seen, 0 evicted",
    );
    assert.equal(lines[4], "Drops   1 dropped, 2 by the interface, 16 received");
    assert.equal(lines[5], "bit/s   █".padEnd(104) + " max 21.9 kbit/s");
    assert.equal(lines[7], "Protocol        pkt/s         bit/s       Packets       Bytes   Share");
    assert.equal(
      lines[8],
      "TCP               3.0   4.25 kbit/s             6     1.06 kB   19.4%  ████████",
    );
    assert.equal(
      lines[9],
      "UDP               3.5   17.1 kbit/s             7     4.27 kB   77.9%  " + "█".repeat(31),
    );
    assert.equal(
      lines[10],
      "ICMP              0.5     184 bit/s             1        46 B    0.8%",
    );
    assert.equal(
      lines[15],
      "other             0.5     240 bit/s             1        60 B    1.1%",
    );
    assert.equal(lines[16], "IPv4 96.8%  IPv6 1.3%  non-IP 1.9% of bytes");
    assert.equal(
      lines[18],
      "Top talkers                                    Sent    Received       Total         bit/s       Packets",
    );
    assert.equal(
      lines[19],
      "10.0.0.1                                    5.05 kB       254 B     5.31 kB   21.2 kbit/s            13",
    );
    assert.equal(
      lines[23],
      "Top flows  Client                Server                     Packets       Bytes         bit/s  State",
    );
    assert.equal(
      lines[24],
      "UDP        10.0.0.1:40001        10.0.0.2:5001                    6     4.20 kB   16.8 kbit/s",
    );
    assert.equal(
      lines[25],
      "TCP        10.0.0.1:40002        10.0.0.3:80                      6     1.06 kB   4.25 kbit/s  established",
    );
    assert.equal(
      lines[26],
      "UDP        [fd00::1]:40003       [fd00::2]:6000                   1        72 B     288 bit/s",
    );
    assert.ok(!text.includes("\x1b"), "no escape sequences without color");
  });

  test("a short screen keeps its height; narrow lines are cut; color adds only SGR", () => {
    const { s } = firstSnapshot();
    const short = renderTerminal(s, { width: 80, height: 23 }).split("\n");
    assert.equal(short.length, 23);
    assert.ok(short.every((l) => l.length <= 80));
    assert.equal(
      short[18],
      "Top talkers            Sent    Received       Total         bit/s       Packets",
    );
    assert.equal(short[19].split(/\s+/)[0], "10.0.0.1", "one talker row");
    assert.equal(
      short[21],
      "Top flows  Client           Server                Packets       Bytes         b~",
    );
    assert.equal(
      short[22],
      "UDP        10.0.0.1:40001   10.0.0.2:5001               6     4.20 kB   16.8 kb~",
    );
    const colored = renderTerminal(s, { width: 120, height: 40, color: true });
    // deno-lint-ignore no-control-regex
    const plain = colored.replace(/\x1b\[[0-9;]*m/g, "");
    assert.ok(colored.startsWith("\x1b[1mTraffic Watcher"));
    assert.equal(
      plain.split("\n")[8],
      renderTerminal(s, { width: 120, height: 40 }).split("\n")[8],
    );
    const empty = renderTerminal(new TrafficAggregator({ device: "lo" }).snapshot(Date.now()), {
      width: 100,
      height: 50,
    });
    assert.match(empty, /\(no IP traffic yet\)/);
    assert.match(empty, /\(no flows yet\)/);
    assert.match(empty, /Drops {3}n\/a/);
  });
});

describe("traffic watcher: web handler", () => {
  const get = (w: WatcherWeb, path: string, host = "127.0.0.1:8080", method = "GET"): Response =>
    w.handle(new Request(`http://${host}${path}`, { method, headers: { host } }));

  test("the page: self-contained, with a strict content policy", async () => {
    const w = new WatcherWeb({
      device: "<eth0>",
      windowSeconds: 120,
      allowedHosts: LOOPBACK_HOSTS,
    });
    const r = get(w, "/");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(r.headers.get("content-security-policy")!, /default-src 'none'/);
    assert.match(r.headers.get("content-security-policy")!, /connect-src 'self'/);
    const html = await r.text();
    assert.ok(!/https?:\/\//.test(html), "no absolute URL in the page");
    assert.ok(!/\ssrc=/.test(html), "no external script or image");
    assert.match(html, /<title>Traffic Watcher: &lt;eth0&gt;<\/title>/);
    assert.match(html, /<canvas id="chart-bits"/);
    assert.match(html, /new EventSource\("events"\)/);
    assert.match(html, /data-window="120"/);
  });

  test("routes, methods and the Host guard", async () => {
    const w = new WatcherWeb({ device: "lo", windowSeconds: 60, allowedHosts: LOOPBACK_HOSTS });
    assert.equal(get(w, "/", "evil.example:8080").status, 403);
    assert.equal(get(w, "/", "localhost:8080").status, 200);
    assert.equal(get(w, "/", "[::1]:8080").status, 200);
    assert.equal(get(w, "/nothing").status, 404);
    assert.equal(get(w, "/", undefined, "POST").status, 405);
    assert.equal(get(w, "/snapshot.json").status, 503);
    const { s } = firstSnapshot();
    w.publish(s);
    const r = get(w, "/snapshot.json");
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), JSON.parse(JSON.stringify(s)));
    const open = new WatcherWeb({ device: "lo", windowSeconds: 60, allowedHosts: null });
    assert.equal(get(open, "/", "192.0.2.1:8080").status, 200);
  });

  test("/events: the latest snapshot at once, each new one, then end", async () => {
    const w = new WatcherWeb({ device: "lo", windowSeconds: 60 });
    const { a, s } = firstSnapshot();
    w.publish(s);
    let longLived = false;
    const r = w.handle(new Request("http://127.0.0.1/events"), () => longLived = true);
    assert.ok(longLived, "marked long-lived (Bun's idle timeout is lifted for it)");
    assert.equal(r.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(w.clients, 1);
    const next = a.snapshot(T0 * 1000 + 3000);
    w.publish(next);
    w.close();
    assert.equal(w.clients, 0);
    const events = (await r.text()).split("\n\n").filter((e) => e !== "");
    assert.equal(events.length, 4);
    assert.equal(events[0], "retry: 2000");
    assert.deepEqual(JSON.parse(events[1].slice(6)), JSON.parse(JSON.stringify(s)));
    assert.equal(JSON.parse(events[2].slice(6)).time, T0 * 1000 + 3000);
    assert.equal(events[3], "event: end\ndata: {}");
    // A page connecting after the end gets the last snapshot and the end.
    const late = await w.handle(new Request("http://127.0.0.1/events")).text();
    assert.match(late, /event: end/);
  });
});

// ---------------------------------------------------------------------------------------------
// The real program on a veth pair.

const skip = netnsUnavailable() ?? false;
const watcher = join(repoRoot, "examples", "traffic_watcher.ts");
const injector = join(repoRoot, "tests", "fixtures", "traffic_watcher_inject.ts");

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `every` ms until it returns a value other than undefined, or throws. */
async function until<T>(
  what: string,
  limitMs: number,
  check: () => T | undefined | Promise<T | undefined>,
  every = 250,
): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(every);
  }
}

/** The command line that runs the watcher on the pair's namespace B end, with `args`. */
function watcherCommand(pair: VethPair, args: string[]): string[] {
  return ["ip", "netns", "exec", pair.nsB, ...runtimeCommand(watcher, [pair.ifB, ...args])];
}

/** Starts the injector in the pair's namespace A; resolves once it injects. */
async function inject(pair: VethPair, durationMs: number): Promise<ChildProcess> {
  const cmd = [
    "ip",
    "netns",
    "exec",
    pair.nsA,
    ...runtimeCommand(injector, [pair.ifA, pair.addrA, pair.addrB, String(durationMs)]),
  ];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => out += d);
  child.stderr!.setEncoding("utf8").on("data", (d: string) => err += d);
  try {
    await until("the injector", 10000, () => {
      if (out.includes("ready")) return true;
      if (child.exitCode !== null) throw new Error(`injector exited ${child.exitCode}: ${err}`);
      return undefined;
    }, 50);
  } catch (e) {
    kill(child);
    throw e;
  }
  return child;
}

function kill(child: ChildProcess | null): void {
  if (child !== null && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** The number in front of a unit in `text` (`21.9 kbit/s` -> 21900), or NaN. */
function bitRate(text: string): number {
  const m = /([\d.]+) ([kMG]?)bit\/s/.exec(text);
  return m
    ? Number(m[1]) * ({ "": 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]]
    : NaN;
}

describe("traffic watcher: terminal view in tmux", { skip }, () => {
  test(
    "shows the injected flows, nonzero rates and the protocol mix; Ctrl-C restores the terminal",
    {
      timeout: 60000,
    },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tw-tmux-"));
      const pair = createVethPair();
      const socket = join(dir, "socket"); // a server of its own, gone with the directory
      const tmux = (...args: string[]): string =>
        execFileSync("tmux", ["-S", socket, "-f", "/dev/null", ...args], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
      const pane = (): string => tmux("capture-pane", "-p", "-t", "tw");
      const flag = (name: string): string =>
        tmux("display-message", "-p", "-t", "tw", `#{${name}}`).trim();
      let source: ChildProcess | null = null;
      try {
        const cmd = watcherCommand(pair, ["--interval", "1", "--top", "5", "--duration", "55"]);
        // The shell survives Ctrl-C (its trap) to print the watcher's exit status.
        const shell = `trap : INT; ${
          cmd.map(quote).join(" ")
        }; echo "[watcher exited $?]"; sleep 60`;
        tmux("-u", "new-session", "-d", "-x", "160", "-y", "50", "-s", "tw", shell);
        await until(
          "the watcher's screen",
          15000,
          () => pane().includes("Traffic Watcher |") || undefined,
        );
        assert.equal(flag("alternate_on"), "1", "on the alternate screen");
        assert.equal(flag("cursor_flag"), "0", "cursor hidden");

        source = await inject(pair, 15000);
        const udpFlow = new RegExp(
          `^UDP\\s+${pair.addrA.replaceAll(".", "\\.")}:40001\\s+${
            pair.addrB.replaceAll(".", "\\.")
          }:5001\\s`,
          "m",
        );
        const screen = await until("the injected flows on screen", 15000, () => {
          const text = pane();
          const rate = /^Rate\s+(.*?bit\/s)\s+([\d.,]+) pkt\/s/m.exec(text);
          return udpFlow.test(text) && rate && bitRate(rate[1]) > 0 &&
              /^TCP\s+\S+:40002/m.test(text)
            ? text
            : undefined;
        });
        const lines = screen.split("\n");
        assert.match(lines[0], new RegExp(`^Traffic Watcher \\| ${pair.ifB} \\| filter: none`));
        // Rates: the injector sends 2 x 1000 + 300 bytes every 20 ms (about 920 kbit/s, 150 pkt/s)
        const rate = /^Rate\s+(.*?bit\/s)\s+([\d.,]+) pkt\/s/m.exec(screen)!;
        assert.ok(bitRate(rate[1]) > 100_000, `bit rate ${rate[1]}`);
        assert.ok(Number(rate[2].replaceAll(",", "")) > 20, `packet rate ${rate[2]}`);
        // The protocol mix: every kind injected has packets; nothing else does
        const row = (name: string): number => {
          const m = new RegExp(`^${name}\\s+[\\d.,]+\\s+\\S+ \\S*bit/s\\s+([\\d,]+)\\s`, "m").exec(
            screen,
          );
          assert.ok(m, `${name} row in\n${screen}`);
          return Number(m[1].replaceAll(",", ""));
        };
        for (const name of ["TCP", "UDP", "ICMP", "ARP"]) {
          assert.ok(row(name) > 0, `${name} packets`);
        }
        for (const name of ["ICMPv6", "other IPv4", "other IPv6", "other"]) {
          assert.equal(row(name), 0, name);
        }
        assert.ok(row("UDP") > row("TCP"), "two UDP frames for each TCP segment");
        const shares = /^IPv4 ([\d.]+)% {2}IPv6 ([\d.]+)% {2}non-IP ([\d.]+)% of bytes$/m.exec(
          screen,
        );
        assert.ok(shares, "the IP version line");
        const [v4, v6, other] = shares.slice(1).map(Number);
        assert.ok(v4 > 90 && v6 > 0 && other > 0, `IPv4 ${v4}%, IPv6 ${v6}%, non-IP ${other}%`);
        assert.ok(Math.abs(v4 + v6 + other - 100) < 0.25, "the shares add up");
        // Top flows: the 1000-byte UDP flow first, then TCP, IPv6 UDP and ICMP
        const flows = lines.slice(
          lines.findIndex((l) => l.startsWith("Top flows")) + 1,
        ).filter((l) => l);
        assert.match(flows[0], udpFlow);
        assert.match(
          flows[1],
          new RegExp(`^TCP\\s+${pair.addrA}:40002\\s+${pair.addrB}:8080\\s.*syn-sent`),
        );
        assert.ok(
          flows.some((l) => /^UDP\s+\[fd00::1\]:40003\s+\[fd00::2\]:6000\s/.test(l)),
          "IPv6 flow",
        );
        assert.ok(
          flows.some((l) => new RegExp(`^ICMP\\s+${pair.addrA}\\s+${pair.addrB}\\s`).test(l)),
          "ICMP flow",
        );
        assert.ok(bitRate(flows[0]) > 0, "the top flow has a rate");
        // Top talkers: the two addresses of the pair first
        const talkers = lines.slice(
          lines.findIndex((l) => l.startsWith("Top talkers")) + 1,
          lines.findIndex((l) => l.startsWith("Top flows")),
        );
        assert.deepEqual(
          talkers.slice(0, 2).map((l) => l.split(/\s+/)[0]).sort(),
          [pair.addrA, pair.addrB].sort(),
        );
        assert.match(screen, /^Drops {3}0 dropped, 0 by the interface, [\d,]+ received/m);

        tmux("send-keys", "-t", "tw", "C-c");
        const after = await until("the watcher to exit", 10000, () => {
          const text = pane();
          return /\[watcher exited \d+\]/.test(text) ? text : undefined;
        });
        assert.match(after, /\[watcher exited 0\]/, "a clean exit on SIGINT");
        assert.ok(!after.includes("Top flows"), "back on the normal screen");
        assert.equal(flag("alternate_on"), "0", "alternate screen left");
        assert.equal(flag("cursor_flag"), "1", "cursor shown again");
      } finally {
        kill(source);
        try {
          tmux("kill-server");
        } catch { /* already gone */ }
        pair.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("traffic watcher: web view in headless Chromium", { skip }, () => {
  test("live charts change while traffic flows; the top-flows table shows the top flow", {
    timeout: 60000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tw-web-"));
    const pair = createVethPair();
    let app: ChildProcess | null = null;
    let source: ChildProcess | null = null;
    let browser: Awaited<ReturnType<typeof chromium.launch>> | null = null;
    try {
      // The watcher binds 127.0.0.1 in namespace B, so the browser runs there too.
      const cmd = watcherCommand(pair, ["--web", "0", "--interval", "0.5", "--duration", "55"]);
      app = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
      const exited = new Promise<number | null>((r) => app!.on("exit", (code) => r(code)));
      let out = "";
      let err = "";
      app.stdout!.setEncoding("utf8").on("data", (d: string) => out += d);
      app.stderr!.setEncoding("utf8").on("data", (d: string) => err += d);
      const url = await until("the watcher's URL", 15000, () => {
        if (app!.exitCode !== null) throw new Error(`watcher exited ${app!.exitCode}: ${err}`);
        return /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
      }, 100);
      assert.match(
        out,
        new RegExp(
          `^Traffic Watcher on ${pair.ifB}: http://127\\.0\\.0\\.1:\\d+/ \\(Ctrl-C stops\\)`,
        ),
      );

      const wrapper = join(dir, "chromium");
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${pair.nsB} /usr/bin/chromium "$@"\n`);
      chmodSync(wrapper, 0o755);
      browser = await chromium.launch({
        executablePath: wrapper,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
        timeout: 20000,
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));

      source = await inject(pair, 20000);
      await page.goto(url, { timeout: 10000 });
      const client = `${pair.addrA}:40001`, server = `${pair.addrB}:5001`;
      await page.waitForFunction(
        ([c, s]) => {
          const row = document.querySelector("#flows tbody tr");
          return row?.querySelector(".client")?.textContent === c &&
            row?.querySelector(".server")?.textContent === s;
        },
        [client, server],
        { timeout: 15000 },
      );
      const sample = (): Promise<
        { image: string; samples: number; last: number; status: string }
      > =>
        page.evaluate(() => {
          const c = document.getElementById("chart-bits") as HTMLCanvasElement;
          return {
            image: c.toDataURL(),
            samples: Number(c.dataset.samples),
            last: Number(c.dataset.last),
            status: document.getElementById("status")!.textContent!,
          };
        });
      // Past the first interval of the injection: the full rate (about 920 kbit/s).
      await page.waitForFunction(
        () => Number(document.getElementById("chart-bits")!.dataset.last) > 100_000,
        null,
        { timeout: 10000 },
      );
      const first = await sample();
      await page.waitForFunction(
        (n) => Number(document.getElementById("chart-bits")!.dataset.samples) >= n + 3,
        first.samples,
        { timeout: 10000 },
      );
      const second = await sample();
      assert.equal(first.status, "live");
      assert.ok(second.samples >= first.samples + 3, "snapshots keep coming");
      assert.notEqual(second.image, first.image, "the chart changed");
      assert.ok(
        first.last > 100_000 && second.last > 100_000,
        `bit/s ${first.last}, ${second.last}`,
      );

      const top = await page.$$eval(
        "#flows tbody tr:first-child td",
        (tds) => tds.map((td) => td.textContent),
      );
      assert.deepEqual(top.slice(0, 3), ["UDP", client, server]);
      assert.ok(bitRate(top[5]!) > 0, `top flow rate ${top[5]}`);
      const flows = await page.$$eval(
        "#flows tbody tr",
        (trs) => trs.map((tr) => tr.children[1].textContent),
      );
      assert.ok(flows.includes(`${pair.addrA}:40002`), "the TCP flow is listed");
      const mix = await page.$$eval(
        "#protocols tbody tr",
        (trs) =>
          Object.fromEntries(
            trs.map((
              tr,
            ) => [
              tr.children[0].textContent,
              Number(tr.children[3].textContent!.replaceAll(",", "")),
            ]),
          ),
      );
      for (const name of ["TCP", "UDP", "ICMP", "ARP"]) {
        assert.ok(mix[name] > 0, `${name} in the mix`);
      }
      assert.equal(mix["other IPv4"], 0);
      const talkers = await page.$$eval(
        "#talkers tbody tr",
        (trs) => trs.map((tr) => tr.children[0].textContent),
      );
      assert.deepEqual(talkers.slice(0, 2).sort(), [pair.addrA, pair.addrB].sort());
      assert.match((await page.textContent("#bps"))!, /bit\/s$/);

      mkdirSync(join(repoRoot, "tests", "out"), { recursive: true });
      await page.screenshot({
        path: join(repoRoot, "tests", "out", "traffic_watcher.png"),
        fullPage: true,
      });

      const origin = new URL(url).origin;
      assert.ok(
        requests.length > 0 && requests.every((r) => r.startsWith(origin + "/")),
        requests.join(" "),
      );
      assert.deepEqual(errors, [], "no script errors");

      // SIGTERM: a clean exit, and the page is told.
      // (process.kill: Deno's ChildProcess.kill() reports the signal as the exit cause even
      // when the child handles it and exits normally.)
      process.kill(app.pid!, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => timer = setTimeout(() => r("timeout"), 10000)),
      ]);
      clearTimeout(timer);
      assert.equal(code, 0, `exit status (${err})`);
      await page.waitForFunction(
        () => document.getElementById("status")!.textContent === "stopped",
        null,
        {
          timeout: 10000,
        },
      );
    } finally {
      await browser?.close().catch(() => {});
      kill(source);
      kill(app);
      pair.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
