/* scratch.h — the scratch copy of a database that `vigil replay --dry-run`
 * works in, and what it reads there to say what a change of rules would do.
 *
 * It is the store's companion for that one command (cmd_dry_run.c calls
 * it): it copies the real database, opened read-only, with SQLite's online
 * backup API into a file of a private directory of its own, and talks to
 * that copy through a connection of its own, beside the vg_store the
 * command opens on the same file to run the rules. The two are used one
 * after the other, never inside each other's transactions. Nothing here
 * ever writes the real database.
 *
 * The sequence:
 *   vg_scratch_copy -> vg_store_open(vg_scratch_path) (migrates the copy)
 *   -> vg_scratch_prepare (the state in force kept aside; absences, alerts
 *      and the watermark of the range cleared) -> the command clears each
 *      entry's tags, marks and event and replays -> vg_scratch_alerts,
 *      vg_scratch_tags -> vg_scratch_remove.
 *
 * A scratch is used by one thread at a time. */
#ifndef VIGIL_SCRATCH_H
#define VIGIL_SCRATCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vg_scratch vg_scratch;

/* Copies the database at src, opened read-only, into a new file of a new
 * directory (mode 0700) under tmpdir (NULL or "": /tmp). The copy runs in
 * steps; a non-zero *stop (may be NULL) between two of them gives it up.
 * Returns the scratch, or NULL with why in err (cap bytes) and nothing left
 * behind; when *stop gave it up, err is "interrupted". */
vg_scratch *vg_scratch_copy(const char *src, const char *tmpdir, const atomic_int *stop, char *err,
                            size_t cap);
/* The copy's file, for vg_store_open. */
const char *vg_scratch_path(const vg_scratch *s);

/* Once the copy is migrated (vg_store_open), opens the scratch's own
 * connection to it and, in one transaction: keeps aside the alerts in
 * force (state 'active') dated from `since` on (every one when !has_since)
 * and the tags of the entries whose date reaches `since` (day_last >=
 * since), as the stored state to compare with; removes the alerts (of any
 * state) dated from since on, the absences of those entries, and sets the
 * watermark of event time (state max_day) back to the latest day of the
 * entries before them, so that the replay computes them afresh. Reads the
 * ids of the retracted entries (retracted_at set), which are not replayed
 * (vg_scratch_retracted). 0, or -1 with why in err. */
int vg_scratch_prepare(vg_scratch *s, int has_since, int32_t since, char *err, size_t cap);
/* Whether entry id is retracted (known after vg_scratch_prepare). */
int vg_scratch_retracted(const vg_scratch *s, int64_t id);

/* An alert as the comparison sees it; strings live during the callback. */
typedef struct {
  const char *key; /* its identity, the dedup key */
  const char *rule, *date, *severity, *message;
  long long count;     /* a threshold's count, or -1 */
  const char *entries; /* the ids of the entries it names, by date then id, joined by ',' */
} vg_scratch_alert;

enum { VG_SCRATCH_ADDED = 1, VG_SCRATCH_REMOVED = 2, VG_SCRATCH_CHANGED = 3 };

/* Calls fn for each alert in force (dated from since on) that differs from
 * the stored state: added (before is NULL), removed (after is NULL) or
 * changed (the same dedup key; another message, severity, date, count or
 * list of entries), in that order, each kind by date then rule. 0, fn's
 * non-zero, or -1 with why in err. */
typedef int (*vg_scratch_alert_fn)(void *ud, int kind, const vg_scratch_alert *before,
                                   const vg_scratch_alert *after);
int vg_scratch_alerts(vg_scratch *s, vg_scratch_alert_fn fn, void *ud, char *err, size_t cap);

/* One change of a tag, or an example of it. */
typedef struct {
  const char *tag;
  long long added, removed; /* entries that gain it, and that lose it */
} vg_scratch_tag;
/* Calls tag_fn for each tag whose entries (of the range) changed, by name,
 * then example_fn with up to `examples` entries of each direction (added:
 * 1, removed: 0), by date then id. 0, a callback's non-zero, or -1 with why
 * in err. */
typedef int (*vg_scratch_tag_fn)(void *ud, const vg_scratch_tag *t);
typedef int (*vg_scratch_example_fn)(void *ud, const char *tag, int added, int64_t id,
                                     const char *date, const char *text);
int vg_scratch_tags(vg_scratch *s, int examples, vg_scratch_tag_fn tag_fn,
                    vg_scratch_example_fn example_fn, void *ud, char *err, size_t cap);

/* Closes the scratch's connection and removes the copy, every file beside
 * it (its write-ahead log, its text index) and its directory. Close the
 * vg_store opened on it first. NULL does nothing. */
void vg_scratch_remove(vg_scratch *s);

#endif
