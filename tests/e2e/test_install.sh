#!/bin/sh
# End-to-end: vigil installed, and as a system service.
#   - `make install DESTDIR PREFIX=/usr` (which builds the optimized ./vigil
#     when needed) puts every file in its place; the installed binary, run
#     from an empty directory, finds its shipped rules and tags a chronology
#     exactly as the checkout's binary does with the checkout's rules;
#   - the unit of an install under a prefix passes `systemd-analyze verify`;
#   - systemd's notify protocol, read from a datagram socket: READY=1 once the
#     Unix socket takes lines, STATUS= with the counts, RELOADING=1 then
#     READY=1 on SIGHUP, STOPPING=1 on SIGTERM, WATCHDOG=1 again and again;
#   - the man page renders without a warning, and names every long option
#     that `vigil --help` and each command's --help print;
#   - the bash completion completes commands, options and their values.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$E2E/../.." && pwd)
DEST=$T/dest

# need TOOL PACKAGE: whether TOOL is installed; when it is not, one failing
# check says which package brings it.
need() {
  if command -v "$1" >/dev/null 2>&1; then
    return 0
  fi
  fail "$1 is installed" "$1 is missing: install the Debian package $2 (make test-deps does)"
  return 1
}

# install_to LOG MAKE-ARG...: `make install` with the arguments, outside any
# make this test runs under.
install_to() {
  _log=$1
  shift
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$REPO" --no-print-directory install \
    SYSUSERS= "$@" >"$T/$_log" 2>&1
}

# ---- make install ----

if install_to install.log DESTDIR="$DEST" PREFIX=/usr; then
  ok "make install DESTDIR=... PREFIX=/usr"
else
  fail "make install DESTDIR=... PREFIX=/usr" "$(tail -n 20 "$T/install.log")"
fi
missing=""
for f in usr/bin/vigil usr/share/vigil/rules/events.lua usr/share/vigil/scripts/vigil.lua \
  usr/share/vigil/scripts/digests/weekly.lua usr/share/vigil/vigil.conf.example \
  etc/vigil/vigil.conf usr/share/man/man1/vigil.1 usr/share/bash-completion/completions/vigil \
  usr/lib/systemd/system/vigil.service usr/lib/sysusers.d/vigil.conf; do
  [ -s "$DEST/$f" ] || missing="$missing $f"
done
is "every file is installed" "$missing" ""
is "the shipped rules are all installed" \
  "$(cd "$DEST/usr/share/vigil/rules" && ls)" "$(cd "$REPO/rules" && ls)"
like "the unit starts the installed binary on the installed configuration" \
  "$(grep '^ExecStart=' "$DEST/usr/lib/systemd/system/vigil.service")" \
  '^ExecStart=/usr/bin/vigil run --config /etc/vigil/vigil.conf$'

# ---- the installed binary, from elsewhere ----

mkdir -p "$T/elsewhere" "$T/checkout"
BIN=$DEST/usr/bin/vigil
(cd "$T/elsewhere" && "$BIN" ingest --db "$T/elsewhere/vigil.db" "$FIXTURES/chronology.txt") \
  >"$T/inst-ingest.out" 2>&1
is "the installed vigil ingests from an empty directory (exit 0)" "$?" 0
(cd "$T/checkout" && "$VIGIL" ingest --rules "$REPO/rules" --db "$T/checkout/vigil.db" \
  "$FIXTURES/chronology.txt") >"$T/co-ingest.out" 2>&1
is "the checkout's vigil ingests with the checkout's rules (exit 0)" "$?" 0
# tags_of DB: each entry's date, text and sorted tags, one a line: DATE|TEXT|TAGS.
tags_of() {
  "$BIN" query --db "$1" --json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(e["date"], e["text"], ",".join(sorted(e["tags"])), sep="|")'
}
inst=$(tags_of "$T/elsewhere/vigil.db")
co=$(tags_of "$T/checkout/vigil.db")
is "the installed vigil tags every entry as the checkout's does" "$inst" "$co"
like "the shipped rules tagged entries" "$(printf '%s\n' "$co" | grep -vc '|$')" '^[1-9]'
like "the installed vigil checks its own rules by default" \
  "$(cd "$T/elsewhere" && "$BIN" check 2>&1)" "^$DEST/usr/share/vigil/rules: [1-9][0-9]* rules"
(cd "$T/elsewhere" && echo '2023-11-21: a line through the example configuration' |
  "$BIN" ingest --config "$DEST/etc/vigil/vigil.conf" --db "$T/elsewhere/conf.db" --no-rules -) \
  >"$T/conf.out" 2>&1
is "the example configuration loads" "$?" 0

# ---- the unit ----

if need systemd-analyze systemd; then
  # Installed under a prefix of its own, so that the binary the unit names
  # exists and verify checks it, and man finds the page Documentation= names.
  if install_to local.log PREFIX="$T/local"; then
    ok "make install PREFIX=..."
  else
    fail "make install PREFIX=..." "$(tail -n 20 "$T/local.log")"
  fi
  out=$(MANPATH=$T/local/share/man systemd-analyze verify \
    "$T/local/lib/systemd/system/vigil.service" 2>&1)
  rc=$?
  is "systemd-analyze verify passes the unit (exit 0)" "$rc" 0
  is "systemd-analyze verify says nothing of the unit" "$out" ""
  for key in Type=notify ExecReload= WatchdogSec= User=vigil StateDirectory=vigil \
    RuntimeDirectory=vigil NoNewPrivileges=yes ProtectSystem=strict MemoryDenyWriteExecute=yes \
    SystemCallFilter=@system-service CapabilityBoundingSet=; do
    grep -q "^$key" "$T/local/lib/systemd/system/vigil.service" || fail "the unit sets $key"
  done
  ok "the unit sets its type, watchdog, user, directories and hardening"
fi

# ---- systemd's notify protocol ----

# Reads the datagrams of the notify socket into a file, one a line ('|' for
# the newlines inside one). At the first READY=1 it sends a line to vigil's
# Unix socket at once and writes the reply as "SOCKET reply".
cat >"$T/notify.py" <<'EOF'
import os, socket, sys, time
path, out, vsock = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(1)
end = time.monotonic() + 600
ready = False
with open(out, "a", buffering=1) as f:
    while time.monotonic() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        f.write("MSG " + msg.replace("\n", "|") + "\n")
        if "READY=1" in msg.split("\n") and not ready:
            ready = True
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(60)
            try:
                c.connect(vsock)
                c.sendall(b"2023-11-21: North Korea launches a reconnaissance satellite.\n")
                c.shutdown(socket.SHUT_WR)
                f.write("SOCKET " + c.makefile().readline().strip() + "\n")
            except OSError as e:
                f.write("SOCKET failed: %s\n" % e)
            c.close()
        if "STOPPING=1" in msg.split("\n"):
            break
EOF
NOTES=$T/notify.log
: >"$NOTES"
python3 "$T/notify.py" "$T/notify.sock" "$NOTES" "$SOCK" &
bg_started $!
wait_for 60 test -S "$T/notify.sock" || fail "the notify socket is bound"
notes() { grep -c -- "$1" "$NOTES"; }
# at_least N REGEX: N lines of the notify log match REGEX.
at_least() { [ "$(grep -Ec -- "$2" "$NOTES")" -ge "$1" ]; }

SPOOL=
export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000
start_daemon --rules "$REPO/rules"
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_for 120 grep -q '^SOCKET' "$NOTES"
like "READY=1 comes with the counts" "$(grep -m1 'READY=1' "$NOTES")" \
  'STATUS=[1-9][0-9]* rules loaded; since start 0 entries stored, 0 alerts raised'
like "when READY=1 comes, the Unix socket already stores a line" \
  "$(grep '^SOCKET' "$NOTES")" '^SOCKET ok [0-9]+$'
is "READY=1 comes once at the start" "$(notes 'READY=1')" 1
wait_for 120 grep -q 'since start 1 entry stored' "$NOTES"
like "STATUS= counts the entry stored" "$(grep 'since start 1 entry' "$NOTES" | head -n 1)" \
  'STATUS=[1-9][0-9]* rules loaded; since start 1 entry stored, [0-9]+ alerts? raised'
wait_for 120 at_least 5 '(^MSG |\|)WATCHDOG=1'
check "WATCHDOG=1 comes again and again" at_least 5 '(^MSG |\|)WATCHDOG=1'
kill -HUP "$DPID"
wait_for 120 at_least 2 'READY=1'
like "SIGHUP: RELOADING=1 with MONOTONIC_USEC=" "$(grep 'RELOADING=1' "$NOTES")" \
  '^MSG RELOADING=1\|MONOTONIC_USEC=[0-9]+\|'
is "then READY=1, once the rules are reloaded" \
  "$(grep -E 'RELOADING=1|READY=1' "$NOTES" | sed -n '2,3s/^MSG \([A-Z]*=1\).*/\1/p' | tr '\n' ' ')" \
  "RELOADING=1 READY=1 "
stop_daemon TERM
is "vigil run exits 0 on SIGTERM" "$DRC" 0
wait_for 60 grep -q 'STOPPING=1' "$NOTES"
like "SIGTERM: STOPPING=1" "$(grep 'STOPPING=1' "$NOTES")" '^MSG STOPPING=1'

# ---- the man page ----

PAGE=$DEST/usr/share/man/man1/vigil.1
if need groff groff-base; then
  is "groff -man -ww renders vigil(1) without a warning" "$(groff -man -ww -z "$PAGE" 2>&1)" ""
fi
if need man man-db; then
  is "man --warnings -l renders vigil(1) without a warning" \
    "$(man --warnings -l "$PAGE" 2>&1 >/dev/null)" ""
fi
# Every long option of every --help, found in the page's source (where a
# hyphen is written \-).
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PAGE")
commands=$("$BIN" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')
like "vigil --help lists its commands" "$commands" '^run$'
absent=""
for c in "" $commands; do
  for o in $("$BIN" $c --help 2>&1 | grep -Eo -- '--[a-z][a-z-]*[a-z]' | sort -u); do
    printf '%s\n' "$text" | grep -Eq -- "(^|[^a-z-])$o([^a-z-]|\$)" || absent="$absent ${c:-vigil}:$o"
  done
  printf '%s\n' "$text" | grep -q "^\.SS \"vigil $c[ \"]" || [ -z "$c" ] || absent="$absent $c"
done
is "vigil(1) documents every command and every option their --help prints" "$absent" ""
# Every setting `vigil config --show` knows is an item of CONFIGURATION.
settings=$("$BIN" config --show --json | python3 -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line)["key"])')
like "vigil config --show lists the settings" "$settings" '^state_dir$'
conf=$(printf '%s\n' "$text" | sed -n '/^\.SH CONFIGURATION/,/^\.SH /p')
absent=""
for k in $settings; do
  printf '%s\n' "$conf" | grep -A1 '^\.TP' | grep -q "^\.B $k\$" || absent="$absent $k"
done
is "vigil(1) documents every setting under CONFIGURATION" "$absent" ""

# ---- bash completion ----

COMPLETION=$DEST/usr/share/bash-completion/completions/vigil
if need bash bash; then
  "$BIN" ingest --no-rules --db "$T/digests.db" "$FIXTURES/chronology.txt" >/dev/null 2>&1
  cat >"$T/complete.bash" <<EOF
. "$COMPLETION"
PATH="$DEST/usr/bin:\$PATH"
# complete WORD...: what completing the last word offers.
complete_words() {
  COMP_WORDS=("\$@")
  COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _vigil
  echo "\${COMPREPLY[*]}"
}
complete_words vigil qu
complete_words vigil --db x.db qu
complete_words vigil query --ta
complete_words vigil --log-level ""
complete_words vigil poll --format a
complete_words vigil --db "$T/digests.db" digest ""
EOF
  is "bash completion of vigil qu, options and their values, digest names" \
    "$(bash "$T/complete.bash" 2>&1)" "query
query
--tag
debug info notice warn error
auto atom acled
daily weekly"
fi

done_testing
