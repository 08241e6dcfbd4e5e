// Fuzzing serveRemote: 100,000 mutated rpcap messages (REMOTE_FUZZ_MESSAGES) from
// several connections at once. The server must answer with errors and close
// connections, never crash, and keep serving a well-behaved client that
// captures all along.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { createSocket } from "node:dgram";
import { connectRemote, serveRemote } from "../src/remote/mod.ts";
import { Framer } from "../src/remote/protocol.ts";
import { notRoot } from "./fixtures/remote_helpers.ts";

const skip = notRoot() ?? false;
const TOTAL = Number(process.env.REMOTE_FUZZ_MESSAGES ?? 100000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** xorshift32, seeded: failures are reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function msg(type: number, value: number, payload: number[] | Uint8Array = []): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const out = new Uint8Array(8 + p.length);
  const v = new DataView(out.buffer);
  out[1] = type;
  v.setUint16(2, value);
  v.setUint32(4, p.length);
  out.set(p, 8);
  return out;
}

const te = new TextEncoder();
function authPwd(u: string, p: string): Uint8Array {
  const ub = te.encode(u), pb = te.encode(p);
  const out = new Uint8Array(8 + ub.length + pb.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 1);
  v.setUint16(4, ub.length);
  v.setUint16(6, pb.length);
  out.set(ub, 8);
  out.set(pb, 8 + ub.length);
  return msg(8, 0, out);
}
function filter(insns: number[][]): number[] {
  const out = new Uint8Array(8 + insns.length * 8);
  const v = new DataView(out.buffer);
  v.setUint16(0, 1);
  v.setUint32(4, insns.length);
  insns.forEach(([code, jt, jf, k], i) => {
    v.setUint16(8 + i * 8, code);
    out[10 + i * 8] = jt;
    out[11 + i * 8] = jf;
    v.setUint32(12 + i * 8, k);
  });
  return Array.from(out);
}
const acceptAll = filter([[0x06, 0, 0, 262144]]);
const startcap = (flags: number, port: number): Uint8Array => {
  const head = new Uint8Array(12);
  const v = new DataView(head.buffer);
  v.setUint32(0, 128);
  v.setUint32(4, 10);
  v.setUint16(8, flags);
  v.setUint16(10, port);
  return msg(4, 0, [...head, ...acceptAll]);
};

const seeds: Uint8Array[] = [
  msg(8, 0, [0, 0, 0, 0, 0, 0, 0, 0]),
  authPwd("fuzz", "pw"),
  authPwd("fuzz", "wrong"),
  msg(2, 0),
  msg(3, 0, Array.from(te.encode("lo"))),
  msg(3, 0, Array.from(te.encode("nosuchdev"))),
  startcap(0, 0),
  startcap(2, 9),
  startcap(4, 9),
  msg(5, 0, acceptAll),
  msg(5, 0, filter([[0x28, 0, 0, 12], [0x15, 0, 1, 0x800], [0x06, 0, 0, 65535], [0x06, 0, 0, 0]])),
  msg(5, 0, filter([[0x15, 200, 200, 0]])),
  msg(9, 0),
  msg(10, 0),
  msg(11, 0, [1, 0, 0, 0, 0, 0, 0, 10]),
  msg(11, 0, [0, 0, 0, 0, 0, 0, 0, 0]),
  msg(1, 3, Array.from(te.encode("client error"))),
  msg(7, 0, new Array(40).fill(1)),
  msg(0x88, 0, [0, 0, 0, 0, 0xa1, 0xb2, 0xc3, 0xd4]),
  msg(6, 0),
];

/** Cheap valid requests after authentication. */
const valid: Uint8Array[] = [
  msg(9, 0),
  msg(10, 0),
  msg(5, 0, acceptAll),
  msg(11, 0, new Array(8).fill(0)),
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function mutate(r: () => number): Uint8Array {
  const base = seeds[Math.floor(r() * seeds.length)];
  let m = base.slice();
  const ops = 1 + Math.floor(r() * 3);
  for (let k = 0; k < ops; k++) {
    const op = Math.floor(r() * 9);
    if (m.length < 8 && op >= 1 && op <= 5) continue; // header fields need a header
    const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
    switch (op) {
      case 0: // flip random bytes
        for (let i = 0; i < 1 + r() * 4; i++) {
          m[Math.floor(r() * m.length)] ^= 1 << Math.floor(r() * 8);
        }
        break;
      case 1: // random type
        m[1] = Math.floor(r() * 256);
        break;
      case 2: // random version
        m[0] = r() < 0.5 ? 1 : Math.floor(r() * 256);
        break;
      case 3: // plen smaller than the payload
        if (m.length > 8) v.setUint32(4, Math.floor(r() * (m.length - 8)));
        break;
      case 4: // plen larger (the rest arrives as the next messages)
        v.setUint32(4, (m.length - 8) + 1 + Math.floor(r() * 64));
        break;
      case 5: // huge plen
        v.setUint32(4, 0xffffffff - Math.floor(r() * 1000));
        break;
      case 6: { // truncate
        m = m.slice(0, Math.floor(r() * m.length));
        break;
      }
      case 7: { // append garbage
        const g = new Uint8Array(1 + Math.floor(r() * 100)).map(() => Math.floor(r() * 256));
        const n = new Uint8Array(m.length + g.length);
        n.set(m);
        n.set(g, m.length);
        m = n;
        break;
      }
      case 8: // random value field / inner length fields
        if (m.length >= 16) v.setUint16(8 + Math.floor(r() * 4) * 2, Math.floor(r() * 65536));
        else if (m.length >= 4) v.setUint16(2, Math.floor(r() * 65536));
        break;
    }
  }
  return m;
}

/** One fuzz connection: optional valid auth, then a burst of mutated messages. */
function burst(
  port: number,
  r: () => number,
  count: number,
): Promise<{ sent: number; closedByServer: boolean; errors: number; replies: number }> {
  return new Promise((resolve) => {
    const s: Socket = connect({ port, host: "127.0.0.1" });
    const framer = new Framer(1 << 20);
    let errors = 0;
    let replies = 0;
    let closedByServer = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ sent: count, closedByServer, errors, replies });
    };
    const timer = setTimeout(finish, 250);
    s.on("error", () => finish());
    s.on("data", (d: Uint8Array) => {
      framer.push(d);
      for (let m = framer.take(); m; m = framer.take()) {
        replies++;
        if (m.type === 1) errors++;
      }
    });
    s.on("end", () => {
      closedByServer = true;
      finish();
    });
    s.on("connect", () => {
      const parts: Uint8Array[] = [];
      const roll = r();
      if (roll < 0.6) parts.push(seeds[0]);
      else if (roll < 0.9) parts.push(authPwd("fuzz", "pw"));
      if (r() < 0.3) parts.push(msg(3, 0, Array.from(te.encode("lo"))));
      // Mutated messages among valid ones, so that the server gets deep into sessions.
      for (let i = 0; i < count; i++) {
        if (r() < 0.5) parts.push(valid[Math.floor(r() * valid.length)]);
        parts.push(mutate(r));
      }
      s.write(concat(parts));
    });
  });
}

describe("rpcap server fuzzing", { skip }, () => {
  test(`${TOTAL} mutated messages (among as many valid ones): no crash, errors and closes, a capturing client keeps working`, async () => {
    const internal: Error[] = [];
    const server = await serveRemote({
      port: 0,
      nullAuth: true,
      auth: { fuzz: "pw", keeper: "keeper-pw" },
      devices: ["lo"],
      authFailureDelay: 0,
      maxClients: 256,
      maxCaptures: 6,
      dataTimeout: 300,
      serverOpenedData: { udp: false, tcp: false },
      onError: (e) => internal.push(e),
    });
    const rx = createSocket("udp4");
    const tx = createSocket("udp4");
    await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
    const dport = rx.address().port;
    const keeper = await connectRemote({
      host: "127.0.0.1",
      port: server.port,
      auth: { username: "keeper", password: "keeper-pw" },
    });
    const cap = await keeper.open("lo", { filter: `udp dst port ${dport}`, timeout: 10 });
    let keeperGot = 0;
    const reading = (async () => {
      for await (const b of cap.batches()) keeperGot += b.length;
    })();
    let keeperSent = 0;
    let stopTraffic = false;
    const traffic = (async () => {
      while (!stopTraffic) {
        await new Promise<void>((r) =>
          tx.send(`keep ${keeperSent}`, dport, "127.0.0.1", () => r())
        );
        keeperSent++;
        await sleep(20);
      }
    })();
    try {
      const r = rng(Number(process.env.REMOTE_FUZZ_SEED ?? 0x5eed1234));
      let sent = 0, closedByServer = 0, errorReplies = 0, replies = 0, connections = 0;
      const started = Date.now();
      const workers = Array.from({ length: 8 }, async () => {
        while (sent < TOTAL) {
          const n = 1 + Math.floor(r() * 12);
          sent += n;
          const res = await burst(server.port, r, n);
          connections++;
          if (res.closedByServer) closedByServer++;
          errorReplies += res.errors;
          replies += res.replies;
        }
      });
      await Promise.all(workers);
      const ms = Date.now() - started;
      console.log(
        `fuzz: ${sent} messages on ${connections} connections in ${ms} ms; ` +
          `${closedByServer} closed by the server; ${replies} replies, ${errorReplies} of them errors`,
      );
      assert.ok(sent >= TOTAL);
      assert.ok(closedByServer > connections / 4, "malformed input closes connections");
      assert.deepEqual(internal.map((e) => e.message), [], "no internal errors");

      // The well-behaved client kept capturing throughout.
      stopTraffic = true;
      await traffic;
      await sleep(300);
      const st = await cap.stats();
      assert.ok(keeperSent > 10);
      assert.equal(keeperGot, keeperSent, "every keeper datagram arrived");
      assert.equal(st.sent, keeperSent);

      // A new client still works, and the fuzz sessions are all gone.
      for (let i = 0; i < 50 && server.clients > 1; i++) await sleep(100);
      const fresh = await connectRemote({
        host: "127.0.0.1",
        port: server.port,
        auth: { username: "fuzz", password: "pw" },
      });
      assert.deepEqual((await fresh.listDevices()).map((d) => d.name), ["lo"]);
      await fresh.close();
      for (let i = 0; i < 50 && (server.clients > 1 || server.captures > 1); i++) await sleep(100);
      assert.equal(server.clients, 1, "only the keeper is left");
      assert.equal(server.captures, 1, "only the keeper's capture runs");
    } finally {
      stopTraffic = true;
      await traffic;
      await keeper.close();
      await reading;
      rx.close();
      tx.close();
      await server.close();
    }
  });
});
