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
   * columns (a quoted cell may hold a newline). */
  const vg_tabular_format *tf = vg_tabular_of(format);
  vg_tabular *t = tf ? vg_tabular_new(tf) : NULL;
  if (tf && !t) return VG_ENOMEM;
  vg_line line = {data, len, total, seq, flags, format, VG_BUS_SOURCE, max_line, origin, t};
  *res = (vg_result){.status = VG_REJECTED};
  const char *nl = tf ? NULL : memchr(data, '\n', len);
  int rc;
  if (nl) { /* several lines in one message: which would be the entry? */
    snprintf(res->reason, sizeof res->reason,
             "a message holds one line; this one has a newline at byte %zu",
             (size_t)(nl - data) + 1);
    rc = vg_ingest_parsed(ig, &line, NULL, res, NULL);
  } else {
    rc = vg_ingest_line(ig, &line, res, NULL);
  }
  vg_tabular_free(t);
  if (rc) return rc;
  return vg_store_nats_put(ig->st, stream, seq, res->status == VG_REJECTED ? 0 : res->id);
}

void vg_nats_created_key(const char *stream, char *buf, size_t cap) {
  snprintf(buf, cap, "nats_created:%s", stream);
}
