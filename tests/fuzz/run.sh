#!/usr/bin/env bash
# run.sh — builds the libFuzzer harnesses in tests/fuzz and runs each one.
#
#   SECONDS=60 bash tests/fuzz/run.sh [name...]    (or: SECONDS=60 make fuzz)
#
# FUZZ_JOBS harnesses run at once (default: one a core). `make test` runs
# every harness for FUZZ_SECONDS (default 30) through tests/run.sh.
#
# Each harness (date, entry, framer, cron, feed, http) is built with clang and
# -fsanitize=fuzzer,address,undefined against the core sources (all of
# core/*.c but main.c, the generated build/migrations.c, build/scripts.c
# and build/pages.c, and llhttp's C files), then run for SECONDS seconds (default 30) on its seed
# corpus and dictionary. New inputs go to build/fuzz/corpus/<name>; a crash
# is saved under tests/fuzz/crashes/<name>/. Prints the executions of each
# harness as a TAP line and exits non-zero if any of them crashed.
#
# As root, clang and the fuzzer runtime are installed with apt-get when
# missing; otherwise the command to install them is printed.

# Bash counts SECONDS up from whatever the environment gave it, so read the
# duration first, and only if it really came from the environment.
duration=$(printenv SECONDS || true)
unset SECONDS
duration=${duration:-30}
set -euo pipefail
case $duration in '' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number, not '$duration'" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
here=tests/fuzz
out=build/fuzz
all_names="date entry framer cron feed http tabular"
names=${*:-$all_names}
jobs=${FUZZ_JOBS:-$(nproc)}  # harnesses run at once

# --- toolchain -------------------------------------------------------------
pkgs="clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the fuzz harnesses need these Debian packages:$missing" >&2
    echo "install them with:  sudo apt-get install -y$missing" >&2
    exit 1
  fi
  echo "installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends $missing >&2 || {
    apt-get update >&2 && apt-get install -y --no-install-recommends $missing >&2
  }
fi
CLANG=${CLANG:-$(command -v clang || command -v clang-14 || true)}
[ -n "$CLANG" ] || { echo "run.sh: clang not found" >&2; exit 1; }

# --- build -----------------------------------------------------------------
if [ ! -f build/migrations.c ] || [ ! -f build/scripts.c ] || [ ! -f build/pages.c ]; then
  make vigil
fi

PKGS="lua5.4 libuv sqlite3 libcjson libxxhash libpcre2-8 libcurl libxml-2.0"
PKG_CFLAGS=$(pkg-config --cflags $PKGS)
PKG_LIBS="$(pkg-config --libs $PKGS) -lcsv" # libcsv ships no pkg-config file
LLHTTP_DIR=/usr/share/llhttp
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Icore -Ibuild -I/usr/share/include/llhttp $PKG_CFLAGS"
# llhttp's three C files (Debian's node-llhttp), each under a name of its own
mkdir -p "$out/llhttp"
for f in api http llhttp; do
  [ -f "$out/llhttp/llhttp_$f.c" ] || printf '#include "%s/%s.c"\n' "$LLHTTP_DIR" "$f" >"$out/llhttp/llhttp_$f.c"
done
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

mkdir -p "$out/obj"
objs=()
stale=()
for src in $(ls core/*.c | grep -v '^core/main\.c$') build/migrations.c build/scripts.c build/pages.c \
  "$out"/llhttp/llhttp_*.c; do
  obj=$out/obj/$(basename "${src%.c}").o
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find core -name '*.h' -newer "$obj" | head -1)" ]; then
    stale+=("$src")
  fi
  objs+=("$obj")
done
# Compile the stale objects on every core.
if [ ${#stale[@]} -gt 0 ]; then
  export CLANG CFLAGS SAN out
  printf '%s\n' "${stale[@]}" | xargs -P "$jobs" -I{} sh -c \
    'echo "CC {}"; $CLANG $CFLAGS $SAN -fsanitize=fuzzer-no-link -c {} -o "$out/obj/$(basename {} .c).o"'
fi
rm -f "$out/libvigil_fuzz.a"
ar rcs "$out/libvigil_fuzz.a" "${objs[@]}"

for name in $names; do
  [ -f "$here/fuzz_$name.c" ] || { echo "run.sh: no harness $here/fuzz_$name.c" >&2; exit 2; }
  echo "LINK fuzz_$name"
  $CLANG $CFLAGS $SAN -fsanitize=fuzzer -Wall -Wextra "$here/fuzz_$name.c" \
    "$out/libvigil_fuzz.a" $PKG_LIBS -lm -o "$out/fuzz_$name"
done

# --- run -------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# fuzz_one NAME: runs one harness for the duration; its log is build/fuzz/fuzz_NAME.log.
fuzz_one() {
  local name=$1 corpus=$out/corpus/$1 crashes=$here/crashes/$1 dict=()
  mkdir -p "$corpus" "$crashes"
  [ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
  echo "== fuzz_$name for ${duration}s"
  "$out/fuzz_$name" "$corpus" "$here/corpus/$name" "${dict[@]}" \
    -max_total_time="$duration" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$out/fuzz_$name.log" 2>&1
}

# Up to $jobs harnesses at once, each in its own process.
declare -A status
set -- $names
while [ $# -gt 0 ]; do
  batch=()
  while [ $# -gt 0 ] && [ ${#batch[@]} -lt "$jobs" ]; do batch+=("$1"); shift; done
  pids=()
  for name in "${batch[@]}"; do fuzz_one "$name" & pids+=($!); done
  for i in "${!batch[@]}"; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    status[${batch[$i]}]=$rc
  done
done

# The summary, one TAP line a harness (tests/run.sh counts them).
failed=0
summary=""
k=0
for name in $names; do
  k=$((k + 1))
  log=$out/fuzz_$name.log
  rc=${status[$name]}
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#')
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "fuzz_$name FAILED (exit $rc); log: $log" >&2
    grep -E '^==[0-9]+==ERROR|runtime error|SUMMARY:|deadly signal|Test unit written|^artifact_prefix|Base64' "$log" | head -20 >&2 || true
    summary+="not ok $k - fuzz_$name: exit $rc after ${execs:-?} executions (cov ${cov:-?}); see $log"$'\n'
  else
    summary+="ok $k - fuzz_$name: ${duration}s, ${execs:-?} executions (cov ${cov:-?}), no crash"$'\n'
  fi
  rmdir "$here/crashes/$name" 2>/dev/null || true
done
rmdir "$here/crashes" 2>/dev/null || true

echo
printf '%s' "$summary"
exit $failed
