/* nats_entry.c — what a message of the stream of entries becomes (nats_entry.h). */
#include "nats_entry.h"

#include "bus.h"
#include "framer.h"
#include "tabular.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN_MAX 300 /* "nats:STREAM:SEQ" */

char *vg_nats_entry_filter(const vg_config *c) {
  long p = vg_config_partition(c);
  char buf[128];
  if (c->nats_filter && c->nats_filter[0]) return strdup(c->nats_filter);
  if (p < 0) return strdup("");
  snprintf(buf, sizeof buf, "%s.%ld", VG_BUS_ENTRIES_PREFIX, p);
  return strdup(buf);
}

/* Rows of one message, cut as a file's are: the first two, copied. */
typedef struct {
  size_t n;      /* rows seen */
  char *row[2];  /* the first two (malloc'd) */
  size_t len[2];
  int oom;
} msg_rows;

static int on_row(void *ud, const char *data, size_t len, uint64_t total, uint64_t line_no,
                  unsigned flags) {
  msg_rows *m = ud;
  (void)total, (void)line_no, (void)flags;
  if (m->n < 2) {
    if (!(m->row[m->n] = malloc(len ? len : 1))) return m->oom = VG_ENOMEM;
    memcpy(m->row[m->n], data, len);
    m->len[m->n] = len;
  }
  m->n++;
  return 0;
}

/* A message of table rows: when it holds a header and a row, takes the
 * header into t and says where the row is in the message. 0 (line is the
 * row), 1 with why in res (no entry in it), or VG_ENOMEM. */
static int header_first(vg_tabular *t, vg_line *line, vg_result *res) {
  msg_rows m = {0};
  vg_framer f;
  vg_framer_init(&f, line->len + 1); /* the message is under the cap: rows come whole */
  vg_framer_quote(&f, vg_tabular_format_of(t)->quote, vg_tabular_format_of(t)->delim);
  int rc = vg_framer_feed(&f, line->data, line->len, on_row, &m);
  if (rc == 0) rc = vg_framer_finish(&f, on_row, &m);
  vg_framer_free(&f);
  if (rc == 0 && m.n > 2) {
    snprintf(res->reason, sizeof res->reason,
             "a message holds one row, or a header row and one row; this one holds %zu", m.n);
    rc = 1;
  } else if (rc == 0 && m.n == 2) {
    vg_entry e;
    char why[VG_REASON_MAX];
    int h = vg_tabular_row(t, m.row[0], m.len[0], 1, line->source, &e, why);
    if (h == 0) vg_entry_clear(&e);
    if (h == VG_ENOMEM) {
      rc = VG_ENOMEM;
    } else if (h != VG_TABULAR_HEADER) {
      snprintf(res->reason, sizeof res->reason,
               "a message of two rows begins with a header naming the date column '%.60s'",
               vg_tabular_format_of(t)->date);
      rc = 1;
    } else { /* the row: the message's last m.len[1] bytes but for a newline at its end */
      line->data += line->len - m.len[1];
      line->len = line->total = m.len[1];
    }
  }
  free(m.row[0]);
  free(m.row[1]);
  return rc ? (rc == 1 ? 1 : VG_ENOMEM) : 0;
}

int vg_nats_entry_store(const vg_ingest *ig, vg_format format, size_t max_line, const char *stream,
                        uint64_t seq, const char *data, size_t len, vg_result *res) {
  char origin[ORIGIN_MAX];
  snprintf(origin, sizeof origin, "nats:%s:%llu", stream, (unsigned long long)seq);
  if (!data) data = "", len = 0;
  if (len && data[len - 1] == '\n') len--; /* one line, its newline sent with it */
  if (len && data[len - 1] == '\r') len--;
  uint64_t total = len;
  unsigned flags = 0;
  if (len > max_line) {
    flags = VG_LINE_TOO_LONG;
    len = max_line;
  }
  /* A message of a table format is one row, read by the format's declared
   * columns, or a header row and one row, read by that header (as `vigil
   * publish` sends the rows of a file with a header); a quoted cell may
   * hold a newline. */
  const vg_tabular_format *tf = vg_tabular_of(format);
  vg_tabular *t = tf ? vg_tabular_new(tf) : NULL;
  if (tf && !t) return VG_ENOMEM;
  vg_line line = {data, len, total, seq, flags, format, VG_BUS_SOURCE, max_line, origin, t};
  *res = (vg_result){.status = VG_REJECTED};
  const char *nl = tf ? NULL : memchr(data, '\n', len);
  int rc = 0;
  if (tf && !(flags & VG_LINE_TOO_LONG)) rc = header_first(t, &line, res);
  if (rc < 0) {
    vg_tabular_free(t);
    return rc;
  }
  if (rc > 0) {
    rc = vg_ingest_parsed(ig, &line, NULL, res, NULL);
  } else if (nl) { /* several lines in one message: which would be the entry? */
    snprintf(res->reason, sizeof res->reason,
             "a message holds one line; this one has a newline at byte %zu",
             (size_t)(nl - data) + 1);
    rc = vg_ingest_parsed(ig, &line, NULL, res, NULL);
  } else {
    rc = vg_ingest_line(ig, &line, res, NULL);
    if (rc == 0 && res->status == VG_HEADER) { /* a header alone: the message holds no entry */
      *res = (vg_result){.status = VG_REJECTED};
      snprintf(res->reason, sizeof res->reason, "a header row alone, and no row to read by it");
      rc = vg_ingest_parsed(ig, &line, NULL, res, NULL);
    }
  }
  vg_tabular_free(t);
  if (rc) return rc;
  return vg_store_nats_put(ig->st, stream, seq, res->status == VG_REJECTED ? 0 : res->id);
}

void vg_nats_created_key(const char *stream, char *buf, size_t cap) {
  snprintf(buf, cap, "nats_created:%s", stream);
}
