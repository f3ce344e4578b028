/* events.c — one event from many reports: see events.h. */
#include "events.h"

#include "entry.h"
#include "vigil.h"

#include <stdlib.h>
#include <string.h>

static int by_text(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entry's event tags, sorted and joined by ',', in a new string ("" for
 * none); NULL when out of memory. */
static char *kind_of(const vg_entry_ctx *ctx) {
  const char **v = malloc((ctx->ntags + 1) * sizeof *v);
  if (!v) return NULL;
  size_t n = 0, len = 1;
  for (size_t i = 0; i < ctx->ntags; i++)
    if (!strchr(ctx->tags[i], ':')) {
      v[n++] = ctx->tags[i];
      len += strlen(ctx->tags[i]) + 1;
    }
  qsort(v, n, sizeof *v, by_text);
  char *kind = malloc(len), *o = kind;
  if (kind) {
    *o = '\0';
    for (size_t i = 0; i < n; i++) {
      if (i && strcmp(v[i], v[i - 1]) == 0) continue;
      if (o != kind) *o++ = ',';
      size_t k = strlen(v[i]);
      memcpy(o, v[i], k + 1);
      o += k;
    }
  }
  free(v);
  return kind;
}

/* The events of the candidates a new entry is like. */
typedef struct {
  const vg_rule_entry *e;
  double similarity;
  int64_t v[VG_EVENT_CANDIDATES];
  size_t n;
} linked;

static int consider(void *ud, const vg_event_candidate *c) {
  linked *lk = ud;
  const vg_rule_entry *e = lk->e;
  if (llabs((long long)c->last - e->last) > 1) return 0; /* first days: the look-up's */
  /* Texts with no word in common are never one event, whatever the setting. */
  double alike = vg_text_similarity(e->text, e->text_len, c->text, c->text_len);
  if (alike <= 0.0 || alike < lk->similarity) return 0;
  for (size_t i = 0; i < lk->n; i++)
    if (lk->v[i] == c->event) return 0;
  if (lk->n < VG_EVENT_CANDIDATES) lk->v[lk->n++] = c->event;
  return 0;
}

int vg_events_group(vg_store *st, const vg_entry_ctx *ctx, double similarity, int64_t *event) {
  const vg_rule_entry *e = ctx->e;
  int64_t own = vg_entry_event(e->text, e->text_len, e->first, e->last);
  *event = own;
  char *kind = kind_of(ctx);
  if (!kind) return VG_ENOMEM;
  if (!kind[0]) { /* no event tag: only exact duplicates are one event */
    free(kind);
    return 0;
  }
  linked lk = {.e = e, .similarity = similarity};
  int rc = vg_store_event_candidates(st, kind, e->first, e->id, VG_EVENT_CANDIDATES, consider, &lk);
  /* The merged event is named by its least member: this entry, or the
   * least member of one of the events it links. */
  int32_t head_first = e->first;
  int64_t head = own;
  for (size_t i = 0; rc == 0 && i < lk.n; i++) {
    int32_t first;
    int64_t value;
    int found = vg_store_event_head(st, lk.v[i], &first, &value);
    if (found < 0) rc = found;
    else if (found && (first < head_first || (first == head_first && value < head))) {
      head_first = first;
      head = value;
    }
  }
  if (rc == 0) rc = vg_store_event_put(st, e->id, kind, e->first, e->last, own, head);
  for (size_t i = 0; rc == 0 && i < lk.n; i++) rc = vg_store_event_merge(st, lk.v[i], head);
  free(kind);
  if (rc > 0) rc = 0;
  if (rc == 0) *event = head;
  return rc;
}
