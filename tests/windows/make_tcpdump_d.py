#!/usr/bin/env python3
# Regenerates tests/windows/tcpdump_d.json: `tcpdump -d -y EN10MB EXPR` (libpcap's own
# bpf_dump rendering) for every compilable expression of ../shared/corpus/filters.json.
# mingw_filters.wtest.ts compares BpfProgram.toString() with it, since Windows has no tcpdump.
# Run on Linux: python3 tests/windows/make_tcpdump_d.py
import json, os, subprocess, sys
here = os.path.dirname(os.path.abspath(__file__))
corpus = os.environ.get("SHARED_CORPUS") or os.path.join(here, "..", "..", "..", "shared", "corpus")
data = json.load(open(os.path.join(corpus, "filters.json"), encoding="utf-8"))
assert data["compile"]["dlt_name"] == "EN10MB" and data["compile"]["snaplen"] == 262144
version = subprocess.run(["tcpdump", "--version"], capture_output=True, text=True).stdout.splitlines()
out = {"generator": "tcpdump -d -y EN10MB EXPR", "tcpdump": version, "programs": {}}
for c in data["filters"]:
    if not c["ok"]:
        continue
    r = subprocess.run(["tcpdump", "-d", "-y", "EN10MB", c["expr"]], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tcpdump failed on {c['expr']!r}: {r.stderr}")
    out["programs"][c["expr"]] = r.stdout.rstrip("\n")
with open(os.path.join(here, "tcpdump_d.json"), "w", encoding="utf-8") as f:
    json.dump(out, f, indent=2, ensure_ascii=False)
    f.write("\n")
print(f"{len(out['programs'])} programs")
