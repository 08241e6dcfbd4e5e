// Windows (Wine) legs deno-mingw / bun-mingw: a real Windows wpcap.dll (libpcap 1.10.3 built
// with mingw-w64, WinPcap extensions included) installed where Npcap puts it. The loader must
// find it by the Windows search rules, report it correctly, and use the windows-x64 ABI.
// Run through .ci/windows.sh (see .ci/windows-README.md), not by `deno test tests/`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { libraryInfo, listDevices, openDead, openLive, PcapError } from "../../mod.ts";
import { Abis, hostAbi } from "../../ffi/layout.ts";
import { pcapStructs } from "../../ffi/structs.ts";
import { repoRoot, runtime } from "../_helpers.ts";

const npcapPath = "C:\\windows\\System32\\Npcap\\wpcap.dll";

describe("mingw wpcap.dll: loading", () => {
  test("the leg is what it claims: Windows, x64, our DLL, no PCAP_LIBRARY", () => {
    assert.equal(process.env.PCAP_WPCAP_FLAVOR, "mingw");
    assert.equal(process.platform, "win32");
    assert.equal(process.arch, "x64");
    if (runtime === "deno") {
      // deno-lint-ignore no-explicit-any
      assert.equal((globalThis as any).Deno.build.os, "windows");
    }
    assert.ok(!process.env.PCAP_LIBRARY, "the default search is under test");
  });

  test("found by the Windows search rules: %SystemRoot%\\System32\\Npcap\\wpcap.dll", () => {
    const info = libraryInfo();
    assert.equal(info.path, npcapPath);
    assert.equal(info.runtime, runtime);
  });

  test("flavour libpcap, version 1.10.3 (not Wine's builtin, which says TPACKET_V3)", () => {
    const info = libraryInfo();
    assert.equal(info.version, "libpcap version 1.10.3");
    assert.equal(info.flavor, "libpcap");
  });

  test("features: the WinPcap extensions are there, the UNIX-only ones are not", () => {
    const { features, missing } = libraryInfo();
    assert.deepEqual(features, {
      init: true,
      immediateMode: true,
      timestampPrecision: true,
      selectableFd: false,
      remote: true,
      sendQueue: true,
      statisticsMode: true,
      statsEx: true,
      dumpAppend: true,
      openDead: true,
      memoryStreams: false,
    });
    assert.deepEqual([...missing].sort(), [
      "pcap_dump_fopen",
      // A macro for pcap_hopen_offline on Windows (a FILE * cannot cross C runtimes).
      "pcap_fopen_offline_with_tstamp_precision",
      "pcap_get_required_select_timeout",
      "pcap_get_selectable_fd",
      "pcap_set_protocol_linux",
    ]);
  });

  test("no live devices in this DLL: listDevices() is an empty list, not an error", () => {
    assert.deepEqual(listDevices(), []);
  });

  test("this DLL has no live capture: openLive is a PcapError with libpcap's text", () => {
    assert.throws(() => openLive("\\Device\\NPF_{nothing}"), (e: unknown) => {
      assert.ok(e instanceof PcapError, String(e));
      assert.equal(e.code, "ERROR");
      assert.equal(e.message, "pcap_create: live packet capture not supported on this system");
      return true;
    });
  });
});

describe("mingw wpcap.dll: host ABI", () => {
  test("windows-x64 is detected", () => {
    assert.equal(hostAbi, Abis["windows-x64"]);
    assert.equal(hostAbi.os, "windows");
    assert.equal(hostAbi.longSize, 4, "LLP64");
    assert.equal(hostAbi.pointerSize, 8);
  });

  test("pcap_pkthdr is 16 bytes (32-bit timeval), pcap_stat 24, AF_INET6 = 23", () => {
    const s = pcapStructs();
    assert.equal(s.timeval.size, 8);
    assert.equal(s.pcap_pkthdr.size, 16);
    assert.equal(s.pcap_pkthdr.offsetOf("caplen"), 8);
    assert.equal(s.pcap_pkthdr.offsetOf("len"), 12);
    assert.equal(s.pcap_stat.size, 24);
    assert.equal(hostAbi.af.inet, 2);
    assert.equal(hostAbi.af.inet6, 23);
    assert.equal(hostAbi.af.link, null);
    assert.equal(hostAbi.sockaddrHasLen, false);
    assert.equal(s.pcap_if.size, 40);
    assert.deepEqual(
      ["next", "name", "description", "addresses", "flags"].map((f) =>
        s.pcap_if.offsetOf(f as "next")
      ),
      [0, 8, 16, 24, 32],
    );
    assert.equal(s.sockaddr_in6.size, 28);
    assert.equal(s.sockaddr_in6.offsetOf("sin6_scope_id"), 24);
  });

  test("the DLL agrees: a dead handle's snaplen and link type round-trip through it", () => {
    using dead = openDead(105, { snaplen: 1234 });
    assert.equal(dead.linkType, 105);
    assert.equal(dead.linkTypeName, "IEEE802_11");
    assert.equal(dead.snaplen, 1234);
  });
});

/** Runs a script in a child runtime (process.execPath: deno.exe / bun.exe under Wine). */
function runScript(source: string, env: Record<string, string>): { out: string; code: number } {
  const dir = mkdtempSync(join(tmpdir(), "loader-"));
  const file = join(dir, "probe.ts");
  const mod = pathToFileURL(join(repoRoot, "mod.ts")).href;
  writeFileSync(file, source.replaceAll("MOD", JSON.stringify(mod)));
  const args = runtime === "deno"
    ? ["run", "--no-check", "--allow-ffi", "--allow-read", "--allow-env", file]
    : [file];
  try {
    const out = execFileSync(process.execPath, args, {
      env: { ...process.env, ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60000,
    });
    return { out: out.replace(/\r\n/g, "\n"), code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number };
    return {
      out: `${err.stdout ?? ""}${err.stderr ?? ""}`.replace(/\r\n/g, "\n"),
      code: err.status ?? -1,
    };
  } finally {
    // (Bun under Wine fails rmSync(dir, { recursive: true }) with EFAULT: remove one by one.)
    rmSync(file, { force: true });
    rmdirSync(dir);
  }
}

describe("mingw wpcap.dll: PCAP_LIBRARY in a child runtime", () => {
  test("pointing nowhere: import succeeds, the first call throws a PcapError naming the path", () => {
    const missing = "C:\\nowhere\\Npcap\\wpcap-missing.dll";
    const { out, code } = runScript(
      `import * as pcap from MOD;
console.log("imported");
try { pcap.listDevices(); console.log("no error"); }
catch (e) { console.log(e instanceof pcap.PcapError, e.code); console.log(e.message); }`,
      { PCAP_LIBRARY: missing },
    );
    assert.equal(code, 0, out);
    assert.match(out, /^imported\ntrue LIBRARY_NOT_FOUND\n/);
    assert.ok(
      out.includes(`Could not load libpcap. Tried:\n  ${missing}: `),
      `the message names ${missing}:\n${out}`,
    );
    assert.match(out, /Npcap/);
  });

  test("pointing at WinPcap's place (System32\\wpcap.dll) loads that file", () => {
    const compat = "C:\\windows\\System32\\wpcap.dll";
    const { out, code } = runScript(
      `import { libraryInfo } from MOD; console.log(JSON.stringify(libraryInfo()));`,
      { PCAP_LIBRARY: compat },
    );
    assert.equal(code, 0, out);
    const info = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.equal(info.path, compat);
    assert.equal(info.version, "libpcap version 1.10.3");
    assert.equal(info.features.sendQueue, true);
  });

  test("loadLibrary with an explicit path that does not exist", () => {
    const { out, code } = runScript(
      `import { loadLibrary } from MOD;
try { loadLibrary({ path: "Z:\\\\also\\\\nowhere.dll" }); console.log("loaded?"); }
catch (e) { console.log(e.code, e.message.split("\\n")[1]); }`,
      {},
    );
    assert.equal(code, 0, out);
    assert.match(out, /^LIBRARY_NOT_FOUND {3}Z:\\also\\nowhere\.dll: /);
  });
});
