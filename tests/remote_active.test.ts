// serveRemote in active mode (rpcapd's `-a host,port`): the server connects to a client
// waiting for it, then serves it as usual, and connects again when the session ends.
// Clients: this project's listenRemote (null and password authentication, TCP and UDP
// data channels, TLS), and libpcap's own active-mode client (pcap_remoteact_accept,
// then pcap_findalldevs_ex and pcap_open on rpcap://HOST/DEV) in a C program built here
// against the remote-enabled libpcap.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Packet } from "../mod.ts";
import {
  listenRemote,
  type RemoteCapture,
  type RemoteClient,
  RemoteError,
  serveRemote,
} from "../src/remote/mod.ts";
import {
  ensureRemoteLibpcap,
  freePort,
  notRoot,
  remotePrefix,
  selfSignedCert,
  sendUntil,
} from "./fixtures/remote_helpers.ts";
import { type LoopbackUdp, loopbackUdp } from "./_helpers.ts";

const skip = notRoot() ?? false;
const skipLib = skip || (ensureRemoteLibpcap() ?? false);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const payloadOf = (p: Packet): string => new TextDecoder().decode(p.data.subarray(42));

/** libpcap's active-mode client: accept, list, open, capture N packets, print them. */
const ACTIVE_CLIENT_C = String.raw`
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* active_client PORT DEVICE COUNT TIMEOUT_MS FILTER [USER PASS] */
int main(int argc, char **argv) {
  char errbuf[PCAP_ERRBUF_SIZE] = "", host[PCAP_BUF_SIZE] = "", source[PCAP_BUF_SIZE];
  struct pcap_rmtauth auth = {RPCAP_RMTAUTH_NULL, NULL, NULL}, *pauth = NULL;
  if (argc < 6) return 64;
  if (argc >= 8) {
    auth.type = RPCAP_RMTAUTH_PWD;
    auth.username = argv[6];
    auth.password = argv[7];
    pauth = &auth;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("listening\n");
  SOCKET s = pcap_remoteact_accept("127.0.0.1", argv[1], "127.0.0.1", host, pauth, errbuf);
  if (s == INVALID_SOCKET) { printf("error accept: %s\n", errbuf); return 1; }
  printf("accepted %s\n", host);
  snprintf(source, sizeof source, "rpcap://%s/", host);
  pcap_if_t *devs;
  if (pcap_findalldevs_ex(source, pauth, &devs, errbuf) != 0) {
    printf("error findalldevs: %s\n", errbuf);
    return 1;
  }
  for (pcap_if_t *d = devs; d; d = d->next) printf("device %s\n", d->name);
  pcap_freealldevs(devs);
  snprintf(source, sizeof source, "rpcap://%s/%s", host, argv[2]);
  pcap_t *p = pcap_open(source, 65535, 0, 20, pauth, errbuf);
  if (!p) { printf("error open: %s\n", errbuf); return 1; }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, argv[5], 1, PCAP_NETMASK_UNKNOWN) != 0 ||
      pcap_setfilter(p, &prog) != 0) {
    printf("error filter: %s\n", pcap_geterr(p));
    return 1;
  }
  printf("linktype %d\n", pcap_datalink(p));
  int want = atoi(argv[3]), got = 0;
  double end = now_ms() + atof(argv[4]);
  while (got < want && now_ms() < end) {
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(p, &h, &data);
    if (rc < 0) { printf("error next: %s\n", pcap_geterr(p)); break; }
    if (rc == 0) continue;
    printf("packet %u %u ", h->caplen, h->len);
    for (unsigned i = 0; i < h->caplen; i++) printf("%02x", data[i]);
    printf("\n");
    got++;
  }
  struct pcap_stat st;
  if (pcap_stats(p, &st) == 0) printf("stats %u %u\n", st.ps_recv, st.ps_drop);
  pcap_close(p);
  pcap_remoteact_close(host, errbuf);
  pcap_remoteact_cleanup();
  printf("done %d\n", got);
  return 0;
}
`;

/** Collects packets from a capture until `n` arrived or `ms` passed. */
async function take(cap: RemoteCapture, n: number, ms: number): Promise<Packet[]> {
  const got: Packet[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error("timeout")), ms);
  try {
    for await (const b of cap.batches({ signal: ac.signal })) {
      got.push(...b);
      if (got.length >= n) break;
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
  }
  return got;
}

describe("rpcap server in active mode", { skip }, () => {
  let udp: LoopbackUdp;
  let dport: number;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "netcap-active-"));
    udp = await loopbackUdp();
    dport = udp.port;
  });

  after(() => {
    udp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function send(n: number, tag: string): Promise<string[]> {
    const sent: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = `${tag} ${i} ${"=".repeat(i * 3)}`;
      sent.push(p);
      await udp.send(p);
      await sleep(2);
    }
    return sent;
  }

  async function acceptOne(
    listener: { accept(o?: { signal?: AbortSignal }): Promise<RemoteClient> },
  ): Promise<RemoteClient> {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(new Error("the server did not connect")), 10_000);
    try {
      return await listener.accept({ signal: ac.signal });
    } finally {
      clearTimeout(t);
    }
  }

  test("option checks: a host is needed; no listening socket", async () => {
    await assert.rejects(serveRemote({ nullAuth: true, active: { host: "" } }), TypeError);
    await assert.rejects(
      serveRemote({ nullAuth: true, active: { host: "127.0.0.1", port: 0 } }),
      RangeError,
    );
    // Nobody listens: the server keeps trying quietly until closed.
    const port = await freePort();
    const server = await serveRemote({
      nullAuth: true,
      active: { host: "127.0.0.1", port, retryMs: 20 },
    });
    assert.equal(server.active, true);
    assert.equal(server.port, port);
    await sleep(100);
    assert.equal(server.clients, 0);
    await server.close();
  });

  test("our listenRemote: null auth, device list, TCP and UDP capture byte-exact; reconnects after the session", async () => {
    const listener = await listenRemote({ port: 0, allow: ["127.0.0.1"] });
    const server = await serveRemote({
      nullAuth: true,
      devices: ["lo"],
      active: { host: "127.0.0.1", port: listener.port, retryMs: 50 },
    });
    try {
      const client = await acceptOne(listener);
      assert.equal(client.active, true);
      assert.equal(server.clients, 1);
      assert.deepEqual((await client.listDevices()).map((d) => d.name), ["lo"]);
      const cap = await client.open("lo", { filter: `udp dst port ${dport}`, timeout: 10 });
      await sleep(150);
      const sent = await send(20, "active-tcp");
      const got = await take(cap, 20, 8000);
      assert.deepEqual(got.map(payloadOf), sent);
      const st = await cap.stats();
      assert.equal(st.sent, 20);
      await cap.endCapture();
      await client.close();
      // The session ended: the server connects again; a UDP data channel this time.
      const again = await acceptOne(listener);
      const capU = await again.open("lo", {
        filter: `udp dst port ${dport}`,
        timeout: 10,
        transport: "udp",
      });
      await sleep(150);
      const sentU = await send(10, "active-udp");
      assert.deepEqual((await take(capU, 10, 8000)).map(payloadOf), sentU);
      await again.close();
    } finally {
      await server.close();
      await listener.close();
    }
    assert.equal(server.clients, 0);
  });

  test("our listenRemote: password authentication; wrong password refused; TLS", async () => {
    const listener = await listenRemote({
      port: 0,
      auth: { username: "alice", password: "pw-1" },
    });
    const server = await serveRemote({
      auth: { alice: "pw-1" },
      devices: ["lo"],
      active: { host: "127.0.0.1", port: listener.port, retryMs: 50 },
    });
    try {
      const client = await acceptOne(listener);
      const cap = await client.open("lo", { filter: `udp dst port ${dport}`, timeout: 10 });
      await sleep(150);
      const sent = await send(8, "active-pw");
      assert.deepEqual((await take(cap, 8, 8000)).map(payloadOf), sent);
      await client.close();
    } finally {
      await server.close();
      await listener.close();
    }

    // Wrong password: the server refuses it; the listener hands out nothing.
    const bad = await listenRemote({ port: 0, auth: { username: "alice", password: "nope" } });
    const server2 = await serveRemote({
      auth: { alice: "pw-1" },
      authFailureDelay: 10,
      active: { host: "127.0.0.1", port: bad.port, retryMs: 50 },
    });
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new RemoteError("none")), 600);
      await assert.rejects(bad.accept({ signal: ac.signal }), /none/);
    } finally {
      await server2.close();
      await bad.close();
    }

    // TLS: the server is the TLS server on the connections it makes.
    const { key, cert } = selfSignedCert(dir);
    const tlsListener = await listenRemote({ port: 0, tls: { ca: cert } });
    const server3 = await serveRemote({
      nullAuth: true,
      devices: ["lo"],
      tls: { key, cert },
      active: { host: "127.0.0.1", port: tlsListener.port, retryMs: 50 },
    });
    try {
      const client = await acceptOne(tlsListener);
      assert.equal(client.active, true);
      const cap = await client.open("lo", { filter: `udp dst port ${dport}`, timeout: 10 });
      await sleep(150);
      const sent = await send(8, "active-tls");
      assert.deepEqual((await take(cap, 8, 8000)).map(payloadOf), sent);
      await client.close();
    } finally {
      await server3.close();
      await tlsListener.close();
    }
  });

  /** Builds the C client once. */
  function buildClient(): string {
    const src = join(dir, "active_client.c");
    const bin = join(dir, "active_client");
    writeFileSync(src, ACTIVE_CLIENT_C);
    execFileSync("gcc", [
      "-O1",
      "-o",
      bin,
      src,
      `-I${remotePrefix}/include`,
      `-L${remotePrefix}/lib`,
      `-Wl,-rpath,${remotePrefix}/lib`,
      "-lpcap",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    return bin;
  }

  for (const auth of ["null", "password"] as const) {
    test(`libpcap's active client (pcap_remoteact_accept + pcap_open), ${auth} auth`, {
      skip: skipLib,
    }, async () => {
      const bin = buildClient();
      const port = await freePort();
      const creds = auth === "password" ? ["bob", "pw-2"] : [];
      const n = 12;
      const child = spawn(bin, [
        String(port),
        "lo",
        String(n),
        "15000",
        `udp dst port ${dport}`,
        ...creds,
      ], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (d: string) => out += d);
      const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
      let done = false;
      void exited.then(() => done = true);
      const server = await serveRemote({
        ...(auth === "password" ? { auth: { bob: "pw-2" } } : { nullAuth: true }),
        devices: ["lo"],
        active: { host: "127.0.0.1", port, retryMs: 50 },
      });
      try {
        const end = Date.now() + 10_000;
        while (!out.includes("linktype") && !done && Date.now() < end) await sleep(20);
        assert.match(out, /accepted 127\.0\.0\.1/, out);
        assert.match(out, /device rpcap:\/\/127\.0\.0\.1\/lo\n/, out);
        // libpcap starts the capture on its first read: send until it has its packets.
        const sent = await sendUntil(udp, `libpcap-active-${auth}`, () => done);
        assert.equal(await exited, 0, out);
        assert.match(out, /linktype 1\n/);
        assert.match(out, new RegExp(`done ${n}\\n`), out);
        const got = [...out.matchAll(/^packet (\d+) (\d+) ([0-9a-f]+)$/gm)].map((m) => {
          const bytes = new Uint8Array(m[3].match(/../g)!.map((x) => parseInt(x, 16)));
          assert.equal(Number(m[1]), bytes.length);
          assert.equal(Number(m[2]), bytes.length);
          return new TextDecoder().decode(bytes.subarray(42));
        });
        assert.equal(got.length, n);
        const first = sent.indexOf(got[0]);
        assert.ok(first >= 0, got[0]);
        assert.deepEqual(got, sent.slice(first, first + n), "consecutive datagrams, in order");
      } finally {
        child.kill();
        await server.close();
      }
    });
  }
});
