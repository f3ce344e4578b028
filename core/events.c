/* events.c — one event from many reports: see events.h. */
#include "events.h"

#include "entry.h"
#include "vigil.h"

#include <stdlib.h>
#include <string.h>

static int by_text(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the entry of ctx has an event tag. */
static int has_kind(const vg_entry_ctx *ctx) {
  for (size_t i = 0; i < ctx->ntags; i++)
    if (!strchr(ctx->tags[i], ':')) return 1;
  return 0;
}

/* The entry's event tags, sorted and joined by ',', in a new string; NULL
 * when out of memory. */
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

/* An entry's words as they are recorded: each hash in 8 bytes, least
 * significant first, so that a database reads the same on any machine. */
static void encode(const uint64_t *v, size_t n, unsigned char *out) {
  for (size_t i = 0; i < n; i++)
    for (int b = 0; b < 8; b++)
      out[i * 8 + (size_t)b] = (unsigned char)(v[i] >> (8 * b));
}

static size_t decode(const void *words, size_t len, uint64_t *v) {
  const unsigned char *p = words;
  size_t n = len / 8 < VG_SIMILAR_WORDS ? len / 8 : VG_SIMILAR_WORDS;
  for (size_t i = 0; i < n; i++) {
    v[i] = 0;
    for (int b = 0; b < 8; b++)
      v[i] |= (uint64_t)p[i * 8 + (size_t)b] << (8 * b);
  }
  return n;
}

/* The id an entry would give its event as its least member: its first day
 * in the high 32 bits, the low 32 bits of its vg_entry_event value below.
 * Ids of events so grow with their days, so that the store's index of
 * events by id is written near its end, as entries mostly come in date
 * order (a random key would land every insert on a page of its own). */
static int64_t id_of(int32_t first, int64_t own) {
  return (int64_t)(((uint64_t)(int64_t)first << 32) | (uint32_t)(uint64_t)own);
}

/* The events of the candidates a new entry is like. */
typedef struct {
  const vg_rule_entry *e;
  double similarity;
  const uint64_t *words; /* the new entry's */
  size_t nwords;
  uint64_t other[VG_SIMILAR_WORDS]; /* a candidate's */
  int64_t v[VG_EVENT_CANDIDATES];
  size_t n;
} linked;

/* The first day of event ev: its earliest report's (id_of). */
static int32_t first_day_of(int64_t ev) { return (int32_t)(ev >> 32); }

static int consider(void *ud, const vg_event_candidate *c) {
  linked *lk = ud;
  const vg_rule_entry *e = lk->e;
  if (llabs((long long)c->last - e->last) > 1) return 0; /* first days: the look-up's */
  /* Joining an event that began more than a day away would chain reports
   * of launches on successive days into one event. */
  if (llabs((long long)first_day_of(c->event) - e->first) > 1) return 0;
  /* A source tells an event once: what else it tells is another event (a
   * daily chronology's launches on successive days, a feed's launches of
   * one day). Word for word the same, it is the one event already. */
  if (strcmp(c->source, e->source) == 0) return 0;
  /* Texts with no word in common are never one event, whatever the setting. */
  size_t n = decode(c->words, c->words_len, lk->other);
  double alike = vg_words_similarity(lk->words, lk->nwords, lk->other, n);
  if (alike <= 0.0 || alike < lk->similarity) return 0;
  for (size_t i = 0; i < lk->n; i++)
    if (lk->v[i] == c->event) return 0;
  if (lk->n < VG_EVENT_CANDIDATES) lk->v[lk->n++] = c->event;
  return 0;
}

int vg_events_group(vg_store *st, const vg_entry_ctx *ctx, double similarity, int64_t *event) {
  const vg_rule_entry *e = ctx->e;
  if (!has_kind(ctx)) return 0; /* only exact duplicates are one event: nothing to look up */
  int64_t own = vg_entry_event(e->text, e->text_len, e->first, e->last);
  char *kind = kind_of(ctx);
  if (!kind) return VG_ENOMEM;
  /* The words once, kept with the entry for the entries to come. */
  uint64_t *words = malloc(VG_SIMILAR_WORDS * sizeof *words);
  unsigned char *bytes = malloc(VG_SIMILAR_WORDS * 8);
  linked *lk = malloc(sizeof *lk);
  if (!words || !bytes || !lk) {
    free(words);
    free(bytes);
    free(lk);
    free(kind);
    return VG_ENOMEM;
  }
  *lk = (linked){.e = e, .similarity = similarity, .words = words};
  lk->nwords = vg_text_words(e->text, e->text_len, words);
  encode(words, lk->nwords, bytes);
  int rc = vg_store_event_candidates(st, kind, e->first, e->id, VG_EVENT_CANDIDATES, consider, lk);
  /* The events it links, and the entry, must begin within a day of the
   * earliest of them: those beginning later stay apart. */
  int32_t earliest = e->first;
  for (size_t i = 0; i < lk->n; i++)
    if (first_day_of(lk->v[i]) < earliest) earliest = first_day_of(lk->v[i]);
  size_t kept = 0;
  for (size_t i = 0; i < lk->n; i++)
    if (first_day_of(lk->v[i]) <= earliest + 1) lk->v[kept++] = lk->v[i];
  lk->n = kept;
  /* The merged event is named by its least member: this entry, or the
   * least member of one of the events it links, which names that event. */
  int64_t head = id_of(e->first, own);
  for (size_t i = 0; i < lk->n; i++)
    if (lk->v[i] < head) head = lk->v[i];
  if (rc == 0)
    rc = vg_store_event_put(st, e->id, kind, e->first, e->last, own, head, bytes, lk->nwords * 8);
  for (size_t i = 0; rc == 0 && i < lk->n; i++)
    rc = vg_store_event_merge(st, lk->v[i], head);
  free(words);
  free(bytes);
  free(lk);
  free(kind);
  if (rc > 0) rc = 0;
  if (rc == 0) *event = head;
  return rc == 0 ? 1 : rc;
}
