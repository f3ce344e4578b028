/* feed_store.h — what one fetch of a feed becomes in the store: its items
 * (parsed whole first, so nothing half-parsed is stored) and the feed's
 * health, in one transaction. Used by the daemon's feed job and by
 * `vigil poll`. */
#ifndef VIGIL_FEED_STORE_H
#define VIGIL_FEED_STORE_H

#include "feeds.h"
#include "ingest.h"

typedef struct {
  int ok;                /* the feed could be read (200 parsed, or 304) */
  int failures;          /* its consecutive failures now */
  unsigned delay;        /* seconds to its next poll */
  vg_counts counts;      /* what its lines or items became */
  vg_feed_counts items;
  char error[400];       /* why it failed, when it did */
  char archive[256];     /* a gdelt feed's: the archive its listing named, or "" */
  int archive_new;       /* that archive was fetched and ingested by this poll (else before) */
} vg_feed_result;

/* Parses x and stores its items and the feed's health through ig in one
 * transaction (a vg_batch: rules included, and ig->alerts gets their alerts
 * once it commits). `scheduled`: the daemon polls the feed again in
 * r->delay seconds, which is stored as its next poll; a one-off poll
 * (vigil poll) leaves the stored next poll as it was, none for a feed new
 * to the database. Returns 0, or VG_EDB / VG_ENOMEM with nothing stored
 * (r->error says why); VG_ESTOPPED, nothing stored, when ig->stop cut the
 * fetch of an archive.
 *
 * A feed whose format is "gdelt" is read as GDELT's update listing
 * (gdelt.h) when its body is one: the export archive it names is fetched
 * (vg_feed_get: this blocks the calling thread, which must not be a
 * loop's), checked against the listing's size and MD5, unpacked (at most
 * max_archive bytes, packed or not) and its table ingested in the
 * transaction that records the archive, unless the feed recorded it
 * already (then nothing is fetched). Any of that failing fails the poll.
 * A body that is itself a zip archive, or a table, is ingested as it is. */
int vg_feed_store(const vg_ingest *ig, const vg_fetch *x, size_t max_line, size_t max_archive,
                  int scheduled, vg_feed_result *r);

#endif
