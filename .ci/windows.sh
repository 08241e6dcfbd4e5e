#!/usr/bin/env bash
# Runs test files under Wine with Deno and Bun for Windows, against two wpcap.dll builds.
#
# Usage: bash .ci/windows.sh OUT_DIR TESTFILE...      (TESTFILE: repo-relative, e.g. tests/x.test.ts)
#
# Legs (each writes OUT_DIR/<leg>.xml (JUnit) and OUT_DIR/<leg>.log):
#   deno-mingw, bun-mingw      our mingw-built wpcap.dll (WINEDLLOVERRIDES ...;wpcap=n)
#   deno-builtin, bun-builtin  Wine's builtin wpcap.dll (forwards to the host libpcap; lacks
#                              pcap_open_dead and the WinPcap extensions -- calling one aborts)
# Inside the tests: PCAP_TEST_LEG=<leg>, PCAP_WPCAP_FLAVOR=mingw|builtin; with a
# tests/windows/mingw_remote_* file, PCAP_TEST_RPCAP_PORT (an rpcap server on 127.0.0.1, below).
# Exit status: 0 once the environment is usable (test failures are only in the XML; when a runtime
# dies without writing JUnit, the files are re-run one by one and a file that dies again gets one
# synthetic failing testcase "<leg> <file> (process died)");
# 2 if the Wine environment cannot be set up; 64 on bad usage.
#
# Knobs (environment):
#   PCAP_WINDOWS_DIR      environment dir (default /tmp/pcap-windows; created by setup.sh)
#   PCAP_WINDOWS_LEGS     legs to run (default "deno-mingw bun-mingw deno-builtin bun-builtin")
#   PCAP_WINDOWS_TIMEOUT  seconds per leg (default 900)
#   PCAP_WINDOWS_CHECK=1  let Deno type-check (default --no-check; type checking is a Linux job)
#   PCAP_WINDOWS_VERBOSE=1  stream each leg's output instead of only its summary
# See .ci/windows-README.md for the findings behind this script.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: bash $0 OUT_DIR TESTFILE..." >&2
  exit 64
fi
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SETUP="$HERE/../../shared/tools/windows/setup.sh"
WINDIR=${PCAP_WINDOWS_DIR:-/tmp/pcap-windows}
LEGS=${PCAP_WINDOWS_LEGS:-"deno-mingw bun-mingw deno-builtin bun-builtin"}
LEG_TIMEOUT=${PCAP_WINDOWS_TIMEOUT:-900}
mkdir -p "$1" || exit 2
OUT=$(cd "$1" && pwd)
shift
FILES=("$@")

winpath() { printf 'Z:%s' "${1//\//\\}"; }
log() { printf '[windows.sh] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- environment (idempotent)
env_ok() {
  [ -f "$WINDIR/env.sh" ] && [ -f "$WINDIR/deno.exe" ] && [ -f "$WINDIR/bun.exe" ] &&
    [ -f "$WINDIR/wpcap.dll" ] && command -v wine >/dev/null && command -v python3 >/dev/null
}
T0=$SECONDS
mkdir -p "$(dirname "$WINDIR")" || exit 2
exec 9>"$WINDIR.lock" || exit 2
flock 9 # one setup at a time; concurrent runs share the prefix
if ! env_ok; then
  if [ ! -f "$SETUP" ]; then
    log "no Wine environment in $WINDIR and no setup script at $SETUP"
    exit 2
  fi
  log "setting up the Wine environment in $WINDIR (1-3 min; log: $OUT/setup.log)"
  if ! bash "$SETUP" "$WINDIR" >"$OUT/setup.log" 2>&1 9>&- || ! env_ok; then
    log "setup failed:"; tail -n 20 "$OUT/setup.log" >&2
    exit 2
  fi
fi
# shellcheck disable=SC1091
source "$WINDIR/env.sh"
export WINEDEBUG=-all NO_COLOR=1 RUST_BACKTRACE=0 # (a Rust backtrace of deno.exe under Wine is all <unknown>)

# Put our DLL where Windows looks for it: %SystemRoot%\System32\Npcap\wpcap.dll (Npcap's place,
# the loader's first choice) and %SystemRoot%\System32\wpcap.dll (WinPcap / Npcap compat mode, what
# a bare "wpcap.dll" finds). Overwriting Wine's system32 copy is harmless: without "wpcap=n" Wine
# still loads its builtin, even for a full path.
SYS32="$WINEPREFIX/drive_c/windows/system32"
for dst in "$SYS32/Npcap/wpcap.dll" "$SYS32/wpcap.dll"; do
  if ! cmp -s "$WPCAP_DLL" "$dst"; then
    { mkdir -p "$(dirname "$dst")" && cp "$WPCAP_DLL" "$dst.tmp.$$" && mv -f "$dst.tmp.$$" "$dst"; } ||
      { log "cannot place $dst"; exit 2; }
  fi
done

# Smoke test (also starts wineserver, which then lingers between the legs).
if ! ver=$(wine "$DENO_WIN" --version 2>&1 9>&- | head -1) || [[ $ver != deno* ]]; then
  log "deno.exe does not start under Wine: $ver"; exit 2
fi
if ! bver=$(wine "$BUN_WIN" --version 2>&1 9>&-) || [[ ! $bver =~ ^[0-9] ]]; then
  log "bun.exe does not start under Wine: $bver"; exit 2
fi
flock -u 9 && exec 9>&-
log "environment ready in $((SECONDS - T0))s ($ver, bun $bver)"

# ---------------------------------------------------------------- legs
# Writes a JUnit file with one failing testcase (runtime crashed / timed out before reporting).
synthetic_junit() { # xml name rc logfile
  python3 - "$@" <<'PY'
import sys, html
xml, name, rc, logf = sys.argv[1:5]
try:
    tail = open(logf, encoding="utf-8", errors="replace").read()[-4000:]
except OSError:
    tail = ""
msg = f"{name}: runtime exited with code {rc} without writing JUnit (crash, abort or timeout)"
open(xml, "w", encoding="utf-8").write(
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<testsuites name="{html.escape(name)}" tests="1" failures="1" errors="0">\n'
    f'  <testsuite name="{html.escape(name)}" tests="1" failures="1" errors="0">\n'
    f'    <testcase name="{html.escape(name)} (process died)" classname="windows.sh">\n'
    f'      <failure message="{html.escape(msg)}">{html.escape(tail)}</failure>\n'
    '    </testcase>\n  </testsuite>\n</testsuites>\n')
PY
}

# Merges JUnit files (their <testsuite> elements) into one.
merge_junit() { # out name in...
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
out, name, ins = sys.argv[1], sys.argv[2], sys.argv[3:]
root = ET.Element("testsuites", name=name)
for f in ins:
    r = ET.parse(f).getroot()
    root.extend([r] if r.tag == "testsuite" else list(r))
cases = list(root.iter("testcase"))
root.set("tests", str(len(cases)))
root.set("failures", str(sum(c.find("failure") is not None for c in cases)))
root.set("errors", str(sum(c.find("error") is not None for c in cases)))
ET.ElementTree(root).write(out, encoding="UTF-8", xml_declaration=True)
PY
}

# Prints "testcases=N failed=N skipped=N" and the failing testcase names of a JUnit file.
junit_summary() { # xml
  python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print(f"unreadable JUnit: {e}"); sys.exit(0)
cases = list(root.iter("testcase"))
failed = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
skipped = [c for c in cases if c.find("skipped") is not None]
print(f"testcases={len(cases)} failed={len(failed)} skipped={len(skipped)}")
for c in failed[:40]:
    print(f"  FAIL {c.get('classname', '')} :: {c.get('name', '')}")
if len(failed) > 40:
    print(f"  ... {len(failed) - 40} more")
PY
}

# Runs one runtime over some files; sets RC. Needs rt, leg, flavor, ovr.
run_tests() { # xml logfile file...
  local xml=$1 lg=$2 cmd f
  shift 2
  rm -f "$xml"
  case $rt in
    deno)
      local check=--no-check
      [ "${PCAP_WINDOWS_CHECK:-0}" = 1 ] && check=
      cmd=(wine "$DENO_WIN" test --allow-all $check "--junit-path=$(winpath "$xml")" "$@") ;;
    bun)
      local bfiles=()
      for f in "$@"; do # a bare name is a filter for bun test; ./name is a path
        case $f in /* | ./* | ../*) bfiles+=("$f") ;; *) bfiles+=("./$f") ;; esac
      done
      # bun cannot write its JUnit file to a Unix path under Wine (JUnitReportFailed, exit 0): use Z:\
      cmd=(wine "$BUN_WIN" test --reporter=junit "--reporter-outfile=$(winpath "$xml")" "${bfiles[@]}") ;;
  esac
  if [ "${PCAP_WINDOWS_VERBOSE:-0}" = 1 ]; then
    PCAP_TEST_LEG=$leg PCAP_WPCAP_FLAVOR=$flavor WINEDLLOVERRIDES=$ovr \
      timeout -k 10 "$LEG_TIMEOUT" "${cmd[@]}" 2>&1 | tee "$lg"
    RC=${PIPESTATUS[0]}
  else
    PCAP_TEST_LEG=$leg PCAP_WPCAP_FLAVOR=$flavor WINEDLLOVERRIDES=$ovr \
      timeout -k 10 "$LEG_TIMEOUT" "${cmd[@]}" >"$lg" 2>&1
    RC=$?
  fi
}

cd "$REPO" || exit 2
# tests/windows/mingw_remote_*: an rpcap server on the Linux side (ours, tests/fixtures/
# remote_serve.ts on the Linux Deno) serving lo to the Windows runtimes under Wine; they get its
# port in PCAP_TEST_RPCAP_PORT. Bounded by timeout(1), stopped when this script exits.
if [[ " ${FILES[*]} " == *mingw_remote_* ]]; then
  rpcap_out=$(mktemp)
  timeout -k 5 $((LEG_TIMEOUT * 4 + 60)) node_modules/.bin/deno run --allow-all --no-check \
    tests/fixtures/remote_serve.ts \
    '{"port":0,"nullAuth":true,"auth":{"wine":"wine-pw"},"devices":["lo"],"authFailureDelay":50}' \
    >"$rpcap_out" 2>&1 9>&- &
  rpcap_pid=$!
  trap 'kill "$rpcap_pid" 2>/dev/null; rm -f "$rpcap_out"' EXIT
  for _ in $(seq 200); do grep -q '"port"' "$rpcap_out" && break; sleep 0.05; done
  PCAP_TEST_RPCAP_PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$rpcap_out" | head -1)
  export PCAP_TEST_RPCAP_PORT
  [ -n "$PCAP_TEST_RPCAP_PORT" ] || log "the rpcap server did not start: $(cat "$rpcap_out")"
fi
for leg in $LEGS; do
  rt=${leg%%-*} flavor=${leg#*-}
  case $flavor in
    mingw) ovr='mscoree,mshtml=;wpcap=n' ;;
    builtin) ovr='mscoree,mshtml=' ;;
    *) log "unknown leg $leg"; continue ;;
  esac
  case $rt in deno | bun) ;; *) log "unknown leg $leg"; continue ;; esac
  xml="$OUT/$leg.xml" lg="$OUT/$leg.log" t=$SECONDS note=""
  echo "=== $leg"
  run_tests "$xml" "$lg" "${FILES[@]}"
  rc=$RC
  if [ ! -s "$xml" ]; then
    # The process died (a missing export aborts, a crash, a timeout): no JUnit at all. Run each
    # file on its own so the other files' results survive; a file that dies gets one failure.
    note=" (process died without JUnit"
    parts=()
    if [ ${#FILES[@]} -gt 1 ]; then
      note+="; re-ran file by file, logs in $OUT/$leg.d/"
      rm -rf "$OUT/$leg.d" && mkdir -p "$OUT/$leg.d"
      i=0
      for f in "${FILES[@]}"; do
        i=$((i + 1)) px="$OUT/$leg.d/$i.xml" pl="$OUT/$leg.d/$i.log"
        run_tests "$px" "$pl" "$f"
        if [ ! -s "$px" ]; then
          synthetic_junit "$px" "$leg $f" "$RC" "$pl"
          echo "    $f: process died (exit $RC)"; grep -m2 -E 'wine: (Unimplemented|Call from)' "$pl"
        fi
        parts+=("$px")
      done
    else
      synthetic_junit "$OUT/$leg.died.xml" "$leg ${FILES[0]}" "$rc" "$lg"
      parts+=("$OUT/$leg.died.xml")
    fi
    merge_junit "$xml" "$leg" "${parts[@]}"
    note+=")"
  fi
  echo "    exit $rc in $((SECONDS - t))s$note"
  if [ "$rt" = deno ]; then
    grep -E '^(ok|FAILED) \|' "$lg" | tail -1
  else
    grep -E '^ *[0-9]+ (pass|fail|skip|todo)$|^Ran ' "$lg" | tr -s ' \n' ' '; echo
  fi
  grep -m3 -E 'wine: (Unimplemented|Call from)|^error: |JUnitReportFailed' "$lg"
  junit_summary "$xml"
done
echo "=== JUnit files in $OUT; total $((SECONDS - T0))s"
exit 0
