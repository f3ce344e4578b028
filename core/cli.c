/* cli.c — what every subcommand shares: the global options and the
 * configuration layers (defaults, then --config FILE, then flags). */
#include "cli.h"

#include "vigil.h"

#include "date.h"
#include "entry.h"
#include "term.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *vg_cli_config_path(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
    if (strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
  }
  return NULL;
}

vg_cli_flags vg_cli;

static const struct option global_options[] = {VG_CLI_GLOBAL_OPTIONS, {0}};

int vg_cli_global_word(const char *word) {
  if (strncmp(word, "--", 2) != 0) {
    if (word[0] == '-' && word[1] && strspn(word + 1, VG_CLI_SHORT) == strlen(word + 1)) return 0;
    return -1;
  }
  const char *name = word + 2, *eq = strchr(name, '=');
  size_t n = eq ? (size_t)(eq - name) : strlen(name);
  for (const struct option *o = global_options; o->name; o++)
    if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
      return o->has_arg == required_argument && !eq ? 1 : 0;
  return -1;
}

void vg_cli_log_setup(const vg_config *cfg) {
  int level = vg_log_level_parse(cfg->log_level);
  if (level < 0) level = VG_LOG_INFO; /* vg_config_check says why where it matters */
  int daemon = vg_cli.command && strcmp(vg_cli.command, "run") == 0;
  if (!daemon && level < VG_LOG_NOTICE) level = VG_LOG_NOTICE;
  if (vg_cli.verbose && level > VG_LOG_INFO) level = VG_LOG_INFO;
  if (vg_cli.quiet) level = VG_LOG_ERROR;
  if (vg_cli.log_level) level = vg_log_level_parse(vg_cli.log_level);
  vg_log_set_level(level);
  int format = vg_log_format_parse(cfg->log_format); /* vg_config_check says why it is bad */
  vg_log_set_format(format < 0 ? VG_LOG_TEXT : format);
}

int vg_cli_setup(vg_config *cfg, int argc, char **argv) {
  vg_config_defaults(cfg);
  const char *path = vg_cli_config_path(argc, argv);
  char err[4096];
  if (path && vg_config_load(cfg, path, err, sizeof err)) {
    vg_cli_say_lines("vigil", err);
    vg_config_free(cfg); /* the caller returns at once */
    return VG_EXIT_USAGE;
  }
  vg_cli_log_setup(cfg);
  return 0;
}

int vg_cli_global(vg_config *cfg, int opt, const char *arg) {
  switch (opt) {
  case 'D': {
    const char **v = realloc(vg_cli.dbs, (vg_cli.ndbs + 1) * sizeof *v);
    if (!v) {
      fprintf(stderr, "vigil: out of memory\n");
      exit(VG_EXIT_FAIL);
    }
    vg_cli.dbs = v;
    v[vg_cli.ndbs++] = arg;
    if (vg_cli.ndbs > 1 && !vg_cli.multi_db) {
      const char *cmd = vg_cli.command ? vg_cli.command : "this command";
      vg_cli_eprintf("vigil %s: --db given more than once ('%s', '%s'): ids are per database,"
                     " so it reads one; only `vigil query` and `vigil alerts` merge several\n",
                     cmd, v[0], arg);
      exit(VG_EXIT_USAGE);
    }
    if (vg_cli.ndbs == 1) vg_cli_flag("vigil", cfg, "db", arg); /* the others: vg_cli_open_stores */
    return 1;
  }
  case 'C': return 1; /* read by vg_cli_setup */
  case 'j': vg_cli.json = 1; return 1;
  case 'q': vg_cli.quiet = 1, vg_cli.verbose = 0; break;
  case 'v': vg_cli.verbose = 1, vg_cli.quiet = 0; break;
  case VG_OPT_LOG_LEVEL:
    if (vg_log_level_parse(arg) < 0) {
      fprintf(stderr, "vigil: --log-level must be debug, info, notice, warn or error, not '%s'\n", arg);
      exit(VG_EXIT_USAGE);
    }
    vg_cli.log_level = arg;
    vg_cli_flag("vigil", cfg, "log_level", arg);
    break;
  default: return 0;
  }
  vg_cli_log_setup(cfg);
  return 1;
}


vg_rules_limits vg_cli_rule_limits(const vg_config *cfg) {
  vg_rules_limits lim = {cfg->rule_memory, cfg->rule_budget, cfg->rule_failures,
                         cfg->event_similarity, 0};
  return lim;
}

void vg_cli_say_lines(const char *who, const char *text) {
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    vg_cli_eprintf("%s: %.*s\n", who, (int)n, p);
    p += n + (p[n] == '\n');
  }
}

void vg_cli_flag(const char *cmd, vg_config *cfg, const char *name, const char *value) {
  char err[512];
  if (vg_config_set_flag(cfg, name, value, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", cmd, err);
    exit(VG_EXIT_USAGE);
  }
}

/* The rules paths of cfg joined by ", ", into buf. */
static const char *rules_names(const vg_config *cfg, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; cfg->rules && cfg->rules[i] && used < cap; i++) {
    int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", cfg->rules[i]);
    used += n < 0 ? 0 : (size_t)n;
  }
  return buf;
}

/* Whether the directory at path holds a *.lua file. */
static int has_rule_files(const char *path) {
  DIR *d = opendir(path);
  struct dirent *de;
  int found = 0;
  while (d && !found && (de = readdir(d))) {
    size_t len = strlen(de->d_name);
    found = de->d_name[0] != '.' && len > 4 && strcmp(de->d_name + len - 4, ".lua") == 0;
  }
  if (d) closedir(d);
  return found;
}

int vg_cli_rules_paths(const char *cmd, const vg_config *cfg) {
  int bad = 0;
  for (size_t i = 0; cfg->rules && cfg->rules[i]; i++) {
    const char *p = cfg->rules[i];
    struct stat sb;
    if (stat(p, &sb) != 0 && cfg->origin[vg_config_find("rules")] == VG_ORIGIN_DEFAULT) {
      vg_warn("rules: no rules at the default path %s (%s); set `rules` or give --rules", p,
              strerror(errno)); /* no path was given: no path is wrong */
    } else if (stat(p, &sb) != 0) {
      vg_cli_eprintf("%s: %s: cannot read the rules path: %s\n", cmd, p, strerror(errno));
      bad = 1;
    } else if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
      vg_cli_eprintf("%s: %s: cannot read the rules path: neither a directory nor a file\n", cmd,
                     p);
      bad = 1;
    } else if (S_ISDIR(sb.st_mode) && !has_rule_files(p)) {
      vg_warn("rules: %s holds no rule files (*.lua)", p);
    }
  }
  return bad ? -1 : 0;
}

static void log_report(void *ud, const char *file, const char *msg) {
  (void)ud;
  (void)file;
  vg_error("%s", msg);
}

vg_rules *vg_cli_load_rules(const vg_config *cfg, const vg_rules *prev, int *errors) {
  return vg_cli_load_rules_to(cfg, prev, errors, log_report, NULL);
}

vg_rules *vg_cli_load_rules_to(const vg_config *cfg, const vg_rules *prev, int *errors,
                               vg_rules_report_fn report, void *ud) {
  vg_rules_limits lim = vg_cli_rule_limits(cfg);
  vg_rules *r = vg_rules_load_paths(cfg->rules, prev, &lim, report, ud, errors);
  char names[1024];
  if (r)
    vg_info("rules: %zu loaded from %s%s", vg_rules_count(r), rules_names(cfg, names, sizeof names),
            *errors ? " (with errors, above)" : "");
  return r;
}

static void print_report(void *ud, const char *file, const char *msg) {
  (void)ud;
  (void)file;
  vg_cli_eprintf("%s\n", msg);
}

vg_rules *vg_cli_command_rules(const char *cmd, const vg_config *cfg, int skip_broken) {
  vg_rules_limits lim = vg_cli_rule_limits(cfg);
  int errors = 0;
  char names[1024];
  rules_names(cfg, names, sizeof names);
  if (vg_cli_rules_paths(cmd, cfg)) {
    fprintf(stderr, "%s: nothing done: a rules path is wrong (above)\n", cmd);
    return NULL;
  }
  vg_rules *r = vg_rules_load_paths(cfg->rules, NULL, &lim, print_report, NULL, &errors);
  if (!r) {
    fprintf(stderr, "%s: cannot set up the rule engine\n", cmd);
    return NULL;
  }
  const char *s = errors == 1 ? "" : "s";
  if (errors && !skip_broken) {
    fprintf(stderr,
            "%s: nothing done: %d error%s in the rules (%s, above). Fix %s, or give "
            "--skip-broken to run only the rules that loaded.\n",
            cmd, errors, s, names, errors == 1 ? "it" : "them");
    vg_rules_free(r);
    return NULL;
  }
  if (errors)
    fprintf(stderr,
            "%s: --skip-broken: running the %zu rules that loaded from %s, despite %d "
            "error%s (above)\n",
            cmd, vg_rules_count(r), names, errors, s);
  vg_info("rules: %zu loaded from %s", vg_rules_count(r), names);
  return r;
}

int vg_cli_day(const char *cmd, const char *flag, const char *arg, int last, int32_t *day) {
  vg_date d;
  char err[128];
  if (vg_date_parse(arg, strlen(arg), &d, err, sizeof err)) {
    fprintf(stderr, "%s: %s '%s': %s\n", cmd, flag, arg, err);
    return -1;
  }
  *day = last ? d.last : d.first;
  return 0;
}

int vg_cli_range_opt(const char *cmd, vg_cli_range *r, int opt, const char *arg) {
  switch (opt) {
  case 's': r->has_since = 1; return vg_cli_day(cmd, "--since", arg, 0, &r->since) ? -1 : 1;
  case 'u': r->has_until = 1; return vg_cli_day(cmd, "--until", arg, 1, &r->until) ? -1 : 1;
  case 'n': {
    char *end;
    r->limit = strtol(arg, &end, 10);
    if (*end || r->limit <= 0) {
      fprintf(stderr, "%s: --limit must be a positive number\n", cmd);
      return -1;
    }
    return 1;
  }
  default: return 0;
  }
}

vg_store *vg_cli_open_store(const char *cmd, const vg_config *cfg, int flags) {
  char err[512];
  if (vg_config_check_db(cfg->db, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", cmd, err);
    return NULL;
  }
  if (strcmp(cfg->durability, "normal") == 0) flags |= VG_STORE_SYNC_NORMAL;
  vg_store *st = vg_store_open(cfg->db, flags, err, sizeof err);
  if (!st && strstr(err, cfg->db)) fprintf(stderr, "%s: %s\n", cmd, err);
  else if (!st) fprintf(stderr, "%s: %s: %s\n", cmd, cfg->db, err); /* say which */
  else vg_store_busy_timeout(st, cfg->busy_timeout_ms);
  return st;
}

/* vg_cli_printf and vg_cli_eprintf: the text escaped onto f. */
static void print_escaped(FILE *f, const char *fmt, va_list ap) {
  char *text = NULL;
  int n = vasprintf(&text, fmt, ap);
  if (n < 0) return;
  size_t len = (size_t)n, fmt_len = strlen(fmt);
  int newline = fmt_len && fmt[fmt_len - 1] == '\n' && len && text[len - 1] == '\n';
  vg_term_escape(f, text, newline ? len - 1 : len);
  if (newline) putc('\n', f);
  free(text);
}

void vg_cli_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  print_escaped(stdout, fmt, ap);
  va_end(ap);
}

void vg_cli_eprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  print_escaped(stderr, fmt, ap);
  va_end(ap);
}

struct cJSON *vg_cli_entry_json(const vg_row *r) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "id", (double)r->id);
  cJSON_AddStringToObject(o, "date", r->date);
  cJSON_AddStringToObject(o, "precision", r->precision);
  cJSON_AddStringToObject(o, "text", r->update_text ? r->update_text : r->text);
  cJSON_AddStringToObject(o, "source", r->source);
  cJSON_AddStringToObject(o, "ingested_at", r->ingested_at);
  cJSON *tags = cJSON_AddArrayToObject(o, "tags");
  if (r->tags) {
    char *copy = strdup(r->tags), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
      cJSON_AddItemToArray(tags, cJSON_CreateString(t));
    free(copy);
  }
  cJSON_AddBoolToObject(o, "updated", r->update_text != NULL);
  if (r->update_text) {
    cJSON_AddStringToObject(o, "updated_at", r->updated_at ? r->updated_at : "");
    cJSON_AddStringToObject(o, "original_text", r->text);
  }
  if (r->fields) { /* as stored, so that numbers keep every digit; if it parses */
    cJSON *f = cJSON_Parse(r->fields);
    if (f) cJSON_AddRawToObject(o, "fields", r->fields);
    cJSON_Delete(f);
  }
  return o;
}

struct cJSON *vg_cli_alert_json(const vg_alert_row *a) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "id", (double)a->id);
  cJSON_AddStringToObject(o, "rule", a->rule);
  cJSON_AddStringToObject(o, "key", a->key);
  cJSON_AddStringToObject(o, "severity", a->severity);
  cJSON_AddStringToObject(o, "message", a->message);
  cJSON_AddStringToObject(o, "date", a->date);
  cJSON_AddStringToObject(o, "created_at", a->created_at);
  cJSON_AddNumberToObject(o, "version", a->version);
  if (a->count >= 0) cJSON_AddNumberToObject(o, "count", (double)a->count);
  if (a->silence_id) cJSON_AddNumberToObject(o, "silenced", (double)a->silence_id);
  else cJSON_AddNullToObject(o, "silenced");
  cJSON_AddStringToObject(o, "state", a->retracted ? "retracted"
                                     : a->silence_id ? "silenced"
                                                     : "active");
  if (a->retracted) cJSON_AddStringToObject(o, "reason", a->retract_reason ? a->retract_reason : "");
  if (a->rule_file) cJSON_AddStringToObject(o, "rule_file", a->rule_file);
  if (a->rule_hash) cJSON_AddStringToObject(o, "rule_hash", a->rule_hash);
  if (a->cause) cJSON_AddNumberToObject(o, "cause", (double)a->cause);
  cJSON *e = cJSON_AddArrayToObject(o, "entries");
  for (const char *p = a->entries; p && *p;) {
    char *end;
    cJSON_AddItemToArray(e, cJSON_CreateNumber((double)strtoll(p, &end, 10)));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p) break;
  }
  return o;
}

int vg_cli_json_line(cJSON *o) {
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  if (s) puts(s);
  cJSON_free(s);
  cJSON_Delete(o);
  return s ? 0 : VG_ENOMEM;
}
