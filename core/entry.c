/* entry.c — line parsers: chronology lines and JSON records to entries. */
#include "entry.h"

#include "tabular.h"
#include "vigil.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* for a state on the stack */
#include <xxhash.h>

int vg_format_parse(const char *name, vg_format *out) {
  static const char *const names[] = {"auto", "chrono", "json"};
  for (int i = 0; i < 3; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (vg_format)i;
      return 0;
    }
  int t = vg_tabular_number(name);
  if (t < 0) return VG_EINVAL;
  *out = (vg_format)(VG_FORMAT_TABLE + t);
  return 0;
}

/* Whether the eight bytes at p are all ASCII and none is NUL. */
static int plain_ascii(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  return ((v | ((v - ones) & ~v)) & highs) == 0;
}

long vg_utf8_check(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n && plain_ascii(p + i)) i += 8;
    if (i >= n) break;
    unsigned c = p[i];
    if (c >= 0x01 && c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) need = 1, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) need = 2, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) need = 3, min = 0x10000;
    else return (long)i; /* NUL, a stray continuation byte, or 0xf5.. */
    if (n - i <= need) return (long)i;
    unsigned cp = c & (0x3f >> need);
    for (size_t k = 1; k <= need; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return (long)i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return (long)i;
    i += need + 1;
  }
  return -1;
}

size_t vg_utf8_char(const char *s, size_t n) {
  unsigned char c = n ? (unsigned char)s[0] : 0;
  size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  return c && len && len <= n && vg_utf8_check(s, len) < 0 ? len : 0;
}

void vg_entry_finish(vg_entry *e) {
  size_t dn = vg_date_format(&e->date, e->date_text);
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  XXH3_128bits_update(&st, e->date_text, dn + 1);
  XXH3_128bits_update(&st, e->source, strlen(e->source) + 1);
  XXH3_128bits_update(&st, e->text, e->text_len);
  if (e->key) { /* a row with an id is its own entry, however its text reads */
    XXH3_128bits_update(&st, e->scope, strlen(e->scope) + 1);
    XXH3_128bits_update(&st, e->key, strlen(e->key) + 1);
  }
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
  memcpy(e->hash, c.digest, sizeof e->hash);
}

/* The code point of the UTF-8 sequence at p[0..n) and its length in *used,
 * or -1 (one byte used) when it is not a whole, valid sequence. */
static long decode(const unsigned char *p, size_t n, size_t *used) {
  unsigned c = p[0];
  size_t need = c >= 0xc2 && c <= 0xdf   ? 1
                : c >= 0xe0 && c <= 0xef ? 2
                : c >= 0xf0 && c <= 0xf4 ? 3
                                         : 0;
  *used = 1;
  if (need == 0 || n <= need) return -1;
  long cp = (long)(c & (0x3f >> need));
  for (size_t k = 1; k <= need; k++) {
    if ((p[k] & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (p[k] & 0x3f);
  }
  *used = need + 1;
  return cp;
}

/* Whether code point cp only separates words: the Latin-1 punctuation and
 * no-break space, general punctuation (dashes, curly quotes, thin spaces),
 * and the ideographic space and punctuation. */
static int separates(long cp) {
  return (cp >= 0x80 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 || (cp >= 0x2000 && cp <= 0x206f) ||
         (cp >= 0x3000 && cp <= 0x3003);
}

/* The next word of text[0..len) at or after *at: 1 with it in
 * text[*start, *at), or 0 at the end. A word is as vg_entry_event says. */
static int next_word(const unsigned char *p, size_t len, size_t *at, size_t *start) {
  size_t i = *at;
  int in = 0;
  while (i < len) {
    unsigned c = p[i];
    size_t used = 1;
    int word;
    if (c < 0x80) {
      word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    } else {
      long cp = decode(p + i, len - i, &used);
      word = cp < 0 || !separates(cp);
    }
    if (!word && in) break;
    if (word && !in) {
      in = 1;
      *start = i;
    }
    i += used;
  }
  *at = i;
  return in;
}

static unsigned char lower(unsigned char b) {
  return b >= 'A' && b <= 'Z' ? (unsigned char)(b - 'A' + 'a') : b;
}

int64_t vg_entry_event(const char *text, size_t len, int32_t first, int32_t last) {
  /* The span, then the words lower-cased and joined by one space: hashed in
   * one call when they fit the buffer, else streamed through it (the same
   * bytes, so the same key). */
  XXH3_state_t st;
  int streaming = 0;
  unsigned char buf[1024];
  int32_t span[2] = {first, last};
  memcpy(buf, span, sizeof span);
  size_t n = sizeof span;
  int words = 0;
  const unsigned char *p = (const unsigned char *)text;
  size_t at = 0, start;
  while (next_word(p, len, &at, &start)) {
    for (size_t k = start; k < at; k++) {
      if (n + 2 > sizeof buf) {
        if (!streaming) XXH3_64bits_reset(&st);
        streaming = 1;
        XXH3_64bits_update(&st, buf, n);
        n = 0;
      }
      if (k == start && words) buf[n++] = ' ';
      buf[n++] = lower(p[k]);
    }
    words = 1;
  }
  if (!streaming) return (int64_t)XXH3_64bits(buf, n);
  XXH3_64bits_update(&st, buf, n);
  return (int64_t)XXH3_64bits_digest(&st);
}

/* ---- how alike two texts are ---- */

/* Words that say nothing of which event a report is about: articles,
 * prepositions, forms of "be" and of "say" (sorted, for bsearch). */
static const char *const stop_words[] = {
    "a",     "after", "an",   "and",   "are",  "as",    "at",   "be",   "been",
    "before", "by",   "for",  "from",  "her",  "his",   "in",   "into", "is",
    "it",    "its",   "of",   "on",    "or",   "over",  "said", "say",  "says",
    "than",  "that",  "the",  "their", "then", "these", "this", "those", "to",
    "was",   "were",  "with",
};

static int by_word(const void *key, const void *elem) {
  return strcmp(key, *(const char *const *)elem);
}

static int by_hash(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

size_t vg_text_words(const char *text, size_t len, uint64_t *v) {
  const unsigned char *p = (const unsigned char *)text;
  size_t at = 0, start, n = 0;
  while (n < VG_SIMILAR_WORDS && next_word(p, len, &at, &start)) {
    /* The word in lower case (its first 63 bytes), and where its first
     * VG_SIMILAR_PREFIX characters end: the part compared, unless it holds
     * a digit. */
    char w[64];
    size_t wn = 0, chars = 0, cut = 0;
    int digits = 0;
    for (size_t k = start; k < at;) {
      size_t used = p[k] < 0x80 ? 1 : vg_utf8_char((const char *)p + k, at - k);
      if (used == 0) used = 1;
      if (wn + used >= sizeof w) break;
      digits |= p[k] >= '0' && p[k] <= '9';
      for (size_t b = 0; b < used; b++) w[wn++] = (char)lower(p[k + b]);
      k += used;
      if (++chars <= VG_SIMILAR_PREFIX) cut = wn;
    }
    w[wn] = '\0';
    if (digits) cut = wn; /* a number or a name with one (KN-23, 0000123) counts whole */
    if (bsearch(w, stop_words, sizeof stop_words / sizeof *stop_words, sizeof *stop_words,
                by_word))
      continue;
    v[n++] = XXH3_64bits(w, cut);
  }
  qsort(v, n, sizeof *v, by_hash);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (k == 0 || v[k - 1] != v[i]) v[k++] = v[i];
  return k;
}

double vg_words_similarity(const uint64_t *x, size_t nx, const uint64_t *y, size_t ny) {
  if (nx == 0 || ny == 0) return 0.0;
  size_t i = 0, k = 0, both = 0;
  while (i < nx && k < ny) {
    if (x[i] == y[k]) both++, i++, k++;
    else if (x[i] < y[k]) i++;
    else k++;
  }
  return (double)both / (double)(nx + ny - both);
}

double vg_text_similarity(const char *a, size_t alen, const char *b, size_t blen) {
  uint64_t *x = malloc(2 * VG_SIMILAR_WORDS * sizeof *x);
  if (!x) return 0.0;
  uint64_t *y = x + VG_SIMILAR_WORDS;
  double s = vg_words_similarity(x, vg_text_words(a, alen, x), y, vg_text_words(b, blen, y));
  free(x);
  return s;
}

static int blank(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int parse_chrono(const char *line, size_t len, vg_entry *e, char *why) {
  size_t used;
  if (vg_date_parse_prefix(line, len, &used, &e->date, why, VG_REASON_MAX)) return VG_EPARSE;
  size_t i = used;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
  if (i >= len || line[i] != ':') {
    snprintf(why, VG_REASON_MAX, "expected ':' after the date");
    return VG_EPARSE;
  }
  i++;
  while (i < len && blank((unsigned char)line[i])) i++;
  size_t end = len;
  while (end > i && blank((unsigned char)line[end - 1])) end--;
  if (end == i) {
    snprintf(why, VG_REASON_MAX, "no text after the date");
    return VG_EPARSE;
  }
  e->text = line + i;
  e->text_len = end - i;
  return 0;
}

/* Copies a string member out of the record into `*dst` (advancing it). */
static const char *keep(char **dst, const char *s, size_t n) {
  char *at = *dst;
  memcpy(at, s, n);
  at[n] = '\0';
  *dst += n + 1;
  return at;
}

/* Whether the JSON text holds the escape \u0000, which cJSON would decode
 * into a NUL that silently cuts the string short. */
static int escaped_nul(const char *s, size_t n) {
  for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "\\u0000", 6)); p++) {
    size_t bs = 0;
    while (p - bs > s && p[-1 - (long)bs] == '\\') bs++;
    if (bs % 2 == 0) return 1; /* the backslash is not itself escaped */
  }
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Finds a member name given twice in one object of j, at any depth, and
 * names it in why. 1 when one is found, 0 when none, -1 out of memory. */
static int duplicate_member(const cJSON *j, char *why) {
  size_t n = 0;
  for (const cJSON *c = j->child; c; c = c->next) n++;
  if (cJSON_IsObject(j) && n > 1) {
    const char **names = malloc(n * sizeof *names);
    if (!names) return -1;
    size_t k = 0;
    for (const cJSON *c = j->child; c; c = c->next) names[k++] = c->string;
    qsort(names, n, sizeof *names, by_name);
    const char *dup = NULL;
    for (k = 1; k < n && !dup; k++)
      if (strcmp(names[k - 1], names[k]) == 0) dup = names[k];
    if (dup) snprintf(why, VG_REASON_MAX, "the member \"%.60s\" is given twice", dup);
    free(names);
    if (dup) return 1;
  }
  for (const cJSON *c = j->child; c; c = c->next) {
    int rc = duplicate_member(c, why);
    if (rc) return rc;
  }
  return 0;
}

static const char *skip_blank(const char *p, const char *end) {
  while (p < end && blank((unsigned char)*p)) p++;
  return p;
}

/* The members of the object at s[0..len) other than date, text and source,
 * each name and value as written (a number keeps every digit, as
 * 1729382256910270465 or 1e999), joined into one compact object (see
 * put_json); NULL when there are none or out of memory (*oom
 * set). The text must already have parsed as an object: cJSON reads each
 * token, so its end gives the span of each value. */
/* Copies the JSON text s[0..n) (one name or value that cJSON read) to o as
 * compact, valid JSON: blanks between tokens dropped, and a control
 * character inside a string, which cJSON takes but JSON forbids, written
 * as \u00XX; every other character as it was. Returns the end of what it
 * wrote (at most 6n bytes). */
static char *put_json(char *o, const char *s, size_t n) {
  int in_string = 0, escaped = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!in_string) {
      if (blank(c)) continue;
      in_string = c == '"';
    } else if (escaped) {
      escaped = 0;
    } else if (c == '\\') {
      escaped = 1;
    } else if (c == '"') {
      in_string = 0;
    } else if (c < 0x20) {
      o += sprintf(o, "\\u%04x", c);
      continue;
    }
    *o++ = (char)c;
  }
  return o;
}

static char *raw_fields(const char *s, size_t len, int change, int *oom) {
  const char *end = s + len, *p = skip_blank(s, end);
  char *out = malloc(len * 6 + 3), *o = out;
  if (!out) {
    *oom = 1;
    return NULL;
  }
  *o++ = '{';
  p++; /* the object's '{' */
  for (;;) {
    p = skip_blank(p, end);
    if (p >= end || *p == '}') break;
    const char *name_end = NULL, *value_end = NULL;
    cJSON *name = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &name_end, 0);
    if (!cJSON_IsString(name)) { /* cannot happen once the whole parsed */
      cJSON_Delete(name);
      break;
    }
    const char *nm = name->valuestring;
    int skip = !strcmp(nm, "date") || !strcmp(nm, "text") || !strcmp(nm, "source") ||
               (change && (!strcmp(nm, "amends") || !strcmp(nm, "reason")));
    cJSON_Delete(name);
    const char *name_at = p;
    p = skip_blank(name_end, end);
    if (p >= end || *p != ':') break;
    p = skip_blank(p + 1, end);
    cJSON *value = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &value_end, 0);
    if (!value) break;
    cJSON_Delete(value);
    if (!skip) {
      if (o > out + 1) *o++ = ',';
      o = put_json(o, name_at, (size_t)(name_end - name_at));
      *o++ = ':';
      o = put_json(o, p, (size_t)(value_end - p));
    }
    p = skip_blank(value_end, end);
    if (p < end && *p == ',') p++;
  }
  *o++ = '}';
  *o = '\0';
  if (o - out == 2) {
    free(out);
    return NULL;
  }
  return out;
}

/* Makes room for n more bytes in e->owned, after the reason it may hold
 * (e->reason follows it). 1, or 0 when out of memory. */
static int reown(vg_entry *e, size_t n) {
  size_t had = e->reason ? strlen(e->reason) + 1 : 0;
  char *p = realloc(e->owned, had + n);
  if (!p) return 0;
  e->owned = p;
  if (had) e->reason = p;
  return 1;
}

/* Reads the members that make a record a correction ("amends") or a
 * retraction ("retracts") of a stored entry, with its "reason", taking them
 * out of obj. 1 when it is one, 0 when not, -1 (why set) when they are
 * wrong. */
static int correction_of(cJSON *obj, vg_entry *e, char *why) {
  cJSON *amends = cJSON_GetObjectItemCaseSensitive(obj, "amends");
  cJSON *retracts = cJSON_GetObjectItemCaseSensitive(obj, "retracts");
  if (!amends && !retracts) return 0;
  const char *name = amends ? "amends" : "retracts";
  cJSON *id = amends ? amends : retracts;
  double v = cJSON_IsNumber(id) ? id->valuedouble : 0;
  if (amends && retracts) {
    snprintf(why, VG_REASON_MAX, "a record either \"amends\" or \"retracts\" an entry, not both");
    return -1;
  }
  if (!(v >= 1 && v <= 9007199254740991.0 && v == (double)(int64_t)v)) {
    snprintf(why, VG_REASON_MAX, "\"%s\" must be the id of an entry (a whole number, 1 or more)",
             name);
    return -1;
  }
  cJSON *reason = cJSON_GetObjectItemCaseSensitive(obj, "reason");
  if (reason && !cJSON_IsString(reason)) {
    snprintf(why, VG_REASON_MAX, "\"reason\" must be a string");
    return -1;
  }
  if (reason && !(e->owned = strdup(reason->valuestring))) {
    snprintf(why, VG_REASON_MAX, "out of memory");
    return -1;
  }
  e->reason = e->owned;
  if (amends) e->amends = (int64_t)v;
  else e->retracts = (int64_t)v;
  cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
  cJSON_DeleteItemFromObjectCaseSensitive(obj, "reason");
  return 1;
}

static int parse_json(const char *line, size_t len, vg_entry *e, char *why) {
  if (escaped_nul(line, len)) {
    snprintf(why, VG_REASON_MAX, "a JSON string holds a NUL character (\\u0000)");
    return VG_EPARSE;
  }
  const char *end = NULL;
  cJSON *obj = cJSON_ParseWithLengthOpts(line, len, &end, 0);
  if (!obj) {
    size_t at = end && end >= line ? (size_t)(end - line) : 0;
    snprintf(why, VG_REASON_MAX, "invalid JSON near byte %zu", at + 1);
    return VG_EPARSE;
  }
  int rc = VG_EPARSE;
  while (end && (size_t)(end - line) < len && blank((unsigned char)*end)) end++;
  if (end && (size_t)(end - line) < len) {
    snprintf(why, VG_REASON_MAX, "unexpected text after the JSON value at byte %zu",
             (size_t)(end - line) + 1);
    goto cleanup;
  }
  if (!cJSON_IsObject(obj)) {
    snprintf(why, VG_REASON_MAX, "a JSON record must be an object");
    goto cleanup;
  }
  int dup = duplicate_member(obj, why);
  if (dup) {
    if (dup < 0) snprintf(why, VG_REASON_MAX, "out of memory");
    goto cleanup;
  }
  int change = correction_of(obj, e, why);
  if (change < 0) goto cleanup;
  cJSON *date = cJSON_DetachItemFromObjectCaseSensitive(obj, "date");
  cJSON *text = cJSON_DetachItemFromObjectCaseSensitive(obj, "text");
  cJSON *source = cJSON_DetachItemFromObjectCaseSensitive(obj, "source");
  if (change) {
    /* A retraction, or a correction the store completes with what the
     * entry says now (ingest.c): nothing more is read here. */
    e->partial = e->amends != 0;
    if (e->retracts && (date || text || source || obj->child))
      snprintf(why, VG_REASON_MAX, "a retraction names the entry and a reason, nothing else");
    else rc = 0;
  } else if (!date) snprintf(why, VG_REASON_MAX, "JSON record has no \"date\"");
  else if (!cJSON_IsString(date)) snprintf(why, VG_REASON_MAX, "\"date\" must be a string");
  else if (!text) snprintf(why, VG_REASON_MAX, "JSON record has no \"text\"");
  else if (!cJSON_IsString(text)) snprintf(why, VG_REASON_MAX, "\"text\" must be a string");
  else if (source && !(cJSON_IsString(source) && source->valuestring[0]))
    snprintf(why, VG_REASON_MAX, "\"source\" must be a non-empty string");
  else if (vg_date_parse(date->valuestring, strlen(date->valuestring), &e->date, why,
                         VG_REASON_MAX) == 0) {
    const char *t = text->valuestring;
    size_t tn = strlen(t);
    while (tn && blank((unsigned char)*t)) t++, tn--;
    while (tn && blank((unsigned char)t[tn - 1])) tn--;
    size_t sn = source ? strlen(source->valuestring) : 0;
    if (tn == 0) {
      snprintf(why, VG_REASON_MAX, "\"text\" is empty");
    } else if (vg_utf8_check(t, tn) >= 0) {
      snprintf(why, VG_REASON_MAX, "\"text\" is not valid UTF-8");
    } else if (reown(e, tn + sn + 2)) {
      char *dst = e->owned + (e->reason ? strlen(e->reason) + 1 : 0);
      e->text = keep(&dst, t, tn);
      e->text_len = tn;
      if (source) e->source = keep(&dst, source->valuestring, sn);
      int oom = 0;
      if (obj->child) e->fields = raw_fields(line, len, change, &oom);
      if (oom) snprintf(why, VG_REASON_MAX, "out of memory");
      else rc = 0;
    } else {
      snprintf(why, VG_REASON_MAX, "out of memory");
    }
  }
  cJSON_Delete(date);
  cJSON_Delete(text);
  cJSON_Delete(source);
cleanup:
  cJSON_Delete(obj);
  return rc;
}

int vg_entry_parse(const char *line, size_t len, vg_format fmt, const char *source, vg_entry *e,
                   char why[VG_REASON_MAX]) {
  memset(e, 0, sizeof *e);
  e->source = source;
  if (len && line[len - 1] == '\r') len--;
  long bad = vg_utf8_check(line, len);
  if (bad >= 0) {
    snprintf(why, VG_REASON_MAX, line[bad] ? "invalid UTF-8 at byte %ld" : "NUL byte at byte %ld",
             bad + 1);
    return VG_EPARSE;
  }
  size_t i = 0;
  while (i < len && blank((unsigned char)line[i])) i++;
  if (i == len) {
    snprintf(why, VG_REASON_MAX, "empty line");
    return VG_EPARSE;
  }
  if ((int)fmt >= VG_FORMAT_TABLE) { /* one row alone: its format's declared columns */
    const vg_tabular_format *tf = vg_tabular_of(fmt);
    vg_tabular *t = tf ? vg_tabular_new(tf) : NULL;
    int rc = t ? vg_tabular_row(t, line, len, 2, source, e, why) : VG_ENOMEM;
    vg_tabular_free(t);
    if (rc == VG_TABULAR_HEADER) snprintf(why, VG_REASON_MAX, "a header row, and no entry");
    if (rc == VG_ENOMEM) snprintf(why, VG_REASON_MAX, "out of memory");
    return rc == 0 ? 0 : VG_EPARSE;
  }
  if (fmt == VG_FORMAT_AUTO) fmt = line[i] == '{' || line[i] == '[' ? VG_FORMAT_JSON : VG_FORMAT_CHRONO;
  int rc = fmt == VG_FORMAT_JSON ? parse_json(line + i, len - i, e, why)
                                 : parse_chrono(line + i, len - i, e, why);
  if (rc) {
    vg_entry_clear(e);
    return rc;
  }
  vg_entry_finish(e);
  return 0;
}

void vg_entry_clear(vg_entry *e) {
  free(e->owned);
  free(e->fields);
  e->owned = NULL;
  e->fields = NULL;
}

int vg_entry_field_name_ok(const char *name) {
  return name && name[0] && strcmp(name, "date") != 0 && strcmp(name, "text") != 0;
}

/* Copies s[0..n) into out, cut to VG_FIELD_MAX - 1 bytes between two
 * characters; returns the length kept. */
static long field_copy(const char *s, size_t n, char out[VG_FIELD_MAX]) {
  if (n > VG_FIELD_MAX - 1) {
    n = VG_FIELD_MAX - 1;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--; /* s[n] continues a character */
  }
  memcpy(out, s, n);
  out[n] = '\0';
  return (long)n;
}

long vg_entry_field_text(const char *source, const char *fields, const char *name,
                         char out[VG_FIELD_MAX]) {
  out[0] = '\0';
  if (!vg_entry_field_name_ok(name)) return -1;
  if (strcmp(name, "source") == 0) return source ? field_copy(source, strlen(source), out) : -1;
  if (!fields) return -1;
  cJSON *obj = cJSON_Parse(fields);
  cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
  long n = -1;
  if (cJSON_IsString(m)) {
    n = field_copy(m->valuestring, strlen(m->valuestring), out);
  } else if (m && !cJSON_IsNull(m)) {
    char *t = cJSON_PrintUnformatted(m);
    if (t) n = field_copy(t, strlen(t), out);
    free(t);
  }
  cJSON_Delete(obj);
  return n;
}
