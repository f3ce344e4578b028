/* cmd_dry_run.c — `vigil replay --dry-run`: what a change of rules would
 * do to the alerts and tags, before it is deployed.
 *
 * vg_cmd_replay (cmd_rules.c) reads the flags and calls vg_replay_dry_run.
 * It copies the database (scratch.h), clears the derived state of the range
 * in the copy, runs the rules over its entries in date order as a fresh
 * ingest would, and compares the alerts in force and the tags with those
 * the copy held before. No sink is made, no outbox row written; the copy
 * is removed at the end, however the command ends short of a second
 * signal. */
#include "batch.h"
#include "cli.h"
#include "date.h"
#include "interrupt.h"
#include "scratch.h"
#include "term.h"
#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRY_CHUNK 5000
#define DRY_EXAMPLES 3 /* entries shown per tag and direction */

/* A stored entry copied out of a query, to run the rules on after it. */
typedef struct {
  vg_rule_entry e;
  char *owned; /* what e points into */
} dry_row;

typedef struct {
  dry_row *v;
  size_t n;
} dry_chunk;

static int copy_row(void *ud, const vg_row *r) {
  dry_chunk *c = ud;
  dry_row *row = &c->v[c->n];
  if (!(row->owned = vg_rule_entry_from_row(r, &row->e))) return VG_ENOMEM;
  c->n++;
  return 0;
}

static void chunk_free(dry_chunk *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->v[i].owned);
  c->n = 0;
}

/* Clears the tags, marks and event of every entry of q's range (the store
 * keeps its tallies of marks right), chunk by chunk. 0, VG_ESTOPPED when a
 * stop came, or the store's failure (said in err). */
static int clear_range(vg_store *st, vg_query q, dry_chunk *chunk, const atomic_int *stop,
                       char *err, size_t cap) {
  q.limit = DRY_CHUNK;
  for (;;) {
    if (stop && atomic_load(stop)) return VG_ESTOPPED;
    chunk->n = 0;
    int rc = vg_store_query(st, &q, copy_row, chunk);
    if (rc == 0 && chunk->n == 0) return 0;
    if (rc == 0) rc = vg_store_begin(st);
    for (size_t i = 0; rc == 0 && i < chunk->n; i++) {
      int64_t id = chunk->v[i].e.id;
      rc = vg_store_clear_tags(st, id);
      if (rc == 0) rc = vg_store_clear_marks(st, id);
      if (rc == 0) rc = vg_store_event_forget(st, id);
    }
    if (rc == 0) rc = vg_store_commit(st);
    if (rc) {
      snprintf(err, cap, "scratch copy: %s", vg_store_errmsg(st));
      vg_store_rollback(st);
      chunk_free(chunk);
      return rc;
    }
    q.has_after = 1;
    q.after_day = chunk->v[chunk->n - 1].e.first;
    q.after_id = chunk->v[chunk->n - 1].e.id;
    chunk_free(chunk);
  }
}

/* Runs the rules over the entries of q's range that are not retracted, in
 * date order, in transactions of DRY_CHUNK entries; *entries counts those
 * run. 0, VG_ESTOPPED, or the failure (said in err). */
static int replay_range(vg_store *st, vg_rules *r, const vg_scratch *s, vg_query q,
                        dry_chunk *chunk, const atomic_int *stop, uint64_t *entries, char *err,
                        size_t cap) {
  vg_alert_list alerts = {0};
  vg_batch b;
  vg_batch_init(&b, &(vg_ingest){st, r, &alerts, stop, NULL}); /* no outbox: no delivery */
  vg_progress progress;
  vg_progress_init(&progress, "dry run", "entries", 0, vg_cli.quiet);
  q.limit = DRY_CHUNK;
  int rc = 0;
  while (rc == 0) {
    if (vg_ingest_stopped(&b.ig)) {
      rc = VG_ESTOPPED;
      break;
    }
    chunk->n = 0;
    rc = vg_store_query(st, &q, copy_row, chunk);
    if (rc == 0 && chunk->n == 0) break;
    if (rc == 0) rc = vg_batch_begin(&b);
    for (size_t i = 0; rc == 0 && i < chunk->n && !vg_ingest_stopped(&b.ig); i++) {
      if (vg_scratch_retracted(s, chunk->v[i].e.id)) continue;
      rc = vg_rules_rerun(r, st, &chunk->v[i].e, b.ig.alerts);
      (*entries)++;
    }
    if ((rc = vg_batch_end(&b, rc, NULL, NULL))) {
      snprintf(err, cap, "%s", b.err);
    } else {
      vg_alert_list_clear(&alerts);
      q.has_after = 1;
      q.after_day = chunk->v[chunk->n - 1].e.first;
      q.after_id = chunk->v[chunk->n - 1].e.id;
      vg_progress_show(&progress, *entries, 0);
    }
    chunk_free(chunk);
  }
  vg_progress_clear(&progress);
  vg_batch_free(&b);
  vg_alert_list_clear(&alerts);
  free(alerts.v);
  return rc;
}

/* ---- the comparison, gathered as one JSON document ---- */

typedef struct {
  vg_store *st; /* the copy, to read the entries named */
  cJSON *added, *removed, *changed, *tags;
  cJSON *tag;                         /* the tag being filled */
  long long tags_added, tags_removed; /* (entry, tag) pairs */
} diff;

static int entry_json(void *ud, const vg_row *row) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddNumberToObject(e, "id", (double)row->id);
  cJSON_AddStringToObject(e, "date", row->date);
  cJSON_AddStringToObject(e, "text", row->text);
  cJSON_AddItemToArray(ud, e);
  return 0;
}

/* Adds an alert's identity (its dedup key: the rule, its anchor and key,
 * their separators shown as '/') to o as "identity". */
static void add_identity(cJSON *o, const char *dedup) {
  char *s = strdup(dedup);
  for (char *p = s; p && *p; p++)
    if (*p == '\x1f') *p = '/';
  cJSON_AddStringToObject(o, "identity", s ? s : "");
  free(s);
}

/* The JSON object of an alert as compared, its entries with date and text. */
static cJSON *alert_json(vg_store *st, const vg_scratch_alert *a) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "rule", a->rule);
  add_identity(o, a->key);
  cJSON_AddStringToObject(o, "date", a->date);
  cJSON_AddStringToObject(o, "severity", a->severity);
  cJSON_AddStringToObject(o, "message", a->message);
  if (a->count >= 0)
    cJSON_AddNumberToObject(o, "count", (double)a->count);
  else
    cJSON_AddNullToObject(o, "count");
  cJSON *entries = cJSON_AddArrayToObject(o, "entries");
  for (const char *p = a->entries; p && *p;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p) break;
    if (vg_store_entry(st, id, entry_json, entries) != 0) { /* gone: the id alone */
      cJSON *e = cJSON_CreateObject();
      cJSON_AddNumberToObject(e, "id", (double)id);
      cJSON_AddItemToArray(entries, e);
    }
    p = *end == ',' ? end + 1 : end;
  }
  return o;
}

static int on_alert(void *ud, int kind, const vg_scratch_alert *before,
                    const vg_scratch_alert *after) {
  diff *d = ud;
  if (kind == VG_SCRATCH_ADDED) {
    cJSON_AddItemToArray(d->added, alert_json(d->st, after));
  } else if (kind == VG_SCRATCH_REMOVED) {
    cJSON_AddItemToArray(d->removed, alert_json(d->st, before));
  } else {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rule", after->rule);
    add_identity(o, after->key);
    cJSON_AddItemToObject(o, "before", alert_json(d->st, before));
    cJSON_AddItemToObject(o, "after", alert_json(d->st, after));
    cJSON_AddItemToArray(d->changed, o);
  }
  return 0;
}

static int on_tag(void *ud, const vg_scratch_tag *t) {
  diff *d = ud;
  d->tag = cJSON_CreateObject();
  cJSON_AddStringToObject(d->tag, "tag", t->tag);
  cJSON_AddNumberToObject(d->tag, "added", (double)t->added);
  cJSON_AddNumberToObject(d->tag, "removed", (double)t->removed);
  cJSON *ex = cJSON_AddObjectToObject(d->tag, "examples");
  cJSON_AddArrayToObject(ex, "added");
  cJSON_AddArrayToObject(ex, "removed");
  cJSON_AddItemToArray(d->tags, d->tag);
  d->tags_added += t->added;
  d->tags_removed += t->removed;
  return 0;
}

static int on_example(void *ud, const char *tag, int added, int64_t id, const char *date,
                      const char *text) {
  (void)tag;
  diff *d = ud;
  cJSON *ex = cJSON_GetObjectItemCaseSensitive(d->tag, "examples");
  cJSON *e = cJSON_CreateObject();
  cJSON_AddNumberToObject(e, "id", (double)id);
  cJSON_AddStringToObject(e, "date", date);
  cJSON_AddStringToObject(e, "text", text);
  cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(ex, added ? "added" : "removed"), e);
  return 0;
}

/* ---- the text report ---- */

static const char *str(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void print_entries(const cJSON *list, const char *indent) {
  const cJSON *e;
  cJSON_ArrayForEach(e, list) vg_cli_printf("%s#%lld %s  %s\n", indent, (long long)num(e, "id"),
                                            str(e, "date"), str(e, "text"));
}

/* One alert: RULE, DATE, SEVERITY[, count N]: MESSAGE, then its entries. */
static void print_alert(const char *what, const cJSON *a, const char *indent) {
  const cJSON *count = cJSON_GetObjectItemCaseSensitive(a, "count");
  char counted[48] = "";
  if (cJSON_IsNumber(count)) snprintf(counted, sizeof counted, ", count %.0f", count->valuedouble);
  vg_cli_printf("%s%s %s, %s, %s%s: %s\n", indent, what, str(a, "rule"), str(a, "date"),
                str(a, "severity"), counted, str(a, "message"));
  char deeper[16];
  snprintf(deeper, sizeof deeper, "%s    ", indent);
  print_entries(cJSON_GetObjectItemCaseSensitive(a, "entries"), deeper);
}

static void print_text(const cJSON *doc) {
  const cJSON *a, *t;
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(doc, "removed"))
      print_alert("removed alert", a, "");
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(doc, "added"))
      print_alert("added alert", a, "");
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(doc, "changed")) {
    vg_cli_printf("changed alert %s:\n", str(a, "rule"));
    print_alert("was", cJSON_GetObjectItemCaseSensitive(a, "before"), "  ");
    print_alert("now", cJSON_GetObjectItemCaseSensitive(a, "after"), "  ");
  }
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "tags")) {
    vg_cli_printf("tag %s: added to %.0f entr%s, removed from %.0f\n", str(t, "tag"),
                  num(t, "added"), num(t, "added") == 1 ? "y" : "ies", num(t, "removed"));
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(t, "examples");
    print_entries(cJSON_GetObjectItemCaseSensitive(ex, "added"), "  + ");
    print_entries(cJSON_GetObjectItemCaseSensitive(ex, "removed"), "  - ");
  }
  const cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
  const char *since = str(sum, "since");
  if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "changes"))) {
    printf("no changes: %.0f entries replayed with %.0f rules%s%s give the alerts and tags"
           " stored\n",
           num(sum, "entries"), num(sum, "rules"), *since ? " from " : "", since);
    return;
  }
  printf("would change: %.0f alerts added, %.0f removed, %.0f changed; tags added to %.0f and"
         " removed from %.0f entries (%.0f entries replayed with %.0f rules%s%s)\n",
         num(sum, "alerts_added"), num(sum, "alerts_removed"), num(sum, "alerts_changed"),
         num(sum, "tags_added"), num(sum, "tags_removed"), num(sum, "entries"), num(sum, "rules"),
         *since ? " from " : "", since);
}

int vg_replay_dry_run(const vg_config *cfg, const vg_replay_dry_opts *o) {
  const char *cmd = "vigil replay --dry-run";
  char err[512] = "";
  /* The rules first: rules that do not load are a broken change, said
   * before anything is copied. */
  vg_rules *r = vg_cli_command_rules(cmd, cfg, 0);
  if (!r) return VG_EXIT_FAIL;
  /* The real database only ever opened for reading: checked (its schema
   * not newer than this binary), then copied. */
  vg_store *real = vg_cli_open_store(cmd, cfg, VG_STORE_READONLY);
  if (!real) {
    vg_rules_free(r);
    return VG_EXIT_FAIL;
  }
  vg_store_close(real);
  const atomic_int *stop = vg_interrupt_catch();
  int status = VG_EXIT_FAIL;
  vg_store *st = NULL;
  cJSON *doc = NULL;
  dry_chunk chunk = {calloc(DRY_CHUNK, sizeof(dry_row)), 0};
  uint64_t entries = 0;
  vg_query q = {.has_since = o->has_since, .since = o->since};
  diff d = {0};
  vg_scratch *s = vg_scratch_copy(cfg->db, getenv("TMPDIR"), stop, err, sizeof err);
  if (!s) goto fail;
  st = vg_store_open(vg_scratch_path(s), VG_STORE_SYNC_NORMAL, err, sizeof err);
  if (!st || !chunk.v) {
    if (!chunk.v) snprintf(err, sizeof err, "out of memory");
    goto fail;
  }
  if (vg_scratch_prepare(s, o->has_since, o->since, err, sizeof err)) goto fail;
  int rc = clear_range(st, q, &chunk, stop, err, sizeof err);
  if (rc == 0) rc = replay_range(st, r, s, q, &chunk, stop, &entries, err, sizeof err);
  if (rc == VG_ESTOPPED || (stop && atomic_load(stop))) goto stopped;
  if (rc) goto fail;

  d = (diff){st,
             cJSON_CreateArray(),
             cJSON_CreateArray(),
             cJSON_CreateArray(),
             cJSON_CreateArray(),
             NULL,
             0,
             0};
  doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "type", "dry_run");
  cJSON_AddItemToObject(doc, "added", d.added);
  cJSON_AddItemToObject(doc, "removed", d.removed);
  cJSON_AddItemToObject(doc, "changed", d.changed);
  cJSON_AddItemToObject(doc, "tags", d.tags);
  if (vg_scratch_alerts(s, on_alert, &d, err, sizeof err) ||
      vg_scratch_tags(s, DRY_EXAMPLES, on_tag, on_example, &d, err, sizeof err))
    goto fail;
  int na = cJSON_GetArraySize(d.added), nr = cJSON_GetArraySize(d.removed),
      nc = cJSON_GetArraySize(d.changed);
  int changes = na || nr || nc || d.tags_added || d.tags_removed;
  cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
  cJSON_AddNumberToObject(sum, "entries", (double)entries);
  cJSON_AddNumberToObject(sum, "rules", (double)vg_rules_count(r));
  if (o->has_since) {
    char day[16];
    vg_day_format(o->since, day);
    cJSON_AddStringToObject(sum, "since", day);
  } else {
    cJSON_AddNullToObject(sum, "since");
  }
  cJSON_AddNumberToObject(sum, "alerts_added", na);
  cJSON_AddNumberToObject(sum, "alerts_removed", nr);
  cJSON_AddNumberToObject(sum, "alerts_changed", nc);
  cJSON_AddNumberToObject(sum, "tags_changed", cJSON_GetArraySize(d.tags));
  cJSON_AddNumberToObject(sum, "tags_added", (double)d.tags_added);
  cJSON_AddNumberToObject(sum, "tags_removed", (double)d.tags_removed);
  cJSON_AddBoolToObject(sum, "changes", changes);
  if (vg_cli.json) {
    char *text = cJSON_PrintUnformatted(doc);
    if (text) puts(text);
    free(text);
  } else if (!vg_cli.quiet) {
    print_text(doc);
  }
  status = changes ? VG_EXIT_CHANGES : VG_EXIT_OK;
  goto done;
stopped:
  fprintf(stderr, "%s: interrupted by %s: nothing compared\n", cmd,
          vg_interrupt_name() ? vg_interrupt_name() : "a signal");
  status = vg_interrupt_status(VG_EXIT_FAIL);
  goto done;
fail:
  if (strcmp(err, "interrupted") == 0 && vg_interrupt_signal()) goto stopped;
  fprintf(stderr, "%s: %s\n", cmd, err);
  status = VG_EXIT_FAIL;
done:
  cJSON_Delete(doc);
  vg_store_close(st);
  vg_scratch_remove(s);
  free(chunk.v);
  vg_rules_free(r);
  return status;
}
