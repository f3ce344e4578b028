/* spool.h — one file of the spool directory: its lines ingested, then the
 * file moved to done/ (every line stored or a duplicate) or to failed/ with
 * a NAME.err beside it listing why each rejected line was (the good lines
 * are stored all the same). How far a file got is committed with its lines
 * (db/006_spool.sql): a file whose transaction rolled back, or that a crash
 * cut short, stays in the spool and the next attempt goes on after its last
 * committed line. Its rejects are kept with the origin "spool:NAME". Runs in
 * the daemon's job, off the loop.
 *
 * Only a regular file with a single link, owned by the daemon's user or by
 * root, is read; it is opened without following a link or waiting. Anything
 * else found under a spool name when its turn comes (a FIFO, a symbolic or
 * hard link, a device, a directory, another user's file) is refused
 * (VG_SPOOL_REFUSED): moved to failed/ unread, with a NAME.err saying what
 * it was, so it is not tried again. */
#ifndef VIGIL_SPOOL_H
#define VIGIL_SPOOL_H

#include "ingest.h"
#include "store.h"

enum {
  VG_SPOOL_GONE = 2,    /* the file went away before it was read */
  VG_SPOOL_MORE = 3,    /* stopped after max_lines; the rest waits for the next call */
  VG_SPOOL_REFUSED = 4, /* not a file the spool reads (see below): moved to failed/ unread */
};

typedef struct {
  vg_counts counts; /* what its lines became, so far */
  int rc;           /* 0 (moved), VG_SPOOL_GONE, VG_SPOOL_MORE, VG_SPOOL_REFUSED, VG_EDB (left
                       to retry), or VG_EIO */
  int failed;       /* moved to failed/ */
  char why[512];    /* the failure, when rc is not 0 */
} vg_spool_result;

/* Ingests dir/name through ig with the format, source, cap and batch of o
 * (o->on_commit, if set, is called after each commit with o->ud) and moves
 * the file as above. Goes on from where the last call on the same file
 * stopped; with o->max_lines set, it stops again after about that many lines
 * (VG_SPOOL_MORE), so that a long file can share the store with other work.
 * `again` says the last call stopped that way: the log then says nothing of
 * going on. Fills r. */
void vg_spool_ingest(const vg_ingest *ig, const char *dir, const char *name,
                     const vg_file_opts *o, int again, vg_spool_result *r);

/* Drops the progress marks of files that are no longer in dir: a stop
 * between a file's move and the drop of its mark leaves one. 0, VG_ENOMEM
 * or VG_EDB. */
int vg_spool_tidy(vg_store *st, const char *dir);

#endif
