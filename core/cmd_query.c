/* cmd_query.c — `vigil query`: stored entries in date order, as text or JSON. */
#include "cli.h"
#include "cli_merge.h"
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
    "                   [--text WORDS] [--limit N] [--json] [--db PATH]... [--config FILE]\n"
    "Lists stored entries in date order, one a line: its id (what `vigil show` takes),\n"
    "date, source, text and [tags]. An entry matches --since and --until when the span\n"
    "of its date overlaps them: a month-precision entry (2023-12) is listed by\n"
    "--since 2023-12-15. --text finds entries holding all the words (full-text).\n"
    "An entry whose feed item changed since it was stored shows the item's latest\n"
    "text, after \"(updated TIME)\"; --text finds it by its first text and by each\n"
    "later one.\n"
    "  --json   one JSON object a line: id, date, precision, text (the latest),\n"
    "           source, ingested_at, tags, updated (true or false), the entry's\n"
    "           extra fields under \"fields\", and for an updated entry updated_at\n"
    "           (when the change was seen) and original_text (what it first said,\n"
    "           which its rules saw)\n"
    "  --db PATH  again and again: the entries of every database, merged in date\n"
    "           order (a day's entries by the order of the --db, then by id), each\n"
    "           line led by its database; --json adds \"db\" (the path). --limit\n"
    "           counts the merged entries. Ids are each database's own.\n";

/* Where the records go. */
typedef struct {
  vg_table *t;          /* the text output */
  const vg_config *cfg; /* for the databases' paths */
  size_t n;             /* databases: several name each record's */
} out;

/* [db]  id  date  source  text  [tags]: aligned on a terminal (term.h). */
static int print_text(void *ud, size_t db, const vg_row *r) {
  const out *o = ud;
  vg_table *t = o->t;
  if (o->n > 1) vg_table_cell(t, VG_STYLE_DIM, "%s", vg_cli_store_path(o->cfg, db));
  vg_table_cell(t, VG_STYLE_BOLD, "%lld", (long long)r->id);
  vg_table_cell(t, VG_STYLE_NONE, "%s", r->date);
  vg_table_cell(t, VG_STYLE_DIM, "%s", r->source);
  if (r->update_text)
    vg_table_cell(t, VG_STYLE_NONE, "(updated %s) %s", r->updated_at, r->update_text);
  else vg_table_cell(t, VG_STYLE_NONE, "%s", r->text);
  if (r->tags) vg_table_cell(t, VG_STYLE_CYAN, "[%s]", r->tags);
  vg_table_row(t);
  return 0;
}

static int print_json(void *ud, size_t db, const vg_row *r) {
  const out *o = ud;
  struct cJSON *j = vg_cli_entry_json(r);
  if (j && o->n > 1 && !cJSON_AddStringToObject(j, "db", vg_cli_store_path(o->cfg, db))) {
    cJSON_Delete(j);
    j = NULL;
  }
  return vg_cli_json_line(j);
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
  vg_cli.multi_db = 1;
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
  vg_config_resolve(&cfg); /* every layer is in: derive the paths */
  if (optind < argc) {
    vg_cli_eprintf("vigil query: unexpected argument '%s'\n", argv[optind]);
    goto usage;
  }
  q.has_since = rg.has_since;
  q.since = rg.since;
  q.has_until = rg.has_until;
  q.until = rg.until;
  q.limit = rg.limit;
  size_t n, failed;
  vg_store **sts = vg_cli_open_stores("vigil query", &cfg, VG_STORE_READONLY, &n);
  if (!sts) {
    status = VG_EXIT_FAIL;
    goto done;
  }
  vg_table t;
  vg_table_init(&t, stdout, "  ");
  out o = {&t, &cfg, n};
  int rc = vg_cli_merge_entries(sts, n, &q, vg_cli.json ? print_json : print_text, &o, &failed);
  vg_table_free(&t);
  if (rc) {
    vg_cli_eprintf("vigil query: %s: %s\n", vg_cli_store_path(&cfg, failed),
                   rc == VG_EDB ? vg_store_errmsg(sts[failed]) : vg_strerror(rc));
    status = VG_EXIT_FAIL;
  }
  vg_cli_close_stores(sts, n);
  goto done;
usage:
  status = VG_EXIT_USAGE;
done:
  vg_config_free(&cfg);
  return status;
}
