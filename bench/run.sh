#!/usr/bin/env bash
# Runs every benchmark section present (bench/*.sh other than this file). Each builds its
# own C baseline in the same run and prints ratios. Run as root (live capture, namespaces).
set -uo pipefail
cd "$(dirname "$0")/.."
for section in bench/*.sh; do
  case $section in bench/run.sh | bench/_*) continue ;; esac
  echo "=== $section ==="
  bash "$section"
done
