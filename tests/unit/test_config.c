/* test_config.c — embedded defaults and the Lua configuration file.
 *
 * Covers the default values, a file's settings being taken (and the others
 * left alone), and each way a file is refused — a syntax error, a setting
 * of the wrong type, a use of the absent io and os libraries, a bad value —
 * with a message naming the file or the setting, and the configuration left
 * exactly as it was; follow_redirects, global and per feed; the TCP token,
 * inline or from a file, and the tokens refused; the queue bound of
 * command sinks; the paths derived once every layer is in (beside the
 * database, or under state_dir) and the explicit ones kept; unknown
 * settings and fields (with the nearest name) and values of the wrong type,
 * at the top and inside sinks, digests and feeds; rules as one path or a
 * list, with flags; where each setting came from, and the values shown.
 * Each test writes its file in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "vigil.h"

#include "support.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

/* A temporary directory, the config file in it, and a loaded configuration. */
typedef struct {
  char dir[64];
  char path[128];
  vg_config cfg;
} fixture;

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-config-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    free(fx);
    return -1;
  }
  snprintf(fx->path, sizeof fx->path, "%s/vigil.lua", fx->dir);
  vg_config_defaults(&fx->cfg);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  vg_config_free(&fx->cfg);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

static void write_file(const fixture *fx, const char *text) {
  FILE *f = fopen(fx->path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* Loads text as the config file, expecting it to be refused; returns the message. */
static void load_bad(fixture *fx, const char *text, char *err, size_t cap) {
  write_file(fx, text);
  err[0] = '\0';
  int rc = vg_config_load(&fx->cfg, fx->path, err, cap);
  if (rc != VG_EINVAL) fail_msg("load gave %d, not VG_EINVAL, for:\n%s", rc, text);
  if (!err[0]) fail_msg("refused without a message:\n%s", text);
}

static void load_ok(fixture *fx, const char *text) {
  char err[512] = "";
  write_file(fx, text);
  int rc = vg_config_load(&fx->cfg, fx->path, err, sizeof err);
  if (rc != 0) fail_msg("load gave %d: %s", rc, err);
}

/* The configuration still holds every default (the derived paths not yet
 * derived). */
static void assert_defaults(const vg_config *c) {
  assert_string_equal(c->state_dir, "");
  assert_null(c->db);
  assert_null(c->socket);
  assert_null(c->spool);
  assert_null(c->alerts_file);
  assert_string_equal(c->socket_group, "");
  assert_string_equal(c->listen, ""); /* TCP only on request */
  assert_string_equal(c->tcp_token, "");
  assert_string_equal(c->tcp_token_file, "");
  assert_non_null(c->rules);
  assert_string_equal(c->rules[0], "rules");
  assert_null(c->rules[1]);
  assert_string_equal(c->log_level, "info");
  assert_int_equal(c->format, VG_FORMAT_AUTO);
  assert_int_equal(c->max_line, 1048576);
  assert_int_equal(c->busy_timeout_ms, 10000);
}

static void test_defaults(void **state) {
  fixture *fx = *state;
  assert_defaults(&fx->cfg);
  assert_true(fx->cfg.batch_max > 0);
  char err[256] = "";
  assert_int_equal(vg_config_check(&fx->cfg, err, sizeof err), 0);
}

/* Alerts' links: under public_url (its trailing '/' dropped), else the
 * HTTP listen address, else none. */
static void test_link_base(void **state) {
  fixture *fx = *state;
  char base[64];
  assert_int_equal(vg_config_link_base(&fx->cfg, base, sizeof base), 21);
  assert_string_equal(base, "http://127.0.0.1:7434");
  vg_config_set(&fx->cfg.public_url, "https://vigil.example.org/watch//");
  assert_int_equal(vg_config_link_base(&fx->cfg, base, sizeof base), 31);
  assert_string_equal(base, "https://vigil.example.org/watch");
  vg_config_set(&fx->cfg.public_url, "");
  vg_config_set(&fx->cfg.http_listen, "");
  assert_int_equal(vg_config_link_base(&fx->cfg, base, sizeof base), 0);
  assert_string_equal(base, "");
}

static void test_file_settings_are_taken(void **state) {
  fixture *fx = *state;
  load_ok(fx, "-- a site configuration\n"
              "db = 'data/korea.db'\n"
              "batch_max = 500\n"
              "busy_timeout_ms = 1500\n"
              "format = \"json\"\n");
  assert_string_equal(fx->cfg.db, "data/korea.db");
  assert_int_equal(fx->cfg.batch_max, 500);
  assert_int_equal(fx->cfg.busy_timeout_ms, 1500);
  assert_int_equal(fx->cfg.format, VG_FORMAT_JSON);
  /* What the file does not set keeps its default, and the socket goes
   * beside the database the file names. */
  vg_config_resolve(&fx->cfg);
  assert_string_equal(fx->cfg.socket, "data/vigil.sock");
  assert_string_equal(fx->cfg.listen, "");
  assert_int_equal(fx->cfg.max_line, 1048576);
}

static void test_file_may_compute_values(void **state) {
  fixture *fx = *state;
  load_ok(fx, "local dir = 'var/site'\n"
              "db = dir .. '/vigil.db'\n"
              "max_line = 64 * 1024\n"
              "socket = string.format('%s/%s', dir, 'sock')\n"
              "socket_group = 'analysts'\n"
              "listen = ''\n");
  assert_string_equal(fx->cfg.db, "var/site/vigil.db");
  assert_int_equal(fx->cfg.max_line, 65536);
  assert_string_equal(fx->cfg.socket, "var/site/sock");
  assert_string_equal(fx->cfg.socket_group, "analysts");
  assert_string_equal(fx->cfg.listen, "");
}

static void test_second_load_replaces_first(void **state) {
  fixture *fx = *state;
  load_ok(fx, "db = 'first.db'\n");
  load_ok(fx, "db = 'second.db'\n");
  assert_string_equal(fx->cfg.db, "second.db");
}

static void test_syntax_error_names_file_and_line(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "db = 'other.db'\nbatch_max = = 3\n", err, sizeof err);
  char where[160];
  snprintf(where, sizeof where, "%s:2:", fx->path);
  assert_contains(err, where);
  assert_defaults(&fx->cfg);
}

static void test_wrong_type_names_the_setting(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "db = 'other.db'\nbatch_max = \"x\"\n", err, sizeof err);
  assert_contains(err, "batch_max");
  assert_contains(err, fx->path);
  assert_defaults(&fx->cfg);
  load_bad(fx, "db = 42\n", err, sizeof err);
  assert_contains(err, "'db'");
  assert_defaults(&fx->cfg);
}

static void test_zero_or_negative_size_rejected(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "batch_max = 0\n", err, sizeof err);
  assert_contains(err, "batch_max");
  load_bad(fx, "max_pending = -5\n", err, sizeof err);
  assert_contains(err, "max_pending");
  load_bad(fx, "max_line = 1.5\n", err, sizeof err);
  assert_contains(err, "max_line");
  assert_defaults(&fx->cfg);
}

static void test_numbers_that_would_wrap_are_refused(void **state) {
  fixture *fx = *state;
  char err[512];
  /* 2^32 + 1 would wrap to 1 second in an unsigned setting. */
  load_bad(fx, "feed_interval = 4294967297\n", err, sizeof err);
  assert_contains(err, "'feed_interval' must be at most 2147483647, not 4294967297");
  load_bad(fx, "busy_timeout_ms = 2^31\n", err, sizeof err);
  assert_contains(err, "busy_timeout_ms");
  load_bad(fx, "feeds = { { url = 'http://127.0.0.1:1/a.xml', interval = 4294967297 } }\n", err,
           sizeof err);
  assert_contains(err, "a feed's interval is a whole number of seconds");
  load_bad(fx, "feeds = { { url = 'http://127.0.0.1:1/a.xml', interval = -1 } }\n", err,
           sizeof err);
  assert_contains(err, "a feed's interval");
  load_bad(fx, "sinks = { s = { file = 'x.jsonl', timeout_ms = 4294967296 } }\n", err, sizeof err);
  assert_contains(err, "'timeout_ms' must be a whole number");
  load_bad(fx, "sinks = { s = { command = {'true'}, retries = -1 } }\n", err, sizeof err);
  assert_contains(err, "'retries' must be a whole number");
  assert_defaults(&fx->cfg);
  load_ok(fx, "feed_interval = 2147483647\n"
              "feeds = { { url = 'http://127.0.0.1:1/a.xml', interval = 60 } }\n");
  assert_int_equal(fx->cfg.feed_interval, 2147483647u);
  assert_int_equal(fx->cfg.feeds[0].interval, 60);
}

static void test_unknown_time_zone_is_refused(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "timezone = 'Mars/Olympus_Mons'\n", err, sizeof err);
  assert_contains(err, "timezone 'Mars/Olympus_Mons' is not a known time zone");
  load_bad(fx, "timezone = '../../etc/passwd'\n", err, sizeof err);
  assert_contains(err, "is not a known time zone");
  load_ok(fx, "timezone = 'UTC'\n");
  assert_string_equal(fx->cfg.timezone, "UTC");
  /* A zone of the database, if this machine has it (tzdata). */
  if (access("/usr/share/zoneinfo/Asia/Seoul", F_OK) == 0 && !getenv("TZDIR")) {
    load_ok(fx, "timezone = 'Asia/Seoul'\n");
    assert_string_equal(fx->cfg.timezone, "Asia/Seoul");
  }
}

static void test_unknown_format_rejected(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "format = 'xml'\n", err, sizeof err);
  assert_contains(err, "format");
  assert_contains(err, "'xml'");
  assert_int_equal(fx->cfg.format, VG_FORMAT_AUTO);
}

static void test_io_library_is_absent(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "db = 'other.db'\nlocal f = io.open('/etc/hostname')\n", err, sizeof err);
  assert_contains(err, fx->path);
  assert_contains(err, "'io'");
  assert_defaults(&fx->cfg);
}

static void test_os_library_is_absent(void **state) {
  fixture *fx = *state;
  char err[512];
  char marker[192], text[512];
  snprintf(marker, sizeof marker, "%s/ran", fx->dir);
  snprintf(text, sizeof text, "os.execute('touch %s')\n", marker);
  load_bad(fx, text, err, sizeof err);
  assert_contains(err, "'os'");
  assert_int_not_equal(access(marker, F_OK), 0); /* the command never ran */
  assert_defaults(&fx->cfg);
}

static void test_loading_other_code_is_absent(void **state) {
  fixture *fx = *state;
  char err[512], other[192], text[512];
  /* A valid file beside it, which dofile would run if it were there. */
  snprintf(other, sizeof other, "%s/other.lua", fx->dir);
  FILE *f = fopen(other, "w");
  assert_non_null(f);
  fputs("db = 'from-other.db'\n", f);
  assert_int_equal(fclose(f), 0);
  snprintf(text, sizeof text, "dofile('%s')\n", other);
  load_bad(fx, text, err, sizeof err);
  assert_contains(err, "dofile");
  load_bad(fx, "load(\"db = 'from-load.db'\")()\n", err, sizeof err);
  assert_contains(err, "load");
  load_bad(fx, "require('io')\n", err, sizeof err);
  unlink(other);
  assert_defaults(&fx->cfg);
}

static void test_unknown_log_level_rejected(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "db = 'other.db'\nlog_level = 'verbose'\n", err, sizeof err);
  assert_contains(err, "log_level");
  assert_contains(err, "verbose");
  assert_defaults(&fx->cfg);
  load_ok(fx, "log_level = 'debug'\n");
  assert_string_equal(fx->cfg.log_level, "debug");
}

static void test_unknown_durability_rejected(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "durability = 'sometimes'\n", err, sizeof err);
  assert_contains(err, "durability");
  assert_string_equal(fx->cfg.durability, "full");
}

static void test_missing_file_rejected(void **state) {
  fixture *fx = *state;
  char err[512] = "";
  char missing[192];
  snprintf(missing, sizeof missing, "%s/absent.lua", fx->dir);
  assert_int_equal(vg_config_load(&fx->cfg, missing, err, sizeof err), VG_EINVAL);
  assert_contains(err, "absent.lua");
  assert_defaults(&fx->cfg);
}

static void test_runtime_error_keeps_config(void **state) {
  fixture *fx = *state;
  char err[512];
  load_bad(fx, "db = 'other.db'\nspool = 'x'\nerror('stop here')\n", err, sizeof err);
  assert_contains(err, "stop here");
  assert_defaults(&fx->cfg);
}

/* The TCP token: none by default; from tcp_token or the first line of
 * tcp_token_file; refused when both are set, too short, too long, or not
 * printable characters without spaces, saying where it came from. */
static void test_tcp_token(void **state) {
  fixture *fx = *state;
  char token[VG_TOKEN_MAX + 1], err[512] = "";
  const char *warn = "unset";
  assert_int_equal(vg_config_tcp_token(&fx->cfg, token, &warn, err, sizeof err), 0);
  assert_string_equal(token, "");
  assert_null(warn);

  load_ok(fx, "tcp_token = 'a-token-of-24-characters'\n");
  assert_int_equal(vg_config_tcp_token(&fx->cfg, token, NULL, err, sizeof err), 24);
  assert_string_equal(token, "a-token-of-24-characters");

  static const char *const bad[] = {"'short-token'", "'a token with spaces in it'",
                                    "'a-token-with-a-newline\\n-in-it'", "string.rep('x', 257)"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char text[128];
    snprintf(text, sizeof text, "tcp_token = %s\n", bad[i]);
    load_ok(fx, text);
    err[0] = '\0';
    if (vg_config_tcp_token(&fx->cfg, token, NULL, err, sizeof err) != VG_EINVAL)
      fail_msg("token %s taken", bad[i]);
    assert_contains(err, "tcp_token: a token is 16 to 256 printable characters without spaces");
  }

  /* From a file: its first line, a CR LF ending left out; a file others may
   * read is taken, and said. */
  char tpath[160], text[256];
  snprintf(tpath, sizeof tpath, "%s/token", fx->dir);
  assert_int_equal(support_write_file(fx->dir, "token", "token-from-a-file-0123\r\nsecond\n"), 0);
  assert_int_equal(chmod(tpath, 0644), 0);
  snprintf(text, sizeof text, "tcp_token = ''\ntcp_token_file = '%s'\n", tpath);
  load_ok(fx, text);
  assert_int_equal(vg_config_tcp_token(&fx->cfg, token, &warn, err, sizeof err), 22);
  assert_string_equal(token, "token-from-a-file-0123");
  assert_non_null(warn);
  assert_int_equal(chmod(tpath, 0600), 0);
  assert_int_equal(vg_config_tcp_token(&fx->cfg, token, &warn, err, sizeof err), 22);
  assert_null(warn);

  snprintf(text, sizeof text, "tcp_token = 'a-token-of-24-characters'\ntcp_token_file = '%s'\n",
           tpath);
  load_ok(fx, text);
  assert_int_equal(vg_config_tcp_token(&fx->cfg, token, NULL, err, sizeof err), VG_EINVAL);
  assert_contains(err, "give tcp_token or tcp_token_file, not both");

  snprintf(text, sizeof text, "tcp_token = ''\ntcp_token_file = '%s/missing'\n", fx->dir);
  load_ok(fx, text);
  assert_int_equal(vg_config_tcp_token(&fx->cfg, token, NULL, err, sizeof err), VG_EINVAL);
  assert_contains(err, "/missing: No such file or directory");
}

/* A command sink holds queue_max alerts at most: 10,000 unless it says. */
static void test_sink_queue_max(void **state) {
  fixture *fx = *state;
  load_ok(fx, "sinks = { a = { command = {'true'} },\n"
              "          b = { command = {'true'}, queue_max = 5 } }\n");
  assert_int_equal(fx->cfg.nsinks, 2);
  for (size_t i = 0; i < 2; i++)
    assert_int_equal(fx->cfg.sinks[i].queue_max,
                     strcmp(fx->cfg.sinks[i].name, "b") == 0 ? 5 : VG_SINK_QUEUE_MAX);
  char err[256];
  load_bad(fx, "sinks = { c = { command = {'true'}, queue_max = 0 } }\n", err, sizeof err);
  assert_contains(err, "sink 'c': 'queue_max' must be a whole number from 1");
  load_bad(fx, "sinks = { c = { command = {'true'}, queue_max = 'many' } }\n", err, sizeof err);
  assert_contains(err, "sink 'c': 'queue_max' must be a number, not a string");
  /* A hole in the list: refused, and the strings after it freed as well. */
  load_bad(fx, "sinks = { c = { command = {'prog', 5, 'arg'} } }\n", err, sizeof err);
  assert_contains(err, "sink 'c': 'command' must be a list of strings");
  load_bad(fx, "sinks = { c = { command = {} } }\n", err, sizeof err);
  assert_contains(err, "sink 'c': 'command' must name a program");
}

static void test_error_that_is_not_a_string_names_file(void **state) {
  fixture *fx = *state;
  char err[512];
  /* Lua lets a script raise any value, not only a message. */
  load_bad(fx, "db = 'other.db'\nerror({reason = 'a table'})\n", err, sizeof err);
  assert_contains(err, fx->path);
  assert_defaults(&fx->cfg);
}

/* A file is held to a budget of instructions and of memory, and cannot
 * reach past its globals: a loop without end, a pile of memory, a finalizer
 * or a metamethod that the loader would run after the file returned, and
 * the metatable of its own globals are refused with the file and line,
 * the configuration left as it was. The alarm turns a hang into a failure. */
static void test_file_is_held_to_a_budget(void **state) {
  fixture *fx = *state;
  char err[512], where[256];
  alarm(60);
  snprintf(where, sizeof where, "%s:2:", fx->path);
  load_bad(fx, "db = 'other.db'\nwhile true do end\n", err, sizeof err);
  assert_contains(err, where);
  assert_contains(err, "instruction budget");
  load_bad(fx, "db = 'other.db'\nlocal t = {}\nfor i = 1, 1e9 do t[i] = {i, i, i} end\n", err,
           sizeof err);
  assert_contains(err, fx->path);
  load_bad(
      fx, "db = 'other.db'\nlocal t = {}\nfor i = 1, 200 do t[i] = string.rep('x', 1e6) .. i end\n",
      err, sizeof err);
  assert_contains(err, fx->path);
  load_bad(fx, "db = 'other.db'\nsetmetatable({}, {__gc = function() while true do end end})\n",
           err, sizeof err);
  assert_contains(err, where);
  load_bad(fx, "db = 'other.db'\ngetmetatable(_ENV).__newindex(1, 'x', 2)\n", err, sizeof err);
  assert_contains(err, where);
  assert_contains(err, "getmetatable");
  alarm(0);
  assert_defaults(&fx->cfg);
  /* The loader reads the tables a file sets without their metamethods. */
  load_bad(fx, "sinks = { a = setmetatable({}, {__index = function() error('ran') end}) }\n", err,
           sizeof err);
  assert_contains(err, "give one of 'file', 'command' or 'nats'");
  load_ok(fx, "feeds = setmetatable({}, {__index = function() error('ran') end})\n"
              "digests = { d = setmetatable({ schedule = '0 7 * * *' },\n"
              "  {__index = function() error('ran') end}) }\n");
  assert_int_equal(fx->cfg.nfeeds, 0);
  assert_int_equal(fx->cfg.ndigests, 1);
  assert_string_equal(fx->cfg.digests[0].template, "d");
}

/* Feeds follow redirects to their own host unless the file says otherwise,
 * for all feeds or for one. */
static void test_follow_redirects(void **state) {
  fixture *fx = *state;
  assert_int_equal(fx->cfg.follow_redirects, VG_REDIRECT_SAME_HOST);
  load_ok(fx, "follow_redirects = 'none'\n"
              "feeds = { { url = 'http://a.test/rss' },\n"
              "          { url = 'http://b.test/rss', follow_redirects = 'any' },\n"
              "          { url = 'http://c.test/rss', follow_redirects = 'same-host' } }\n");
  assert_int_equal(fx->cfg.follow_redirects, VG_REDIRECT_NONE);
  assert_int_equal(fx->cfg.nfeeds, 3);
  assert_int_equal(fx->cfg.feeds[0].redirects, VG_REDIRECT_NONE);
  assert_int_equal(fx->cfg.feeds[1].redirects, VG_REDIRECT_ANY);
  assert_int_equal(fx->cfg.feeds[2].redirects, VG_REDIRECT_SAME_HOST);
  /* a feed added later (--feed) takes the global setting */
  vg_config_add_feed(&fx->cfg, "http://d.test/rss", NULL, NULL, 0);
  assert_int_equal(fx->cfg.feeds[3].redirects, VG_REDIRECT_NONE);
  assert_string_equal(vg_redirects_name(VG_REDIRECT_SAME_HOST), "same-host");
  char err[512];
  load_bad(fx, "follow_redirects = 'other-hosts'\n", err, sizeof err);
  assert_contains(err, "follow_redirects");
  assert_contains(err, "same-host, any or none");
  load_bad(fx, "feeds = { { url = 'http://a.test/rss', follow_redirects = true } }\n", err,
           sizeof err);
  assert_contains(err, "feed 1: 'follow_redirects' must be a string, not a boolean");
  load_bad(fx, "feeds = { { url = 'http://a.test/rss', follow_redirects = 'sometimes' } }\n", err,
           sizeof err);
  assert_contains(err, "follow_redirects is same-host, any or none");
  assert_int_equal(fx->cfg.follow_redirects, VG_REDIRECT_NONE); /* as the good file left it */
}

/* The derived paths of c, one string: db socket spool alerts_file and each
 * digest's name=out. */
static const char *derived(const vg_config *c) {
  static char buf[1024];
  int n = snprintf(buf, sizeof buf, "%s %s %s %s", c->db, c->socket, c->spool, c->alerts_file);
  for (size_t i = 0; i < c->ndigests && n > 0 && (size_t)n < sizeof buf; i++)
    n += snprintf(buf + n, sizeof buf - (size_t)n, " %s=%s", c->digests[i].name,
                  c->digests[i].out);
  return buf;
}

static void test_resolve_defaults_keep_the_checkout_layout(void **state) {
  fixture *fx = *state;
  vg_config_resolve(&fx->cfg);
  assert_string_equal(derived(&fx->cfg),
                      "var/vigil.db var/vigil.sock var/spool var/alerts.jsonl daily=var/digests "
                      "weekly=var/digests");
  vg_config_resolve(&fx->cfg); /* a second call changes nothing */
  assert_string_equal(derived(&fx->cfg),
                      "var/vigil.db var/vigil.sock var/spool var/alerts.jsonl daily=var/digests "
                      "weekly=var/digests");
}

static void test_resolve_beside_the_database(void **state) {
  fixture *fx = *state;
  vg_config_set(&fx->cfg.db, "/elsewhere/x.db"); /* as --db does, after the file */
  vg_config_resolve(&fx->cfg);
  assert_string_equal(derived(&fx->cfg),
                      "/elsewhere/x.db /elsewhere/vigil.sock /elsewhere/spool "
                      "/elsewhere/alerts.jsonl daily=/elsewhere/digests weekly=/elsewhere/digests");
  vg_config_free(&fx->cfg);
  vg_config_defaults(&fx->cfg);
  vg_config_set(&fx->cfg.db, "x.db"); /* in the working directory: the others there too */
  vg_config_resolve(&fx->cfg);
  assert_string_equal(derived(&fx->cfg),
                      "x.db vigil.sock spool alerts.jsonl daily=digests weekly=digests");
  vg_config_free(&fx->cfg);
  vg_config_defaults(&fx->cfg);
  vg_config_set(&fx->cfg.db, "/x.db");
  vg_config_resolve(&fx->cfg);
  assert_string_equal(derived(&fx->cfg),
                      "/x.db /vigil.sock /spool /alerts.jsonl daily=/digests weekly=/digests");
}

static void test_resolve_under_state_dir(void **state) {
  fixture *fx = *state;
  load_ok(fx, "state_dir = '/var/lib/vigil'\n");
  vg_config_resolve(&fx->cfg);
  assert_string_equal(derived(&fx->cfg),
                      "/var/lib/vigil/vigil.db /var/lib/vigil/vigil.sock /var/lib/vigil/spool "
                      "/var/lib/vigil/alerts.jsonl daily=/var/lib/vigil/digests "
                      "weekly=/var/lib/vigil/digests");
  /* A database given apart (--db): the rest still under state_dir. */
  vg_config_free(&fx->cfg);
  vg_config_defaults(&fx->cfg);
  load_ok(fx, "state_dir = '/var/lib/vigil/'\n");
  vg_config_set(&fx->cfg.db, "/srv/big/vigil.db");
  vg_config_resolve(&fx->cfg);
  assert_string_equal(derived(&fx->cfg),
                      "/srv/big/vigil.db /var/lib/vigil/vigil.sock /var/lib/vigil/spool "
                      "/var/lib/vigil/alerts.jsonl daily=/var/lib/vigil/digests "
                      "weekly=/var/lib/vigil/digests");
}

static void test_resolve_keeps_what_is_set(void **state) {
  fixture *fx = *state;
  load_ok(fx, "state_dir = '/var/lib/vigil'\n"
              "socket = '/run/vigil/vigil.sock'\n"
              "spool = ''\n"
              "alerts_file = ''\n"
              "digests = {\n"
              "  weekly = { schedule = '0 8 * * mon', days = 7, out = '/srv/www/digests' },\n"
              "}\n");
  vg_config_resolve(&fx->cfg);
  assert_string_equal(derived(&fx->cfg),
                      "/var/lib/vigil/vigil.db /run/vigil/vigil.sock   "
                      "weekly=/srv/www/digests");
  load_ok(fx, "digests = { daily = { schedule = '0 7 * * *' } }\n");
  vg_config_resolve(&fx->cfg);
  assert_string_equal(fx->cfg.digests[0].out, "/var/lib/vigil/digests");
}

/* "FILE:LINE: " for the fixture's file, into buf. */
static const char *at(const fixture *fx, int line, char *buf, size_t cap) {
  snprintf(buf, cap, "%s:%d: ", fx->path, line);
  return buf;
}

/* A global that is no setting refuses the file, naming the line and the
 * nearest setting; every such global is named, in line order; a local
 * variable is the file's own. */
static void test_unknown_setting_names_the_nearest(void **state) {
  fixture *fx = *state;
  char err[2048], want[256], where[200];
  load_bad(fx,
           "local dir = 'var/site'\n"
           "db = dir .. '/site.db'\n"
           "log_levl = 'debug'\n"
           "batchmax = 10\n"
           "helper = 3\n",
           err, sizeof err);
  snprintf(want, sizeof want, "%sunknown setting 'log_levl' (did you mean 'log_level'?)\n",
           at(fx, 3, where, sizeof where));
  assert_contains(err, want);
  snprintf(want, sizeof want, "%sunknown setting 'batchmax' (did you mean 'batch_max'?)\n",
           at(fx, 4, where, sizeof where));
  assert_contains(err, want);
  snprintf(want, sizeof want, "%sunknown setting 'helper' (a variable of the file's own",
           at(fx, 5, where, sizeof where));
  assert_contains(err, want);
  assert_true(strstr(err, "'log_levl'") < strstr(err, "'batchmax'")); /* in line order */
  assert_null(strstr(err, "'dir'"));
  assert_defaults(&fx->cfg); /* nothing of the file taken, not even db */
  /* Case is no excuse, and it is said so. */
  load_bad(fx, "Timezone = 'UTC'\n", err, sizeof err);
  assert_contains(err, "unknown setting 'Timezone' (did you mean 'timezone'?)");
}

/* A value of the wrong type names the setting, its line and both types. */
static void test_wrong_type_names_setting_and_line(void **state) {
  fixture *fx = *state;
  char err[2048], want[256], where[200];
  load_bad(fx, "socket = {}\nrules = 5\nsinks = 'all'\nbatch_ms = '2'\n", err, sizeof err);
  snprintf(want, sizeof want, "%s'socket' must be a string, not a table",
           at(fx, 1, where, sizeof where));
  assert_contains(err, want);
  snprintf(want, sizeof want, "%s'rules' must be a path or a list of paths",
           at(fx, 2, where, sizeof where));
  assert_contains(err, want);
  snprintf(want, sizeof want, "%s'sinks' must be a table, not a string",
           at(fx, 3, where, sizeof where));
  assert_contains(err, want);
  snprintf(want, sizeof want, "%s'batch_ms' must be a non-negative integer, not a string",
           at(fx, 4, where, sizeof where));
  assert_contains(err, want);
  assert_defaults(&fx->cfg);
}

/* The entries of sinks, digests and feeds have known fields of known types. */
static void test_nested_tables_are_checked(void **state) {
  fixture *fx = *state;
  char err[2048];
  load_bad(fx, "sinks = { pager = { command = {'notify'}, timout_ms = 500 } }\n", err, sizeof err);
  assert_contains(err, "sink 'pager': unknown field 'timout_ms' (did you mean 'timeout_ms'?)");
  load_bad(fx, "digests = { morning = { schedul = '0 6 * * *' } }\n", err, sizeof err);
  assert_contains(err, "digest 'morning': unknown field 'schedul' (did you mean 'schedule'?)");
  load_bad(fx, "digests = { morning = { schedule = '0 6 * * *', days = 'seven' } }\n", err,
           sizeof err);
  assert_contains(err, "digest 'morning': 'days' must be a number, not a string");
  load_bad(fx,
           "feeds = { { url = 'http://a.test/rss' },\n"
           "          { url = 'http://b.test/rss', intervall = 60 } }\n",
           err, sizeof err);
  assert_contains(err, "feed 2: unknown field 'intervall' (did you mean 'interval'?)");
  load_bad(fx, "feeds = { { url = 'http://a.test/rss', colour = 'red' } }\n", err, sizeof err);
  assert_contains(err, "feed 1: unknown field 'colour'");
  assert_null(strstr(err, "did you mean"));
  load_bad(fx, "feeds = { url = 'http://a.test/rss' }\n", err, sizeof err); /* one, not a list */
  assert_contains(err, "'feeds' must be a list of { url = ... }, not a table with a key url");
  assert_int_equal(fx->cfg.nsinks, 0);
  assert_int_equal(fx->cfg.nfeeds, 0);
  assert_int_equal(fx->cfg.ndigests, 2); /* the shipped ones */
}

/* rules is a path or a list of paths; a flag replaces the file's list,
 * then adds to it. Where each setting came from is kept. */
static void test_rules_paths_and_origins(void **state) {
  fixture *fx = *state;
  int rules = vg_config_find("rules"), db = vg_config_find("db");
  assert_true(rules >= 0 && db >= 0);
  assert_int_equal(fx->cfg.origin[rules], VG_ORIGIN_DEFAULT);
  load_ok(fx, "rules = { 'rules', 'site/rules', 'extra.lua' }\n");
  assert_int_equal(vg_config_nrules(&fx->cfg), 3);
  assert_string_equal(fx->cfg.rules[1], "site/rules");
  assert_string_equal(fx->cfg.rules[2], "extra.lua");
  assert_null(fx->cfg.rules[3]);
  assert_int_equal(fx->cfg.origin[rules], VG_ORIGIN_FILE);
  assert_int_equal(fx->cfg.origin[db], VG_ORIGIN_DEFAULT);
  assert_string_equal(fx->cfg.file, fx->path);
  load_ok(fx, "rules = 'mine'\n");
  assert_int_equal(vg_config_nrules(&fx->cfg), 1);
  assert_string_equal(fx->cfg.rules[0], "mine");
  char err[512];
  assert_int_equal(vg_config_set_flag(&fx->cfg, "rules", "a", err, sizeof err), 0);
  assert_int_equal(vg_config_set_flag(&fx->cfg, "rules", "b", err, sizeof err), 0);
  assert_int_equal(vg_config_nrules(&fx->cfg), 2);
  assert_string_equal(fx->cfg.rules[0], "a");
  assert_string_equal(fx->cfg.rules[1], "b");
  assert_int_equal(fx->cfg.origin[rules], VG_ORIGIN_FLAG);
  assert_int_equal(vg_config_set_flag(&fx->cfg, "batch_max", "none", err, sizeof err), VG_EINVAL);
  assert_contains(err, "'batch_max' must be a whole number, not 'none'");
  assert_int_equal(vg_config_set_flag(&fx->cfg, "colour", "red", err, sizeof err), VG_EINVAL);
  load_bad(fx, "rules = { 'a', 3 }\n", err, sizeof err);
  assert_contains(err, "'rules' must be a path or a list of paths");
  load_bad(fx, "rules = ''\n", err, sizeof err);
  assert_contains(err, "'rules' must be a path or a list of paths");
  assert_string_equal(fx->cfg.rules[1], "b"); /* as the flags left it */
}

/* The value shown of a setting; a token is never shown. */
static void test_values_shown(void **state) {
  fixture *fx = *state;
  load_ok(fx, "tcp_token = 'a-token-of-24-characters'\nrules = { 'x', 'y' }\n");
  for (size_t i = 0; vg_config_setting(i); i++) {
    cJSON *v = vg_config_value(&fx->cfg, i);
    assert_non_null(v);
    char *text = cJSON_PrintUnformatted(v);
    const char *name = vg_config_setting(i)->name;
    if (strcmp(name, "tcp_token") == 0) assert_string_equal(text, "\"(hidden)\"");
    if (strcmp(name, "rules") == 0) assert_string_equal(text, "[\"x\",\"y\"]");
    if (strcmp(name, "max_line") == 0) assert_string_equal(text, "1048576");
    assert_null(strstr(text, "a-token"));
    free(text);
    cJSON_Delete(v);
  }
  assert_null(vg_config_setting(VG_CONFIG_MAX));
}

int main(void) {
  vg_log_set_level(VG_LOG_WARN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_defaults),
      T(test_link_base),
      T(test_resolve_defaults_keep_the_checkout_layout),
      T(test_resolve_beside_the_database),
      T(test_resolve_under_state_dir),
      T(test_resolve_keeps_what_is_set),
      T(test_file_settings_are_taken),
      T(test_file_may_compute_values),
      T(test_second_load_replaces_first),
      T(test_syntax_error_names_file_and_line),
      T(test_wrong_type_names_the_setting),
      T(test_zero_or_negative_size_rejected),
      T(test_numbers_that_would_wrap_are_refused),
      T(test_unknown_time_zone_is_refused),
      T(test_unknown_format_rejected),
      T(test_io_library_is_absent),
      T(test_os_library_is_absent),
      T(test_loading_other_code_is_absent),
      T(test_unknown_log_level_rejected),
      T(test_unknown_durability_rejected),
      T(test_missing_file_rejected),
      T(test_runtime_error_keeps_config),
      T(test_error_that_is_not_a_string_names_file),
      T(test_file_is_held_to_a_budget),
      T(test_follow_redirects),
      T(test_tcp_token),
      T(test_sink_queue_max),
      T(test_unknown_setting_names_the_nearest),
      T(test_wrong_type_names_setting_and_line),
      T(test_nested_tables_are_checked),
      T(test_rules_paths_and_origins),
      T(test_values_shown),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
