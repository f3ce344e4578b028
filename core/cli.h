/* cli.h — the subcommands of the vigil binary and what they share.
 *
 * main.c dispatches `vigil COMMAND ...` to one vg_cmd_* function (after
 * moving the global options written before the command word behind it);
 * each loads the configuration with vg_cli_setup, parses its own flags and
 * the global ones (VG_CLI_GLOBAL_OPTIONS, taken by vg_cli_global), derives
 * the paths with vg_config_resolve, and returns the process exit status. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include "config.h"
#include "rules.h"

#include <getopt.h>

/* Exit statuses of every command. */
enum {
  VG_EXIT_OK = 0,
  VG_EXIT_REJECTS = 1, /* input was rejected, the rest went through */
  VG_EXIT_MISSING = 1, /* an id asked for names nothing, the rest were shown */
  VG_EXIT_CHANGES = 1, /* replay --dry-run: the rules would change alerts or tags */
  VG_EXIT_USAGE = 2,
  VG_EXIT_FAIL = 3
};

/* Global options every command accepts, before or after its name, to append
 * to its own table (and VG_CLI_SHORT to its short options). */
enum { VG_OPT_LOG_LEVEL = 0x100 };
#define VG_CLI_GLOBAL_OPTIONS                                                                    \
  {"db", required_argument, NULL, 'D'}, {"config", required_argument, NULL, 'C'},               \
      {"log-level", required_argument, NULL, VG_OPT_LOG_LEVEL},                                  \
      {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},                    \
      {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}
#define VG_CLI_SHORT "hqv"

/* What the global flags ask of every command's output. */
typedef struct {
  const char *command; /* the command word ("run", "query"...), set by main */
  int json;            /* --json: records and summaries as one JSON object a line */
  int quiet;           /* --quiet: errors only; no summary, no progress */
  int verbose;         /* -v, --verbose: informational lines too */
  const char *log_level; /* --log-level, or NULL */
  /* Every --db given, in order (argv's words; the array is malloc'd, freed
   * by main). A command that reads several databases (query, alerts) sets
   * multi_db before it parses its flags; for any other, a second --db is a
   * usage error, since ids and alerts are per database. */
  const char **dbs;
  size_t ndbs;
  int multi_db;
} vg_cli_flags;
extern vg_cli_flags vg_cli;

/* Whether name (an argv word such as "--db" or "--db=x") is a global option:
 * -1 when not, 0 for one without a value, 1 for one whose value is the next
 * word (it has none after '='). */
int vg_cli_global_word(const char *word);

/* Fills cfg: defaults, then the file named by --config (found anywhere in
 * argv), so that the command's own flag parsing overrides both. Returns 0 or
 * prints why, frees what it filled and returns VG_EXIT_USAGE. */
int vg_cli_setup(vg_config *cfg, int argc, char **argv);
/* Handles a global option met by getopt_long; returns 1 if it was one.
 * --db is kept in vg_cli.dbs too; a second one, unless vg_cli.multi_db,
 * is said on stderr and the process exits with VG_EXIT_USAGE. The
 * log level follows at once: the daemon's is the configuration's
 * log_level; a one-shot command's is at least notice (what a rule prints,
 * an alert, warnings); -v lowers either to info; --quiet makes it error;
 * --log-level wins over all. A bad --log-level is said on stderr
 * and the process exits with VG_EXIT_USAGE. */
int vg_cli_global(vg_config *cfg, int opt, const char *arg);
/* Sets the log's level and format from cfg's log_level and log_format and
 * the global flags met so far, by the rule vg_cli_global states. The
 * daemon calls it again after each reload, so that -v, --quiet and
 * --log-level still hold over the file's new level. */
void vg_cli_log_setup(const vg_config *cfg);
/* Sets the setting `name` from a flag's value (see vg_config_set_flag), or
 * says "cmd: why" on stderr and exits with VG_EXIT_USAGE. */
void vg_cli_flag(const char *cmd, vg_config *cfg, const char *name, const char *value);
/* Writes each line of text to stderr as "who: line". */
void vg_cli_say_lines(const char *who, const char *text);
/* The --config path given on the command line, or NULL. */
const char *vg_cli_config_path(int argc, char **argv);

/* Parses a date argument of a flag into a day number: its first day, or its
 * last when `last` is set (so --until 2023-12 takes all December). Prints
 * "cmd: flag 'arg': why" and returns -1 when it is no date. */
int vg_cli_day(const char *cmd, const char *flag, const char *arg, int last, int32_t *day);

/* The --since, --until and --limit options that query, alerts and replay
 * share, with their getopt codes. */
#define VG_CLI_RANGE_OPTIONS                                                                     \
  {"since", required_argument, NULL, 's'}, {"until", required_argument, NULL, 'u'},             \
      {"limit", required_argument, NULL, 'n'}
typedef struct {
  int has_since, has_until;
  int32_t since, until; /* day numbers */
  long limit;           /* 0: none */
} vg_cli_range;
/* Takes a range option met by getopt_long: 1 if it was one, 0 if not, -1
 * (after saying why on stderr) if its value is bad. */
int vg_cli_range_opt(const char *cmd, vg_cli_range *r, int opt, const char *arg);
/* Opens cfg->db with flags and its busy_timeout_ms, or says why on stderr and
 * returns NULL: a name SQLite takes for no file ("", ":memory:", a "file:"
 * URI) is refused before anything is stored (vg_config_check_db). */
vg_store *vg_cli_open_store(const char *cmd, const vg_config *cfg, int flags);

/* The --rules option of the commands that load rules: repeatable, each a
 * directory or a file; the first replaces the configured `rules`. */
#define VG_CLI_RULES_OPTION {"rules", required_argument, NULL, 'r'}
/* Checks that every rules path of cfg is a directory or a file, saying on
 * stderr "cmd: PATH: cannot read the rules path: why" of each that is not,
 * and warning of a directory without *.lua files. The default path, when
 * missing, is only warned of (the loader then reports it as it loads).
 * Returns 0 or -1. */
int vg_cli_rules_paths(const char *cmd, const vg_config *cfg);
/* The rule limits the configuration sets. */
vg_rules_limits vg_cli_rule_limits(const vg_config *cfg);
/* Loads the rules of cfg->rules as one set, logging each problem; *errors counts them.
 * `prev` (may be NULL) supplies the last good version of a broken file. */
vg_rules *vg_cli_load_rules(const vg_config *cfg, const vg_rules *prev, int *errors);
/* The same, telling each problem to report(ud, ...) instead of the log. */
vg_rules *vg_cli_load_rules_to(const vg_config *cfg, const vg_rules *prev, int *errors,
                               vg_rules_report_fn report, void *ud);

/* The --skip-broken flag of the commands that run rules over entries. */
#define VG_CLI_SKIP_BROKEN_OPTION {"skip-broken", no_argument, NULL, 'B'}
/* Loads the rules of cfg->rules for a one-shot command that runs them over
 * entries (ingest, poll, replay), printing each problem on stderr as
 * FILE:LINE: message. A rules path that does not exist makes it say so and
 * return NULL, whatever skip_broken says. Any other problem (a file that
 * does not load, an unknown `after` name) makes it say that `cmd` refuses
 * to run and return NULL, unless skip_broken: it then says what is left out
 * and returns the rules that loaded. NULL too, saying so, when the rule
 * engine cannot be set up. */
vg_rules *vg_cli_command_rules(const char *cmd, const vg_config *cfg, int skip_broken);

/* printf to standard output for a terminal or a line-based reader: a
 * control character in what the arguments hold (a newline, a tab or an
 * escape sequence in an entry's text, a source, a server's error) is
 * written as \xHH, a C1 control (U+0080 to U+009F) as \u00HH, and a byte
 * that is not UTF-8 as \xHH, so that no stored
 * text can fake a row or drive the terminal (term.h's vg_term_escape).
 * A newline that ends the format is written as one. */
void vg_cli_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same to standard error, for a message that quotes what came from
 * outside (a file's name, a rules path, an argument, a rule's error), so
 * that each message stays one line and cannot drive the terminal. */
void vg_cli_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The JSON object of an entry, as `vigil query --json` prints it a line
 * (and `vigil show --json` adds to it): id, date, precision, text, source,
 * ingested_at, tags (an array), updated; for an updated entry text is its
 * latest update's, updated_at says when that was seen and original_text
 * holds what it first said; fields, as stored, when it has any. NULL when
 * out of memory. */
struct cJSON;
struct cJSON *vg_cli_entry_json(const vg_row *r);
/* Entry id in full, as `vigil show --json` prints it (cmd_show.c): the
 * object above with first_day, last_day, tag_rules, marks, alerts, updates
 * and event, into *out (the caller deletes it). 0, VG_EINVAL when there is
 * no such entry, VG_ENOMEM or VG_EDB. Reads st alone: safe on any thread
 * that owns st. */
int vg_cli_entry_full(vg_store *st, int64_t id, struct cJSON **out);
/* The JSON object of an alert, as `vigil alerts --json` prints it a line:
 * id, rule, key, severity, message, date, created_at, version, count (a
 * threshold's), silenced (the id of the silence that marked it, or null),
 * state ("active" or "silenced") and entries (an array of ids). NULL when
 * out of memory. */
struct cJSON *vg_cli_alert_json(const vg_alert_row *a);
/* The JSON object of a feed's health, as `vigil feeds --json` prints it a
 * line: url, source, scheduled (whether it is configured), polls, items,
 * last_success, next_poll, failures (in a row), last_error, last_error_at
 * (null when there is none). NULL when out of memory. */
struct cJSON *vg_cli_feed_json(const vg_feed_row *f, int scheduled);
/* Calls fn with each feed `vigil feeds` lists: those the database knows
 * (by URL) that are among feeds[0..n) (scheduled), or any with `all`, then
 * the configured ones never polled. 0, fn's non-zero, VG_ENOMEM or VG_EDB. */
typedef int (*vg_cli_feed_fn)(void *ud, const vg_feed_row *f, int scheduled);
int vg_cli_feeds(vg_store *st, const vg_feed_conf *feeds, size_t n, int all, vg_cli_feed_fn fn,
                 void *ud);
/* Prints o on one line of standard output and frees it. 0, or VG_ENOMEM
 * when o is NULL or cannot be printed. */
int vg_cli_json_line(struct cJSON *o);

/* `vigil replay --nats` (cmd_replay_nats.c), once vg_cmd_replay has read
 * its flags into cfg (resolved) and o. */
typedef struct {
  const char *url;   /* the server, or NULL for nats_url */
  int has_seq;       /* --from-seq */
  uint64_t from_seq;
  int has_time;      /* --from-time */
  int64_t from_ns;   /* UTC, in nanoseconds since 1970 */
  int skip_broken;   /* --skip-broken */
} vg_replay_nats_opts;
/* Reads the stream of entries from o's start to its last message as it is
 * now, into cfg->db (which must hold no entries), as the daemon would store
 * it; says what it did as every one-shot command does. Returns the exit
 * status. */
int vg_replay_nats(const vg_config *cfg, const vg_replay_nats_opts *o);
/* Parses the value of --from-time: RFC 3339 (2023-01-05T09:30:00Z, or with
 * an offset, +09:00) or a date in any form vigil reads (its first moment,
 * UTC: 2023-12 is December's first), into nanoseconds
 * since 1970. 0, -1 when it is neither, or -2 when it is before 1970 or
 * after 2262-04-10 (what JetStream's nanoseconds can say). */
int vg_replay_nats_time(const char *arg, int64_t *ns);

/* `vigil replay --dry-run` (cmd_dry_run.c), once vg_cmd_replay has read
 * its flags into cfg (resolved) and o. */
typedef struct {
  int has_since;  /* --since */
  int32_t since;  /* its first day */
} vg_replay_dry_opts;
/* Runs cfg's rules afresh over the stored entries (from o's since on) in a
 * scratch copy of cfg->db, and says what they would change in the alerts
 * in force and the tags, never writing cfg->db nor calling a sink. Returns
 * the exit status: VG_EXIT_OK when nothing would change, VG_EXIT_CHANGES
 * when something would, VG_EXIT_FAIL when it could not tell (rules that do
 * not load, a database that cannot be read or copied), or 128 + a signal
 * that stopped it. */
int vg_replay_dry_run(const vg_config *cfg, const vg_replay_dry_opts *o);

int vg_cmd_ingest(int argc, char **argv);
int vg_cmd_publish(int argc, char **argv);
int vg_cmd_check(int argc, char **argv);
int vg_cmd_test(int argc, char **argv);
int vg_cmd_replay(int argc, char **argv);
int vg_cmd_alerts(int argc, char **argv);
int vg_cmd_digest(int argc, char **argv);
int vg_cmd_poll(int argc, char **argv);
int vg_cmd_feeds(int argc, char **argv);
int vg_cmd_query(int argc, char **argv);
int vg_cmd_show(int argc, char **argv);
int vg_cmd_run(int argc, char **argv);
int vg_cmd_config(int argc, char **argv);
int vg_cmd_eval(int argc, char **argv);
int vg_cmd_silence(int argc, char **argv);
int vg_cmd_amend(int argc, char **argv);
int vg_cmd_retract(int argc, char **argv);
int vg_cmd_explain(int argc, char **argv);

#endif
