// Counts leaf test cases in JUnit XML files written by `deno test --junit-path`
// and `bun test --reporter=junit`. Deno reports a describe() block (or a test
// with steps) as a test case of its own besides its steps ("group > step"):
// only leaves are counted, so that one failing test counts once.
// Usage: node .ci/junit_count.mjs LABEL=FILE... ; prints one line per file
// and, last, "N passed, N failed[, N skipped]". Exit 1 if any failed or a file is missing.
import { existsSync, readFileSync } from "node:fs";

const decode = (s) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

function cases(xml) {
  const out = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml));) {
    const attrs = m[1];
    const name = decode(/\bname="([^"]*)"/.exec(attrs)?.[1] ?? "");
    const cls = decode(/\bclassname="([^"]*)"/.exec(attrs)?.[1] ?? "");
    const body = m[3] ?? "";
    out.push({
      name,
      cls,
      failed: /<failure\b|<error\b/.test(body),
      skipped: /<skipped\b/.test(body),
    });
  }
  return out;
}

let passed = 0, failed = 0, skipped = 0, missing = 0;
const failures = [];
for (const arg of process.argv.slice(2)) {
  const [label, file] = arg.includes("=") ? arg.split(/=(.*)/s) : [arg, arg];
  if (!existsSync(file)) {
    console.log(`${label}: no report (${file})`);
    missing++;
    failed++;
    continue;
  }
  const all = cases(readFileSync(file, "utf8"));
  const names = new Set(all.map((c) => c.name));
  const leaves = all.filter((c) =>
    ![...names].some((n) => n !== c.name && n.startsWith(`${c.name} > `))
  );
  let p = 0, f = 0, s = 0;
  for (const c of leaves) {
    if (c.failed) {
      f++;
      failures.push(`${label}: ${c.cls ? c.cls + ": " : ""}${c.name}`);
    } else if (c.skipped) s++;
    else p++;
  }
  console.log(`${label}: ${p} passed, ${f} failed${s ? `, ${s} skipped` : ""}`);
  passed += p;
  failed += f;
  skipped += s;
}
if (failures.length) console.log(`failed:\n  ${failures.join("\n  ")}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || missing > 0 ? 1 : 0);
