// Library loading: candidates per OS, PCAP_LIBRARY, explicit paths, failure text.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { libraryCandidates } from "../ffi/loader.ts";
import { repoRoot, runtime } from "./_helpers.ts";

describe("library candidates", () => {
  const noEnv = (): string | undefined => undefined;

  test("Linux tries the versioned sonames first", () => {
    assert.deepEqual(libraryCandidates("linux", noEnv), [
      "libpcap.so.1",
      "libpcap.so.0.8",
      "libpcap.so",
    ]);
  });

  test("macOS", () => {
    assert.deepEqual(libraryCandidates("darwin", noEnv).slice(0, 2), [
      "libpcap.A.dylib",
      "libpcap.dylib",
    ]);
  });

  test("Windows tries absolute System32 paths (Npcap first) before a bare name", () => {
    const env = (n: string): string | undefined => n === "SystemRoot" ? "D:\\Win" : undefined;
    assert.deepEqual(libraryCandidates("windows", env), [
      "D:\\Win\\System32\\Npcap\\wpcap.dll",
      "D:\\Win\\System32\\wpcap.dll",
      "wpcap.dll",
    ]);
    assert.equal(libraryCandidates("windows", noEnv)[0], "C:\\Windows\\System32\\Npcap\\wpcap.dll");
  });

  test("an explicit path wins over PCAP_LIBRARY, which wins over the list", () => {
    const env = (n: string): string | undefined =>
      n === "PCAP_LIBRARY" ? "/env/libpcap.so" : undefined;
    assert.deepEqual(libraryCandidates("linux", env), ["/env/libpcap.so"]);
    assert.deepEqual(libraryCandidates("linux", env, "/explicit.so"), ["/explicit.so"]);
  });
});

function runScript(source: string, env: Record<string, string>): { out: string; code: number } {
  const dir = mkdtempSync(join(tmpdir(), "loader-"));
  const file = join(dir, "probe.ts");
  writeFileSync(file, source.replaceAll("MOD", JSON.stringify(join(repoRoot, "mod.ts"))));
  const args = runtime === "deno"
    ? ["run", "--no-check", "--allow-ffi", "--allow-read", "--allow-env", file]
    : [file];
  try {
    const out = execFileSync(process.execPath, args, {
      env: { ...process.env, ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { out, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number };
    return { out: `${err.stdout ?? ""}${err.stderr ?? ""}`, code: err.status ?? -1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("loading", () => {
  test("with PCAP_LIBRARY pointing nowhere, import succeeds and the first call throws naming the path", () => {
    const { out, code } = runScript(
      `import * as pcap from MOD;
console.log("imported");
try { pcap.listDevices(); console.log("no error"); }
catch (e) { console.log(e instanceof pcap.PcapError, e.code); console.log(e.message); }`,
      { PCAP_LIBRARY: "/nowhere/libpcap-missing.so" },
    );
    assert.equal(code, 0, out);
    assert.match(out, /^imported\ntrue LIBRARY_NOT_FOUND\n/);
    assert.match(out, /Could not load libpcap\. Tried:\n {2}\/nowhere\/libpcap-missing\.so: /);
    assert.match(out, /apt-get install libpcap0\.8/);
    assert.match(out, /Npcap/);
  });

  test("the default search finds the versioned soname (no libpcap-dev needed)", {
    skip: process.platform !== "linux" ? "Linux only" : false,
  }, () => {
    const { out, code } = runScript(
      `import { libraryInfo } from MOD; console.log(JSON.stringify(libraryInfo()));`,
      { PCAP_LIBRARY: "" },
    );
    assert.equal(code, 0, out);
    const info = JSON.parse(out);
    assert.match(info.path, /^libpcap\.so(\.1|\.0\.8)?$/);
    assert.match(info.version, /^libpcap version 1\./);
  });

  test("loadLibrary with an explicit path", () => {
    const { out, code } = runScript(
      `import { loadLibrary, PcapError } from MOD;
try { loadLibrary({ path: "/also/nowhere.so" }); } catch (e) { console.log(e.code, e.message.split("\\n")[1]); }`,
      {},
    );
    assert.equal(code, 0, out);
    assert.match(out, /^LIBRARY_NOT_FOUND {3}\/also\/nowhere\.so: /);
  });
});
