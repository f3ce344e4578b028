#!/usr/bin/env bash
# run.sh — builds the libFuzzer harnesses in tests/fuzz and runs each one.
#
#   SECONDS=60 bash tests/fuzz/run.sh [name...]    (or: SECONDS=60 make fuzz)
#
# Each harness (date, entry, framer, cron, feed) is built with clang and
# -fsanitize=fuzzer,address,undefined against the core sources (all of
# core/*.c but main.c, plus the generated build/migrations.c and
# build/scripts.c), then run for SECONDS seconds (default 30) on its seed
# corpus and dictionary. New inputs go to build/fuzz/corpus/<name>; a crash
# is saved under tests/fuzz/crashes/<name>/. Prints the executions of each
# harness and exits non-zero if any of them crashed.
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
all_names="date entry framer cron feed"
names=${*:-$all_names}

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
if [ ! -f build/migrations.c ] || [ ! -f build/scripts.c ]; then
  make vigil
fi

PKGS="lua5.4 libuv sqlite3 libcjson libxxhash libpcre2-8 libcurl libxml-2.0"
PKG_CFLAGS=$(pkg-config --cflags $PKGS)
PKG_LIBS=$(pkg-config --libs $PKGS)
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Icore -Ibuild $PKG_CFLAGS"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

mkdir -p "$out/obj"
objs=()
for src in $(ls core/*.c | grep -v '^core/main\.c$') build/migrations.c build/scripts.c; do
  obj=$out/obj/$(basename "${src%.c}").o
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find core -name '*.h' -newer "$obj" | head -1)" ]; then
    echo "CC $src"
    $CLANG $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done
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
failed=0
summary=""
for name in $names; do
  corpus=$out/corpus/$name
  crashes=$here/crashes/$name
  log=$out/fuzz_$name.log
  mkdir -p "$corpus" "$crashes"
  dict=()
  [ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
  echo "== fuzz_$name for ${duration}s"
  set +e
  "$out/fuzz_$name" "$corpus" "$here/corpus/$name" "${dict[@]}" \
    -max_total_time="$duration" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#')
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  if [ $rc -ne 0 ]; then
    failed=1
    echo "fuzz_$name FAILED (exit $rc); log: $log" >&2
    grep -E '^==[0-9]+==ERROR|runtime error|SUMMARY:|deadly signal|Test unit written|^artifact_prefix|Base64' "$log" | head -20 >&2 || true
    summary+=$(printf '%-8s %12s execs  cov %-6s CRASH (%s)' "$name" "${execs:-?}" "${cov:-?}" "$log")$'\n'
  else
    summary+=$(printf '%-8s %12s execs  cov %-6s ok' "$name" "${execs:-?}" "${cov:-?}")$'\n'
  fi
  rmdir "$crashes" 2>/dev/null || true
done
rmdir "$here/crashes" 2>/dev/null || true

echo
echo "harness         executions"
printf '%s' "$summary"
exit $failed
