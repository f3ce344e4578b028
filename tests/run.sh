#!/bin/sh
# Runs every test of vigil and sums them up.
# Usage: tests/run.sh BUILD_DIR   (the directory holding vigil and test_* binaries)
# Unit tests are cmocka binaries speaking TAP; end-to-end tests are the
# scripts tests/e2e/*.sh, which speak TAP too (see tests/e2e/lib.sh); with
# FUZZ_SECONDS set, the fuzz harnesses of tests/fuzz run last. The last
# line is "N passed, N failed"; the exit status is non-zero on any failure.
set -u
build=$(cd "${1:?usage: tests/run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Reads TAP from a finished test run and adds up its verdicts.
count() {
  name=$1 rc=$2
  ok=$(grep -c '^ok ' "$log")
  bad=$(grep -c '^not ok ' "$log")
  grep -E '^(not ok|# )' "$log" | grep -v '^# ok' | sed "s|^|  $name: |"
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "  $name: exited with status $rc"
    tail -n 20 "$log" | sed "s|^|  $name> |"
    bad=1
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  printf '%-28s %3d passed, %d failed  (%d s)\n' "$name" "$ok" "$bad" "$(($(date +%s) - started))"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "$build"/test_*; do
  [ -x "$t" ] || continue
  started=$(date +%s)
  CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
  count "$(basename "$t")" $?
done
for t in "$here"/e2e/test_*.sh; do
  [ -f "$t" ] || continue
  started=$(date +%s)
  VIGIL="$build/vigil" sh "$t" >"$log" 2>&1
  count "$(basename "$t" .sh)" $?
done
# The libFuzzer harnesses, each for FUZZ_SECONDS seconds (unset or 0: skipped);
# one TAP line a harness.
if [ "${FUZZ_SECONDS:-0}" -gt 0 ]; then
  started=$(date +%s)
  SECONDS=$FUZZ_SECONDS bash "$here/fuzz/run.sh" >"$log" 2>&1
  count fuzz $?
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
