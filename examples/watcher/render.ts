/**
 * The Traffic Watcher's terminal view: a pure function from a snapshot to the text of one
 * screen (no escape sequences unless `color` is set, and then only whole-line attributes).
 *
 * @module
 */
import type { WatcherSnapshot } from "./aggregate.ts";
import {
  formatBits,
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatPps,
  formatShare,
} from "./format.ts";

/** Options of {@link renderTerminal}. */
export interface RenderOptions {
  /** Columns (at least 40 are used). */
  readonly width: number;
  /** Lines; the output never has more. */
  readonly height: number;
  /** Bold title and reverse-video table headers (ANSI SGR). Default false. */
  readonly color?: boolean;
}

interface Column {
  readonly title: string;
  readonly width: number;
  readonly left?: boolean;
}

const SPARKS = "▁▂▃▄▅▆▇█";

/** Pads or cuts `text` to exactly `width` columns (a cut ends in `~`). */
function fit(text: string, width: number, left = true): string {
  if (width <= 0) return "";
  if (text.length > width) return width === 1 ? "~" : text.slice(0, width - 1) + "~";
  return left ? text.padEnd(width) : text.padStart(width);
}

function row(columns: readonly Column[], cells: readonly string[]): string {
  return columns.map((c, i) => fit(cells[i] ?? "", c.width, c.left === true)).join("  ").trimEnd();
}

function header(columns: readonly Column[]): string {
  return row(columns, columns.map((c) => c.title));
}

/** A sparkline of `values` (the last `width` of them), scaled to their maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(Math.max(0, values.length - width));
  const max = Math.max(0, ...shown);
  return shown.map((v) =>
    max > 0 && v > 0 ? SPARKS[Math.min(7, Math.floor((v / max) * 7.999))] : " "
  ).join("");
}

/**
 * One screen of the watcher for `snapshot`: every line at most `width` columns, at most
 * `height` lines, joined with `\n`. The top talkers and top flows get the rows left over
 * (as many as the snapshot has, fewer on a short screen).
 */
export function renderTerminal(snapshot: WatcherSnapshot, options: RenderOptions): string {
  const s = snapshot;
  const width = Math.max(40, Math.floor(options.width));
  const height = Math.max(1, Math.floor(options.height));
  const bold = (t: string): string => options.color ? `\x1b[1m${t}\x1b[0m` : t;
  const inverse = (t: string): string => options.color ? `\x1b[7m${t.padEnd(width)}\x1b[0m` : t;
  const lines: string[] = [];
  const add = (text: string, style?: (t: string) => string): void => {
    const cut = text.length > width ? fit(text, width) : text;
    lines.push(style ? style(cut) : cut);
  };

  const right = `up ${formatDuration(s.uptime)}`;
  const title = `Traffic Watcher | ${s.device || "?"} | filter: ${s.filter ?? "none"}`;
  add(fit(title, Math.max(1, width - right.length - 1)) + " " + right, bold);
  add("─".repeat(width));
  const label = (t: string): string => t.padEnd(8);
  add(
    label("Rate") + fit(formatBits(s.bitsPerSecond), 14) +
      fit(`${formatPps(s.packetsPerSecond)} pkt/s`, 16) +
      "Peak  " + fit(formatBits(s.peakBitsPerSecond), 14) +
      fit(`${formatPps(s.peakPacketsPerSecond)} pkt/s`, 16) +
      `Interval ${s.interval.toFixed(1)} s`,
  );
  add(
    label("Total") + fit(formatBytes(s.totalBytes), 14) +
      fit(`${formatCount(s.totalPackets)} packets`, 16) +
      `Flows ${formatCount(s.activeFlows)} active, ${formatCount(s.flowsSeen)} seen, ` +
      `${formatCount(s.flowsEvicted)} evicted`,
  );
  add(
    label("Drops") +
      (s.stats === null
        ? "n/a"
        : `${formatCount(s.stats.dropped)} dropped, ${
          formatCount(s.stats.interfaceDropped)
        } by the interface, ${formatCount(s.stats.received)} received`),
  );
  const peak = s.history.reduce((m, h) => Math.max(m, h.bitsPerSecond), 0);
  const scale = ` max ${formatBits(peak)}`;
  add(
    label("bit/s") +
      sparkline(s.history.map((h) => h.bitsPerSecond), width - 8 - scale.length).padEnd(
        width - 8 - scale.length,
      ) + scale,
  );
  add("");

  const protoColumns: Column[] = [
    { title: "Protocol", width: 10, left: true },
    { title: "pkt/s", width: 9 },
    { title: "bit/s", width: 12 },
    { title: "Packets", width: 12 },
    { title: "Bytes", width: 10 },
    { title: "Share", width: 6 },
  ];
  add(header(protoColumns), inverse);
  const barWidth = Math.max(0, Math.min(40, width - 69 - 2));
  for (const p of s.protocols) {
    const bar = s.totalBytes > 0 ? "█".repeat(Math.round((p.bytes / s.totalBytes) * barWidth)) : "";
    add(
      row(protoColumns, [
        p.name,
        formatPps(p.packetsPerSecond),
        formatBits(p.bitsPerSecond),
        formatCount(p.packets),
        formatBytes(p.bytes),
        formatShare(p.bytes, s.totalBytes),
      ]) + (bar ? "  " + bar : ""),
    );
  }
  add(
    `IPv4 ${formatShare(s.ipBytes.ipv4, s.totalBytes)}  IPv6 ${
      formatShare(s.ipBytes.ipv6, s.totalBytes)
    }  non-IP ${
      formatShare(s.totalBytes - s.ipBytes.ipv4 - s.ipBytes.ipv6, s.totalBytes)
    } of bytes`,
  );

  // The rest of the screen: two tables, each with a blank line, a header and its rows.
  const spare = height - lines.length - 4;
  const talkerRows = Math.max(0, Math.min(s.talkers.length || 1, Math.floor(spare / 2)));
  const flowRows = Math.max(0, Math.min(s.flows.length || 1, spare - talkerRows));

  const hostWidth = Math.max(15, Math.min(39, width - 71));
  const talkerColumns: Column[] = [
    { title: "Top talkers", width: hostWidth, left: true },
    { title: "Sent", width: 10 },
    { title: "Received", width: 10 },
    { title: "Total", width: 10 },
    { title: "bit/s", width: 12 },
    { title: "Packets", width: 12 },
  ];
  add("");
  add(header(talkerColumns), inverse);
  if (s.talkers.length === 0 && talkerRows > 0) add("(no IP traffic yet)");
  for (const t of s.talkers.slice(0, talkerRows)) {
    add(row(talkerColumns, [
      t.address,
      formatBytes(t.bytesSent),
      formatBytes(t.bytesReceived),
      formatBytes(t.bytes),
      formatBits(t.bitsPerSecond),
      formatCount(t.packets),
    ]));
  }

  const endpointWidth = Math.max(15, Math.min(47, Math.floor((width - 79) / 2)));
  const flowColumns: Column[] = [
    { title: "Top flows", width: 9, left: true },
    { title: "Client", width: endpointWidth, left: true },
    { title: "Server", width: endpointWidth, left: true },
    { title: "Packets", width: 12 },
    { title: "Bytes", width: 10 },
    { title: "bit/s", width: 12 },
    { title: "State", width: 12, left: true },
  ];
  add("");
  add(header(flowColumns), inverse);
  if (s.flows.length === 0 && flowRows > 0) add("(no flows yet)");
  for (const f of s.flows.slice(0, flowRows)) {
    // ICMP's "ports" are the echo identifier: shown as bare addresses.
    const ports = f.protocol === "TCP" || f.protocol === "UDP";
    add(row(flowColumns, [
      f.protocol,
      formatEndpoint(f.client, ports ? f.clientPort : 0),
      formatEndpoint(f.server, ports ? f.serverPort : 0),
      formatCount(f.packets),
      formatBytes(f.bytes),
      formatBits(f.bitsPerSecond),
      f.state,
    ]));
  }
  return lines.slice(0, height).join("\n");
}
