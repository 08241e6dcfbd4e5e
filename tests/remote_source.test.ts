// Source strings: parseSource / createSource against libpcap's own
// pcap_parsesrcstr / pcap_createsrcstr (the remote-enabled libpcap, called
// through this project's FFI in a child process), plus the pure-TS rules.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSource, parseSource, SourceTypeNumber } from "../src/remote/mod.ts";
import { ensureRemoteLibpcap, fixture, remoteLib, runFixture } from "./fixtures/remote_helpers.ts";

const long = "x".repeat(1100);

const parseCases: string[] = [
  "eth0",
  "lo",
  "",
  "eth0:1",
  "eth0:",
  "\\Device\\NPF_{12345678-ABCD}",
  "rpcap://",
  "rpcap://eth0",
  "rpcap://eth0:1",
  "rpcaps://eth0",
  "RPCAP://eth0",
  "rpcap://host/",
  "rpcap://host/eth0",
  "rpcap://host:2002/eth0",
  "rpcap://host:/eth0",
  "rpcap://:2002/eth0",
  "rpcap:///eth0",
  "rpcap://user@host:2003/eth0",
  "rpcap://user:pw@host/eth0",
  "rpcap://user@/eth0",
  "rpcap://a@b@host/eth0",
  "rpcap://[::1]/eth0",
  "rpcap://[::1]:2002/eth0",
  "rpcap://[fe80::1%eth0]:2002/lo",
  "rpcap://[]/eth0",
  "rpcap://[::1/eth0",
  "rpcap://[::1]x/eth0",
  "rpcap://[::1]:/eth0",
  "rpcap://[10.0.0.1]:2002/eth0",
  "rpcap://fe80::1/eth0",
  "rpcap://host/a/b/c",
  "rpcap://host/eth0:1",
  "rpcap://host:port:more/eth0",
  "rpcap://host",
  "rpcaps://host:2002/eth0",
  "rpcaps://[::1]/x",
  "RPCAP://host/eth0",
  "Rpcaps://[::1/eth0",
  "file://",
  "file:///tmp/a.pcap",
  "file://relative/a.pcap",
  "file://C:\\caps\\a.pcap",
  "FILE:///tmp/a.pcap",
  "File://[oops",
  "http://host/eth0",
  "http://[::1/eth0",
  "://host/eth0",
  "a:b://c/d",
  "rpcap:/host/eth0",
  "rpcap:host/eth0",
  "rpcap://host/" + long,
  "rpcap://" + long + "/eth0",
  "file://" + long,
  long,
  "rpcap://hôst/éth0",
  "rpcap://host/eth0?query#frag",
];

const createCases: {
  type: number;
  host: string | null;
  port: string | null;
  name: string | null;
}[] = [
  { type: 2, host: null, port: null, name: "/tmp/a.pcap" },
  { type: 2, host: "h", port: "1", name: "a.pcap" },
  { type: 2, host: null, port: null, name: "" },
  { type: 2, host: null, port: null, name: null },
  { type: 3, host: null, port: null, name: "eth0" },
  { type: 3, host: "ignored", port: "1", name: "lo" },
  { type: 3, host: null, port: null, name: null },
  { type: 4, host: "127.0.0.1", port: "2002", name: "lo" },
  { type: 4, host: "127.0.0.1", port: null, name: "lo" },
  { type: 4, host: "127.0.0.1", port: "", name: "" },
  { type: 4, host: "::1", port: "2002", name: "eth0" },
  { type: 4, host: "fe80::1%eth0", port: null, name: "eth0" },
  { type: 4, host: "[::1]", port: "1", name: "x" },
  { type: 4, host: "user@host", port: "7", name: "x" },
  { type: 4, host: "", port: "2002", name: "lo" },
  { type: 4, host: null, port: null, name: "lo" },
  { type: 4, host: "h", port: "1", name: long },
  { type: 1, host: "h", port: "1", name: "x" },
  { type: 5, host: "h", port: "1", name: "x" },
  { type: 0, host: null, port: null, name: null },
];

const typeNames: Record<number, "file" | "local" | "remote"> = {
  2: "file",
  3: "local",
  4: "remote",
};

describe("capture source strings", () => {
  test("parseSource: the documented forms", () => {
    assert.deepEqual(parseSource("rpcap://[::1]:2003/eth0"), {
      type: "remote",
      host: "::1",
      port: "2003",
      name: "eth0",
      tls: false,
    });
    assert.deepEqual(parseSource("rpcaps://host/lo"), {
      type: "remote",
      host: "host",
      port: "",
      name: "lo",
      tls: true,
    });
    assert.equal(parseSource("rpcap://eth0").type, "local");
    assert.equal(parseSource("file:///a").name, "/a");
    assert.throws(() => parseSource("rpcap://[::1/x"), {
      name: "RangeError",
      message: "IP-literal in URL doesn't end with ]",
    });
  });

  test("createSource: forms, tls, numbers, and libpcap's errors", () => {
    assert.equal(
      createSource({ type: "remote", host: "::1", port: 2002, name: "lo" }),
      "rpcap://[::1]:2002/lo",
    );
    assert.equal(
      createSource({ type: "remote", host: "h", name: "lo", tls: true }),
      "rpcaps://h/lo",
    );
    assert.equal(createSource({ type: "local", name: "eth0" }), "rpcap://eth0");
    assert.equal(createSource({ type: SourceTypeNumber.file, name: "/a" }), "file:///a");
    assert.throws(
      () => createSource({ type: "remote", name: "lo" }),
      /The host name cannot be NULL\./,
    );
    assert.throws(() => createSource({ type: "file" }), /The file name cannot be NULL\./);
    // round trip
    for (const s of ["rpcap://[::1]:2002/lo", "rpcap://h/x", "rpcaps://h:1/x", "file:///tmp/x"]) {
      const p = parseSource(s);
      assert.equal(
        createSource({ type: p.type, host: p.host, port: p.port, name: p.name, tls: p.tls }),
        s,
      );
    }
  });

  const why = ensureRemoteLibpcap();
  test(`agrees with libpcap on ${parseCases.length} parse and ${createCases.length} create cases`, {
    skip: why ?? false,
  }, async () => {
    const out = await runFixture(fixture("remote_libpcap.ts"), [
      remoteLib,
      "srcstr",
      JSON.stringify({ parse: parseCases, create: createCases }),
    ]);
    const { parsed, created } = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.equal(parsed.length, parseCases.length);
    let compared = 0;
    for (let i = 0; i < parseCases.length; i++) {
      const c = parseCases[i];
      const lib = parsed[i];
      let ours: unknown;
      try {
        const p = parseSource(c);
        ours = {
          ok: true,
          type: SourceTypeNumber[p.type],
          host: p.host,
          port: p.port,
          name: p.name,
        };
      } catch (e) {
        ours = { ok: false, error: (e as Error).message };
      }
      assert.deepEqual(ours, lib, `parse ${JSON.stringify(c.slice(0, 80))}`);
      compared++;
    }
    for (let i = 0; i < createCases.length; i++) {
      const c = createCases[i];
      let ours: unknown;
      try {
        ours = {
          ok: true,
          source: createSource({
            type: typeNames[c.type] ?? c.type,
            host: c.host,
            port: c.port,
            name: c.name,
          }),
        };
      } catch (e) {
        ours = { ok: false, error: (e as Error).message };
      }
      assert.deepEqual(ours, created[i], `create ${JSON.stringify(c).slice(0, 120)}`);
      compared++;
    }
    assert.ok(compared >= 40);
  });
});
