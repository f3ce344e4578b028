/* cmd_show.c — `vigil show ID...`: stored entries in full, by id.
 *
 * For each id it gathers, through the store, the entry, the span of days of
 * its date, its fields, its tags with the rule that set each, its
 * correlation marks, the alerts that name it and the updates of its feed
 * item into one JSON object; --json prints that object on a line, and the
 * text output is drawn from the same object, so the two never differ. */
#include "cli.h"
#include "date.h"
#include "entry.h"
#include "store.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil show [--history] [--json] [--db PATH] [--config FILE] ID [ID...]\n"
    "Shows stored entries in full: the ids that `vigil query` lists first on each\n"
    "line and that `vigil alerts` prints as [entries 3,24] (an argument may hold\n"
    "several ids joined by commas). For each entry: its date, precision and span of\n"
    "days, source, when it was stored, its text, its fields, its tags with the rule\n"
    "that set each, the correlation marks it left (a step of a rule it matched, under\n"
    "a key), the alerts that name it, and the updates of its feed item (each with\n"
    "when it was seen, which of text and fields changed, and the new text). An id\n"
    "that names no entry is said on stderr and the others are still shown; the exit\n"
    "status is then 1. A corrected entry shows its version; a retracted one when\n"
    "and why it was retracted.\n"
    "  --history  the entry's earlier versions too, oldest first: each with when and\n"
    "           by whom (cli, api, json, a feed's URL) it was replaced, and why\n"
    "  --json   one JSON object a line per entry: the fields of `vigil query --json`\n"
    "           (id, date, precision, text (the latest), source, ingested_at, tags,\n"
    "           updated, fields; updated_at and original_text when updated) and\n"
    "           first_day, last_day   the span of days of its date (YYYY-MM-DD)\n"
    "           tag_rules             {tag: the rule that set it}\n"
    "           marks                 [{rule, step (1 for a rule's first step), key}]\n"
    "           alerts                [the objects of `vigil alerts --json`, each with\n"
    "                                 amended: true once its version is above 1]\n"
    "           updates               [{seen_at, changed (\"text\" and the names of the\n"
    "                                 fields that differ from the version before),\n"
    "                                 text, fields}], oldest first\n"
    "           event                 {id (a decimal string: a 64-bit number), grouped\n"
    "                                 (true when reports in other words were looked for:\n"
    "                                 the entry has an event tag), reports [{id, date,\n"
    "                                 source}] by date then id, this entry among them}\n"
    "           version               1 as first stored, one more per correction\n"
    "           versions              [{version, date, precision, text, source, fields,\n"
    "                                 replaced_at, reason, origin}], oldest first\n"
    "           retracted_at, retract_reason   when it was retracted, and why\n"
    "The event of an entry is the event it reports, which the correlations count\n"
    "once: its reports in other words, by other sources, within a day of its first (see\n"
    "event_similarity in vigil(1)). An entry without an event tag is its own report.\n";

/* The members of an item's record that are not among an entry's fields. */
static int entry_member(const char *name) {
  return !strcmp(name, "date") || !strcmp(name, "text") || !strcmp(name, "source");
}

/* What gathering one entry keeps between the store's callbacks. */
typedef struct {
  cJSON *o;           /* the entry's object, once found */
  int64_t event;      /* the event its text and date alone say (vg_entry_event) */
  char *prev_text;    /* the text of the version before the next update */
  cJSON *prev_fields; /* its fields (an object) */
} gather;

static int got_entry(void *ud, const vg_row *r) {
  gather *g = ud;
  if (!(g->o = vg_cli_entry_json(r))) return VG_ENOMEM;
  char day[11];
  vg_day_format(r->day_first, day);
  cJSON_AddStringToObject(g->o, "first_day", day);
  vg_day_format(r->day_last, day);
  cJSON_AddStringToObject(g->o, "last_day", day);
  cJSON_AddNumberToObject(g->o, "version", r->version);
  if (r->retracted_at) {
    cJSON_AddStringToObject(g->o, "retracted_at", r->retracted_at);
    cJSON_AddStringToObject(g->o, "retract_reason", r->retract_reason ? r->retract_reason : "");
  }
  g->event = vg_entry_event(r->text, r->text_len, r->day_first, r->day_last);
  g->prev_text = strdup(r->text);
  g->prev_fields = r->fields ? cJSON_Parse(r->fields) : NULL;
  if (!cJSON_IsObject(g->prev_fields)) {
    cJSON_Delete(g->prev_fields);
    g->prev_fields = cJSON_CreateObject();
  }
  return g->prev_text && g->prev_fields ? 0 : VG_ENOMEM;
}

static int got_tag(void *ud, const char *tag, const char *rule) {
  return cJSON_AddStringToObject(ud, tag, rule) ? 0 : VG_ENOMEM;
}

static int got_mark(void *ud, const char *rule, int step, const char *key) {
  cJSON *m = cJSON_CreateObject();
  if (!m || !cJSON_AddItemToArray(ud, m)) {
    cJSON_Delete(m);
    return VG_ENOMEM;
  }
  cJSON_AddStringToObject(m, "rule", rule);
  cJSON_AddNumberToObject(m, "step", step + 1);
  cJSON_AddStringToObject(m, "key", key);
  return 0;
}

static int got_alert(void *ud, const vg_alert_row *a) {
  cJSON *o = vg_cli_alert_json(a);
  if (!o || !cJSON_AddItemToArray(ud, o)) {
    cJSON_Delete(o);
    return VG_ENOMEM;
  }
  cJSON_AddBoolToObject(o, "amended", a->version > 1);
  return 0;
}

/* Adds to `changed` the name of each member that is in one of a and b and
 * not the same in the other. */
static void add_changed(cJSON *changed, const cJSON *a, const cJSON *b) {
  const cJSON *m;
  cJSON_ArrayForEach(m, a) {
    if (!cJSON_Compare(m, cJSON_GetObjectItemCaseSensitive(b, m->string), 1))
      cJSON_AddItemToArray(changed, cJSON_CreateString(m->string));
  }
  cJSON_ArrayForEach(m, b) {
    if (!cJSON_GetObjectItemCaseSensitive(a, m->string))
      cJSON_AddItemToArray(changed, cJSON_CreateString(m->string));
  }
}

static int got_version(void *ud, const vg_version_row *v) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(ud, o)) {
    cJSON_Delete(o);
    return VG_ENOMEM;
  }
  cJSON_AddNumberToObject(o, "version", v->version);
  cJSON_AddStringToObject(o, "date", v->date);
  cJSON_AddStringToObject(o, "precision", v->precision);
  cJSON_AddStringToObject(o, "text", v->text);
  cJSON_AddStringToObject(o, "source", v->source);
  cJSON *f = v->fields ? cJSON_Parse(v->fields) : NULL;
  if (f) cJSON_AddItemToObject(o, "fields", f);
  cJSON_AddStringToObject(o, "replaced_at", v->replaced_at);
  if (v->reason) cJSON_AddStringToObject(o, "reason", v->reason);
  cJSON_AddStringToObject(o, "origin", v->origin);
  return 0;
}

static int got_update(void *ud, const vg_update_row *u) {
  gather *g = ud;
  cJSON *list = cJSON_GetObjectItemCaseSensitive(g->o, "updates");
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(list, o)) {
    cJSON_Delete(o);
    return VG_ENOMEM;
  }
  cJSON *record = u->fields ? cJSON_Parse(u->fields) : NULL;
  cJSON *fields = cJSON_CreateObject(), *m;
  char *text = strdup(u->text);
  if (!fields || !text) {
    cJSON_Delete(record);
    cJSON_Delete(fields);
    free(text);
    return VG_ENOMEM;
  }
  cJSON_ArrayForEach(m, record) {
    if (m->string && !entry_member(m->string))
      cJSON_AddItemToObject(fields, m->string, cJSON_Duplicate(m, 1));
  }
  cJSON_AddStringToObject(o, "seen_at", u->seen_at);
  cJSON *changed = cJSON_AddArrayToObject(o, "changed");
  if (strcmp(g->prev_text, u->text) != 0) cJSON_AddItemToArray(changed, cJSON_CreateString("text"));
  add_changed(changed, g->prev_fields, fields);
  cJSON_AddStringToObject(o, "text", u->text);
  cJSON_AddItemToObject(o, "fields", cJSON_Duplicate(fields, 1));
  cJSON_Delete(record);
  free(g->prev_text);
  cJSON_Delete(g->prev_fields);
  g->prev_text = text;
  g->prev_fields = fields;
  return 0;
}

/* The reports of an event, looked up as they are listed. */
typedef struct {
  vg_store *st;
  cJSON *reports;
} event_reports;

static int got_report_row(void *ud, const vg_row *r) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(ud, o)) {
    cJSON_Delete(o);
    return VG_ENOMEM;
  }
  return cJSON_AddNumberToObject(o, "id", (double)r->id) &&
                 cJSON_AddStringToObject(o, "date", r->date) &&
                 cJSON_AddStringToObject(o, "source", r->source)
             ? 0
             : VG_ENOMEM;
}

static int got_report(void *ud, int64_t id) {
  event_reports *er = ud;
  return vg_store_entry_untagged(er->st, id, got_report_row, er->reports);
}

/* Adds the "event" object of entry id, whose own event is `own`. */
static int add_event(vg_store *st, cJSON *o, int64_t id, int64_t own) {
  int64_t event = own;
  int grouped = vg_store_entry_event(st, id, &event);
  if (grouped < 0) return grouped;
  char text[24];
  snprintf(text, sizeof text, "%lld", (long long)event);
  cJSON *ev = cJSON_AddObjectToObject(o, "event");
  event_reports er = {st, NULL};
  if (!ev || !cJSON_AddStringToObject(ev, "id", text) ||
      !cJSON_AddBoolToObject(ev, "grouped", grouped) ||
      !(er.reports = cJSON_AddArrayToObject(ev, "reports")))
    return VG_ENOMEM;
  return grouped ? vg_store_event_members(st, event, got_report, &er) : got_report(&er, id);
}

int vg_cli_entry_full(vg_store *st, int64_t id, cJSON **out) {
  gather g = {0};
  int rc = vg_store_entry(st, id, got_entry, &g);
  cJSON *tags = NULL, *marks = NULL, *alerts = NULL, *versions = NULL;
  if (rc == 0 && (!(tags = cJSON_AddObjectToObject(g.o, "tag_rules")) ||
                  !(versions = cJSON_AddArrayToObject(g.o, "versions")) ||
                  !(marks = cJSON_AddArrayToObject(g.o, "marks")) ||
                  !(alerts = cJSON_AddArrayToObject(g.o, "alerts")) ||
                  !cJSON_AddArrayToObject(g.o, "updates")))
    rc = VG_ENOMEM;
  if (rc == 0) rc = vg_store_entry_tags(st, id, got_tag, tags);
  if (rc == 0) rc = vg_store_entry_marks(st, id, got_mark, marks);
  vg_alert_query q = {.entry = id, .retracted = VG_ALERT_ANY};
  if (rc == 0) rc = vg_store_alerts(st, &q, got_alert, alerts);
  if (rc == 0) rc = vg_store_entry_updates(st, id, got_update, &g);
  if (rc == 0) rc = vg_store_entry_versions(st, id, got_version, versions);
  if (rc == 0) rc = add_event(st, g.o, id, g.event);
  free(g.prev_text);
  cJSON_Delete(g.prev_fields);
  if (rc) {
    cJSON_Delete(g.o);
    g.o = NULL;
  }
  *out = g.o;
  return rc;
}

/* ---- text ---- */

static const char *str(const cJSON *o, const char *name) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
  return s ? s : "";
}

/* s as vg_cli_printf writes it (control characters as \xHH...), with the
 * columns a terminal gives it in *cols; NULL when out of memory. */
static char *escaped(const char *s, size_t *cols) {
  *cols = 0;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  if (!f) return NULL;
  *cols = vg_term_escape(f, s, strlen(s));
  fclose(f);
  return out;
}

/* Prints rows (an array of arrays of strings) indented by two spaces, each
 * column but the last padded to the widest of its cells as printed; "(none)"
 * when there are none. */
static void print_rows(const cJSON *rows) {
  size_t w[8] = {0}, cols;
  const cJSON *row, *cell;
  cJSON_ArrayForEach(row, rows) {
    size_t c = 0;
    cJSON_ArrayForEach(cell, row) {
      char *e = escaped(cell->valuestring, &cols);
      if (e && c < 8 && cols > w[c]) w[c] = cols;
      free(e);
      c++;
    }
  }
  if (!cJSON_GetArraySize(rows)) fputs("  (none)\n", stdout);
  cJSON_ArrayForEach(row, rows) {
    size_t c = 0;
    fputs(" ", stdout);
    cJSON_ArrayForEach(cell, row) {
      char *e = escaped(cell->valuestring, &cols);
      printf(" %s", e ? e : "?");
      free(e);
      if (cell->next && c < 8)
        for (size_t pad = cols; pad <= w[c]; pad++)
          putchar(' ');
      c++;
    }
    putchar('\n');
  }
}

/* Appends a row of n strings to rows. */
static void add_row(cJSON *rows, int n, const char *const *cells) {
  cJSON_AddItemToArray(rows, cJSON_CreateStringArray(cells, n));
}

/* A value of a field as a line shows it: a string as it is, else its JSON. */
static char *field_text(const cJSON *v) {
  return cJSON_IsString(v) ? strdup(v->valuestring) : cJSON_PrintUnformatted(v);
}

/* Whether the earlier versions of an entry are shown (--history). */
static int history;

static void print_entry(const cJSON *o) {
  const cJSON *updates = cJSON_GetObjectItemCaseSensitive(o, "updates"), *it;
  int updated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "updated"));
  cJSON *rows = cJSON_CreateArray();
  if (!rows) return;
  char days[40], count[64];
  snprintf(days, sizeof days, "%s to %s", str(o, "first_day"), str(o, "last_day"));
  vg_cli_printf("entry %.0f\n", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "id")));
  add_row(rows, 2, (const char *[]){"date", str(o, "date")});
  add_row(rows, 2, (const char *[]){"precision", str(o, "precision")});
  add_row(rows, 2, (const char *[]){"days", days});
  add_row(rows, 2, (const char *[]){"source", str(o, "source")});
  add_row(rows, 2, (const char *[]){"ingested at", str(o, "ingested_at")});
  add_row(rows, 2, (const char *[]){"text", str(o, updated ? "original_text" : "text")});
  if (updated) {
    int n = cJSON_GetArraySize(updates);
    snprintf(count, sizeof count, "%s (the latest of %d update%s, below)", str(o, "updated_at"), n,
             n == 1 ? "" : "s");
    add_row(rows, 2, (const char *[]){"updated", count});
  }
  const cJSON *versions = cJSON_GetObjectItemCaseSensitive(o, "versions");
  double current = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "version"));
  if (current > 1) {
    snprintf(count, sizeof count, "%.0f (corrected; %s)", current,
             history ? "its earlier versions below" : "--history shows the earlier ones");
    add_row(rows, 2, (const char *[]){"version", count});
  }
  if (cJSON_GetObjectItemCaseSensitive(o, "retracted_at")) {
    char why[600];
    snprintf(why, sizeof why, "%s: %s", str(o, "retracted_at"), str(o, "retract_reason"));
    add_row(rows, 2, (const char *[]){"RETRACTED", why});
  }
  print_rows(rows);
  cJSON_Delete(rows);
  if (history) {
    vg_cli_printf("versions\n");
    if (!cJSON_GetArraySize(versions)) vg_cli_printf("  (none: as first stored)\n");
    cJSON_ArrayForEach(it, versions) {
      vg_cli_printf("  %.0f  %s, replaced %s by %s%s%s\n",
                    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "version")),
                    str(it, "date"), str(it, "replaced_at"), str(it, "origin"),
                    cJSON_GetObjectItemCaseSensitive(it, "reason") ? ": " : "", str(it, "reason"));
      vg_cli_printf("    %s\n", str(it, "text"));
    }
  }

  vg_cli_printf("fields\n");
  rows = cJSON_CreateArray();
  /* Kept as stored in the object (raw JSON): parsed again to be listed. */
  const cJSON *raw = cJSON_GetObjectItemCaseSensitive(o, "fields");
  cJSON *fields = cJSON_IsRaw(raw) ? cJSON_Parse(raw->valuestring) : NULL;
  cJSON_ArrayForEach(it, fields) {
    char *v = field_text(it);
    add_row(rows, 2, (const char *[]){it->string, v ? v : ""});
    free(v);
  }
  cJSON_Delete(fields);
  print_rows(rows);
  cJSON_Delete(rows);

  vg_cli_printf("tags\n");
  rows = cJSON_CreateArray();
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "tag_rules")) {
    char *by = NULL;
    if (asprintf(&by, "set by rule %s", cJSON_GetStringValue(it)) < 0) by = NULL;
    add_row(rows, 2, (const char *[]){it->string, by ? by : ""});
    free(by);
  }
  print_rows(rows);
  cJSON_Delete(rows);

  vg_cli_printf("correlation marks\n");
  rows = cJSON_CreateArray();
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "marks")) {
    char step[32], key[512];
    snprintf(step, sizeof step, "step %.0f",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "step")));
    snprintf(key, sizeof key, *str(it, "key") ? "key %s" : "no key%s", str(it, "key"));
    add_row(rows, 3, (const char *[]){str(it, "rule"), step, key});
  }
  print_rows(rows);
  cJSON_Delete(rows);

  vg_cli_printf("alerts\n");
  rows = cJSON_CreateArray();
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "alerts")) {
    char id[32], version[48], key[512];
    double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "version"));
    snprintf(id, sizeof id, "alert %.0f",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id")));
    int retracted = !strcmp(str(it, "state"), "retracted");
    snprintf(version, sizeof version,
             retracted ? "version %.0f, RETRACTED" : v > 1 ? "version %.0f, amended" : "version %.0f",
             v);
    const cJSON *silenced = cJSON_GetObjectItemCaseSensitive(it, "silenced");
    if (cJSON_IsNumber(silenced))
      snprintf(version + strlen(version), sizeof version - strlen(version), ", silenced by %.0f",
               cJSON_GetNumberValue(silenced));
    snprintf(key, sizeof key, *str(it, "key") ? "key %s" : "no key%s", str(it, "key"));
    add_row(rows, 6,
            (const char *[]){id, str(it, "severity"), str(it, "rule"), key, version,
                             str(it, "message")});
  }
  print_rows(rows);
  cJSON_Delete(rows);

  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
  const cJSON *reports = cJSON_GetObjectItemCaseSensitive(ev, "reports");
  vg_cli_printf("event %s: %d report%s\n", str(ev, "id"), cJSON_GetArraySize(reports),
                cJSON_GetArraySize(reports) == 1 ? "" : "s");
  rows = cJSON_CreateArray();
  cJSON_ArrayForEach(it, reports) {
    char id[32];
    snprintf(id, sizeof id, "entry %.0f",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id")));
    add_row(rows, 3, (const char *[]){id, str(it, "date"), str(it, "source")});
  }
  print_rows(rows);
  cJSON_Delete(rows);

  vg_cli_printf("updates\n");
  if (!cJSON_GetArraySize(updates)) vg_cli_printf("  (none)\n");
  cJSON_ArrayForEach(it, updates) {
    char *changed = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&changed, &len);
    if (!f) break;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(it, "changed")) {
      fprintf(f, "%s%s", c == cJSON_GetObjectItemCaseSensitive(it, "changed")->child ? "" : ", ",
              c->valuestring);
    }
    fclose(f);
    vg_cli_printf("  %s  changed: %s\n", str(it, "seen_at"), *changed ? changed : "nothing");
    vg_cli_printf("    %s\n", str(it, "text"));
    free(changed);
  }
}

/* ---- the command ---- */

/* Shows entry id; says on stderr why it cannot. The exit status it asks for. */
static int show_one(vg_store *st, int64_t id, int first) {
  cJSON *o = NULL;
  int rc = vg_cli_entry_full(st, id, &o);
  if (rc == VG_EINVAL) {
    fprintf(stderr, "vigil show: no entry %lld\n", (long long)id);
    return VG_EXIT_MISSING;
  }
  if (rc) {
    fprintf(stderr, "vigil show: entry %lld: %s\n", (long long)id,
            rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    return VG_EXIT_FAIL;
  }
  if (vg_cli.json) return vg_cli_json_line(o) ? VG_EXIT_FAIL : VG_EXIT_OK;
  if (!first) putchar('\n');
  print_entry(o);
  cJSON_Delete(o);
  return VG_EXIT_OK;
}

/* The worse of two exit statuses (a failure over a missing id). */
static int worse(int a, int b) { return a > b ? a : b; }

int vg_cmd_show(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {{"history", no_argument, NULL, 'H'}, VG_CLI_GLOBAL_OPTIONS,
                                       {0}};
  int opt, status = VG_EXIT_OK;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    switch (opt) {
    case 'H': history = 1; break;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); goto usage;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "vigil show: which entry? Give one id or more (vigil query lists them)\n");
    goto usage;
  }
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  vg_store *st = vg_cli_open_store("vigil show", &cfg, VG_STORE_READONLY);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  int shown = 0;
  for (int i = optind; i < argc && status != VG_EXIT_FAIL; i++) {
    if (!argv[i][strspn(argv[i], ",")]) {
      vg_cli_eprintf("vigil show: '%s' is no entry id (a positive whole number)\n", argv[i]);
      status = worse(status, VG_EXIT_MISSING);
    }
    /* An argument holds ids joined by commas, as `vigil alerts` prints them. */
    for (const char *p = argv[i]; *p && status != VG_EXIT_FAIL;) {
      const char *at = p;
      size_t n = strcspn(p, ",");
      char word[64], *end;
      snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word - 1 ? n : sizeof word - 1), p);
      p += n + (p[n] == ',');
      if (!n) continue;
      errno = 0;
      long long id = strtoll(word, &end, 10);
      if (*end || errno || id <= 0 || n >= sizeof word) {
        vg_cli_eprintf("vigil show: '%.*s' is no entry id (a positive whole number)\n", (int)n, at);
        status = worse(status, VG_EXIT_MISSING);
        continue;
      }
      int rc = show_one(st, id, !shown);
      shown += rc == VG_EXIT_OK;
      status = worse(status, rc);
    }
  }
  vg_store_close(st);
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  vg_config_free(&cfg);
  return status;
}
