/**
 * Network traffic per interval: the course's `tcptop`, with the statistics engine (WinPcap's
 * statistics mode where the library has it; on Linux the kernel counts, through an eBPF filter,
 * where bpf(2) is allowed; elsewhere counting with the filter in the kernel).
 * Prints bits per second and packets per second for each interval until Ctrl-C.
 *
 *   deno run --allow-ffi examples/traffic_stats.ts eth0 --filter tcp --interval 1000
 */
import { openStatistics } from "../src/statistics.ts";
import { args } from "./_common.ts";

const { values, positionals } = args(
  `
Usage: traffic_stats.ts DEVICE [--filter EXPR] [--interval MS]

Prints the bits/s and packets/s on DEVICE that pass the filter, once per interval.
  --filter EXPR    a BPF filter (default: every packet)
  --interval MS    interval in milliseconds (default 1000)
`,
  { filter: { type: "string" }, interval: { type: "string" } },
  1,
);

const interval = Number(values.interval ?? 1000);
if (!Number.isInteger(interval) || interval < 1) {
  throw new RangeError("--interval must be a positive integer");
}
const stats = openStatistics(positionals[0], {
  filter: values.filter as string | undefined,
  interval,
});
process.on("SIGINT", () => stats.close());
console.log(
  `${stats.native ? "statistics mode" : `counting (${stats.counter})`} on ${positionals[0]}` +
    (values.filter ? ` (filter: ${values.filter})` : "") + `, every ${interval} ms; Ctrl-C stops`,
);
let last = Date.now() - interval;
for await (const s of stats) {
  // The last sample (after Ctrl-C) covers less than a whole interval.
  const seconds = Math.max(s.timestamp - last, 1) / 1000;
  last = s.timestamp;
  const time = new Date(s.timestamp).toISOString().slice(11, 23);
  console.log(
    `${time}  BPS=${Math.round((s.bytes * 8) / seconds)}  PPS=${Math.round(s.packets / seconds)}`,
  );
}
