#!/bin/sh
# End-to-end: what is put in place of a spool file the daemon has queued
# (the swaps of tests/hostile/spool-swaps.txt: a FIFO, links to a secret
# file, a socket, a directory, another user's file). The daemon's work is
# held on a write lock that another process takes on its database, so that
# the queued files wait for as long as the test needs: each is swapped for
# something else while it waits, then the lock is let go. Checked: every
# swap is refused unread, logged with its reason and moved to failed/ with
# a .err saying why; no line of the secret file is stored or kept in
# rejects; the file read before them is stored whole; a symbolic link moved
# into the spool is refused the same way; the daemon still answers, and
# stops on SIGTERM.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

HOSTILE=$(cd "$E2E/../hostile" && pwd)
TAB=$(printf '\t')

# The secret: mode 0600, outside the spool, on the same file system.
printf '%s\n' '2023-01-01: the one line of the secret file that parses' \
  'root:$6$salt$not-a-real-hash:19000:0:99999:7:::' 'token=0123456789abcdef' >"$T/secret"
chmod 600 "$T/secret"
cp "$T/secret" "$T/secret.copy"

grep -v '^#' "$HOSTILE/spool-swaps.txt" | grep . >"$T/swaps"
nswaps=$(line_count "$T/swaps")

# new_files: how many spool files the daemon has queued so far, from its log.
new_files() {
  sed -n 's/.* spool: \([0-9]*\) new files$/\1/p' "$DLOG" | awk '{ n += $1 } END { print n + 0 }'
}
queued_at_least() {
  [ "$(new_files)" -ge "$1" ]
}

# A write waits up to ten minutes for the lock: the test lets it go first.
printf 'busy_timeout_ms = 600000\n' >"$T/vigil.conf"
start_daemon --config "$T/vigil.conf" --log-level debug || done_testing

# Another process takes the database's write lock and holds it until told.
python3 - "$DB" "$T/locked" "$T/unlock" <<'EOF' >"$T/locker.out" 2>&1 &
import os, sqlite3, sys, time
db, locked, unlock = sys.argv[1:]
c = sqlite3.connect(db, isolation_level=None, timeout=60)
c.execute("BEGIN IMMEDIATE")
open(locked, "w").close()
for _ in range(6000):  # ten minutes at most
    if os.path.exists(unlock):
        break
    time.sleep(0.1)
c.execute("COMMIT")
EOF
locker=$!
bg_started $locker
check "another process holds the database's write lock" wait_for 30 test -f "$T/locked"

# The first file is taken at once, and its job waits on the lock: the files
# after it stay queued until the lock is let go.
printf '%s\n' '2023-02-01: read before the swaps, first line' \
  '2023-02-02: read before the swaps, second line' >"$SPOOL/.first"
mv "$SPOOL/.first" "$SPOOL/first.txt"
check "the first file is queued" wait_running 30 queued_at_least 1
while IFS="$TAB" read -r name kind reason; do
  printf '2023-02-03: the honest file %s\n' "$name" >"$SPOOL/.$name"
  mv "$SPOOL/.$name" "$SPOOL/$name"
done <"$T/swaps"
check "the $nswaps files to swap are queued behind it" wait_running 30 queued_at_least $((nswaps + 1))

# The swaps, each made aside and renamed over the queued name.
while IFS="$TAB" read -r name kind reason; do
  aside=$SPOOL/.swap-$name
  case $kind in
  fifo) mkfifo "$aside" ;;
  symlink) ln -s "$T/secret" "$aside" ;;
  hardlink) ln "$T/secret" "$aside" ;;
  socket) python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$aside" ;;
  directory) rm -f "$SPOOL/$name" && mkdir "$aside" ;;
  foreign)
    if [ "$(id -u)" -ne 0 ]; then
      echo "$name" >>"$T/skipped"
      continue
    fi
    printf '2023-02-04: a line of the user nobody\n' >"$aside"
    chown nobody "$aside"
    ;;
  *) fail "swap $name: unknown kind '$kind'" && continue ;;
  esac
  mv -T "$aside" "$SPOOL/$name"
done <"$T/swaps"
touch "$T/unlock"
check "the lock is let go" wait_for 30 sh -c "! kill -0 $locker 2>/dev/null"

# all_moved: every swap (but those skipped) is in failed/.
all_moved() {
  while IFS="$TAB" read -r _name _kind _reason; do
    grep -qx "$_name" "$T/skipped" 2>/dev/null && continue
    test -e "$SPOOL/failed/$_name" || test -L "$SPOOL/failed/$_name" || return 1
  done <"$T/swaps"
}

check "the file queued first is read and moved to done/" \
  wait_running 60 test -f "$SPOOL/done/first.txt"
wait_running 60 all_moved
is "... its two lines stored" \
  "$(sq "select count(*) from entries where text like 'read before the swaps%'")" 2
while IFS="$TAB" read -r name kind reason; do
  if grep -qx "$name" "$T/skipped" 2>/dev/null; then
    skip "swap $name ($kind) is refused" "only root can give a file to another user"
    continue
  fi
  if test -e "$SPOOL/failed/$name" || test -L "$SPOOL/failed/$name"; then
    ok "swap $name ($kind) is moved to failed/ unread"
  else
    fail "swap $name ($kind) is moved to failed/ unread" "$(ls -la "$SPOOL" "$SPOOL/failed" 2>&1)" \
      "$(tail -n 5 "$DLOG")"
    continue
  fi
  check "... and has left the spool" sh -c "! test -e '$SPOOL/$name' && ! test -L '$SPOOL/$name'"
  like "... its .err file says why" "$(cat "$SPOOL/failed/$name.err" 2>&1)" "^$name: $reason"
  like "... and so does the log" "$(grep -F "spool: $name: " "$DLOG")" \
    "warn +spool: $name: $reason.*; not read -> failed/"
done <"$T/swaps"
is "no line of the secret file is stored" \
  "$(sq "select count(*) from entries where text like '%secret file%' or text like '%honest file%'")" 0
is "... nor kept in rejects" \
  "$(sq "select count(*) from rejects
         where cast(raw as text) like '%token=%' or cast(raw as text) like 'root:%'")" 0
check "the secret file is as it was" cmp "$T/secret" "$T/secret.copy"

# A link moved into the spool (no swap) is refused the same way.
ln -s "$T/secret" "$SPOOL/.placed"
mv "$SPOOL/.placed" "$SPOOL/placed-link"
check "a symbolic link moved into the spool is refused and moved to failed/" \
  wait_running 30 test -L "$SPOOL/failed/placed-link"
like "... saying why" "$(cat "$SPOOL/failed/placed-link.err" 2>&1)" \
  '^placed-link: refused: a symbolic link, not a regular file'

reply=$(printf '2023-02-05: the daemon still answers after the swaps.\n' | send_unix)
like "the daemon still answers" "$reply" '^ok [0-9]+$'
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0

done_testing
