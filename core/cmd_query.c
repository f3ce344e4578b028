/* cmd_query.c — `vigil query`: stored entries in date order, as text or JSON. */
#include "cli.h"
#include "date.h"
#include "store.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: vigil query [--since DATE] [--until DATE] [--source S] [--tag T]\n"
    "                   [--text WORDS] [--limit N] [--json] [--db PATH] [--config FILE]\n"
    "Lists stored entries in date order. An entry matches --since and --until when\n"
    "the span of its date overlaps them: a month-precision entry (2023-12) is listed\n"
    "by --since 2023-12-15. --text finds entries holding all the words (full-text).\n"
    "  --json   one JSON object a line: id, date, precision, text, source,\n"
    "           ingested_at, tags, and the entry's extra fields under \"fields\"\n";

/* date  source  text  [tags]: aligned on a terminal (term.h). */
static int print_text(void *ud, const vg_row *r) {
  vg_table *t = ud;
  vg_table_cell(t, VG_STYLE_NONE, "%s", r->date);
  vg_table_cell(t, VG_STYLE_DIM, "%s", r->source);
  vg_table_cell(t, VG_STYLE_NONE, "%s", r->text);
  if (r->tags) vg_table_cell(t, VG_STYLE_CYAN, "[%s]", r->tags);
  vg_table_row(t);
  return 0;
}

static int print_json(void *ud, const vg_row *r) {
  (void)ud;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)r->id);
  cJSON_AddStringToObject(o, "date", r->date);
  cJSON_AddStringToObject(o, "precision", r->precision);
  cJSON_AddStringToObject(o, "text", r->text);
  cJSON_AddStringToObject(o, "source", r->source);
  cJSON_AddStringToObject(o, "ingested_at", r->ingested_at);
  cJSON *tags = cJSON_AddArrayToObject(o, "tags");
  if (r->tags) {
    char *copy = strdup(r->tags), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
      cJSON_AddItemToArray(tags, cJSON_CreateString(t));
    free(copy);
  }
  if (r->fields) { /* as stored, so that numbers keep every digit; if it parses */
    cJSON *f = cJSON_Parse(r->fields);
    if (f) cJSON_AddRawToObject(o, "fields", r->fields);
    cJSON_Delete(f);
  }
  return vg_cli_json_line(o);
}


int vg_cmd_query(int argc, char **argv) {
  vg_config cfg;
  if (vg_cli_setup(&cfg, argc, argv)) return VG_EXIT_USAGE;
  static const struct option opts[] = {
      VG_CLI_RANGE_OPTIONS, {"source", required_argument, NULL, 'S'},
      {"tag", required_argument, NULL, 't'}, {"text", required_argument, NULL, 'x'},
      VG_CLI_GLOBAL_OPTIONS, {0}};
  vg_query q = {0};
  vg_cli_range rg = {0};
  int opt, status = VG_EXIT_OK;
  optind = 1;
  while ((opt = getopt_long(argc, argv, VG_CLI_SHORT, opts, NULL)) != -1) {
    if (vg_cli_global(&cfg, opt, optarg)) continue;
    int range = vg_cli_range_opt("vigil query", &rg, opt, optarg);
    if (range < 0) goto usage;
    if (range) continue;
    switch (opt) {
    case 'S': q.source = optarg; break;
    case 't': q.tag = optarg; break;
    case 'x': q.text = optarg; break;
    case 'h': fputs(help, stdout); goto done;
    default: fputs(help, stderr); goto usage;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vigil query: unexpected argument '%s'\n", argv[optind]);
    goto usage;
  }
  q.has_since = rg.has_since;
  q.since = rg.since;
  q.has_until = rg.has_until;
  q.until = rg.until;
  q.limit = rg.limit;
  vg_store *st = vg_cli_open_store("vigil query", &cfg, VG_STORE_READONLY);
  if (!st) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_table t;
  vg_table_init(&t, stdout, "  ");
  int rc = vg_store_query(st, &q, vg_cli.json ? print_json : print_text, &t);
  vg_table_free(&t);
  if (rc) {
    fprintf(stderr, "vigil query: %s\n", rc == VG_EDB ? vg_store_errmsg(st) : vg_strerror(rc));
    status = VG_EXIT_FAIL;
  }
  vg_store_close(st);
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  vg_config_free(&cfg);
  return status;
}
