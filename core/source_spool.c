/* source_spool.c — files moved into the spool directory: the directory is
 * watched (and looked for again when it goes away), new names are queued in
 * name order, and each file is ingested by jobs of one batch each
 * (spool.h), so that lines from clients get their turn between them. See
 * daemon.h. */
#include "daemon.h"
#include "paths.h"
#include "tabular.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void on_spool_timer(uv_timer_t *t);

static int queued(const server *srv, const char *name) {
  if (srv->spool.name && strcmp(srv->spool.name, name) == 0) return 1;
  for (size_t i = 0; i < srv->spool_n; i++)
    if (strcmp(srv->spool_queue[i], name) == 0) return 1;
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a name of the spool that is not a regular file is queued all the
 * same, so that its turn refuses it with a reason (see spool.h) rather than
 * leave it there unsaid: anything but a directory or a link to one (done/
 * and failed/ may be links to elsewhere). */
static int refusable(const server *srv, const char *name) {
  if (strcmp(name, "done") == 0 || strcmp(name, "failed") == 0 || vg_tabular_find(name)) return 0;
  char p[4200];
  struct stat sb;
  snprintf(p, sizeof p, "%s/%s", srv->cfg.spool, name);
  if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) return 0; /* stat: never opens */
  return lstat(p, &sb) == 0;
}

/* Whether the spool's name is a symbolic link to a directory. */
static int links_to_dir(const server *srv, const char *name) {
  char p[4200];
  struct stat sb;
  snprintf(p, sizeof p, "%s/%s", srv->cfg.spool, name);
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void on_spool_event(uv_fs_event_t *h, const char *name, int events, int status);

/* Queues name (owned) unless the queue cannot grow; 0 or -1. */
static int enqueue(server *srv, char *name) {
  if (!name) return -1;
  if (srv->spool_n == srv->spool_cap) {
    size_t cap = srv->spool_cap ? srv->spool_cap * 2 : 16;
    char **q = realloc(srv->spool_queue, cap * sizeof *q);
    if (!q) {
      free(name);
      return -1;
    }
    srv->spool_queue = q;
    srv->spool_cap = cap;
  }
  srv->spool_queue[srv->spool_n++] = name;
  return 0;
}

/* Watches spool/FORMAT, once, so that files put there are noticed. */
static void watch_sub(server *srv, const char *format, const char *path) {
  for (int i = 0; i < srv->nspool_subs; i++)
    if (strcmp(srv->spool_sub_names[i], format) == 0) return;
  if (srv->nspool_subs == VG_SPOOL_SUBS || strlen(format) >= sizeof srv->spool_sub_names[0]) {
    vg_warn("spool: %s is not watched (%d format directories at most): it is read when the "
            "spool is", path, VG_SPOOL_SUBS);
    return;
  }
  uv_fs_event_t *h = &srv->spool_subs[srv->nspool_subs];
  uv_fs_event_init(srv->loop, h);
  h->data = srv;
  snprintf(srv->spool_sub_names[srv->nspool_subs++], sizeof srv->spool_sub_names[0], "%s",
           format);
  int rc = uv_fs_event_start(h, on_spool_event, path, 0);
  if (rc) vg_warn("spool: cannot watch %s: %s", path, uv_strerror(rc));
  else vg_info("spool: files in %s are read as format %s", path, format);
}

/* Queues the new files of the spool's directory for table format `format`. */
static void scan_sub(server *srv, const char *format) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", srv->cfg.spool, format);
  watch_sub(srv, format, path);
  uv_fs_t req;
  int n = uv_fs_scandir(srv->loop, &req, path, 0, NULL);
  uv_dirent_t d;
  char name[4200];
  while (n >= 0 && uv_fs_scandir_next(&req, &d) != UV_EOF) {
    snprintf(name, sizeof name, "%s/%s", format, d.name);
    /* anything but a directory: what is no regular file is refused when read */
    if (d.name[0] == '.' || d.type == UV_DIRENT_DIR || queued(srv, name)) continue;
    if (enqueue(srv, strdup(name))) break;
  }
  uv_fs_req_cleanup(&req);
}

/* Queues every file of the spool that is not queued yet: regular files, and
 * what refusable() lets through to be refused. Names that start with a dot
 * are files still being written, by convention. A directory named after a
 * table format is read in that format (scan_sub). */
void vg_source_spool_scan(server *srv) {
  if (!srv->have_spool || srv->stopping) return;
  uv_fs_t req;
  int n = uv_fs_scandir(srv->loop, &req, srv->cfg.spool, 0, NULL);
  if (n < 0) {
    if (n == UV_ENOENT || n == UV_ENOTDIR) vg_source_spool_check(srv); /* says it is gone, once */
    else vg_error("spool: cannot read %s: %s", srv->cfg.spool, uv_strerror(n));
    uv_fs_req_cleanup(&req);
    return;
  }
  size_t before = srv->spool_n;
  uv_dirent_t d;
  while (uv_fs_scandir_next(&req, &d) != UV_EOF) {
    if (d.name[0] == '.' || queued(srv, d.name)) continue;
    if ((d.type == UV_DIRENT_DIR || (d.type == UV_DIRENT_LINK && links_to_dir(srv, d.name))) &&
        vg_tabular_find(d.name)) {
      scan_sub(srv, d.name); /* a format directory, or a link to one, as done/ may be */
      continue;
    }
    if (d.type != UV_DIRENT_FILE && !refusable(srv, d.name)) continue;
    if (enqueue(srv, strdup(d.name))) break;
  }
  uv_fs_req_cleanup(&req);
  if (srv->spool_n > before)
    qsort(srv->spool_queue + before, srv->spool_n - before, sizeof *srv->spool_queue, by_name);
  if (srv->spool_n > before) vg_debug("spool: %zu new files", srv->spool_n - before);
  vg_daemon_kick(srv);
}

static void on_spool_timer(uv_timer_t *t) {
  vg_source_spool_check(t->data); /* a directory put in its place gets done/, failed/ and a watch */
  vg_source_spool_scan(t->data);
}

static void on_spool_event(uv_fs_event_t *h, const char *name, int events, int status) {
  server *srv = h->data;
  (void)name;
  (void)events;
  if (status < 0) {
    vg_warn("spool: watch failed: %s", uv_strerror(status));
    return;
  }
  /* Several events arrive per file: scan once they settle. */
  uv_timer_start(&srv->spool_timer, on_spool_timer, 20, 0);
}

/* Watches the spool directory as it is now, done/ and failed/ made in it,
 * and notes which directory that is. Returns 0 or a libuv error (the handle,
 * initialized by the caller, stays open either way). */
static int watch_spool(server *srv, void *ud) {
  (void)ud;
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/done", srv->cfg.spool);
  mkdir(sub, 0755);
  snprintf(sub, sizeof sub, "%s/failed", srv->cfg.spool);
  mkdir(sub, 0755);
  return vg_daemon_watch_dir(&srv->spool_watch, on_spool_event, srv->cfg.spool, &srv->spool_dir);
}

void vg_source_spool_check(server *srv) {
  if (!srv->have_spool || srv->stopping) return;
  if (vg_daemon_dir_back(srv, "spool", srv->cfg.spool, &srv->spool_dir, 0, watch_spool, NULL,
               "the sockets are still served, and files put in it are ingested once it is back",
               ""))
    vg_source_spool_scan(srv);
}

/* The spool directory is made when missing; the daemon does not start
 * without a watch on it. */
int vg_source_spool_start(server *srv) {
  if (!srv->cfg.spool[0]) return 0;
  vg_make_dirs(srv->cfg.spool, 1);
  uv_fs_event_init(srv->loop, &srv->spool_watch);
  srv->spool_watch.data = srv;
  srv->have_spool = 1; /* the handle is closed on the way out */
  int rc = watch_spool(srv, NULL);
  if (rc) {
    vg_error("spool: cannot watch %s: %s", srv->cfg.spool, uv_strerror(rc));
    return -1;
  }
  vg_info("watching spool directory %s", srv->cfg.spool);
  if (vg_spool_tidy(srv->store, srv->cfg.spool) != 0) /* no job runs yet: the store is free */
    vg_warn("spool: the progress of files gone from it was not dropped: %s",
            vg_store_errmsg(srv->store));
  vg_source_spool_scan(srv);
  return 0;
}

/* How a spool file is read: by its format directory (FORMAT/name), by a
 * table format's suffix, or as the daemon's format says. */
static vg_format spool_format(const server *srv, const char *name) {
  const char *slash = strchr(name, '/');
  char dir[64];
  const vg_tabular_format *f = NULL;
  if (slash && (size_t)(slash - name) < sizeof dir) {
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);
    f = vg_tabular_find(dir);
  }
  if (!f) f = vg_tabular_by_suffix(name);
  return f ? vg_tabular_fmt(f) : srv->js.format;
}

static void work(server *srv) {
  vg_file_opts o = {.format = spool_format(srv, srv->spool.name), .source = SPOOL_SOURCE,
                    .max_line = srv->js.max_line, .batch = srv->js.batch,
                    .max_lines = srv->js.batch};
  vg_ingest ig = vg_daemon_ingest(srv);
  vg_spool_ingest(&ig, srv->js.spool, srv->spool.name, &o, srv->spool.more, &srv->spool.result);
}

static void done(server *srv) {
  spool_job *j = &srv->spool;
  const vg_spool_result *r = &j->result;
  if (r->rc == VG_EDB && !srv->stopping) /* left in the spool: tried again in a while */
    uv_timer_start(&srv->spool_timer, on_spool_timer, 5000, 0);
  j->more = r->rc == VG_SPOOL_MORE;
  if (j->more && srv->stopping) {
    vg_info("spool: %s: stopping after line %llu; it stays in the spool, and the next start"
            " goes on from there", j->name,
            (unsigned long long)(r->counts.stored + r->counts.duplicates + r->counts.rejected));
    return;
  }
  if (j->more) {
    vg_debug("spool: %s: %llu lines so far; the rest after what waits", j->name,
             (unsigned long long)(r->counts.stored + r->counts.duplicates + r->counts.rejected));
    return;
  }
  if (r->rc == VG_SPOOL_GONE) {
    vg_info("spool: %s: gone from the spool", j->name);
  } else if (r->rc == VG_SPOOL_REFUSED) {
    vg_warn("spool: %s: %s; not read -> failed/", j->name, r->why);
  } else if (r->rc == VG_EDB) {
    vg_error("spool: %s: not stored (%s); it stays in the spool and is retried", j->name, r->why);
  } else {
    vg_info("spool: %s: %llu stored, %llu duplicates, %llu rejected%s%s -> %s/", j->name,
            (unsigned long long)r->counts.stored, (unsigned long long)r->counts.duplicates,
            (unsigned long long)r->counts.rejected, r->rc ? "; " : "", r->rc ? r->why : "",
            r->failed ? "failed" : "done");
  }
  free(j->name);
  memset(j, 0, sizeof *j);
}

static int take(server *srv) {
  if ((!srv->spool.more && !srv->spool_n) || srv->stopping) return SOURCE_NONE;
  if (!srv->spool.more) {
    srv->spool.name = srv->spool_queue[0];
    memmove(srv->spool_queue, srv->spool_queue + 1, --srv->spool_n * sizeof *srv->spool_queue);
  }
  return SOURCE_TAKEN;
}

const vg_source vg_source_spool = {.name = "spool", .take = take, .work = work, .done = done};
