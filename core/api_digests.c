/* api_digests.c — digests over HTTP (api.h's route table calls it):
 *   GET /v1/digests                          the configured digests by name, each with
 *                                            the periods written in its
 *                                            directory and a link per file
 *   GET /v1/digests/{name}/{period}.{ext}    one file: md, html or json
 * Files are named as digest.c writes them: NAME-LAST.EXT for a digest of
 * one day, NAME-FIRST_LAST.EXT for more (days as YYYY-MM-DD). A file is
 * served only for a configured digest's name, a period of that form with
 * real calendar days, and one of the three extensions: the path opened is
 * built from the configuration and those checked pieces alone. Directories
 * are listed and files read in read jobs, never on the loop. */
#include "api.h"
#include "cron.h"
#include "date.h"
#include "vigil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PERIODS_DEFAULT 100
#define PERIODS_MAX 1000
#define PERIOD_MAX 21              /* YYYY-MM-DD_YYYY-MM-DD */
#define FILE_MAX ((off_t)64 << 20) /* a digest file served at most (bytes) */

/* The formats, in the order digest.c writes them. */
static const struct {
  int bit;
  const char *ext, *ctype;
} formats[] = {
    {VG_DIGEST_MD, "md", "text/markdown; charset=utf-8"},
    {VG_DIGEST_HTML, "html", "text/html; charset=utf-8"},
    {VG_DIGEST_JSON, "json", "application/json"},
};
#define NFORMATS (sizeof formats / sizeof *formats)

/* What a served page may do: show itself, its inline style and its inline
 * SVG timeline; nothing else (no script, no request to the API). The
 * server adds nosniff to every reply. */
#define FILE_HEADERS                                                                               \
  "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:;"         \
  " sandbox\r\n"

/* The format of extension ext[0..n), or -1. */
static int format_of(const char *ext, size_t n) {
  for (size_t i = 0; i < NFORMATS; i++)
    if (strlen(formats[i].ext) == n && memcmp(formats[i].ext, ext, n) == 0) return (int)i;
  return -1;
}

/* The day number of YYYY-MM-DD at s (10 bytes), a real calendar day; -1
 * when it is not one. */
static int day_at(const char *s, int32_t *day) {
  for (int i = 0; i < 10; i++)
    if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9') return -1;
  int y = atoi(s), m = (s[5] - '0') * 10 + s[6] - '0', d = (s[8] - '0') * 10 + s[9] - '0';
  if (m < 1 || m > 12 || d < 1 || d > vg_days_in_month(y, m)) return -1;
  *day = vg_days_from_civil(y, m, d);
  return 0;
}

/* Whether s[0..n) is a period as digest.c names files: DAY, or FIRST_LAST
 * with FIRST before LAST. */
static int period_ok(const char *s, size_t n) {
  int32_t a, b;
  if (n == 10) return day_at(s, &a) == 0;
  return n == PERIOD_MAX && s[10] == '_' && day_at(s, &a) == 0 && day_at(s + 11, &b) == 0 && a < b;
}

/* s percent-encoded for a path segment (all but A-Z a-z 0-9 - . _ ~). */
static void encode_segment(const char *s, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < cap; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~", *p)) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
}

/* ---- GET /v1/digests ---- */

/* A configured digest, copied on the loop. */
typedef struct {
  char *name, *schedule, *template, *out;
  int days, formats;
} digest_copy;

typedef struct {
  digest_copy *v;
  size_t n;
  long limit; /* periods listed per digest at most */
} list_job;

/* A period found on disk, and which formats it has there. */
typedef struct {
  char period[PERIOD_MAX + 1];
  int formats;
} period_seen;

static void list_free(void *ud) {
  list_job *j = ud;
  for (size_t i = 0; i < j->n; i++) {
    free(j->v[i].name);
    free(j->v[i].schedule);
    free(j->v[i].template);
    free(j->v[i].out);
  }
  free(j->v);
  free(j);
}

/* The latest period first: by last day, then first day, both descending
 * (YYYY-MM-DD compares as text). */
static int newest_first(const void *x, const void *y) {
  const char *a = ((const period_seen *)x)->period, *b = ((const period_seen *)y)->period;
  const char *al = a[10] ? a + 11 : a, *bl = b[10] ? b + 11 : b;
  int c = strcmp(bl, al);
  return c ? c : strncmp(b, a, 10);
}

/* The periods of digest d written in its directory, newest first, into
 * *out (malloc'd). Their count, or -1 with errno (a directory that does
 * not exist yet holds none). */
static long periods_of(const digest_copy *d, period_seen **out) {
  *out = NULL;
  DIR *dir = opendir(d->out);
  if (!dir) return errno == ENOENT ? 0 : -1;
  size_t nl = strlen(d->name), n = 0, cap = 0;
  period_seen *v = NULL;
  struct dirent *de;
  while ((de = readdir(dir))) {
    const char *f = de->d_name;
    if (strncmp(f, d->name, nl) != 0 || f[nl] != '-') continue;
    const char *p = f + nl + 1, *dot = strrchr(p, '.');
    int fmt = dot ? format_of(dot + 1, strlen(dot + 1)) : -1;
    if (fmt < 0 || !period_ok(p, (size_t)(dot - p))) continue;
    struct stat sb; /* a file digest.c wrote: never a link or a directory */
    if (de->d_type != DT_REG &&
        (de->d_type != DT_UNKNOWN || fstatat(dirfd(dir), f, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
         !S_ISREG(sb.st_mode)))
      continue;
    if (n == cap) { /* one a file; the files of a period are merged once sorted */
      period_seen *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
      if (!nv) {
        free(v);
        closedir(dir);
        errno = ENOMEM;
        return -1;
      }
      v = nv;
    }
    memcpy(v[n].period, p, (size_t)(dot - p));
    v[n].period[dot - p] = '\0';
    v[n++].formats = formats[fmt].bit;
  }
  closedir(dir);
  if (n) qsort(v, n, sizeof *v, newest_first);
  size_t k = 0; /* the periods, each once, with all their formats */
  for (size_t i = 0; i < n; i++) {
    if (k && strcmp(v[k - 1].period, v[i].period) == 0)
      v[k - 1].formats |= v[i].formats;
    else
      v[k++] = v[i];
  }
  n = k;
  *out = v;
  return (long)n;
}


/* One digest as JSON: its settings, its last run as the store recorded it,
 * its next run, and its periods on disk with their links. NULL on error,
 * with why in err. */
static cJSON *digest_json(vg_store *st, const digest_copy *d, long limit, char *err, size_t cap) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", d->name);
  cJSON_AddStringToObject(o, "schedule", d->schedule);
  cJSON_AddNumberToObject(o, "days", d->days);
  cJSON_AddStringToObject(o, "template", d->template);
  cJSON *fl = cJSON_AddArrayToObject(o, "formats");
  for (size_t i = 0; i < NFORMATS; i++)
    if (d->formats & formats[i].bit) cJSON_AddItemToArray(fl, cJSON_CreateString(formats[i].ext));
  cJSON_AddStringToObject(o, "out", d->out);
  char last[11], ran[32];
  int rc = vg_store_digest_last(st, d->name, last, ran);
  if (rc < 0) {
    snprintf(err, cap, "%s", vg_store_errmsg(st));
    cJSON_Delete(o);
    return NULL;
  }
  if (rc == 1) {
    cJSON_AddStringToObject(o, "last_period", last);
    cJSON_AddStringToObject(o, "ran_at", ran);
  } else {
    cJSON_AddNullToObject(o, "last_period");
    cJSON_AddNullToObject(o, "ran_at");
  }
  /* The next run as the scheduler computes it: the daemon's TZ is the
   * configured time zone. */
  vg_cron c;
  char why[200], next[32] = "";
  if (vg_cron_parse(d->schedule, &c, why, sizeof why) == 0) {
    time_t at = vg_cron_next(&c, time(NULL));
    if (at != (time_t)-1) vg_utc_iso(at, next);
  }
  if (next[0])
    cJSON_AddStringToObject(o, "next_run", next);
  else
    cJSON_AddNullToObject(o, "next_run");
  period_seen *v;
  long n = periods_of(d, &v);
  if (n < 0) {
    snprintf(err, cap, "digest '%s': cannot list %s: %s", d->name, d->out, strerror(errno));
    cJSON_Delete(o);
    return NULL;
  }
  cJSON_AddNumberToObject(o, "periods_total", (double)n);
  cJSON *pl = cJSON_AddArrayToObject(o, "periods");
  char name[768];
  encode_segment(d->name, name, sizeof name);
  for (long i = 0; i < n && i < limit; i++) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "period", v[i].period);
    char first[11], *lastp = v[i].period[10] ? v[i].period + 11 : v[i].period;
    memcpy(first, v[i].period, 10);
    first[10] = '\0';
    cJSON_AddStringToObject(p, "first", first);
    cJSON_AddStringToObject(p, "last", lastp);
    cJSON *files = cJSON_AddObjectToObject(p, "files");
    for (size_t f = 0; f < NFORMATS; f++) {
      if (!(v[i].formats & formats[f].bit)) continue;
      char path[1024], url[1600];
      snprintf(path, sizeof path, "/v1/digests/%s/%s.%s", name, v[i].period, formats[f].ext);
      vg_api_url(NULL, path, url, sizeof url);
      cJSON_AddStringToObject(files, formats[f].ext, url);
    }
    cJSON_AddItemToArray(pl, p);
  }
  free(v);
  return o;
}

static void list_work(vg_store *st, void *ud, vg_api_out *out) {
  list_job *j = ud;
  cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "digests");
  for (size_t i = 0; list && i < j->n; i++) {
    char err[512];
    cJSON *d = digest_json(st, &j->v[i], j->limit, err, sizeof err);
    if (!d) {
      cJSON_Delete(o);
      vg_api_out_error(out, 500, "%s", err);
      return;
    }
    cJSON_AddItemToArray(list, d);
  }
  vg_api_out_json(out, 200, o);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const digest_copy *)a)->name, ((const digest_copy *)b)->name);
}

void vg_api_digests(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {"limit", NULL};
  if (vg_api_unknown_params(r, names)) return;
  long long limit = PERIODS_DEFAULT;
  if (vg_api_param_number(r, "limit", 1, PERIODS_MAX, &limit) < 0) return;
  list_job *j = calloc(1, sizeof *j);
  int oom = !j || !(j->v = calloc(srv->cfg.ndigests + 1, sizeof *j->v));
  for (size_t i = 0; !oom && i < srv->cfg.ndigests; i++) {
    const vg_digest_conf *d = &srv->cfg.digests[i];
    digest_copy *c = &j->v[j->n++];
    c->name = strdup(d->name);
    c->schedule = strdup(d->schedule ? d->schedule : "");
    c->template = strdup(d->template ? d->template : d->name);
    c->out = strdup(d->out ? d->out : "");
    c->days = d->days;
    c->formats = d->formats;
    oom = !c->name || !c->schedule || !c->template || !c->out;
  }
  if (oom) {
    if (j) list_free(j);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  qsort(j->v, j->n, sizeof *j->v, by_name); /* the configuration's table has no order */
  j->limit = limit;
  vg_api_read(srv, r, list_work, j, list_free);
}

/* ---- GET /v1/digests/{name}/{period}.{ext} ---- */

typedef struct {
  char *path;      /* built from the configured directory and checked pieces */
  char shown[256]; /* what the client asked, for an error */
  int format;
} file_job;

static void file_free(void *ud) {
  file_job *j = ud;
  free(j->path);
  free(j);
}

static void file_work(vg_store *st, void *ud, vg_api_out *out) {
  (void)st;
  file_job *j = ud;
  int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    int e = fd < 0 ? errno : ENOENT;
    if (fd >= 0) close(fd);
    if (e == ENOENT || e == ENOTDIR || e == ELOOP)
      vg_api_out_error(out, 404, "no digest file %s", j->shown);
    else
      vg_api_out_error(out, 500, "digest file %s: %s", j->shown, strerror(e));
    return;
  }
  if (sb.st_size > FILE_MAX) {
    close(fd);
    vg_api_out_error(out, 500, "digest file %s is over %lld MB, more than is served", j->shown,
                     (long long)(FILE_MAX >> 20));
    return;
  }
  size_t len = (size_t)sb.st_size, got = 0;
  char *body = malloc(len + 1);
  while (body && got < len) {
    ssize_t n = read(fd, body + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* cut short since: what there is (a digest is replaced by rename) */
    got += (size_t)n;
  }
  close(fd);
  if (!body) {
    vg_api_out_error(out, 500, "out of memory");
    return;
  }
  out->status = 200;
  out->body = body;
  out->len = got;
  out->ctype = formats[j->format].ctype;
  snprintf(out->headers, sizeof out->headers, "%s", FILE_HEADERS);
}

void vg_api_digest_file(server *srv, vg_http_req *r, char *const *args) {
  static const char *const names[] = {NULL};
  if (vg_api_unknown_params(r, names)) return;
  const vg_digest_conf *d = vg_config_digest(&srv->cfg, args[0]);
  char shown[96];
  vg_escape_line(shown, sizeof shown, args[1], strlen(args[1]));
  if (!d || !d->out) {
    char nm[96];
    vg_escape_line(nm, sizeof nm, args[0], strlen(args[0]));
    vg_api_error(r, 404, "no digest '%s' is configured", nm);
    return;
  }
  const char *file = args[1], *dot = strrchr(file, '.');
  int fmt = dot ? format_of(dot + 1, strlen(dot + 1)) : -1;
  if (fmt < 0 || !period_ok(file, (size_t)(dot - file))) {
    vg_api_error(r, 404,
                 "no digest file '%s': a file is PERIOD.md, .html or .json, the period"
                 " YYYY-MM-DD or YYYY-MM-DD_YYYY-MM-DD",
                 shown);
    return;
  }
  file_job *j = calloc(1, sizeof *j);
  size_t cap = strlen(d->out) + strlen(d->name) + PERIOD_MAX + 16;
  if (j) j->path = malloc(cap);
  if (!j || !j->path) {
    free(j);
    vg_api_error(r, 500, "out of memory");
    return;
  }
  /* Only checked pieces: the configured directory and name, the period's
   * digits and dashes, a known extension. */
  snprintf(j->path, cap, "%s/%s-%.*s.%s", d->out, d->name, (int)(dot - file), file,
           formats[fmt].ext);
  snprintf(j->shown, sizeof j->shown, "%.200s/%.40s", d->name, shown);
  j->format = fmt;
  vg_api_read(srv, r, file_work, j, file_free);
}
