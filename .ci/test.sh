#!/usr/bin/env bash
# The whole Linux test suite on Deno and on Bun (run as root: live capture and
# network namespaces). Installs what it needs first (.ci/install.sh).
# Writes JUnit reports to tests/out/ and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash .ci/install.sh || { echo "install failed"; exit 1; }
OUT=tests/out
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== Deno: deno test --allow-all tests/"
node_modules/.bin/deno test --allow-all --junit-path="$OUT/deno.xml" tests/ 2>&1 |
  grep -vE '^\s*$' | grep -vE ' \.\.\. .*ok ' | tail -n 60
echo "== Bun: bun test"
node_modules/.bin/bun test --timeout 120000 --reporter=junit --reporter-outfile="$OUT/bun.xml" \
  2>&1 | grep -vE '^\(pass\)|^\s*$' | tail -n 60
node .ci/junit_count.mjs "deno=$OUT/deno.xml" "bun=$OUT/bun.xml"
