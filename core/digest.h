/* digest.h — scheduled digests: which periods are due, and rendering one.
 *
 * A digest covers the `days` days before the local date it runs on (run on
 * Dec. 20 with days = 7: Dec. 13 to 19). A template script (Lua) reads the
 * period from the store through a read-only API (its entries, alerts, tag
 * counts, the absences whose window closed in it, and the alerts amended
 * or retracted since the previous run) and returns a document;
 * scripts/digest.lua renders it as Markdown and as a self-contained HTML
 * page with an SVG timeline, and the document itself is written as JSON.
 * Each file is written to a temporary name and renamed into place. */
#ifndef VIGIL_DIGEST_H
#define VIGIL_DIGEST_H

#include "config.h"
#include "cron.h"
#include "store.h"

#include <time.h>

typedef struct {
  int32_t first, last; /* day numbers, inclusive */
} vg_period;

/* The period a run at time t (read in local time) covers. */
vg_period vg_digest_period(const vg_digest_conf *d, time_t t);
/* The period of a run on the local date `day` (a day number). */
vg_period vg_digest_period_of_day(const vg_digest_conf *d, int32_t day);

/* The runs to catch up at `now`: scheduled times whose period ends after
 * last_day (the last period written; pass INT32_MIN for never), newest
 * last, at most max of them (only the newest when d->catch_up_all is not
 * set). Returns how many were written to runs. */
int vg_digest_due(const vg_digest_conf *d, const vg_cron *c, int32_t last_day, time_t now,
                  time_t *runs, int max);

/* Renders digest d for period p from st into d->out (or out_dir when given)
 * and records the run in st when `record` is set. *files gets the paths
 * written, one per line (the caller frees it). Returns 0, or a VG_E* code
 * with why in err. Safe off the loop thread with a store of its own. */
int vg_digest_render(vg_store *st, const vg_digest_conf *d, vg_period p, const char *out_dir,
                     int record, char **files, char *err, size_t cap);

#endif
