// Live capture on real interfaces: lo in this process, and a veth pair between
// two network namespaces created by the test (capture in one, inject in the
// other). Plus idle waits that must not block the event loop and must end at
// once on close() or abort, use after close, inject, and dumpers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LiveCapture, openDead, openLive, openOffline, type Packet, PcapError } from "../mod.ts";
import { createVethPair, frame, hex, netnsUnavailable, run, runtimeCommand } from "./_netns.ts";
import { idleWaitThenAbort, idleWaitThenClose, repoRoot } from "./_helpers.ts";

const skip = netnsUnavailable() ?? false;

const worker = join(repoRoot, "tests", "fixtures", "netns_worker.ts");

describe("live capture", { skip }, () => {
  test("veth pair between two namespaces: N injected frames arrive, bytes equal, stats agree", async () => {
    const pair = createVethPair();
    try {
      const n = 200;
      const frames = Array.from({ length: n }, (_, i) => frame(i, 60 + ((i * 97) % 1455)));
      let ready!: () => void;
      const isReady = new Promise<void>((r) => ready = r);
      const capture = run(
        [
          "ip",
          "netns",
          "exec",
          pair.nsB,
          ...runtimeCommand(worker, [
            "capture",
            pair.ifB,
            "ether proto 0x88b5",
            String(n),
            "15000",
          ]),
        ],
        (line) => line === "ready" && ready(),
      );
      await Promise.race([isReady, capture]);
      const injected = await run([
        "ip",
        "netns",
        "exec",
        pair.nsA,
        ...runtimeCommand(worker, ["inject", pair.ifA, ...frames.map(hex)]),
      ]);
      assert.deepEqual(JSON.parse(injected), { sent: n });
      const out = await capture;
      const result = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(result.frames.length, n, "every frame arrived once");
      assert.deepEqual(result.frames, frames.map(hex), "bytes equal, in order");
      assert.equal(result.stats.received, n, "pcap_stats received");
      assert.equal(result.stats.dropped, 0, "pcap_stats dropped");
    } finally {
      pair.destroy();
    }
  });

  test("lo: UDP datagrams sent by this process are captured while for await waits", async () => {
    const port = 40000 + (process.pid % 20000);
    const cap = openLive("lo", {
      immediate: true,
      snaplen: 2048,
      bufferSize: 8 << 20,
      filter: `udp and dst port ${port}`,
    });
    assert.ok(cap instanceof LiveCapture);
    assert.equal(cap.linkType, 1);
    // A receiver, so that no ICMP port-unreachable errors come back to the sender.
    const rx = createSocket("udp4");
    await new Promise<void>((r) => rx.bind(port, "127.0.0.1", () => r()));
    const sock = createSocket("udp4");
    const n = 50;
    const got: Packet[] = [];
    const reading = (async () => {
      for await (const p of cap) {
        got.push(p);
        if (got.length === n) break;
      }
    })();
    for (let i = 0; i < n; i++) {
      await new Promise<void>((r) => sock.send(`datagram ${i}`, port, "127.0.0.1", () => r()));
    }
    const timer = setTimeout(() => cap.close(), 10000);
    await reading;
    clearTimeout(timer);
    sock.close();
    rx.close();
    assert.equal(got.length, n);
    got.forEach((p, i) => {
      const payload = new TextDecoder().decode(p.data.subarray(14 + 20 + 8));
      assert.equal(payload, `datagram ${i}`);
      assert.equal(p.length, p.caplen);
      assert.ok(Math.abs(p.timestampMs - Date.now()) < 60000, "a current time stamp");
    });
    const stats = cap.stats();
    assert.ok(stats.received >= n);
    cap.close();
  });

  test("inject on lo is seen by a capture on lo", async () => {
    const cap = openLive("lo", { immediate: true, filter: "ether proto 0x88b5" });
    const f = frame(12345, 100);
    const reading = (async () => {
      for await (const p of cap) return p;
    })();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(cap.inject(f), f.length);
    const timer = setTimeout(() => cap.close(), 5000);
    const p = await reading;
    clearTimeout(timer);
    assert.ok(p);
    assert.deepEqual(p.data, f);
    cap.close();
  });

  test("columnBatches({ reuse: true }) on lo: every frame once, bytes equal, one recycled memory", async () => {
    using cap = openLive("lo", { timeout: 5, filter: "ether proto 0x88b6" });
    const n = 600;
    const frames = Array.from({ length: n }, (_, i) => frame(i, 60 + ((i * 53) % 1400), 0x88b6));
    // Sent in bursts while the loop runs, so that it reads several batches.
    let sent = 0;
    const sender = setInterval(() => {
      for (let k = 0; k < 50 && sent < n; k++) cap.inject(frames[sent++]);
      if (sent === n) clearInterval(sender);
    }, 4);
    const got: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const timer = setTimeout(() => cap.breakLoop(), 10_000);
    let batches = 0;
    for await (const batch of cap.columnBatches({ reuse: true })) {
      batches++;
      buffers.add(batch.bytes.buffer);
      for (let i = 0; i < batch.length; i++) got.push(hex(batch.data(i)));
      if (got.length >= n) break;
    }
    clearTimeout(timer);
    clearInterval(sender);
    assert.equal(got.length, n, "every frame once");
    assert.deepEqual(got, frames.map(hex), "bytes equal, in order");
    assert.ok(batches > 1, `${batches} batches`);
    // The records' memory is only replaced when a batch needs more room than it has.
    assert.ok(buffers.size < batches, `${buffers.size} buffers for ${batches} batches`);
    await assert.rejects(cap.columnBatches({ reuse: 1 as unknown as boolean }).next(), {
      name: "TypeError",
      message: "reuse must be a boolean",
    });
  });

  test("nextBatch({ reuse: true }) on lo: blocking reads get every frame; null on an idle timeout", () => {
    using cap = openLive("lo", { timeout: 20, filter: "ether proto 0x88b7" });
    const frames = Array.from({ length: 300 }, (_, i) => frame(i, 60 + ((i * 31) % 1400), 0x88b7));
    const t0 = performance.now();
    assert.equal(cap.nextBatch({ reuse: true }), null, "nothing yet: null after the read timeout");
    assert.ok(performance.now() - t0 < 1000);
    for (const f of frames) cap.inject(f);
    const got: string[] = [];
    for (let tries = 0; got.length < frames.length && tries < 200; tries++) {
      const batch = cap.nextBatch({ reuse: true });
      if (!batch) continue;
      for (let i = 0; i < batch.length; i++) got.push(hex(batch.data(i)));
    }
    assert.deepEqual(got, frames.map(hex));
  });

  test("idle wait: a 5 ms timer never gaps > 20 ms, and close() ends the wait within 50 ms", async () => {
    const cap = openLive("lo", { filter: "ether proto 0x88b6", timeout: 1000 });
    const { worstGap, closeMs } = await idleWaitThenClose(cap);
    assert.ok(worstGap <= 20, `largest timer gap ${worstGap.toFixed(1)} ms`);
    assert.ok(
      closeMs <= 50,
      `close() took ${closeMs.toFixed(1)} ms to end the wait`,
    );
    assert.equal(cap.closed, true);
  });

  test("idle wait: abort ends the wait within 50 ms with the signal's reason", async () => {
    const cap = openLive("lo", { filter: "ether proto 0x88b6", timeout: 1000 });
    const { error: err, abortMs } = await idleWaitThenAbort(cap);
    assert.ok(err instanceof Error && err.name === "AbortError", `got ${err}`);
    assert.ok(abortMs <= 50, `abort took ${abortMs.toFixed(1)} ms`);
    // The handle is still usable after an aborted iteration, and blocking again.
    assert.equal(cap.nonblocking, false);
    cap.close();
  });

  test("readable: a ReadableStream of packets; cancel stops reading", async () => {
    const cap = openLive("lo", { immediate: true, filter: "ether proto 0x88b5" });
    const reader = cap.readable.getReader();
    const pending = reader.read();
    await new Promise((r) => setTimeout(r, 50));
    cap.inject(frame(7, 64));
    const r = await pending;
    assert.equal(r.done, false);
    assert.deepEqual(r.value!.data, frame(7, 64));
    await reader.cancel();
    cap.close();
  });

  test("errors: no such device, and use after close never reaches libpcap", () => {
    assert.throws(() => openLive("no-such-dev0"), (e: unknown) => {
      assert.ok(e instanceof PcapError);
      assert.equal(e.code, "NO_SUCH_DEVICE");
      return true;
    });
    const cap = openLive("lo");
    cap.close();
    cap.close();
    for (
      const use of [
        () => cap.next(),
        () => cap.stats(),
        () => cap.inject(new Uint8Array(60)),
        () => cap.setFilter("tcp"),
        () => cap.linkType,
        () => cap.nonblocking,
      ]
    ) {
      assert.throws(use, (e: unknown) => e instanceof PcapError && e.code === "CLOSED");
    }
  });

  test("handle facts: link types, direction, nonblocking, snaplen, dispatch on idle", () => {
    using cap = openLive("lo", { snaplen: 1500, timeout: 10 });
    assert.equal(cap.snaplen, 1500);
    assert.ok(cap.linkTypes().includes(1));
    cap.setDirection("in");
    cap.nonblocking = true;
    assert.equal(cap.nonblocking, true);
    assert.equal(cap.next(), null);
    cap.setFilter("ether proto 0x88b6");
    assert.equal(cap.dispatch(() => assert.fail("no packet expected"), 10), 0);
    assert.throws(() => cap.setDirection("sideways" as "in"), {
      name: "TypeError",
      message: 'direction must be "inout", "in" or "out"',
    });
  });
});

describe("dumpers", () => {
  test("a dead handle's dumper writes packets that read back equal; append adds more", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dump-"));
    try {
      const path = join(dir, "out.pcap");
      const packets = Array.from({ length: 10 }, (_, i) => ({
        data: frame(i, 64 + i),
        seconds: 1700000000 + i,
        nanoseconds: i * 1000,
      }));
      {
        using dead = openDead(1, { snaplen: 65535 });
        using d = dead.dump(path);
        for (const p of packets.slice(0, 6)) d.write(p);
        d.flush();
        assert.equal(
          d.position,
          24 + packets.slice(0, 6).reduce((s, p) => s + 16 + p.data.length, 0),
        );
      }
      {
        using dead = openDead(1, { snaplen: 65535 });
        using d = dead.dump(path, { append: true });
        for (const p of packets.slice(6)) d.write(p);
      }
      const back: Packet[] = [];
      for await (const p of openOffline(path)) back.push(p);
      assert.equal(back.length, packets.length);
      back.forEach((p, i) => {
        assert.deepEqual(p.data, packets[i].data);
        assert.equal(p.seconds, packets[i].seconds);
        assert.equal(p.nanoseconds, packets[i].nanoseconds);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a nanosecond dead handle writes a nanosecond file", () => {
    const dir = mkdtempSync(join(tmpdir(), "dump-"));
    try {
      const path = join(dir, "ns.pcap");
      {
        using dead = openDead(1, { precision: "nano" });
        using d = dead.dump(path);
        d.write({ data: frame(1, 60), seconds: 5, nanoseconds: 123456789 });
      }
      using cap = openOffline(path, { precision: "nano" });
      const p = cap.next()!;
      assert.equal(p.seconds, 5);
      assert.equal(p.nanoseconds, 123456789);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
