/* scheduler.h — runs the configured digests on their schedules, on the
 * daemon's loop: one timer per digest, set to its next due time (no
 * polling). Rendering runs in the thread pool on a database connection of
 * its own, so ingestion never waits for a digest. Each run is recorded, so
 * a period is written once, across restarts; periods missed while the
 * daemon was down are caught up at start (the latest, or all of them), but
 * only runs that fell due after the database was made (its created_at,
 * db/011_created.sql): a new database gets no digests of the days before. */
#ifndef VIGIL_SCHEDULER_H
#define VIGIL_SCHEDULER_H

#include "config.h"

#include <uv.h>

typedef struct vg_scheduler vg_scheduler;

/* Starts the digests of cfg (which must outlive the scheduler, or at least
 * its digests and db path must). Returns NULL when there is nothing to
 * schedule or on failure (logged). */
vg_scheduler *vg_scheduler_start(uv_loop_t *loop, const vg_config *cfg);
/* Stops the timers; a digest being written finishes first. The scheduler
 * frees itself once its handles are closed: run the loop. NULL is fine. */
void vg_scheduler_stop(vg_scheduler *s);

#endif
