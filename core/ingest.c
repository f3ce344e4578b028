/* ingest.c — the shared path from a line to the store; see ingest.h. */
#include "ingest.h"
#include "date.h"

#include "batch.h"
#include "correct.h"
#include "framer.h"
#include "metrics.h"
#include "reader.h"
#include "tabular.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

/* Runs the rules on a newly stored entry. */
static int run_rules(const vg_ingest *ig, const vg_entry *e, int64_t id) {
  vg_rule_entry re = {id,          e->date_text, vg_precision_name(e->date.precision),
                      e->date.first, e->date.last, e->text, e->text_len, e->source, e->fields};
  return vg_rules_run(ig->rules, ig->st, &re, ig->alerts);
}

int vg_ingest_parse(const vg_line *line, vg_entry *e, vg_result *res) {
  res->id = 0;
  res->reason[0] = '\0';
  int rc;
  if (line->flags & VG_LINE_TOO_LONG) {
    snprintf(res->reason, sizeof res->reason, "line of %llu bytes is over the %zu-byte cap",
             (unsigned long long)line->total, line->max_line);
    rc = VG_EPARSE;
  } else if (line->table) {
    rc = vg_tabular_row(line->table, line->data, line->len, line->line_no, line->source, e,
                      res->reason);
    if (rc == VG_TABULAR_HEADER) {
      res->status = VG_HEADER;
      return VG_EPARSE;
    }
    if (rc) rc = VG_EPARSE;
  } else {
    rc = vg_entry_parse(line->data, line->len, line->format, line->source, e, res->reason);
  }
  if (rc) {
    /* A reason may quote the line (a date string of a JSON record can hold
     * any character): kept, and said to the client, as one line. */
    char said[VG_REASON_MAX];
    memcpy(said, res->reason, sizeof said);
    vg_escape_line(res->reason, sizeof res->reason, said, strnlen(said, sizeof said));
    res->status = VG_REJECTED;
  }
  return rc;
}

/* Keeps a rejected line, with res->reason, in the rejects table. 0, or
 * VG_EDB (in res->status too). */
static int keep_reject(const vg_ingest *ig, const vg_line *line, vg_result *res, vg_counts *c) {
  res->status = VG_REJECTED;
  if (vg_store_reject(ig->st, line->source, line->origin, line->line_no, res->reason, line->data,
                      line->len, line->total))
    return res->status = VG_EDB;
  if (c) c->rejected++;
  vg_metrics_reject(res->reason);
  return 0;
}

/* The JSON object of a stored entry, as a record: its fields, then date,
 * text and source. */
static int record_of(void *ud, const vg_row *row) {
  cJSON **out = ud;
  cJSON *o = row->fields ? cJSON_Parse(row->fields) : NULL;
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    o = cJSON_CreateObject();
  }
  cJSON_DeleteItemFromObjectCaseSensitive(o, "date");
  cJSON_DeleteItemFromObjectCaseSensitive(o, "text");
  cJSON_DeleteItemFromObjectCaseSensitive(o, "source");
  cJSON_AddStringToObject(o, "date", row->date);
  cJSON_AddStringToObject(o, "text", row->text);
  cJSON_AddStringToObject(o, "source", row->source);
  *out = o;
  return o ? 0 : VG_ENOMEM;
}

/* The new version a correction record makes: the entry as it is, with what
 * the record names in place of what it had. Parses it into next, which
 * points into *keep (the caller frees both). 0; VG_EPARSE with why in
 * res->reason; VG_EINVAL when there is no such entry; or VG_EDB / VG_ENOMEM. */
static int next_version(const vg_ingest *ig, const vg_line *line, const vg_entry *e,
                        vg_entry *next, char **keep, vg_result *res) {
  cJSON *base = NULL;
  int rc = vg_store_entry(ig->st, e->amends, record_of, &base);
  if (rc) return rc;
  cJSON *rec = cJSON_ParseWithLength(line->data, line->len);
  for (cJSON *m = rec ? rec->child : NULL; m; m = m->next) {
    if (!strcmp(m->string, "amends") || !strcmp(m->string, "reason")) continue;
    cJSON_DeleteItemFromObjectCaseSensitive(base, m->string);
    cJSON_AddItemToObject(base, m->string, cJSON_Duplicate(m, 1));
  }
  cJSON_Delete(rec);
  *keep = cJSON_PrintUnformatted(base);
  const char *source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(base, "source"));
  rc = *keep ? vg_entry_parse(*keep, strlen(*keep), VG_FORMAT_JSON, source, next, res->reason)
             : VG_ENOMEM;
  cJSON_Delete(base);
  return rc;
}

/* Applies a record that amends or retracts a stored entry. */
static int correct_entry(const vg_ingest *ig, const vg_line *line, const vg_entry *e,
                         vg_result *res, vg_counts *c) {
  vg_entry next;
  char *keep = NULL;
  int64_t id = e->amends ? e->amends : e->retracts;
  int rc = e->amends ? next_version(ig, line, e, &next, &keep, res) : 0;
  if (rc == 0) {
    vg_correction co = {id, e->amends ? &next : NULL, e->reason, line->origin ? line->origin : "json"};
    char why[VG_REASON_MAX];
    rc = vg_correct(ig->rules, ig->st, &co, ig->alerts, why, sizeof why);
    if (e->amends) vg_entry_clear(&next);
    if (rc == VG_EINVAL) snprintf(res->reason, sizeof res->reason, "%s", why);
  } else if (rc == VG_EINVAL) {
    snprintf(res->reason, sizeof res->reason, "there is no such entry");
  }
  free(keep);
  if (rc == VG_EINVAL || rc == VG_EPARSE) {
    char said[VG_REASON_MAX];
    snprintf(said, sizeof said, "%s %lld: %.120s", e->amends ? "amends" : "retracts", (long long)id,
             res->reason);
    vg_escape_line(res->reason, sizeof res->reason, said, strnlen(said, sizeof said));
    return VG_REJECTED;
  }
  if (rc < 0) return res->status = rc;
  res->id = id;
  res->status = rc == VG_UNCHANGED ? VG_DUPLICATE : e->amends ? VG_CORRECTION : VG_RETRACTION;
  if (c) {
    if (rc == VG_UNCHANGED) c->duplicates++;
    else c->corrected++;
  }
  return 0;
}

/* Stores e, running the rules on it when it is new; the caller clears e. */
static int store_entry(const vg_ingest *ig, const vg_entry *e, vg_result *res, vg_counts *c) {
  int rc;
  res->status = vg_store_insert(ig->st, e, &res->id);
  if (res->status == VG_STORED && ig->rules && (rc = run_rules(ig, e, res->id)) < 0)
    res->status = rc;
  if (res->status < 0) return res->status;
  vg_metrics_entry(e->source, res->status);
  if (c) {
    if (res->status == VG_STORED) c->stored++;
    else c->duplicates++;
  }
  return 0;
}

/* The digits of s without its sign and leading zeros, or NULL when s is no
 * whole number; *neg: it has a minus sign. */
static const char *whole_number(const char *s, int *neg) {
  *neg = *s == '-';
  s += *s == '-' || *s == '+';
  if (!*s || strspn(s, "0123456789") != strlen(s)) return NULL;
  while (*s == '0' && s[1]) s++;
  if (strcmp(s, "0") == 0) *neg = 0;
  return s;
}

/* Whether a row's last-edit mark a is later than b: as whole numbers of
 * any length when both are (Unix seconds, nanoseconds: exactly, past what a
 * double or 64 bits hold), else as numbers when both are (with a
 * fraction), else as text (ISO times in one offset compare so). */
static int edited_later(const char *a, const char *b) {
  int na, nb;
  const char *x = whole_number(a, &na), *y = whole_number(b, &nb);
  if (x && y) {
    if (na != nb) return nb;
    size_t lx = strlen(x), ly = strlen(y);
    int c = lx != ly ? (lx > ly ? 1 : -1) : strcmp(x, y);
    return na ? c < 0 : c > 0;
  }
  char *ea, *eb;
  double dx = strtod(a, &ea), dy = strtod(b, &eb);
  if (*a && *b && !*ea && !*eb && dx == dx && dy == dy) return dx > dy;
  return strcmp(a, b) > 0;
}

/* Stores a row with an id (e->key): the first time as any entry; again,
 * a duplicate of the entry it became, unless its last-edit mark is later:
 * then it corrects that entry. */
static int store_row(const vg_ingest *ig, const vg_line *line, const vg_entry *e, vg_result *res,
                     vg_counts *c) {
  int64_t id;
  char edited[VG_FIELD_MAX];
  int known = vg_store_row_key(ig->st, e->scope, e->key, &id, edited, sizeof edited);
  if (known < 0) return res->status = VG_EDB;
  if (!known) {
    int rc = store_entry(ig, e, res, c);
    if (rc == 0 && vg_store_row_key_put(ig->st, e->scope, e->key, res->id, e->edited))
      rc = res->status = VG_EDB;
    return rc;
  }
  res->id = id;
  if (!e->edited || !edited_later(e->edited, edited)) {
    res->status = VG_DUPLICATE;
    vg_metrics_entry(e->source, VG_DUPLICATE);
    if (c) c->duplicates++;
    return 0;
  }
  char why[VG_REASON_MAX], reason[VG_REASON_MAX];
  snprintf(reason, sizeof reason, "edited in its source (%.60s %.40s)", vg_tabular_of(line->format)
           ? vg_tabular_of(line->format)->edited : "edit", e->edited);
  vg_correction co = {id, e, reason, line->origin ? line->origin : e->scope};
  int rc = vg_correct(ig->rules, ig->st, &co, ig->alerts, why, sizeof why);
  if (rc == VG_EINVAL) {
    char said[2 * VG_REASON_MAX];
    snprintf(said, sizeof said, "row %llu: id %.60s corrects entry %lld: %.80s",
             (unsigned long long)line->line_no, e->key, (long long)id, why);
    vg_escape_line(res->reason, sizeof res->reason, said, strnlen(said, VG_REASON_MAX - 1));
    /* Said once: read again, the same edit is a duplicate of the entry. */
    if (vg_store_row_key_put(ig->st, e->scope, e->key, id, e->edited)) return res->status = VG_EDB;
    return keep_reject(ig, line, res, c);
  }
  if (rc < 0) return res->status = rc;
  if (vg_store_row_key_put(ig->st, e->scope, e->key, id, e->edited)) return res->status = VG_EDB;
  res->status = rc == VG_UNCHANGED ? VG_DUPLICATE : VG_CORRECTION;
  if (c) {
    if (rc == VG_UNCHANGED) c->duplicates++;
    else c->corrected++;
  }
  return 0;
}

int vg_ingest_parsed(const vg_ingest *ig, const vg_line *line, const vg_entry *e,
                     vg_result *res, vg_counts *c) {
  if (!e) return res->status == VG_HEADER ? 0 : keep_reject(ig, line, res, c);
  if (e->key) return store_row(ig, line, e, res, c);
  if (!e->amends && !e->retracts) return store_entry(ig, e, res, c);
  int rc = correct_entry(ig, line, e, res, c);
  return rc == VG_REJECTED ? keep_reject(ig, line, res, c) : rc;
}

int vg_ingest_line(const vg_ingest *ig, const vg_line *line, vg_result *res, vg_counts *c) {
  vg_entry e;
  if (vg_ingest_parse(line, &e, res)) return vg_ingest_parsed(ig, line, NULL, res, c);
  int rc = vg_ingest_parsed(ig, line, &e, res, c);
  vg_entry_clear(&e);
  return rc;
}

int vg_ingest_flush(const vg_ingest *ig) {
  return ig->rules ? vg_rules_flush(ig->rules, ig->st, ig->alerts) : 0;
}

/* State of one file while the framer hands its lines on. */
typedef struct {
  vg_batch b;      /* the open transaction */
  const vg_file_opts *o;
  vg_counts *c;
  size_t in_txn;   /* lines in the open transaction */
  uint64_t line;   /* the last line handed on */
  uint64_t offset; /* the end of that line in the file */
} file_job;

/* Tells the caller, inside the transaction, where the batch ends. */
static int before_commit(void *ud) {
  file_job *j = ud;
  return j->o->before_commit ? j->o->before_commit(j->o->ud, j->line, j->offset) : 0;
}

/* Ends the batch with rc (0: commit it) and says so to the caller. */
static int commit(file_job *j, int rc) {
  rc = vg_batch_end(&j->b, rc, before_commit, j);
  if (rc == 0 && j->o->on_commit) j->o->on_commit(j->o->ud);
  return rc;
}

enum { STOPPED = 2 }; /* the stop flag was set before this line: it is not taken */

/* Stores one parsed line of the file (the reader clears its entry once the
 * chunk comes back to it), then commits
 * when the batch is full. 0, VG_INGEST_MORE at max_lines, or a failure. */
static int file_line(file_job *j, vg_parsed *p) {
  int rc = vg_ingest_parsed(&j->b.ig, &p->line, p->parsed ? &p->e : NULL, &p->res, j->c);
  if (rc) return rc;
  j->line = p->line.line_no;
  j->offset += p->line.total + !(p->line.flags & VG_LINE_NO_EOL);
  if (p->res.status == VG_REJECTED && j->o->on_reject) j->o->on_reject(j->o->ud, &p->line, &p->res);
  if (++j->in_txn >= j->o->batch) {
    if ((rc = commit(j, 0))) return rc;
    if (j->o->max_lines && j->line - j->o->first_line >= j->o->max_lines) return VG_INGEST_MORE;
    if ((rc = vg_batch_begin(&j->b))) return rc;
    j->in_txn = 0;
  }
  return 0;
}

/* The lines come parsed from a reader thread (reader.h) while this one
 * stores those before them. */
int vg_ingest_fd(const vg_ingest *ig, int fd, const vg_file_opts *o, vg_counts *c, char *err,
                 size_t cap) {
  file_job j = {.o = o, .c = c, .line = o->first_line, .offset = o->offset};
  vg_batch_init(&j.b, ig);
  /* The reader reads no further than the commit that ends at max_lines. */
  size_t batch = o->batch ? o->batch : 1;
  uint64_t upto = o->max_lines ? (o->max_lines + batch - 1) / batch * batch : 0;
  vg_reader_opts ro = {o->format, o->source, o->origin, o->max_line, o->first_line, upto, ig->stop};
  vg_reader *r = vg_reader_start(fd, &ro);
  if (!r) {
    snprintf(err, cap, "cannot start a thread to read the input");
    vg_batch_free(&j.b);
    return VG_ENOMEM;
  }
  uint64_t bytes = 0;
  int rc = vg_batch_begin(&j.b), end = 0;
  vg_chunk *ch = NULL;
  while (rc == 0 && !end && (ch = vg_reader_next(r))) {
    for (size_t i = 0; rc == 0 && i < ch->n; i++) {
      /* A stop is honoured between two entries: the rest is left unread. */
      if (vg_ingest_stopped(&j.b.ig)) {
        rc = STOPPED;
        break;
      }
      vg_parsed *p = &ch->v[i];
      bytes += p->line.total + !(p->line.flags & VG_LINE_NO_EOL);
      rc = file_line(&j, p);
    }
    if (o->progress) o->progress(o->ud, j.line, bytes);
    end = rc == 0 ? ch->end : 0;
    if (end == VG_CHUNK_LAST) {
      rc = commit(&j, 0);
    } else if (end == VG_CHUNK_LIMIT) { /* max_lines: the rest is for the next call */
      if ((rc = commit(&j, 0)) == 0) rc = VG_INGEST_MORE;
    } else if (end) { /* the read failed after these lines: they are committed */
      snprintf(err, cap, "%s", ch->why);
      if ((rc = commit(&j, 0)) == 0) rc = end == VG_EIO ? VG_EIO : VG_ENOMEM;
    }
    vg_reader_recycle(r, ch);
  }
  if (rc == 0 && !end && !ch) rc = STOPPED; /* stopped while waiting for input */
  vg_reader_stop(r);
  /* Stopped: what was stored is committed, with where the rest begins. */
  if (rc == STOPPED && (rc = commit(&j, 0)) == 0) rc = VG_INGEST_MORE;
  if (rc == VG_EDB || rc == VG_ENOMEM) {
    if (j.b.open) vg_batch_end(&j.b, rc, NULL, NULL); /* rolls back, saying why */
    /* A failed commit said why already (and rolled back): kept as it said. */
    if (j.b.err[0]) snprintf(err, cap, "%s", j.b.err);
  }
  vg_batch_free(&j.b);
  return rc;
}

/* ---- feeds ---- */

#define SUMMARY_KEEP 2000 /* bytes of an item's summary kept in its text */

/* The text an item's entry gets: its title, then its summary if it says more. */
static char *item_text(const vg_feed_item *it) {
  size_t tn = strlen(it->title), sn = strlen(it->summary);
  if (sn > SUMMARY_KEEP) { /* cut between two characters, not inside one */
    sn = SUMMARY_KEEP;
    while (sn && ((unsigned char)it->summary[sn] & 0xc0) == 0x80) sn--;
  }
  int both = tn && sn && strncmp(it->summary, it->title, tn) != 0;
  char *t = malloc(tn + sn + 8);
  if (!t) return NULL;
  if (both) snprintf(t, tn + sn + 8, "%s \u2014 %.*s", it->title, (int)sn, it->summary);
  else if (tn) snprintf(t, tn + 1, "%s", it->title);
  else snprintf(t, sn + 1, "%.*s", (int)sn, it->summary);
  return t;
}

/* A 128-bit hash of a tag and some bytes (and a number), for the keys of
 * feed_rejects. */
static void hash16(const char *tag, const void *data, size_t len, uint64_t n, uint8_t out[16]) {
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  XXH3_128bits_update(&st, tag, strlen(tag) + 1);
  XXH3_128bits_update(&st, data, len);
  XXH3_128bits_update(&st, &n, sizeof n);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
  memcpy(out, c.digest, 16);
}

/* Keeps the reject of an item or line of feed f (res says why) once for
 * what it said: key names the item or line, content hashes what it said
 * and why it was refused. One kept already with that content is counted
 * unchanged and not kept again, so that a feed polled every few minutes
 * does not fill the rejects table with the same item. 0 or VG_EDB. */
static int feed_reject(const vg_ingest *ig, const vg_feed_conf *f, const uint8_t key[16],
                       const uint8_t content[16], const vg_line *line, vg_result *res, vg_counts *c,
                       vg_feed_counts *fc) {
  int seen = vg_store_feed_reject_seen(ig->st, f->url, key, content);
  if (seen < 0) return VG_EDB;
  if (seen) {
    if (fc) fc->unchanged++;
    return 0;
  }
  int rc = keep_reject(ig, line, res, c);
  return rc ? rc : vg_store_feed_reject_put(ig->st, f->url, key, content);
}

/* The reject of an item: keyed by its guid, its content being what it said
 * (title, summary, link), its own date and the reason. */
static int item_reject(const vg_ingest *ig, const vg_feed_conf *f, const vg_feed_item *it,
                       const vg_line *line, vg_result *res, vg_counts *c, vg_feed_counts *fc) {
  uint8_t key[16], content[16];
  hash16("item", it->guid, strlen(it->guid), 0, key);
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  XXH3_128bits_update(&st, it->content, sizeof it->content);
  XXH3_128bits_update(&st, it->date ? it->date : "", it->date ? strlen(it->date) + 1 : 0);
  XXH3_128bits_update(&st, res->reason, strlen(res->reason));
  XXH128_canonical_t h;
  XXH128_canonicalFromHash(&h, XXH3_128bits_digest(&st));
  memcpy(content, h.digest, 16);
  uint64_t before = c ? c->rejected : 0;
  int rc = feed_reject(ig, f, key, content, line, res, c, fc);
  if (rc == 0 && c && c->rejected > before)
    vg_warn("feed %s: item %.200s (line %ld) not stored: %s", f->url, it->guid, it->line,
            res->reason);
  return rc;
}

/* Corrects entry, stored from item it of feed f, to what the item's record
 * o says now. A correction the entry cannot take (it was retracted) is said
 * and left: the item is not tried again until it changes. */
static int feed_correction(const vg_ingest *ig, const vg_feed_conf *f, const vg_feed_item *it,
                           cJSON *o, int64_t entry, const vg_line *l, vg_counts *c) {
  cJSON *rec = cJSON_Duplicate(o, 1);
  if (!rec) return VG_ENOMEM;
  if (!it->date) {
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "date");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "date_from");
  }
  cJSON_AddNumberToObject(rec, "amends", (double)entry);
  cJSON_AddStringToObject(rec, "reason", "changed in its feed");
  char *s = cJSON_PrintUnformatted(rec);
  cJSON_Delete(rec);
  if (!s) return VG_ENOMEM;
  vg_line cl = *l;
  cl.data = s;
  cl.len = cl.total = strlen(s);
  vg_result res = {0};
  vg_entry e;
  int parsed = vg_ingest_parse(&cl, &e, &res) == 0;
  int rc = parsed ? correct_entry(ig, &cl, &e, &res, c) : VG_REJECTED;
  if (parsed) vg_entry_clear(&e);
  if (rc == VG_REJECTED) {
    vg_info("feed %s: item %.200s changed; entry %lld left as it is: %s", f->url, it->guid,
            (long long)entry, res.reason);
    rc = 0;
  }
  free(s);
  return rc;
}

static int feed_item(const vg_ingest *ig, const vg_feed_conf *f, const vg_feed_item *it,
                     const char *polled, size_t max_line, vg_counts *c, vg_feed_counts *fc) {
  int64_t entry;
  uint8_t before[16];
  int seen = vg_store_feed_item(ig->st, f->url, it->guid, &entry, before);
  if (seen < 0) return VG_EDB;
  char *text = item_text(it);
  cJSON *o = cJSON_CreateObject();
  if (!text || !o) {
    free(text);
    cJSON_Delete(o);
    return VG_ENOMEM;
  }
  cJSON_AddStringToObject(o, "date", it->date ? it->date : polled);
  cJSON_AddStringToObject(o, "text", text);
  if (*it->title) cJSON_AddStringToObject(o, "title", it->title);
  if (*it->link) cJSON_AddStringToObject(o, "url", it->link);
  cJSON_AddStringToObject(o, "guid", it->guid);
  cJSON_AddStringToObject(o, "feed", f->url);
  if (!it->date) cJSON_AddStringToObject(o, "date_from", "poll");
  char *record = cJSON_PrintUnformatted(o);
  int rc = 0;
  if (!record) {
    rc = VG_ENOMEM;
  } else {
    /* The item as a JSON line: what it stores, or what its reject keeps. */
    size_t n = strlen(record);
    vg_line l = {record, n, n, (uint64_t)(it->line > 0 ? it->line : 0), 0, VG_FORMAT_JSON,
                 f->source, max_line, f->url, NULL};
    vg_result res = {0};
    vg_entry e;
    if (it->reject || n > max_line) { /* held to max_line like a line, whether new or seen */
      if (it->reject)
        snprintf(res.reason, sizeof res.reason, "%s", it->reject);
      else
        snprintf(res.reason, sizeof res.reason, "the item of %zu bytes is over the %zu-byte cap", n,
                 max_line);
      rc = item_reject(ig, f, it, &l, &res, c, fc);
    } else if (seen && memcmp(before, it->content, 16) == 0) {
      fc->unchanged++;
    } else if (seen) {
      /* The same item, said differently: the source corrected it. An item
       * without a date keeps the one its entry got when first polled. */
      rc = feed_correction(ig, f, it, o, entry, &l, c);
      if (rc == 0) rc = vg_store_feed_item_put(ig->st, f->url, it->guid, entry, it->content);
      if (rc == 0) fc->updated++;
    } else if (vg_ingest_parse(&l, &e, &res)) {
      rc = item_reject(ig, f, it, &l, &res, c, fc);
    } else {
      rc = store_entry(ig, &e, &res, c);
      vg_entry_clear(&e);
      if (rc == 0) rc = vg_store_feed_item_put(ig->st, f->url, it->guid, res.id, it->content);
    }
  }
  cJSON_free(record);
  free(text);
  cJSON_Delete(o);
  return rc;
}

typedef struct {
  const vg_ingest *ig;
  const vg_feed_conf *f;
  vg_format format;
  size_t max_line;
  vg_counts *c;
  vg_feed_counts *fc;
  vg_tabular *table;    /* a table format's rows: the body's column map; NULL for lines */
  const char *origin; /* what rejects name: the feed's URL, or the archive read */
} lines_job;

static int feed_line(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                     unsigned flags) {
  lines_job *j = ud;
  vg_line l = {data,       len,         total,     line_no, flags, j->format,
               j->f->source, j->max_line, j->origin, j->table};
  vg_result res;
  vg_entry e;
  if (vg_ingest_stopped(j->ig)) return VG_ESTOPPED;
  if (len == 0 && !(flags & VG_LINE_TOO_LONG)) return 0; /* blank lines between records */
  if (vg_ingest_parse(&l, &e, &res) == 0) {
    int rc = e.key ? store_row(j->ig, &l, &e, &res, j->c) : store_entry(j->ig, &e, &res, j->c);
    vg_entry_clear(&e);
    return rc;
  }
  /* A line is named by its bytes (those kept of an overlong one, and its
   * length), whatever its place in the body. */
  uint8_t key[16], content[16];
  hash16("line", data, len, total, key);
  if (res.status == VG_HEADER) return 0;
  hash16("reason", res.reason, strlen(res.reason), 0, content);
  return feed_reject(j->ig, j->f, key, content, &l, &res, j->c, j->fc);
}

int vg_ingest_feed(const vg_ingest *ig, const vg_feed_conf *f, const vg_feed_items *items,
                   time_t polled, size_t max_line, vg_counts *c, vg_feed_counts *fc) {
  if (items->lines) {
    lines_job j = {ig, f, items->kind == VG_FEED_JSON ? VG_FORMAT_JSON : VG_FORMAT_AUTO, max_line,
                   c, fc, NULL, f->url};
    vg_framer fr;
    vg_framer_init(&fr, max_line);
    int rc = vg_framer_feed(&fr, items->lines, items->lines_len, feed_line, &j);
    if (rc == 0) rc = vg_framer_finish(&fr, feed_line, &j);
    vg_framer_free(&fr);
    return rc;
  }
  char when[VG_UTC_ISO_MAX];
  vg_utc_iso(polled, when);
  int rc = 0;
  for (size_t i = 0; i < items->n && rc == 0; i++) {
    if (vg_ingest_stopped(ig)) return VG_ESTOPPED;
    rc = feed_item(ig, f, &items->v[i], when, max_line, c, fc);
  }
  return rc;
}

int vg_ingest_feed_table(const vg_ingest *ig, const vg_feed_conf *f, vg_format fmt,
                         const char *origin, const char *body, size_t len, size_t max_line,
                         vg_counts *c, vg_feed_counts *fc) {
  const vg_tabular_format *tf = vg_tabular_of(fmt);
  vg_tabular *t = tf ? vg_tabular_new(tf) : NULL;
  if (!t) return VG_ENOMEM;
  lines_job j = {ig, f, fmt, max_line, c, fc, t, origin ? origin : f->url};
  vg_framer fr;
  vg_framer_init(&fr, max_line);
  vg_framer_quote(&fr, tf->quote, tf->delim);
  int rc = vg_framer_feed(&fr, body, len, feed_line, &j);
  if (rc == 0) rc = vg_framer_finish(&fr, feed_line, &j);
  vg_framer_free(&fr);
  vg_tabular_free(t);
  return rc;
}
