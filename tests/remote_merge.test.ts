// mergeRemote over three rpcap servers in three network namespaces (two of ours, one
// libpcap rpcapd), each serving the veth end inside its namespace; the merged stream
// goes into ONE pcapng file (the pure-TypeScript PcapngWriter), one interface per remote
// device, checked with tshark and capinfos: three interfaces, every injected frame once,
// byte-exact, records in time-stamp order. Then one server is killed mid-capture: the
// merge reports it (onSourceError) and goes on with the other two.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LiveCapture, openLive, type Packet } from "../mod.ts";
import { PcapngWriter } from "../src/savefile/mod.ts";
import { connectRemote, mergeRemote, type RemoteCapture } from "../src/remote/mod.ts";
import {
  ensureRemoteLibpcap,
  hex,
  notRoot,
  startOurServer,
  startRpcapd,
  stopChild,
  testFrame,
} from "./fixtures/remote_helpers.ts";

const skip = notRoot() ?? ensureRemoteLibpcap() ??
  (hasTool("tshark") && hasTool("capinfos") ? false : "tshark / capinfos not installed");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hasTool(name: string): boolean {
  try {
    execFileSync(name, ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** A namespace with a veth pair to the root namespace: `eth1` inside, `rootIf` outside. */
interface Host {
  ns: string;
  rootIf: string;
  nsAddr: string;
  destroy(): void;
}

function createHost(i: number): Host {
  const tag = `rm${process.pid % 100000}m${i}`;
  const rootIf = `${tag}r`;
  const net = `10.237.${((process.pid % 80) * 3 + i) % 250}`;
  ip("netns", "add", tag);
  const destroy = (): void => {
    try {
      ip("link", "del", rootIf);
    } catch { /* gone with the namespace */ }
    try {
      ip("netns", "del", tag);
    } catch { /* gone */ }
  };
  try {
    ip("link", "add", rootIf, "type", "veth", "peer", "name", `${tag}p`);
    ip("link", "set", `${tag}p`, "netns", tag);
    ip("-n", tag, "link", "set", `${tag}p`, "name", "eth1");
    ip("addr", "add", `${net}.1/24`, "dev", rootIf);
    ip("-n", tag, "addr", "add", `${net}.2/24`, "dev", "eth1");
    execFileSync("sysctl", ["-qw", `net.ipv6.conf.${rootIf}.disable_ipv6=1`]);
    execFileSync("ip", [
      "netns",
      "exec",
      tag,
      "sysctl",
      "-qw",
      "net.ipv6.conf.eth1.disable_ipv6=1",
    ]);
    ip("link", "set", rootIf, "up");
    ip("-n", tag, "link", "set", "eth1", "up");
    ip("-n", tag, "link", "set", "lo", "up");
  } catch (e) {
    destroy();
    throw e;
  }
  return { ns: tag, rootIf, nsAddr: `${net}.2`, destroy };
}

interface TsharkRecord {
  iface: number;
  epoch: string;
  hex: string;
}

/** The file as tshark reads it: interface id, time stamp, bytes of every record. */
function tsharkRecords(file: string): { records: TsharkRecord[]; names: string[] } {
  const out = execFileSync("tshark", ["-r", file, "-T", "json", "-x"], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const list = JSON.parse(out) as { _source: { layers: Record<string, unknown> } }[];
  const names: string[] = [];
  const records = list.map((e) => {
    const layers = e._source.layers as { [k: string]: unknown };
    const frame = layers.frame as { [k: string]: unknown };
    const idText = frame["frame.interface_id"] as string;
    const tree = frame["frame.interface_id_tree"] as { [k: string]: string } | undefined;
    const iface = Number(idText);
    if (tree?.["frame.interface_name"]) names[iface] = tree["frame.interface_name"];
    const raw = layers.frame_raw as string[] | string;
    return {
      iface,
      epoch: frame["frame.time_epoch"] as string,
      hex: Array.isArray(raw) ? raw[0] : raw,
    };
  });
  return { records, names };
}

/** "1700000000.123456000" (tshark) and a packet's time stamp, as nanoseconds. */
const epochNs = (s: string): bigint => {
  const [a, b = ""] = s.split(".");
  return BigInt(a) * 1_000_000_000n + BigInt((b + "000000000").slice(0, 9));
};

describe("mergeRemote over three namespaces into one pcapng file", { skip }, () => {
  const hosts: Host[] = [];
  const servers: ChildProcess[] = [];
  let dir: string;
  const kinds = ["ours", "ours", "rpcapd"] as const;
  const port = 2002; // each namespace has its own port space

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "netcap-merge3-"));
    for (let i = 0; i < 3; i++) hosts.push(createHost(i));
    for (let i = 0; i < 3; i++) {
      const h = hosts[i];
      servers.push(
        kinds[i] === "ours"
          ? (await startOurServer({
            hostname: h.nsAddr,
            port,
            nullAuth: true,
            devices: ["eth1"],
          }, h.ns)).child
          : await startRpcapd(["-n", "-b", h.nsAddr, "-p", String(port)], port, { ns: h.ns }),
      );
    }
  });

  after(async () => {
    for (const s of servers) await stopChild(s);
    for (const h of hosts) h.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("3 interfaces, every frame once, byte-exact, in time-stamp order; a killed server is reported and the others go on", async () => {
    const caps: RemoteCapture[] = [];
    const injectors: LiveCapture[] = hosts.map((h) => openLive(h.rootIf, { snaplen: 65535 }));
    const file = join(dir, "merged.pcapng");
    const writer = await PcapngWriter.open(file, { section: { userApplication: "merge test" } });
    const failures: { source: number; error: unknown }[] = [];
    try {
      for (const h of hosts) {
        const client = await connectRemote({ host: h.nsAddr, port });
        caps.push(await client.open("eth1", { filter: "ether proto 0x88b5", timeout: 10 }));
      }
      for (const [i, c] of caps.entries()) {
        const id = writer.addInterface({
          linkType: c.linkType,
          name: `rpcap://${hosts[i].nsAddr}:${port}/eth1`,
          description: `${kinds[i]} in ${hosts[i].ns}`,
          snaplen: 65535,
        });
        assert.equal(id, i);
      }
      const merged: { source: number; packet: Packet }[] = [];
      let wake = null as (() => void) | null;
      const consumer = (async () => {
        for await (
          const m of mergeRemote(caps, {
            reorderMs: 400,
            onSourceError: (error, source) => {
              failures.push({ source, error });
              wake?.();
            },
          })
        ) {
          merged.push(m);
          const w = writer.writePacket({
            interfaceId: m.source,
            data: m.packet.data,
            seconds: m.packet.seconds,
            nanoseconds: m.packet.nanoseconds,
            length: m.packet.length,
          });
          if (w) await w;
          wake?.();
        }
      })();
      const until = async (ok: () => boolean, ms: number, what: string): Promise<void> => {
        const end = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 100);
          });
        }
      };
      await sleep(300);

      // Phase 1: 3 x 25 frames, round robin over the three links, 2 ms apart: distinct
      // time stamps whose order is the sending order.
      const sent: { iface: number; frame: Uint8Array }[] = [];
      let seq = 0;
      const send = (iface: number): void => {
        const f = testFrame(seq, 60 + ((seq * 131) % 900));
        seq++;
        assert.equal(injectors[iface].inject(f), f.length);
        sent.push({ iface, frame: f });
      };
      for (let round = 0; round < 25; round++) {
        for (let i = 0; i < 3; i++) {
          send(i);
          await sleep(2);
        }
      }
      await until(() => merged.length >= sent.length, 15_000, "phase 1 frames");

      // Phase 2: kill our server of namespace 1 (no goodbye: its process is gone).
      servers[1].kill("SIGKILL");
      await until(() => failures.length > 0, 10_000, "the failure report");
      assert.equal(failures.length, 1);
      assert.equal(failures[0].source, 1);
      assert.match(String((failures[0].error as Error).message), /terminated|closed|reset/i);
      for (let round = 0; round < 15; round++) {
        for (const i of [0, 2]) {
          send(i);
          await sleep(2);
        }
      }
      await until(() => merged.length >= sent.length, 15_000, "phase 2 frames");
      await sleep(200); // nothing more should come
      await caps[0].close();
      await caps[2].close();
      await consumer;
      await writer.close();

      // What the merge produced, then what tshark reads from the file.
      assert.equal(merged.length, sent.length);
      const { records, names } = tsharkRecords(file);
      assert.equal(records.length, sent.length, "every frame once");
      assert.deepEqual(
        records.map((r) => `${r.iface} ${r.hex}`),
        sent.map((s) => `${s.iface} ${hex(s.frame)}`),
        "byte-exact, on the interface of its namespace, in sending order",
      );
      const times = records.map((r) => epochNs(r.epoch));
      for (let i = 1; i < times.length; i++) {
        assert.ok(times[i] > times[i - 1], `record ${i} after record ${i - 1}`);
      }
      assert.deepEqual(
        times,
        merged.map((m) => m.packet.timestampNs),
        "time stamps as captured by the servers",
      );
      assert.deepEqual(names, hosts.map((h) => `rpcap://${h.nsAddr}:${port}/eth1`));
      const perIface = [0, 1, 2].map((i) => records.filter((r) => r.iface === i).length);
      assert.deepEqual(perIface, [40, 25, 40]);
      const info = execFileSync("capinfos", ["-M", file], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      assert.match(info, /pcapng/);
      assert.match(info, /Number of interfaces in file:\s+3\b/);
      assert.match(info, new RegExp(`Number of packets:\\s+${sent.length}\\b`));
      for (const n of [40, 25, 40]) assert.match(info, new RegExp(`Number of packets = ${n}\\b`));
    } finally {
      for (const c of caps) await c.close().catch(() => {});
      for (const j of injectors) j.close();
      await writer.close().catch(() => {});
    }
  });
});
