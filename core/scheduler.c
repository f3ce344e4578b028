/* scheduler.c — digest timers, catch-up, and the hand-off command. */
#include "scheduler.h"

#include "cron.h"
#include "date.h"
#include "digest.h"
#include "vigil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CATCH_UP_MAX 32 /* periods one catch-up writes at most */

typedef struct slot slot;

struct vg_scheduler {
  uv_loop_t *loop;
  const vg_config *cfg;
  char *db;            /* the database path, copied: a reload may replace cfg's */
  slot *slots;
  size_t n;
  size_t open_handles; /* timers not yet closed */
  size_t busy;         /* jobs in the thread pool */
  int stopping;
};

/* One digest: its schedule, its timer, and the job that writes it. */
struct slot {
  vg_scheduler *s;
  const vg_digest_conf *d;
  vg_cron cron;
  uv_timer_t timer;
  uv_work_t work;
  int catching_up;   /* the job catches up missed periods, not one run */
  time_t at;         /* the scheduled time of the run */
  int busy;          /* its job is running */
  int rc;            /* the job's result */
  char err[512];
  char *files;       /* what it wrote, one per line */
  int written;       /* how many periods it wrote */
  int before_db;     /* missed runs left out: they fell due before the database was made */
  time_t created;    /* when the database was made (0: not known) */
};

static void maybe_free(vg_scheduler *s) {
  if (s->stopping && s->open_handles == 0 && s->busy == 0) {
    free(s->db);
    free(s->slots);
    free(s);
  }
}

static void arm(slot *sl, time_t after);

/* ---- the job ---- */

static void work(uv_work_t *req) {
  slot *sl = req->data;
  vg_scheduler *s = sl->s;
  sl->rc = 0;
  sl->written = 0;
  sl->err[0] = '\0';
  char err[512];
  vg_store *st = vg_store_open(s->db, 0, err, sizeof err);
  if (!st) {
    sl->rc = VG_EDB;
    snprintf(sl->err, sizeof sl->err, "%s", err);
    return;
  }
  char last[11], ran[32];
  int found = vg_store_digest_last(st, sl->d->name, last, ran);
  int32_t last_day = INT32_MIN;
  vg_date dt;
  if (found == 1 && vg_date_parse(last, strlen(last), &dt, err, sizeof err) == 0) last_day = dt.first;
  time_t runs[CATCH_UP_MAX];
  int n;
  sl->before_db = 0;
  if (sl->catching_up) {
    n = vg_digest_due(sl->d, &sl->cron, last_day, time(NULL), runs, CATCH_UP_MAX);
    /* A run that fell due before the database was made was not missed by
     * it: a new database writes no digest of the days before it existed. */
    int64_t created;
    if (vg_store_state_get(st, "created_at", &created) == 1) {
      sl->created = (time_t)created;
      int keep = 0;
      for (int i = 0; i < n; i++)
        if (runs[i] >= sl->created) runs[keep++] = runs[i];
      sl->before_db = n - keep;
      n = keep;
    }
  } else {
    runs[0] = sl->at;
    n = vg_digest_period(sl->d, sl->at).last > last_day; /* not written yet */
  }
  for (int i = 0; i < n && sl->rc == 0; i++) {
    char *files = NULL;
    sl->rc = vg_digest_render(st, sl->d, vg_digest_period(sl->d, runs[i]), NULL, 1, &files,
                              sl->err, sizeof sl->err);
    if (sl->rc == 0) {
      sl->written++;
      free(sl->files);
      sl->files = files;
    } else {
      free(files);
    }
  }
  vg_store_close(st);
}

static void on_command_exit(uv_process_t *p, int64_t status, int signal) {
  if (status || signal)
    vg_warn("digest command (pid %d) ended with status %lld, signal %d", p->pid,
            (long long)status, signal);
  uv_close((uv_handle_t *)p, (uv_close_cb)free);
}

/* Hands the files just written to the configured command, without waiting. */
static void hand_off(slot *sl) {
  char **cmd = sl->d->command;
  if (!cmd || !sl->files) return;
  size_t n = 0, nf = 0;
  while (cmd[n]) n++;
  for (const char *p = sl->files; *p; p++) nf += *p == '\n';
  char **argv = calloc(n + nf + 1, sizeof *argv);
  char *files = strdup(sl->files);
  uv_process_t *proc = calloc(1, sizeof *proc);
  if (!argv || !files || !proc) {
    free(argv);
    free(files);
    free(proc);
    return;
  }
  memcpy(argv, cmd, n * sizeof *argv);
  char *save = NULL;
  for (char *f = strtok_r(files, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) argv[n++] = f;
  uv_stdio_container_t io[3] = {{.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 2},
                                {.flags = UV_INHERIT_FD, .data.fd = 2}};
  uv_process_options_t o = {.exit_cb = on_command_exit, .file = argv[0], .args = argv,
                            .stdio_count = 3, .stdio = io};
  int rc = uv_spawn(sl->s->loop, proc, &o);
  if (rc) { /* the handle is known to the loop all the same: close it */
    vg_error("digest %s: cannot run %s: %s", sl->d->name, argv[0], uv_strerror(rc));
    uv_close((uv_handle_t *)proc, (uv_close_cb)free);
  }
  free(argv);
  free(files);
}

static void after_work(uv_work_t *req, int status) {
  slot *sl = req->data;
  vg_scheduler *s = sl->s;
  sl->busy = 0;
  s->busy--;
  if (status == UV_ECANCELED) {
    maybe_free(s);
    return;
  }
  if (sl->rc) {
    vg_error("digest %s: not written: %s", sl->d->name, sl->err);
  } else if (sl->written) {
    for (char *p = sl->files, *end; p && *p; p = end + 1) {
      end = strchr(p, '\n');
      if (!end) break;
      vg_info("digest %s: wrote %.*s", sl->d->name, (int)(end - p), p);
    }
    hand_off(sl);
  } else if (!sl->catching_up) {
    vg_info("digest %s: this period is written already", sl->d->name);
  }
  if (sl->before_db) {
    char made[40];
    struct tm tm;
    localtime_r(&sl->created, &tm);
    strftime(made, sizeof made, "%Y-%m-%d %H:%M %Z", &tm);
    vg_info("digest %s: not caught up: %d run%s due before the database was made (%s)",
            sl->d->name, sl->before_db, sl->before_db == 1 ? "" : "s", made);
  }
  free(sl->files);
  sl->files = NULL;
  if (!s->stopping) arm(sl, sl->catching_up ? time(NULL) : sl->at);
  maybe_free(s);
}

static void submit(slot *sl) {
  if (sl->busy || sl->s->stopping) return;
  sl->busy = 1;
  sl->s->busy++;
  sl->work.data = sl;
  if (uv_queue_work(sl->s->loop, &sl->work, work, after_work)) {
    sl->busy = 0;
    sl->s->busy--;
  }
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t) {
  slot *sl = t->data;
  sl->catching_up = 0;
  submit(sl);
}

/* Sets the timer to the first scheduled time after `after`. */
static void arm(slot *sl, time_t after) {
  time_t next = vg_cron_next(&sl->cron, after);
  if (next == (time_t)-1) {
    vg_warn("digest %s: '%s' does not fire again", sl->d->name, sl->d->schedule);
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t ms = ((int64_t)next - now.tv_sec) * 1000 - now.tv_nsec / 1000000;
  sl->at = next;
  uv_timer_start(&sl->timer, on_timer, ms > 0 ? (uint64_t)ms : 0, 0);
  char when[40];
  struct tm tm;
  localtime_r(&next, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
  vg_debug("digest %s: next run %s", sl->d->name, when);
}

vg_scheduler *vg_scheduler_start(uv_loop_t *loop, const vg_config *cfg) {
  if (!cfg->ndigests) return NULL;
  vg_scheduler *s = calloc(1, sizeof *s);
  if (!s || !(s->slots = calloc(cfg->ndigests, sizeof *s->slots))) {
    free(s);
    return NULL;
  }
  s->loop = loop;
  s->cfg = cfg;
  if (!(s->db = strdup(cfg->db))) {
    free(s->slots);
    free(s);
    return NULL;
  }
  for (size_t i = 0; i < cfg->ndigests; i++) {
    slot *sl = &s->slots[s->n];
    char err[256];
    if (vg_cron_parse(cfg->digests[i].schedule, &sl->cron, err, sizeof err)) {
      vg_error("digest %s: %s; it will not run", cfg->digests[i].name, err);
      continue;
    }
    sl->s = s;
    sl->d = &cfg->digests[i];
    uv_timer_init(loop, &sl->timer);
    sl->timer.data = sl;
    s->open_handles++;
    s->n++;
    /* First catch up what was missed; that job then sets the timer. */
    sl->catching_up = 1;
    submit(sl);
  }
  vg_info("digests: %zu scheduled (time zone %s)", s->n, cfg->timezone);
  return s;
}

static void on_closed(uv_handle_t *h) {
  slot *sl = h->data;
  vg_scheduler *s = sl->s;
  s->open_handles--;
  maybe_free(s);
}

void vg_scheduler_stop(vg_scheduler *s) {
  if (!s || s->stopping) return;
  s->stopping = 1;
  for (size_t i = 0; i < s->n; i++) uv_close((uv_handle_t *)&s->slots[i].timer, on_closed);
  if (s->n == 0) maybe_free(s);
}
