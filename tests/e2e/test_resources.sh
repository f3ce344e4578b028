#!/bin/sh
# End-to-end: what the daemon does when what it stands on gives way, and
# that it carries on by itself once the cause is gone, with no restart:
#
#   1. a full disk (the database on a small tmpfs, filled up): lines are
#      answered with an error naming the cause, never 'ok'; a spool file stays
#      in the spool and is retried; once there is room both go in;
#   2. a write lock another process holds: a short one is waited for and
#      unseen by clients; one held past busy_timeout_ms gets each line an
#      error naming it ("database is locked", the line stays the client's to
#      send again) and leaves spool files to be retried;
#   3. a read-only database: `vigil run` and `vigil ingest` refuse to start,
#      naming the file or its directory and why (run as nobody when root,
#      since root ignores file modes);
#   4. a spool directory missing at start-up (made), one that cannot be made
#      (refused), and one removed or replaced while the daemon runs (said
#      once; files put in it are ingested once it is back);
#   5. a rules directory that vanishes: the rules in force stay, and when it
#      comes back its rules are loaded and its edits watched again.
#
# Every line answered 'ok' is checked to be in the database under its id.
# Parts 1 and 3 need root here (a tmpfs mount, dropping to nobody); without
# it part 1 is skipped, and part 3 runs as the current user.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# Far longer than the short lock below (half a second), so that the lock is
# gone well before it even when a busy machine is slow to release it.
BUSY_MS=5000
CONF=$T/vigil.conf
cat >"$CONF" <<EOF
-- A write waits this long for another process's lock, then the batch is refused.
busy_timeout_ms = $BUSY_MS
-- No digest: nothing but the test's own lines writes to the database.
digests = {}
EOF

DRULES=$T/rules
mkdir "$DRULES"

# put_rule TAG...: the rules directory's probe.lua tags every entry that
# mentions "probe" with the TAGs (written under a dot-name, then renamed).
put_rule() {
  _tags=
  for _t in "$@"; do
    _tags="$_tags\"$_t\", "
  done
  {
    echo 'rule "probe" {'
    echo '  when = function(e) return e:match("probe") ~= nil end,'
    echo "  tags = { $_tags},"
    echo '}'
  } >"$DRULES/.probe.lua.tmp"
  mv "$DRULES/.probe.lua.tmp" "$DRULES/probe.lua"
}
put_rule probe

# spool_put NAME LINE...: a file NAME with the LINEs moved into $SPOOL.
spool_put() {
  _name=$1
  shift
  printf '%s\n' "$@" >"$SPOOL/.$_name"
  mv "$SPOOL/.$_name" "$SPOOL/$_name"
}

# send_lines NAME: sends $T/NAME.in over the Unix socket, the replies to
# $T/NAME.out, and adds "ID<tab>TEXT" to $ACKED for each line answered 'ok'.
send_lines() {
  send_unix <"$T/$1.in" >"$T/$1.out"
  paste "$T/$1.out" "$T/$1.in" | awk -F '\t' '$1 ~ /^ok [0-9]+$/ {
    id = $1; sub(/^ok /, "", id); text = $2; sub(/^[^:]*: /, "", text); print id "\t" text
  }' >>"$ACKED"
}

# send TEXT: sends one line and prints the reply; an 'ok' is added to $ACKED.
send() {
  printf '%s\n' "$1" >"$T/one.in"
  send_lines one
  cat "$T/one.out"
}

# acked_missing: each line answered 'ok' whose entry is not in $DB under its
# id with its text, as "ID TEXT"; nothing when all are there.
acked_missing() {
  while IFS="$(printf '\t')" read -r _id _text; do
    [ "$(sq "select text from entries where id = $_id")" = "$_text" ] || echo "$_id $_text"
  done <"$ACKED"
}

# tags_of REPLY: the tags of the entry an 'ok ID' reply names, joined by ','.
tags_of() {
  case $1 in
  'ok '[0-9]*)
    sq "select group_concat(tag, ',') from
          (select tag from tags where entry_id = ${1#ok } order by tag)"
    ;;
  *) echo "(not stored: $1)" ;;
  esac
}

# log_has REGEX: the daemon's log has a line matching REGEX.
# shellcheck disable=SC2317 # called through check and wait_running
log_has() {
  grep -Eq -- "$1" "$DLOG"
}

now_ms() {
  date +%s%3N
}

# ---- 1. a full disk ----

MNT=$T/disk
mkdir "$MNT"
why_not=
if [ "$(id -u)" != 0 ]; then
  why_not="mounting a tmpfs needs root"
elif ! mount -t tmpfs -o size=8m vigil-e2e-full "$MNT" 2>"$T/mount.err"; then
  why_not="mount -t tmpfs failed: $(head -n 1 "$T/mount.err")"
else
  at_exit "umount '$MNT' 2>/dev/null || umount -l '$MNT' 2>/dev/null"
fi

if [ -n "$why_not" ]; then
  for what in "lines are refused with 'database or disk is full', never 'ok'" \
    "a spool file stays in the spool and is retried" \
    "once there is room, new lines and the spool file are stored without a restart" \
    "every line answered 'ok' is in the database" "PRAGMA integrity_check says ok"; do
    skip "full disk: $what" "$why_not"
  done
else
  DB=$MNT/vigil.db
  SPOOL=$T/spool-full
  ACKED=$T/acked-full
  : >"$ACKED"
  start_daemon --config "$CONF" --rules "$DRULES"
  printf '%s\n' 'Mar. 1, 2024: stored before the disk filled, one' \
    'Mar. 2, 2024: stored before the disk filled, two' >"$T/before.in"
  send_lines before
  is "full disk: two lines before it fills are answered ok" \
    "$(count_matching '^ok [0-9]+$' "$T/before.out")" 2

  # An empty write-ahead log has no room to reuse: every commit from now on
  # must grow a file, so each one meets the full disk.
  is "full disk: the write-ahead log is checkpointed and truncated first" \
    "$(sq 'PRAGMA wal_checkpoint(TRUNCATE)')" "0|0|0"
  dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
  is "full disk: the filler leaves no free block" \
    "$(df -P "$MNT" | awk 'NR == 2 { print $4 }')" 0

  awk 'BEGIN { for (i = 1; i <= 20; i++)
    printf "Mar. %d, 2024: sent while the disk is full, line %d\n", i, i }' >"$T/full.in"
  send_lines full
  is "full disk: 20 lines sent get 20 replies" "$(line_count "$T/full.out")" 20
  is "... each an error naming the cause" \
    "$(count_matching '^error: not stored: database error: database or disk is full$' "$T/full.out")" 20
  is "... and none is 'ok'" "$(count_matching '^ok' "$T/full.out")" 0
  check "... and the log says the batch was not stored for that reason" \
    wait_running 60 log_has 'a batch of [0-9]+ lines was not stored: database error: database or disk is full'

  spool_put full.txt 'Mar. 21, 2024: spooled while the disk is full, one' \
    'Mar. 22, 2024: spooled while the disk is full, two'
  check "full disk: the log says a spool file was not stored and is retried" \
    wait_running 60 log_has \
    'spool: full\.txt: not stored \(database or disk is full\); it stays in the spool and is retried'
  check "... and the file stays in the spool" test -f "$SPOOL/full.txt"
  check "... not in done/ or failed/" test ! -e "$SPOOL/done/full.txt" -a ! -e "$SPOOL/failed/full.txt"
  is "nothing sent while the disk was full is in the database" \
    "$(sq "select count(*) from entries where text like '%while the disk is full%'")" 0
  check "the daemon is still running" daemon_running

  rm -f "$MNT/filler"
  cp "$T/full.in" "$T/full-again.in"
  send_lines full-again
  is "full disk: once there is room, the same 20 lines are stored (20 'ok', no duplicate)" \
    "$(count_matching '^ok [0-9]+$' "$T/full-again.out")" 20
  check "... and the spool file is ingested on its own" wait_running 60 test -f "$SPOOL/done/full.txt"
  is "... its two lines stored" \
    "$(sq "select count(*) from entries
           where source = 'spool' and text like 'spooled while the disk is full%'")" 2
  check "... by the same daemon, never restarted" daemon_running
  is "every line answered 'ok' (22) is in the database under its id" \
    "$(line_count "$ACKED"):$(acked_missing)" "22:"
  is "PRAGMA integrity_check says ok" "$(sq 'PRAGMA integrity_check')" ok
  stop_daemon TERM
  is "... and the daemon stops cleanly: exit status 0" "$DRC" 0
  umount "$MNT" 2>"$T/umount.err" || umount -l "$MNT" 2>>"$T/umount.err"
  check "the tmpfs is unmounted" sh -c "! grep -q ' $MNT ' /proc/mounts"
fi

# ---- 2. a write lock another process holds ----

# db_locked: another connection holds the write lock of $DB.
# shellcheck disable=SC2317 # called through wait_for
db_locked() {
  ! sqlite3 "$DB" 'BEGIN IMMEDIATE;' 'ROLLBACK;' >/dev/null 2>&1
}

# lock_db: the sqlite3 shell, reading a fifo, takes the write lock of $DB and
# keeps it until unlock_db. One check: the lock is held.
lock_db() {
  rm -f "$T/lock.fifo"
  mkfifo "$T/lock.fifo"
  sqlite3 "$DB" <"$T/lock.fifo" >>"$T/locker.out" 2>&1 &
  _locker=$!
  bg_started $_locker
  exec 3>"$T/lock.fifo"
  # It waits out the probes of db_locked, which take the lock for an instant.
  printf '.timeout 60000\nBEGIN EXCLUSIVE;\n' >&3
  check "another process holds the database's write lock" wait_for 60 db_locked
}

unlock_db() {
  echo 'COMMIT;' >&3
  exec 3>&-
  wait "$_locker"
}

DB=$T/locked.db
SPOOL=$T/spool-lock
ACKED=$T/acked-lock
: >"$ACKED"
start_daemon --config "$CONF" --rules "$DRULES"
like "lock: a line before any lock is answered ok" "$(send 'Apr. 1, 2024: before any lock')" '^ok [0-9]+$'

lock_db
awk 'BEGIN { for (i = 1; i <= 5; i++)
  printf "Apr. %d, 2024: sent during a short lock, line %d\n", i, i }' >"$T/short.in"
started=$(now_ms)
(
  send_lines short
  now_ms >"$T/short.end"
) &
client=$!
bg_started $client
sleep 0.5
unlock_db
wait $client
is "lock: 5 lines sent during a lock shorter than busy_timeout_ms are all answered ok" \
  "$(count_matching '^ok [0-9]+$' "$T/short.out")" 5
waited=$(($(cat "$T/short.end" 2>/dev/null || echo "$started") - started))
check "... once the lock was gone (the replies came after $waited ms, the lock held 500)" \
  test "$waited" -ge 500

lock_db
started=$(now_ms)
awk 'BEGIN { for (i = 1; i <= 3; i++)
  printf "Apr. %d, 2024: sent while the lock is held too long, line %d\n", i + 10, i }' >"$T/long.in"
send_lines long
waited=$(($(now_ms) - started))
is "lock: 3 lines sent while a lock is held past busy_timeout_ms get 3 errors naming it" \
  "$(count_matching '^error: not stored: database error: database is locked$' "$T/long.out")" 3
check "... after waiting busy_timeout_ms ($waited ms; $BUSY_MS set)" test "$waited" -ge $((BUSY_MS - 100))
check "... and the log says why the batch was not stored" \
  wait_running 60 log_has 'a batch of [0-9]+ lines was not stored: database error: database is locked'
spool_put lock.txt 'Apr. 20, 2024: spooled while the lock is held'
check "lock: the log says a spool file was not stored and is retried" \
  wait_running 60 log_has \
  'spool: lock\.txt: not stored \(database is locked\); it stays in the spool and is retried'
check "... and the file stays in the spool" test -f "$SPOOL/lock.txt"
unlock_db
cp "$T/long.in" "$T/long-again.in"
send_lines long-again
is "lock: once it is released, the same 3 lines are stored (3 'ok', no duplicate)" \
  "$(count_matching '^ok [0-9]+$' "$T/long-again.out")" 3
check "... and the spool file is ingested on its own" wait_running 60 test -f "$SPOOL/done/lock.txt"
check "... by the same daemon, never restarted" daemon_running
is "every line answered 'ok' (9) is in the database under its id" \
  "$(line_count "$ACKED"):$(acked_missing)" "9:"
is "PRAGMA integrity_check says ok" "$(sq 'PRAGMA integrity_check')" ok
stop_daemon TERM
is "... and the daemon stops cleanly: exit status 0" "$DRC" 0

# ---- 3. a read-only database ----

RO=$T/readonly
mkdir "$RO" "$RO/rules" # no rules needed, but the path given must exist
printf '%s\n' 'May 1, 2024: stored before the file was made read-only' >"$T/ro.in"
"$VIGIL" ingest --no-rules --db "$RO/vigil.db" "$T/ro.in" >/dev/null 2>"$T/ro-make.err"
chmod 0444 "$RO/vigil.db"
runas=
why_not=
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv >/dev/null 2>&1; then
    # nobody must reach the files and the binary: a copy, in a directory it may enter.
    runas="setpriv --reuid=65534 --regid=65534 --clear-groups"
    chmod 0711 "$T"
    cp "$VIGIL" "$RO/vigil"
    chown -R 65534:65534 "$RO"
  else
    why_not="root ignores file modes, and setpriv is missing to drop to nobody"
  fi
fi
ro_vigil=$VIGIL
[ -n "$runas" ] && ro_vigil=$RO/vigil

if [ -n "$why_not" ]; then
  for what in "vigil run refuses to start, naming the file" "vigil ingest refuses, naming the file" \
    "vigil ingest refuses when the directory is read-only"; do
    skip "read-only database: $what" "$why_not"
  done
else
  # shellcheck disable=SC2086 # runas is a command and its arguments
  (cd "$RO" && timeout 120 $runas "$ro_vigil" run --db "$RO/vigil.db" --socket "$RO/vigil.sock" \
    --listen '' --spool "$RO/spool" --rules "$RO/rules") >"$T/ro-run.log" 2>&1
  rc=$?
  is "read-only database file: vigil run exits 3 at start-up (no hang, no crash)" "$rc" 3
  like "... and logs the file and why" "$(cat "$T/ro-run.log")" \
    "error cannot write database $RO/vigil\\.db: the file is not writable: Permission denied"
  check "... before it is ready or listens" sh -c "! grep -q ready '$T/ro-run.log' && test ! -e '$RO/vigil.sock'"
  check_sanitizers "... and has no sanitizer report" "$T/ro-run.log"

  # shellcheck disable=SC2086
  (cd "$RO" && $runas "$ro_vigil" ingest --no-rules --db "$RO/vigil.db" "$T/ro.in") \
    >"$T/ro-ingest.out" 2>"$T/ro-ingest.err"
  rc=$?
  is "read-only database file: vigil ingest exits 3" "$rc" 3
  like "... and says the file and why" "$(cat "$T/ro-ingest.err")" \
    "^vigil ingest: cannot write database $RO/vigil\\.db: the file is not writable: Permission denied$"
  check_sanitizers "... and has no sanitizer report" "$T/ro-ingest.err"

  chmod 0644 "$RO/vigil.db"
  chmod 0555 "$RO"
  printf '%s\n' 'May 2, 2024: sent to a database in a read-only directory' >"$T/ro2.in"
  # shellcheck disable=SC2086
  (cd "$T" && $runas "$ro_vigil" ingest --no-rules --db "$RO/vigil.db" "$T/ro2.in") \
    >"$T/ro-dir.out" 2>"$T/ro-dir.err"
  rc=$?
  chmod 0755 "$RO"
  is "writable file in a read-only directory: vigil ingest exits 3" "$rc" 3
  like "... and says the directory is not writable" "$(cat "$T/ro-dir.err")" \
    "cannot set up database $RO/vigil\\.db: its directory $RO is not writable: Permission denied"
  check_sanitizers "... and has no sanitizer report" "$T/ro-dir.err"
fi
is "the read-only database still holds its one entry, unchanged" \
  "$(sq "$RO/vigil.db" 'select count(*) from entries')" 1

# ---- 4. a spool directory that is missing, or goes away ----

: >"$T/plainfile"
timeout 120 "$VIGIL" run --db "$T/refused.db" --socket "$T/refused.sock" --listen '' \
  --spool "$T/plainfile/spool" --rules "$DRULES" >"$T/refused.log" 2>&1
rc=$?
is "a spool directory that cannot be made: vigil run exits 3" "$rc" 3
like "... saying it cannot watch it" "$(cat "$T/refused.log")" "spool: cannot watch $T/plainfile/spool: "
check_sanitizers "... and has no sanitizer report" "$T/refused.log"

DB=$T/dirs.db
SPOOL=$T/not-yet/spool
ACKED=$T/acked-dirs
: >"$ACKED"
start_daemon --config "$CONF" --rules "$DRULES"
check "a spool directory missing at start-up is made, with done/ and failed/" \
  test -d "$SPOOL/done" -a -d "$SPOOL/failed"

rm -rf "$SPOOL"
check "spool removed: the log says it is gone" \
  wait_running 60 log_has "spool: $SPOOL is gone \\(No such file or directory\\)"
like "... the socket is still served" "$(send 'Jun. 1, 2024: sent while the spool is gone')" '^ok [0-9]+$'
mkdir -p "$SPOOL"
spool_put back.txt 'Jun. 2, 2024: put in the spool once it was back'
check "... and a file put in it once it is back is ingested, without a restart" \
  wait_running 60 test -f "$SPOOL/done/back.txt"
check "... the log says it is watched again" log_has "spool: $SPOOL is there; watching it again"
is "... and the file's line is stored" \
  "$(sq "select count(*) from entries where text = 'put in the spool once it was back'")" 1

mv "$SPOOL" "$SPOOL.old"
mkdir "$SPOOL"
spool_put swapped.txt 'Jun. 3, 2024: put in a spool directory made in place of the old one'
check "spool replaced by a new directory: a file put in the new one is ingested" \
  wait_running 60 test -f "$SPOOL/done/swapped.txt"
check "... and the daemon is the same, never restarted" daemon_running

# ---- 5. a rules directory that vanishes ----

is "rules: an entry is tagged by the probe rule" \
  "$(tags_of "$(send 'Jul. 1, 2024: probe before the rules directory goes')")" probe
rm -rf "$DRULES"
check "rules directory removed: the log says so" \
  wait_running 60 log_has "rules: $DRULES is gone \\(No such file or directory\\); the rules in force stay"
is "... and new entries are still tagged by the rules in force" \
  "$(tags_of "$(send 'Jul. 2, 2024: probe while the rules directory is gone')")" probe
reloads=$(count_matching 'rules: [0-9]+ loaded from' "$DLOG")
kill -HUP "$DPID" 2>/dev/null
check "... a SIGHUP while it is gone says the rules loaded before stay" \
  wait_running 60 log_has \
  "$DRULES: cannot read the rules path: No such file or directory; the rules loaded before stay"
wait_running 60 sh -c "[ \$(grep -Ec 'rules: [0-9]+ loaded from' '$DLOG') -gt $reloads ]"
is "... and after it, entries are still tagged" \
  "$(tags_of "$(send 'Jul. 3, 2024: probe after a SIGHUP while the rules directory is gone')")" probe
check "... and the rules were never dropped" sh -c "! grep -q 'rules: 0 loaded' '$DLOG'"

mkdir "$DRULES"
put_rule probe back
n=0
got=
until=$(deadline 120)
while before "$until"; do
  n=$((n + 1))
  got=$(tags_of "$(send "Jul. 4, 2024: probe after the rules directory came back, try $n")")
  [ "$got" = "back,probe" ] && break
  daemon_running || break
  sleep 0.1
done
is "rules directory back: its rules are loaded without a restart" "$got" "back,probe"
check "... the log says it is watched again" \
  log_has "rules: $DRULES is there; watching it again and loading its rules"
put_rule edited
n=0
until=$(deadline 120)
while before "$until"; do
  n=$((n + 1))
  got=$(tags_of "$(send "Jul. 5, 2024: probe after an edit in the directory that came back, try $n")")
  [ "$got" = "edited" ] && break
  daemon_running || break
  sleep 0.1
done
is "... and an edit in it is picked up: the new directory is watched" "$got" edited
is "every line answered 'ok' is in the database under its id" "$(acked_missing)" ""
stop_daemon TERM
is "... and the daemon stops cleanly: exit status 0" "$DRC" 0

done_testing
