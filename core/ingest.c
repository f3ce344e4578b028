/* ingest.c — the shared path from a line to the store; see ingest.h. */
#include "ingest.h"

#include "framer.h"
#include "vigil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Runs the rules on a newly stored entry. */
static int run_rules(const vg_ingest *ig, const vg_entry *e, int64_t id) {
  char date[VG_DATE_TEXT_MAX];
  vg_date_format(&e->date, date);
  vg_rule_entry re = {id,          date,        vg_precision_name(e->date.precision),
                      e->date.first, e->date.last, e->text, e->text_len, e->source, e->fields};
  return vg_rules_run(ig->rules, ig->st, &re, ig->alerts);
}

int vg_ingest_line(const vg_ingest *ig, const vg_line *line, vg_result *res, vg_counts *c) {
  vg_entry e;
  res->id = 0;
  res->reason[0] = '\0';
  int rc;
  if (line->flags & VG_LINE_TOO_LONG) {
    snprintf(res->reason, sizeof res->reason, "line of %llu bytes is over the %zu-byte cap",
             (unsigned long long)line->total, line->max_line);
    rc = VG_EPARSE;
  } else {
    rc = vg_entry_parse(line->data, line->len, line->format, line->source, &e, res->reason);
  }
  if (rc) {
    res->status = VG_REJECTED;
    if (vg_store_reject(ig->st, line->source, line->line_no, res->reason, line->data, line->len,
                        line->total))
      return res->status = VG_EDB;
    if (c) c->rejected++;
    return 0;
  }
  res->status = vg_store_insert(ig->st, &e, &res->id);
  if (res->status == VG_STORED && ig->rules && (rc = run_rules(ig, &e, res->id)) < 0)
    res->status = rc;
  vg_entry_clear(&e);
  if (res->status < 0) return res->status;
  if (c) {
    if (res->status == VG_STORED) c->stored++;
    else c->duplicates++;
  }
  return 0;
}

int vg_ingest_flush(const vg_ingest *ig) {
  return ig->rules ? vg_rules_flush(ig->rules, ig->st, ig->alerts) : 0;
}

/* Commits the open transaction after ending its batch. */
static int commit(const vg_ingest *ig) {
  int rc = vg_ingest_flush(ig);
  return rc ? rc : vg_store_commit(ig->st);
}

/* State of one file while the framer hands its lines on. */
typedef struct {
  const vg_ingest *ig;
  const vg_file_opts *o;
  vg_counts *c;
  size_t in_txn; /* lines in the open transaction */
} file_job;

static int file_line(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                     unsigned flags) {
  file_job *j = ud;
  vg_line line = {data,      len,          total,         line_no, flags,
                  j->o->format, j->o->source, j->o->max_line};
  vg_result res;
  int rc = vg_ingest_line(j->ig, &line, &res, j->c);
  if (rc) return rc;
  if (res.status == VG_REJECTED && j->o->on_reject) j->o->on_reject(j->o->ud, &line, &res);
  if (++j->in_txn >= j->o->batch) {
    int rc2 = commit(j->ig);
    if (rc2) return rc2;
    if (j->o->on_commit) j->o->on_commit(j->o->ud);
    if (vg_store_begin(j->ig->st)) return VG_EDB;
    j->in_txn = 0;
  }
  return 0;
}

int vg_ingest_fd(const vg_ingest *ig, int fd, const vg_file_opts *o, vg_counts *c, char *err,
                 size_t cap) {
  vg_store *st = ig->st;
  file_job j = {ig, o, c, 0};
  vg_framer f;
  vg_framer_init(&f, o->max_line);
  char buf[65536];
  uint64_t bytes = 0, next_progress = 1 << 22;
  int rc = vg_store_begin(st);
  while (rc == 0) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(err, cap, "read failed after line %llu: %s", (unsigned long long)f.line_no,
               strerror(errno));
      if ((rc = commit(ig)) == 0) {
        rc = VG_EIO;
        if (o->on_commit) o->on_commit(o->ud);
      }
      break;
    }
    if (n == 0) {
      if ((rc = vg_framer_finish(&f, file_line, &j)) == 0 && (rc = commit(ig)) == 0 &&
          o->on_commit)
        o->on_commit(o->ud);
      break;
    }
    bytes += (uint64_t)n;
    rc = vg_framer_feed(&f, buf, (size_t)n, file_line, &j);
    if (o->progress && bytes >= next_progress) {
      o->progress(o->ud, f.line_no, bytes);
      next_progress = bytes + (1 << 22);
    }
  }
  if (rc == VG_EDB || rc == VG_ENOMEM) {
    vg_store_rollback(st);
    snprintf(err, cap, "%s", rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
  }
  vg_framer_free(&f);
  return rc;
}
