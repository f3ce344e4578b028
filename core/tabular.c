/* tabular.c — table formats and their rows to entries; see tabular.h. */
#include "tabular.h"

#include "embedded.h"
#include "vigil.h"

#include <csv.h>
#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the registry ---- */

#define TABLES_MAX 256 /* definitions a process may hold (reloads included) */

static vg_tabular_format *registry[TABLES_MAX];
static atomic_size_t nregistry;
/* Definitions a refused configuration added (vg_tabular_withdraw): no name
 * finds them, though a pointer to one stays good. */
static atomic_bool withdrawn[TABLES_MAX];
static pthread_once_t presets_once = PTHREAD_ONCE_INIT;

static const char *const ACLED_COLUMNS[] = {
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp"};

/* GDELT's event columns: the ten of an actor, the geography of a place
 * (2.0 adds ADM2Code), in the codebook's order. */
static const char *const GDELT_ACTOR[] = {"Code", "Name", "CountryCode", "KnownGroupCode",
                                          "EthnicCode", "Religion1Code", "Religion2Code",
                                          "Type1Code", "Type2Code", "Type3Code"};
static const char *const GDELT_GEO[] = {"Type", "FullName", "CountryCode", "ADM1Code",
                                        "ADM2Code", "Lat", "Long", "FeatureID"};
static const char *const GDELT_EVENT[] = {"IsRootEvent", "EventCode", "EventBaseCode",
                                          "EventRootCode", "QuadClass", "GoldsteinScale",
                                          "NumMentions", "NumSources", "NumArticles", "AvgTone"};

static char **names_of(const char *const *v, size_t n) {
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++) out[i] = strdup(v[i]);
  return out;
}

/* GDELT's columns: 61 for 2.0, 58 for 1.0 (no ADM2Code). */
static char **gdelt_columns(int v2, size_t *n) {
  char **out = calloc(62, sizeof *out);
  size_t k = 0;
  if (!out) return NULL;
  static const char *const head[] = {"GLOBALEVENTID", "SQLDATE", "MonthYear", "Year",
                                     "FractionDate"};
  for (size_t i = 0; i < 5; i++) out[k++] = strdup(head[i]);
  char name[64];
  for (int a = 1; a <= 2; a++)
    for (size_t i = 0; i < 10; i++) {
      snprintf(name, sizeof name, "Actor%d%s", a, GDELT_ACTOR[i]);
      out[k++] = strdup(name);
    }
  for (size_t i = 0; i < 10; i++) out[k++] = strdup(GDELT_EVENT[i]);
  static const char *const places[] = {"Actor1Geo_", "Actor2Geo_", "ActionGeo_"};
  for (size_t p = 0; p < 3; p++)
    for (size_t i = 0; i < 8; i++) {
      if (!v2 && strcmp(GDELT_GEO[i], "ADM2Code") == 0) continue;
      snprintf(name, sizeof name, "%s%s", places[p], GDELT_GEO[i]);
      out[k++] = strdup(name);
    }
  out[k++] = strdup("DATEADDED");
  out[k++] = strdup("SOURCEURL");
  *n = k;
  return out;
}

static vg_text_part *parts(const char *const *cols, const int *cameo, size_t n) {
  vg_text_part *p = calloc(n, sizeof *p);
  for (size_t i = 0; p && i < n; i++) p[i] = (vg_text_part){strdup(cols[i]), cameo[i]};
  return p;
}

static void add_presets(void) {
  vg_tabular_format *a = calloc(1, sizeof *a), *g = calloc(1, sizeof *g);
  if (!a || !g) abort();
  static const char *const atext[] = {"event_type", "sub_event_type", "notes"};
  *a = (vg_tabular_format){.name = strdup("acled"), .delim = ',', .quote = '"',
                         .columns = names_of(ACLED_COLUMNS, 31), .ncolumns = 31,
                         .date = strdup("event_date"), .layout = VG_LAYOUT_ANY,
                         .text = parts(atext, (const int[]){0, 0, 0}, 3), .ntext = 3,
                         .id = strdup("event_id_cnty"), .source = strdup("source"),
                         .source_name = strdup("acled"), .edited = strdup("timestamp"),
                         .suffix = strdup(".acled.csv"), .preset = 1};
  static const char *const gtext[] = {"Actor1Name", "EventCode", "Actor2Name",
                                      "ActionGeo_FullName"};
  *g = (vg_tabular_format){.name = strdup("gdelt"), .delim = '\t', .quote = 0,
                         .date = strdup("SQLDATE"), .layout = VG_LAYOUT_YMD,
                         .text = parts(gtext, (const int[]){0, 1, 0, 0}, 4), .ntext = 4,
                         .id = strdup("GLOBALEVENTID"), .source_name = strdup("gdelt"),
                         .suffix = strdup(".export.CSV"), .preset = 1};
  g->columns = gdelt_columns(1, &g->ncolumns);
  g->columns_alt = gdelt_columns(0, &g->nalt);
  registry[0] = a;
  registry[1] = g;
  atomic_store(&nregistry, 2);
}

static size_t count(void) {
  pthread_once(&presets_once, add_presets);
  return atomic_load(&nregistry);
}

int vg_tabular_number(const char *name) {
  for (size_t i = count(); i-- > 0;)
    if (!atomic_load(&withdrawn[i]) && strcmp(registry[i]->name, name) == 0) return (int)i;
  return -1;
}

const vg_tabular_format *vg_tabular_find(const char *name) {
  int i = vg_tabular_number(name);
  return i < 0 ? NULL : registry[i];
}

const vg_tabular_format *vg_tabular_of(vg_format fmt) {
  if ((int)fmt < VG_FORMAT_TABLE) return NULL;
  size_t i = (size_t)fmt - VG_FORMAT_TABLE;
  return i < count() ? registry[i] : NULL;
}

vg_format vg_tabular_fmt(const vg_tabular_format *f) {
  size_t i = count();
  while (i-- > 0 && registry[i] != f) {}
  return (vg_format)(VG_FORMAT_TABLE + i); /* f came from the registry: found */
}

const vg_tabular_format *vg_tabular_by_suffix(const char *name) {
  size_t n = strlen(name), best = 0;
  const vg_tabular_format *f = NULL;
  for (size_t i = count(); i-- > 0;) {
    const char *s = registry[i]->suffix;
    size_t k = s ? strlen(s) : 0;
    /* the newest definition of a name is the one in force; the longest
     * suffix that fits is the most telling (.acled.csv over .csv) */
    if (k > best && k < n && strcmp(name + n - k, s) == 0 &&
        vg_tabular_number(registry[i]->name) == (int)i) {
      f = registry[i];
      best = k;
    }
  }
  return f;
}

static const struct {
  const char *name;
  vg_date_layout l;
} LAYOUTS[] = {{"any", VG_LAYOUT_ANY}, {"YYYY-MM-DD", VG_LAYOUT_ISO},
               {"YYYYMMDD", VG_LAYOUT_YMD}, {"unix", VG_LAYOUT_UNIX}};

int vg_date_layout_parse(const char *name, vg_date_layout *out) {
  for (size_t i = 0; i < sizeof LAYOUTS / sizeof *LAYOUTS; i++)
    if (strcmp(name, LAYOUTS[i].name) == 0) {
      *out = LAYOUTS[i].l;
      return 0;
    }
  return VG_EINVAL;
}

const char *vg_date_layout_name(vg_date_layout l) {
  for (size_t i = 0; i < sizeof LAYOUTS / sizeof *LAYOUTS; i++)
    if (LAYOUTS[i].l == l) return LAYOUTS[i].name;
  return "?";
}

static void free_names(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

void vg_tabular_format_clear(vg_tabular_format *f) {
  free(f->name);
  free_names(f->columns);
  free_names(f->columns_alt);
  free(f->date);
  for (size_t i = 0; i < f->ntext; i++) free(f->text[i].column);
  free(f->text);
  free(f->id);
  free(f->source);
  free(f->source_name);
  free(f->edited);
  free(f->suffix);
  memset(f, 0, sizeof *f);
}

static int has(char **v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i], name) == 0) return 1;
  return 0;
}

static int same_names(char **a, size_t na, char **b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (strcmp(a[i], b[i]) != 0) return 0;
  return 1;
}

static int same_text(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether two definitions read rows alike (a reload that changed nothing). */
static int same_format(const vg_tabular_format *a, const vg_tabular_format *b) {
  if (a->delim != b->delim || a->quote != b->quote || a->layout != b->layout ||
      a->ntext != b->ntext || !same_names(a->columns, a->ncolumns, b->columns, b->ncolumns) ||
      !same_text(a->date, b->date) || !same_text(a->id, b->id) ||
      !same_text(a->source, b->source) || !same_text(a->source_name, b->source_name) ||
      !same_text(a->edited, b->edited) || !same_text(a->suffix, b->suffix))
    return 0;
  for (size_t i = 0; i < a->ntext; i++)
    if (strcmp(a->text[i].column, b->text[i].column) || a->text[i].cameo != b->text[i].cameo)
      return 0;
  return 1;
}

int vg_tabular_define(vg_tabular_format *f, char *err, size_t cap) {
  int rc = VG_EINVAL;
  vg_format line;
  int at = f->name ? vg_tabular_number(f->name) : -1;
  if (!f->name || !f->name[0]) {
    snprintf(err, cap, "a format needs a name");
  } else if (vg_format_parse(f->name, &line) == 0 && (int)line < VG_FORMAT_TABLE) {
    snprintf(err, cap, "format '%s': that name is a line format's", f->name);
  } else if (strcmp(f->name, "done") == 0 || strcmp(f->name, "failed") == 0) {
    snprintf(err, cap, "format '%s': the name is the spool's own directory; choose another",
             f->name);
  } else if (strlen(f->name) > 63 || strchr(f->name, '/') || f->name[0] == '.') {
    snprintf(err, cap, "format '%.80s': a name is a directory of the spool: 63 bytes at most, "
             "no '/', not starting with '.'", f->name);
  } else if (at >= 0 && registry[at]->preset) {
    snprintf(err, cap, "format '%s': a shipped format has that name; choose another", f->name);
  } else if (!f->date || !f->date[0]) {
    snprintf(err, cap, "format '%s': no date column ('date = \"COLUMN\"')", f->name);
  } else if (f->ntext == 0) {
    snprintf(err, cap, "format '%s': no text columns ('text = {\"COLUMN\", ...}')", f->name);
  } else if (f->delim == '\n' || f->delim == '\r' || (f->quote && f->quote == f->delim)) {
    snprintf(err, cap, "format '%s': the delimiter must be one byte other than a newline and "
             "the quote", f->name);
  } else {
    rc = 0;
    /* Every column the map names must be among the declared ones. */
    const char *named[5 + 64] = {f->date, f->id, f->source, f->edited};
    size_t nn = 4;
    for (size_t i = 0; i < f->ntext && nn < sizeof named / sizeof *named; i++)
      named[nn++] = f->text[i].column;
    for (size_t i = 0; f->columns && i < nn && rc == 0; i++)
      if (named[i] && !has(f->columns, f->ncolumns, named[i])) {
        snprintf(err, cap, "format '%s': column '%s' is not among its columns", f->name,
                 named[i]);
        rc = VG_EINVAL;
      }
  }
  if (rc == 0 && at >= 0 && same_format(registry[at], f)) {
    vg_tabular_format_clear(f); /* as it was: keep the one in force */
    return 0;
  }
  size_t n = count();
  if (rc == 0 && n >= TABLES_MAX) {
    snprintf(err, cap, "format '%s': too many formats defined since start; restart vigil",
             f->name);
    rc = VG_EINVAL;
  }
  vg_tabular_format *copy = rc == 0 ? malloc(sizeof *copy) : NULL;
  if (rc == 0 && !copy) {
    snprintf(err, cap, "out of memory");
    rc = VG_ENOMEM;
  }
  if (rc) {
    vg_tabular_format_clear(f);
    return rc;
  }
  *copy = *f;
  memset(f, 0, sizeof *f);
  registry[n] = copy;
  atomic_store(&nregistry, n + 1);
  return 0;
}

size_t vg_tabular_mark(void) { return count(); }

void vg_tabular_withdraw(size_t mark) {
  for (size_t i = mark, n = count(); i < n; i++) atomic_store(&withdrawn[i], 1);
}

void vg_tabular_retain(char *const *names) {
  for (size_t i = 0, n = count(); i < n; i++) {
    int keep = registry[i]->preset;
    for (size_t k = 0; names && !keep && names[k]; k++)
      keep = strcmp(registry[i]->name, names[k]) == 0;
    if (!keep) atomic_store(&withdrawn[i], 1);
  }
}

void vg_tabulars_free(void) {
  size_t n = atomic_load(&nregistry);
  for (size_t i = 0; i < n; i++) {
    atomic_store(&withdrawn[i], 0);
    vg_tabular_format_clear(registry[i]);
    free(registry[i]);
    registry[i] = NULL;
  }
  atomic_store(&nregistry, 0);
  presets_once = (pthread_once_t)PTHREAD_ONCE_INIT;
}

/* ---- CAMEO ---- */

typedef struct {
  char code[8];
  char *text;
} cameo_code;

static cameo_code *cameo_v;
static size_t cameo_n;
static pthread_once_t cameo_once = PTHREAD_ONCE_INIT;

static int by_code(const void *a, const void *b) {
  return strcmp(((const cameo_code *)a)->code, ((const cameo_code *)b)->code);
}

/* Reads the table scripts/cameo.lua returns, once, into a sorted array. */
static void load_cameo(void) {
  const char *src = NULL;
  for (int i = 0; i < vg_scripts_count; i++)
    if (strcmp(vg_scripts[i].name, "cameo.lua") == 0) src = vg_scripts[i].text;
  lua_State *L = src ? luaL_newstate() : NULL;
  if (!L) return;
  if (luaL_loadbufferx(L, src, strlen(src), "=cameo.lua", "t") == LUA_OK &&
      lua_pcall(L, 0, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING &&
          lua_rawlen(L, -2) < sizeof cameo_v->code) {
        if (cameo_n == cap) {
          cap = cap ? cap * 2 : 512;
          cameo_code *v = realloc(cameo_v, cap * sizeof *v);
          if (!v) break;
          cameo_v = v;
        }
        snprintf(cameo_v[cameo_n].code, sizeof cameo_v->code, "%s", lua_tostring(L, -2));
        cameo_v[cameo_n].text = strdup(lua_tostring(L, -1));
        if (cameo_v[cameo_n].text) cameo_n++;
      }
      lua_pop(L, 1);
    }
    if (cameo_v) qsort(cameo_v, cameo_n, sizeof *cameo_v, by_code);
  }
  lua_close(L);
}

const char *vg_cameo(const char *code) {
  pthread_once(&cameo_once, load_cameo);
  cameo_code key;
  if (!cameo_n || strlen(code) >= sizeof key.code) return NULL;
  snprintf(key.code, sizeof key.code, "%s", code);
  const cameo_code *c = bsearch(&key, cameo_v, cameo_n, sizeof *cameo_v, by_code);
  return c ? c->text : NULL;
}

/* ---- reading rows ---- */

/* Where each column the map names sits in a row of one layout. */
typedef struct {
  size_t ncells;      /* cells a row of this layout has */
  char **names;       /* their names (the header's or the declared ones); not owned */
  long date, id, source, edited; /* cell indexes, -1 for none */
  long *text;         /* one per text part */
  unsigned char *used; /* per cell: 1 for the date and the source, which the entry holds
                          itself; every other cell is kept in fields */
} col_map;

struct vg_tabular {
  const vg_tabular_format *fmt;
  struct csv_parser p;
  int p_ok;           /* p is initialised */
  col_map maps[2];    /* the declared layouts, or the header's in maps[0] */
  size_t nmaps;
  char **header;      /* the header row's names, owned */
  size_t nheader;
  int seen_header;    /* the input's header has been read */
  /* the cells of the row being read, back to back, each NUL-terminated */
  char *buf;
  size_t len, cap;
  size_t *cell;       /* offsets of the cells in buf */
  size_t ncell, capcell;
  int records;        /* records the row made (one, unless it is malformed) */
  int oom;
};

static void map_free(col_map *m) {
  free(m->text);
  free(m->used);
  memset(m, 0, sizeof *m);
}

static long index_of(char **names, size_t n, const char *name) {
  if (!name) return -1;
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return (long)i;
  return -1;
}

/* Builds m for the columns names[0..n) of t's format; 0, VG_ENOMEM, or
 * VG_EPARSE with why naming a column the header lacks. */
static int map_build(const vg_tabular_format *f, col_map *m, char **names, size_t n, char *why,
                     size_t cap) {
  map_free(m);
  m->ncells = n;
  m->names = names;
  m->text = calloc(f->ntext ? f->ntext : 1, sizeof *m->text);
  m->used = calloc(n ? n : 1, 1);
  if (!m->text || !m->used) return VG_ENOMEM;
  m->date = index_of(names, n, f->date);
  m->id = index_of(names, n, f->id);
  m->source = index_of(names, n, f->source);
  m->edited = index_of(names, n, f->edited);
  const char *missing = m->date < 0 ? f->date : f->id && m->id < 0 ? f->id : NULL;
  size_t found = 0;
  for (size_t i = 0; i < f->ntext; i++) {
    m->text[i] = index_of(names, n, f->text[i].column);
    if (m->text[i] >= 0) found++;
  }
  if (!missing && !found) missing = f->text[0].column;
  if (missing) {
    snprintf(why, cap, "the header has no column '%.60s'", missing);
    return VG_EPARSE;
  }
  m->used[m->date] = 1;
  if (m->source >= 0) m->used[m->source] = 1;
  return 0;
}

static void on_cell(void *s, size_t n, void *ud) {
  vg_tabular *t = ud;
  if (t->oom) return;
  if (t->ncell == t->capcell) {
    size_t c = t->capcell ? t->capcell * 2 : 64;
    size_t *v = realloc(t->cell, c * sizeof *v);
    if (!v) {
      t->oom = 1;
      return;
    }
    t->cell = v;
    t->capcell = c;
  }
  if (t->len + n + 1 > t->cap) {
    size_t c = t->cap ? t->cap : 1024;
    while (c < t->len + n + 1) c *= 2;
    char *b = realloc(t->buf, c);
    if (!b) {
      t->oom = 1;
      return;
    }
    t->buf = b;
    t->cap = c;
  }
  t->cell[t->ncell++] = t->len;
  if (n) memcpy(t->buf + t->len, s, n);
  t->len += n;
  t->buf[t->len++] = '\0';
}

static void on_record(int c, void *ud) {
  (void)c;
  ((vg_tabular *)ud)->records++;
}

static int never_space(unsigned char c) {
  (void)c;
  return 0;
}

/* A CR ends a record too (a trailing one is cut before), so that a row
 * whose lines end in a bare CR is refused rather than read as one row. */
static int only_newline(unsigned char c) { return c == '\n' || c == '\r'; }

static int parser_init(vg_tabular *t) {
  if (csv_init(&t->p, CSV_STRICT | CSV_STRICT_FINI) != 0) return VG_ENOMEM;
  csv_set_delim(&t->p, (unsigned char)t->fmt->delim);
  /* No quoting: a byte that never comes (a NUL is refused before). */
  csv_set_quote(&t->p, (unsigned char)t->fmt->quote);
  csv_set_space_func(&t->p, never_space); /* cells are kept exactly as given */
  csv_set_term_func(&t->p, only_newline);
  t->p_ok = 1;
  return 0;
}

vg_tabular *vg_tabular_new(const vg_tabular_format *fmt) {
  vg_tabular *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->fmt = fmt;
  char why[VG_REASON_MAX];
  int rc = parser_init(t);
  if (rc == 0 && fmt->columns)
    rc = map_build(fmt, &t->maps[t->nmaps++], fmt->columns, fmt->ncolumns, why, sizeof why);
  if (rc == 0 && fmt->columns_alt)
    rc = map_build(fmt, &t->maps[t->nmaps++], fmt->columns_alt, fmt->nalt, why, sizeof why);
  if (rc) {
    vg_tabular_free(t);
    return NULL;
  }
  return t;
}

void vg_tabular_free(vg_tabular *t) {
  if (!t) return;
  if (t->p_ok) csv_free(&t->p);
  map_free(&t->maps[0]);
  map_free(&t->maps[1]);
  for (size_t i = 0; i < t->nheader; i++) free(t->header[i]);
  free(t->header);
  free(t->buf);
  free(t->cell);
  free(t);
}

const vg_tabular_format *vg_tabular_format_of(const vg_tabular *t) { return t->fmt; }

/* Splits a row of a format without quoting that holds no newline (a
 * GDELT row) into t's cells at each delimiter, as libcsv splits it (a row
 * that ends with the delimiter ends with an empty cell), but a few times
 * faster: libcsv calls a function a byte. */
static void split_plain(vg_tabular *t, const char *row, size_t len) {
  const char *p = row, *end = row + len, *d;
  while ((d = memchr(p, t->fmt->delim, (size_t)(end - p))) != NULL) {
    on_cell((void *)p, (size_t)(d - p), t);
    p = d + 1;
  }
  on_cell((void *)p, (size_t)(end - p), t);
}

/* Splits row[0..len) into t's cells. 0, VG_ENOMEM, or VG_EPARSE with why. */
static int split(vg_tabular *t, const char *row, size_t len, char *why, size_t cap) {
  t->len = t->ncell = 0;
  t->records = 0;
  t->oom = 0;
  if (!t->fmt->quote && !memchr(row, '\n', len)) {
    split_plain(t, row, len);
    return t->oom ? VG_ENOMEM : 0;
  }
  size_t used = csv_parse(&t->p, row, len, on_cell, on_record, t);
  int bad = used < len || csv_fini(&t->p, on_cell, on_record, t) != 0;
  if (bad || t->records != 1) {
    /* The parser stopped inside the row: start a fresh one for the next. */
    csv_free(&t->p);
    t->p_ok = 0;
    if (parser_init(t)) return VG_ENOMEM;
    if (t->oom) return VG_ENOMEM;
    if (used < len)
      snprintf(why, cap, "bad quoting at byte %zu: a quote inside an unquoted cell, or after a "
               "closing quote", used + 1);
    else if (t->records > 1 && memchr(row, '\r', len) && !memchr(row, '\n', len))
      snprintf(why, cap, "a carriage return outside quotes: rows end with LF or CRLF, not a "
               "bare CR");
    else if (t->records > 1)
      snprintf(why, cap, "a newline outside quotes: a row is one line unless a quoted cell "
               "holds it");
    else
      snprintf(why, cap, "bad quoting: a quoted cell is not closed");
    return VG_EPARSE;
  }
  return t->oom ? VG_ENOMEM : 0;
}

static const char *cell(const vg_tabular *t, long i) { return i < 0 ? "" : t->buf + t->cell[i]; }

/* Whether the row just split names the format's date column: a header. */
static int is_header(const vg_tabular *t) {
  for (size_t i = 0; i < t->ncell; i++)
    if (strcmp(cell(t, (long)i), t->fmt->date) == 0) return 1;
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A column that names[0..n) holds twice, or NULL (unnamed columns, which
 * no map names and no field keeps, may repeat: a spreadsheet's trailing
 * empty columns); sorts a copy, so that a header of many thousand columns
 * costs no more than its length. */
static const char *named_twice(char **names, size_t n, int *oom) {
  char **v = malloc((n ? n : 1) * sizeof *v);
  if (!v) {
    *oom = 1;
    return NULL;
  }
  memcpy(v, names, n * sizeof *v);
  qsort(v, n, sizeof *v, by_name);
  const char *twice = NULL;
  for (size_t i = 1; i < n && !twice; i++)
    if (v[i][0] && strcmp(v[i - 1], v[i]) == 0) twice = v[i];
  free(v);
  return twice;
}

/* Takes the row just split as the input's header. */
static int take_header(vg_tabular *t, char *why, size_t cap) {
  for (size_t i = 0; i < t->nheader; i++) free(t->header[i]);
  free(t->header);
  t->header = calloc(t->ncell, sizeof *t->header);
  t->nheader = 0;
  if (!t->header) return VG_ENOMEM;
  for (size_t i = 0; i < t->ncell; i++)
    if (!(t->header[t->nheader++] = strdup(cell(t, (long)i)))) return VG_ENOMEM;
  int oom = 0;
  const char *twice = named_twice(t->header, t->nheader, &oom);
  if (oom) return VG_ENOMEM;
  if (twice) {
    snprintf(why, cap, "the header names column '%.60s' twice", twice);
    return VG_EPARSE;
  }
  map_free(&t->maps[1]);
  t->nmaps = 1;
  return map_build(t->fmt, &t->maps[0], t->header, t->nheader, why, cap);
}

/* Parses a date cell as the format's layout into d; 0 or VG_EPARSE. */
static int read_date(vg_date_layout l, const char *s, vg_date *d) {
  char iso[16], err[VG_REASON_MAX];
  size_t n = strlen(s);
  switch (l) {
  case VG_LAYOUT_ANY: return vg_date_parse(s, n, d, err, sizeof err) ? VG_EPARSE : 0;
  case VG_LAYOUT_ISO:
    if (n != 10 || s[4] != '-' || s[7] != '-') return VG_EPARSE;
    return vg_date_parse(s, n, d, err, sizeof err) || d->precision != VG_PREC_DAY ? VG_EPARSE : 0;
  case VG_LAYOUT_YMD:
    if (n != 8 || strspn(s, "0123456789") != 8) return VG_EPARSE;
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
    return vg_date_parse(iso, 10, d, err, sizeof err) ? VG_EPARSE : 0;
  case VG_LAYOUT_UNIX: {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!n || *end || v < -62135596800LL || v > 253402300799LL) return VG_EPARSE;
    long long days = v / 86400 - (v % 86400 < 0);
    int y, m, dd;
    vg_civil_from_days((int32_t)days, &y, &m, &dd);
    snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m, dd);
    return vg_date_parse(iso, 10, d, err, sizeof err) ? VG_EPARSE : 0;
  }
  }
  return VG_EPARSE;
}

/* Appends s to the growing text (t joined by " — "). */
static void join(char **text, size_t *n, size_t *cap, const char *s, int *oom) {
  size_t k = strlen(s);
  if (!k || *oom) return;
  if (*n + k + 8 > *cap) {
    size_t c = *cap ? *cap : 256;
    while (c < *n + k + 8) c *= 2;
    char *b = realloc(*text, c);
    if (!b) {
      *oom = 1;
      return;
    }
    *text = b;
    *cap = c;
  }
  if (*n) {
    memcpy(*text + *n, " \u2014 ", 5);
    *n += 5;
  }
  memcpy(*text + *n, s, k);
  *n += k;
  (*text)[*n] = '\0';
}

/* Whether cell i (holding v) of a row read by m goes into the entry's
 * fields: not empty, not the date's or the source's, a name a field may
 * have. */
static int kept(const col_map *m, size_t i, const char *v) {
  const char *name = m->names[i];
  return *v && !m->used[i] && vg_entry_field_name_ok(name) && strcmp(name, "source") != 0;
}

/* The bytes s takes inside a JSON string, escaped as cJSON escapes it:
 * the quote, the backslash and \b \f \n \r \t by a backslash, any other
 * byte below 0x20 as \u00XX, every other byte as it is. */
static size_t json_len(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    n += *p >= 0x20 && *p != '"' && *p != '\\' ? 1
         : *p == '"' || *p == '\\' || *p == '\b' || *p == '\f' || *p == '\n' || *p == '\r' ||
                 *p == '\t'
             ? 2
             : 6;
  return n;
}

/* Writes s at o as a JSON string (quotes included); returns the end. */
static char *json_put(char *o, const char *s) {
  static const char hex[] = "0123456789abcdef";
  *o++ = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char c = *p;
    if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
      memcpy(o, "u00", 3);
      o[3] = hex[c >> 4];
      o[4] = hex[c & 15];
      o += 5;
    }
  }
  *o++ = '"';
  return o;
}

/* The fields of the row just split, read by m: the cells kept() keeps, in
 * column order, as one compact JSON object of strings, byte for byte what
 * cJSON_PrintUnformatted prints of it (written directly: building the
 * object cost two allocations a cell). NULL when no cell is kept, or when
 * out of memory (then *oom is set). */
static char *row_fields(const vg_tabular *t, const col_map *m, int *oom) {
  size_t need = 0;
  for (size_t i = 0; i < m->ncells; i++) {
    const char *v = cell(t, (long)i);
    if (kept(m, i, v)) need += json_len(m->names[i]) + json_len(v) + 6; /* "":"", */
  }
  if (!need) return NULL;
  char *out = malloc(need + 2), *o = out;
  if (!out) {
    *oom = 1;
    return NULL;
  }
  *o++ = '{';
  for (size_t i = 0; i < m->ncells; i++) {
    const char *v = cell(t, (long)i);
    if (!kept(m, i, v)) continue;
    if (o > out + 1) *o++ = ',';
    o = json_put(o, m->names[i]);
    *o++ = ':';
    o = json_put(o, v);
  }
  *o++ = '}';
  *o = '\0';
  return out;
}

/* Makes e from the row just split, read by map m. */
static int make_entry(vg_tabular *t, const col_map *m, uint64_t row_no, const char *source,
                      vg_entry *e, char *why, size_t cap) {
  const vg_tabular_format *f = t->fmt;
  const char *date = cell(t, m->date);
  if (!*date) {
    snprintf(why, cap, "row %llu: the date column '%.60s' is empty", (unsigned long long)row_no,
             f->date);
    return VG_EPARSE;
  }
  if (read_date(f->layout, date, &e->date)) {
    snprintf(why, cap, "row %llu: column '%.40s': '%.40s' is no date (%s)",
             (unsigned long long)row_no, f->date, date,
             f->layout == VG_LAYOUT_ANY ? "a date a chronology line may start with"
                                        : vg_date_layout_name(f->layout));
    return VG_EPARSE;
  }
  const char *key = cell(t, m->id);
  if (f->id && !*key) {
    snprintf(why, cap, "row %llu: the id column '%.60s' is empty", (unsigned long long)row_no,
             f->id);
    return VG_EPARSE;
  }
  char *text = NULL;
  size_t tn = 0, tcap = 0;
  int oom = 0;
  for (size_t i = 0; i < f->ntext; i++) {
    const char *s = cell(t, m->text[i]);
    if (f->text[i].cameo && *s) {
      const char *d = vg_cameo(s);
      char code[64];
      if (!d) snprintf(code, sizeof code, "CAMEO %.40s", s);
      s = d ? d : code;
      join(&text, &tn, &tcap, s, &oom);
    } else {
      join(&text, &tn, &tcap, s, &oom);
    }
  }
  if (!oom && tn == 0) {
    snprintf(why, cap, "row %llu: no text: the text columns are empty",
             (unsigned long long)row_no);
    free(text);
    return VG_EPARSE;
  }
  /* The other cells, as they are: fields. */
  char *fields = oom ? NULL : row_fields(t, m, &oom);
  const char *src = cell(t, m->source);
  if (!*src) src = f->source_name ? f->source_name : source;
  const char *edited = cell(t, m->edited);
  size_t sn = strlen(src), kn = strlen(key), en = strlen(edited);
  char *owned = oom ? NULL : malloc(tn + sn + kn + en + 4);
  if (!owned) {
    free(text);
    free(fields);
    snprintf(why, cap, "out of memory");
    return VG_ENOMEM;
  }
  char *p = owned;
  memcpy(p, text, tn + 1);
  e->text = p, e->text_len = tn, p += tn + 1;
  memcpy(p, src, sn + 1);
  e->source = p, p += sn + 1;
  if (f->id) {
    memcpy(p, key, kn + 1);
    e->key = p, e->scope = f->name, p += kn + 1;
  }
  if (f->edited && *edited) {
    memcpy(p, edited, en + 1);
    e->edited = p;
  }
  free(text);
  e->owned = owned;
  e->fields = fields;
  vg_entry_finish(e);
  return 0;
}

int vg_tabular_row(vg_tabular *t, const char *row, size_t len, uint64_t row_no, const char *source,
                 vg_entry *e, char why[VG_REASON_MAX]) {
  memset(e, 0, sizeof *e);
  e->source = source;
  /* before the input's first row, which may follow a line of the protocol's ("auth TOKEN") */
  if (!t->seen_header && len >= 3 && memcmp(row, "\xEF\xBB\xBF", 3) == 0) row += 3, len -= 3;
  if (len && row[len - 1] == '\r') len--;
  long bad = vg_utf8_check(row, len);
  if (bad >= 0) {
    snprintf(why, VG_REASON_MAX, "row %llu: %s at byte %ld", (unsigned long long)row_no,
             row[bad] ? "invalid UTF-8" : "NUL byte", bad + 1);
    return VG_EPARSE;
  }
  if (len == 0) {
    snprintf(why, VG_REASON_MAX, "row %llu is empty", (unsigned long long)row_no);
    return VG_EPARSE;
  }
  char said[VG_REASON_MAX - 32];
  int rc = split(t, row, len, said, sizeof said);
  if (rc) {
    snprintf(why, VG_REASON_MAX, "row %llu: %s", (unsigned long long)row_no,
             rc == VG_ENOMEM ? "out of memory" : said);
    return rc == VG_ENOMEM ? VG_ENOMEM : VG_EPARSE;
  }
  if (!t->seen_header && is_header(t)) {
    t->seen_header = 1;
    rc = take_header(t, said, sizeof said);
    if (rc == 0) return VG_TABULAR_HEADER;
    t->nmaps = 0; /* no map (none whole when out of memory): every row after it is refused */
    snprintf(why, VG_REASON_MAX, "row %llu: %s", (unsigned long long)row_no,
             rc == VG_ENOMEM ? "out of memory" : said);
    return rc == VG_ENOMEM ? VG_ENOMEM : VG_EPARSE;
  }
  t->seen_header = 1; /* only an input's first row may be its header */
  const col_map *m = NULL;
  for (size_t i = 0; i < t->nmaps; i++)
    if (t->maps[i].ncells == t->ncell) m = &t->maps[i];
  if (!m) {
    if (t->nmaps == 0 && t->header)
      snprintf(why, VG_REASON_MAX, "row %llu: the header of this input was refused",
               (unsigned long long)row_no);
    else if (t->nmaps == 0)
      snprintf(why, VG_REASON_MAX, "row %llu: no header row naming the date column '%.60s' "
               "came first", (unsigned long long)row_no, t->fmt->date);
    else if (t->nmaps == 2)
      snprintf(why, VG_REASON_MAX, "row %llu has %zu cells, the format's rows %zu or %zu",
               (unsigned long long)row_no, t->ncell, t->maps[0].ncells, t->maps[1].ncells);
    else
      snprintf(why, VG_REASON_MAX, "row %llu has %zu cells, the %s %zu",
               (unsigned long long)row_no, t->ncell, t->header ? "header" : "format's rows",
               t->maps[0].ncells);
    return VG_EPARSE;
  }
  return make_entry(t, m, row_no, source, e, why, VG_REASON_MAX);
}
