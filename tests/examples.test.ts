// The examples run as a user runs them: with this runtime, as a child process.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./_helpers.ts";
import { corpusDir, haveCorpus } from "./_helpers.ts";
import { netnsUnavailable } from "./_netns.ts";

function command(example: string, args: string[]): string[] {
  const file = join(repoRoot, "examples", example);
  return "Deno" in globalThis
    ? [
      process.execPath,
      "run",
      "--no-check",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      file,
      ...args,
    ]
    : [process.execPath, file, ...args];
}

function run(example: string, args: string[]): string {
  const [cmd, ...rest] = command(example, args);
  return execFileSync(cmd, rest, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 30000,
  });
}

interface IpLink {
  ifname: string;
  address?: string;
  link_type: string;
  addr_info: { family: string; local: string }[];
}

const rootSkip = netnsUnavailable() ?? false;

describe("examples", () => {
  const examples = readdirSync(join(repoRoot, "examples")).filter((f) =>
    f.endsWith(".ts") && !f.startsWith("_")
  );

  for (const ex of examples) {
    test(`${ex} --help`, () => {
      const out = run(ex, ["--help"]);
      assert.match(out, /Usage: |usage/i);
    });
  }

  test(
    "list_devices.ts prints lo with 127.0.0.1 and ::1, and each Ethernet device with its MAC and addresses",
    { skip: rootSkip },
    () => {
      const out = run("list_devices.ts", []);
      const lo = out.split(/\n(?=\d+\. )/).find((block) => /^\d+\. lo\b/m.test(block));
      assert.ok(lo, out);
      assert.match(lo, /ipv4 127\.0\.0\.1/);
      assert.match(lo, /ipv6 ::1/);
      const links: IpLink[] = JSON.parse(execFileSync("ip", ["-j", "addr"], { encoding: "utf8" }));
      for (const l of links.filter((x) => x.link_type === "ether" && x.addr_info.length > 0)) {
        const block = out.split(/\n(?=\d+\. )/).find((b) =>
          new RegExp(`^\\d+\\. ${l.ifname}\\b`, "m").test(b)
        );
        assert.ok(block, `${l.ifname} listed`);
        assert.ok(block.includes(`link ${l.address}`), `${l.ifname} MAC ${l.address}`);
        for (const a of l.addr_info) {
          assert.ok(block.includes(a.local), `${l.ifname} ${a.local}`);
        }
      }
    },
  );

  test(
    "read_file.ts prints every packet of a savefile",
    { skip: haveCorpus ? false : "no corpus" },
    () => {
      const out = run("read_file.ts", [join(corpusDir, "tcpdump/vrrp.pcap"), "--no-hex"]);
      const lines = out.trim().split("\n");
      assert.equal(lines[0], "EN10MB, snaplen 65535");
      assert.equal(lines.length, 1 + 165);
    },
  );

  test(
    "send_packet.ts sends the course's frame; a capture on lo sees it",
    { skip: rootSkip },
    async () => {
      const { openLive } = await import("../mod.ts");
      const cap = openLive("lo", { immediate: true, filter: "ether src 02:02:02:02:02:02" });
      const got = (async () => {
        for await (const p of cap) return p;
      })();
      const [cmd, ...rest] = command("send_packet.ts", ["lo", "--size", "100"]);
      await new Promise<void>((resolve, reject) => {
        const child = spawn(cmd, rest, { stdio: "ignore" });
        child.on("close", (code) => code === 0 ? resolve() : reject(new Error(`exit ${code}`)));
      });
      const timer = setTimeout(() => cap.close(), 10000);
      const p = await got;
      clearTimeout(timer);
      cap.close();
      assert.ok(p, "the frame was captured");
      assert.deepEqual([...p.data.subarray(0, 12)], [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
      assert.equal(p.length, 100);
      assert.equal(p.data[99], 99);
    },
  );

  test("build_and_send.ts: an ICMP echo and a UDP datagram that a capture on lo decodes", {
    skip: rootSkip,
  }, async () => {
    const { openLive } = await import("../mod.ts");
    const { decode } = await import("../src/decode/mod.ts");
    const cap = openLive("lo", { immediate: true, snaplen: 2048, filter: "icmp or udp port 9999" });
    const got: Uint8Array[] = [];
    const reading = (async () => {
      for await (const p of cap) {
        got.push(p.data);
        if (got.length === 2) break;
      }
    })();
    const [cmd, ...rest] = command("build_and_send.ts", ["lo"]);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cmd, rest, { stdio: "ignore" });
      child.on("close", (code) => code === 0 ? resolve() : reject(new Error(`exit ${code}`)));
    });
    const timer = setTimeout(() => cap.close(), 10000);
    await reading;
    clearTimeout(timer);
    cap.close();
    assert.equal(got.length, 2);
    const ping = decode(1, got[0]);
    assert.equal(ping.icmpv4?.icmpType, 8);
    assert.equal(ping.icmpv4?.checksumValid, true);
    assert.equal(ping.ipv4?.checksumValid, true);
    const dgram = decode(1, got[1]);
    assert.equal(dgram.udp?.dstPort, 9999);
    assert.equal(dgram.udp?.checksumValid, true);
  });

  test("convert.ts: pcap to pcapng with a filter, read back", {
    skip: haveCorpus ? false : "no corpus",
  }, async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { readPackets } = await import("../src/savefile/mod.ts");
    const dir = mkdtempSync(join(tmpdir(), "convert-"));
    try {
      const out = join(dir, "syn.pcapng");
      run("convert.ts", [
        join(corpusDir, "tcpdump/mptcp-v0.pcap"),
        out,
        "-q",
        "--filter",
        "tcp[13] & 2 != 0",
      ]);
      let n = 0;
      for await (const p of readPackets(out)) {
        assert.ok((p.data[14 + 20 + 13] & 2) !== 0);
        n++;
      }
      assert.ok(n > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
