// Helpers for the savefile tests (not part of the package).
import { execFile, execFileSync, spawnSync } from "node:child_process";

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** True when tshark runs. */
export const haveTshark: boolean = has("tshark");
/** True when tcpdump runs. */
export const haveTcpdump: boolean = has("tcpdump");

/** One frame as tshark reports it. */
export interface TsharkFrame {
  time: string;
  caplen: number;
  len: number;
  interfaceId: number;
  comment: string;
  encap: string;
}

/** Result of reading a file with tshark. */
export interface TsharkResult {
  frames: TsharkFrame[];
  /** True when tshark said it does not support the file's link type. */
  unsupported: boolean;
  stderr: string;
}

const TSHARK_ARGS = (path: string): string[] => [
  "-r",
  path,
  "-n",
  "-T",
  "fields",
  "-E",
  "separator=\t",
  "-e",
  "frame.time_epoch",
  "-e",
  "frame.cap_len",
  "-e",
  "frame.len",
  "-e",
  "frame.interface_id",
  "-e",
  "frame.comment",
  "-e",
  "frame.encap_type",
];

/** Packet frames of a file as tshark reads them (custom-block pseudo-frames left out). */
export function tshark(path: string): TsharkResult {
  const r = spawnSync("tshark", TSHARK_ARGS(path), {
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 1 << 28,
  });
  // tshark exits non-zero on a truncated file but prints the frames before the cut.
  return parseTshark(r.stdout?.toString() ?? "", r.stderr?.toString() ?? "");
}

/** {@link tshark}, without blocking (so several can run at once). */
export function tsharkAsync(path: string): Promise<TsharkResult> {
  return new Promise((resolve) => {
    execFile("tshark", TSHARK_ARGS(path), { maxBuffer: 1 << 28 }, (_err, stdout, stderr) => {
      resolve(parseTshark(String(stdout ?? ""), String(stderr ?? "")));
    });
  });
}

function parseTshark(out: string, stderr: string): TsharkResult {
  const frames: TsharkFrame[] = [];
  for (const line of out.split("\n")) {
    if (!line) continue;
    const [time, caplen, len, iface, comment, encap] = line.split("\t");
    if (iface === "" && !encap) continue; // pcapng custom blocks etc.
    frames.push({
      time,
      caplen: Number(caplen),
      len: Number(len),
      interfaceId: iface === "" ? 0 : Number(iface),
      comment: comment ?? "",
      encap: encap ?? "",
    });
  }
  return { frames, unsupported: /doesn't support|unknown or unsupported/.test(stderr), stderr };
}

/** Frames only (see {@link tshark}). */
export function tsharkFrames(path: string): TsharkFrame[] {
  return tshark(path).frames;
}

/** `seconds.nnnnnnnnn`, as tshark prints `frame.time_epoch`. */
export function tsText(seconds: number, nanoseconds: number): string {
  return `${seconds}.${String(nanoseconds).padStart(9, "0")}`;
}
