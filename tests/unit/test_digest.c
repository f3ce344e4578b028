/* test_digest.c — scheduled digests of digest.h: periods, what is due, and
 * rendering.
 *
 * Periods: the days before the local date a digest runs on. Due runs: with
 * an injected "now" (no sleeping) and the last period written, which runs a
 * start-up catch-up writes (only the latest, or all of them oldest first up
 * to a maximum). Rendering: a store in memory filled through the ingestion
 * path with the shipped rules/ (found next to this source file, as
 * test_rules.c finds them), rendered with the shipped templates and with
 * templates written here, into a temporary directory: the file names, the
 * list of files written, the Markdown, HTML and JSON, the record of the run,
 * an empty period, and templates that are missing, fail, loop or reach for
 * what the sandbox withholds. Every test runs with TZ=UTC unless it says
 * otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "date.h"
#include "digest.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)
#define assert_not_contains(hay, needle)                                                           \
  do {                                                                                             \
    if (strstr((hay), (needle))) fail_msg("did not expect \"%s\" in \"%s\"", (needle), (hay));     \
  } while (0)

typedef struct {
  char dir[64];     /* the temporary output directory */
  vg_store *st;     /* in memory */
  vg_rules *rules;  /* the shipped rules, once loaded */
  char *files;      /* what the last render listed */
  char err[1024];   /* what the last render said */
  char *texts[16];  /* files read, freed at teardown (a failed assertion leaves no leak) */
  cJSON *docs[16];  /* JSON parsed, likewise */
  int ntexts, ndocs;
} fixture;

static void use_zone(const char *tz) {
  setenv("TZ", tz, 1);
  tzset();
}

static int setup(void **state) {
  use_zone("UTC");
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-digest-XXXXXX");
  char err[256] = "";
  if (!mkdtemp(fx->dir) ||
      !(fx->st = vg_store_open(":memory:", VG_STORE_SYNC_NORMAL, err, sizeof err))) {
    fprintf(stderr, "setup: %s\n", err);
    rmdir(fx->dir);
    free(fx);
    return -1;
  }
  *state = fx;
  return 0;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int teardown(void **state) {
  fixture *fx = *state;
  free(fx->files);
  for (int i = 0; i < fx->ntexts; i++) free(fx->texts[i]);
  for (int i = 0; i < fx->ndocs; i++) cJSON_Delete(fx->docs[i]);
  vg_rules_free(fx->rules);
  vg_store_close(fx->st);
  nftw(fx->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  free(fx);
  use_zone("UTC");
  return 0;
}

/* ---- helpers ---- */

/* A UTC instant. */
static time_t utc(int y, int mo, int d, int h, int mi, int s) {
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                  .tm_hour = h, .tm_min = mi, .tm_sec = s};
  return timegm(&tm);
}

/* t in local time as "YYYY-MM-DD HH:MM", from four rotating buffers. */
static const char *when(time_t t) {
  static char buf[4][32];
  static int next;
  char *b = buf[next++ % 4];
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(b, 32, "%Y-%m-%d %H:%M", &tm);
  return b;
}

/* A day number as YYYY-MM-DD, from four rotating buffers. */
static const char *day_text(int32_t day) {
  static char buf[4][11];
  static int next;
  char *b = buf[next++ % 4];
  vg_day_format(day, b);
  return b;
}

static int32_t day_of(int y, int m, int d) { return vg_days_from_civil(y, m, d); }

/* A digest that writes every format into fx->dir. */
static vg_digest_conf conf(fixture *fx, const char *name, int days, const char *template) {
  vg_digest_conf d = {0};
  d.name = (char *)name;
  d.schedule = (char *)(days == 7 ? "0 8 * * mon" : "0 7 * * *");
  d.days = days;
  d.template = (char *)template;
  d.formats = VG_DIGEST_MD | VG_DIGEST_HTML | VG_DIGEST_JSON;
  d.out = fx->dir;
  return d;
}

static vg_cron cron_of(const char *spec) {
  vg_cron c;
  char err[256] = "";
  if (vg_cron_parse(spec, &c, err, sizeof err)) fail_msg("\"%s\": %s", spec, err);
  return c;
}

/* The shipped rules/ directory, found next to this source file. */
static void shipped_rules_dir(char *dir, size_t cap) {
  snprintf(dir, cap, "%s", __FILE__);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, cap, ".");
  strncat(dir, "/../../rules", cap - strlen(dir) - 1);
}

static void collect_report(void *ud, const char *file, const char *msg) {
  (void)file;
  char *text = ud;
  size_t used = strlen(text);
  snprintf(text + used, 4096 - used, "%s\n", msg);
}

/* Stores the lines through the ingestion path with the shipped rules, in one
 * transaction, as `vigil ingest --rules` does. */
static void ingest(fixture *fx, const char *const *lines, size_t n) {
  if (!fx->rules) {
    char dir[PATH_MAX], reports[4096] = "";
    int errors = 0;
    shipped_rules_dir(dir, sizeof dir);
    vg_rules_limits lim = VG_RULES_LIMITS_DEFAULT;
    fx->rules = vg_rules_load(dir, NULL, &lim, collect_report, reports, &errors);
    assert_non_null(fx->rules);
    if (errors) fail_msg("the shipped rules in %s did not load: %s", dir, reports);
  }
  vg_ingest ig = {fx->st, fx->rules, NULL, NULL, NULL};
  assert_int_equal(vg_store_begin(fx->st), 0);
  for (size_t i = 0; i < n; i++) {
    vg_line l = {0};
    l.data = lines[i];
    l.len = l.total = strlen(lines[i]);
    l.line_no = i + 1;
    l.format = VG_FORMAT_AUTO;
    l.source = "desk";
    l.max_line = 1 << 20;
    vg_result r;
    assert_int_equal(vg_ingest_line(&ig, &l, &r, NULL), 0);
    if (r.status != VG_STORED) fail_msg("\"%s\" was not stored: %s", lines[i], r.reason);
  }
  assert_int_equal(vg_ingest_flush(&ig), 0);
  assert_int_equal(vg_store_commit(fx->st), 0);
}

/* A few days of December 2023: one week (the 13th to the 19th) and a little
 * on either side of it. */
static const char *const december[] = {
    "Dec. 1, 2023: Seoul put eleven North Koreans tied to the spy satellite program under sanctions.",
    "Dec. 9, 2023: The national security advisers of South Korea, the US and Japan met in Seoul.",
    "Dec. 14, 2023: Two Chinese and four Russian military planes entered South Korea's air defense "
    "identification zone.",
    "Dec. 15, 2023: South Korean and American officials met in Washington for the second session of "
    "the Nuclear Consultative Group.",
    "Dec. 18, 2023: North Korea launched a solid-fuel Hwasong-18 ICBM.",
    "Dec. 19, 2023: South Korea, Japan and the US said their real-time sharing of missile warning "
    "data was fully running.",
    "Dec. 20, 2023: US B-1B bombers flew with South Korean and Japanese fighter jets in a combined "
    "air drill.",
};
#define NDECEMBER (sizeof december / sizeof december[0])

static void ingest_december(fixture *fx) { ingest(fx, december, NDECEMBER); }

/* Renders d for p into fx->dir (out_dir) or d->out (NULL); returns the status
 * and keeps the list of files and the error in fx. */
static int render(fixture *fx, const vg_digest_conf *d, vg_period p, const char *out_dir,
                  int record) {
  free(fx->files);
  fx->files = NULL;
  fx->err[0] = '\0';
  return vg_digest_render(fx->st, d, p, out_dir, record, &fx->files, fx->err, sizeof fx->err);
}

static void render_ok(fixture *fx, const vg_digest_conf *d, vg_period p, int record) {
  int rc = render(fx, d, p, fx->dir, record);
  if (rc) fail_msg("rendering %s failed (%d): %s", d->name, rc, fx->err);
  assert_non_null(fx->files);
}

/* fx->dir/name */
static const char *path_in(fixture *fx, const char *name) {
  static char buf[4][PATH_MAX];
  static int next;
  char *b = buf[next++ % 4];
  snprintf(b, PATH_MAX, "%s/%s", fx->dir, name);
  return b;
}

/* The whole file, NUL-ended (freed at teardown); fails the test when it
 * cannot be read. */
static char *slurp(fixture *fx, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  assert_non_null(s);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = '\0';
  fclose(f);
  assert_true(fx->ntexts < 16);
  fx->texts[fx->ntexts++] = s;
  return s;
}

/* The file parsed as JSON (freed at teardown). */
static cJSON *json_file(fixture *fx, const char *path) {
  char *text = slurp(fx, path);
  cJSON *j = cJSON_Parse(text);
  if (!j) fail_msg("%s does not parse as JSON near \"%.40s\"", path, cJSON_GetErrorPtr());
  assert_true(fx->ndocs < 16);
  fx->docs[fx->ndocs++] = j;
  return j;
}

/* How many names the directory holds, besides . and .. */
static int files_in(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
  closedir(d);
  return n;
}

/* Writes a template into fx->dir and points d at it. */
static const char *template_file(fixture *fx, const char *name, const char *text) {
  const char *p = path_in(fx, name);
  assert_int_equal(support_write_file(fx->dir, name, text), 0);
  return p;
}

/* Whether a run of `name` is recorded; its last day goes to last. */
static int recorded(fixture *fx, const char *name, char last[11]) {
  char ran[32] = "";
  int rc = vg_store_digest_last(fx->st, name, last, ran);
  assert_true(rc == 0 || rc == 1);
  if (rc == 1) {
    /* when it ran, in UTC: YYYY-MM-DDTHH:MM:SSZ */
    assert_int_equal(strlen(ran), 20);
    assert_int_equal(ran[10], 'T');
    assert_int_equal(ran[19], 'Z');
  }
  return rc;
}

/* The item of array `a` whose string member k is v, or NULL. */
static cJSON *find_by(cJSON *a, const char *k, const char *v) {
  cJSON *it;
  cJSON_ArrayForEach(it, a) {
    cJSON *s = cJSON_GetObjectItemCaseSensitive(it, k);
    if (cJSON_IsString(s) && strcmp(s->valuestring, v) == 0) return it;
  }
  return NULL;
}

static const char *str_at(cJSON *o, const char *k) {
  cJSON *s = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsString(s)) fail_msg("member '%s' is not a string", k);
  return s->valuestring;
}

/* ---- periods ---- */

static void test_period_of_day(void **state) {
  fixture *fx = *state;
  vg_digest_conf week = conf(fx, "weekly", 7, "weekly"), day = conf(fx, "daily", 1, "daily");
  int32_t dec20 = day_of(2023, 12, 20);
  vg_period p = vg_digest_period_of_day(&week, dec20);
  assert_string_equal(day_text(p.first), "2023-12-13");
  assert_string_equal(day_text(p.last), "2023-12-19");
  p = vg_digest_period_of_day(&day, dec20);
  assert_string_equal(day_text(p.first), "2023-12-19");
  assert_string_equal(day_text(p.last), "2023-12-19");
  p = vg_digest_period_of_day(&day, day_of(2024, 3, 1)); /* the day before is a leap day */
  assert_string_equal(day_text(p.last), "2024-02-29");
  vg_digest_conf month = conf(fx, "monthly", 31, "weekly");
  p = vg_digest_period_of_day(&month, day_of(2024, 1, 1));
  assert_string_equal(day_text(p.first), "2023-12-01");
  assert_string_equal(day_text(p.last), "2023-12-31");
}

static void test_period_reads_the_local_date(void **state) {
  fixture *fx = *state;
  vg_digest_conf week = conf(fx, "weekly", 7, "weekly"), day = conf(fx, "daily", 1, "daily");
  vg_period p = vg_digest_period(&week, utc(2023, 12, 20, 8, 0, 0));
  assert_string_equal(day_text(p.first), "2023-12-13");
  assert_string_equal(day_text(p.last), "2023-12-19");
  p = vg_digest_period(&day, utc(2023, 12, 20, 0, 0, 0));
  assert_string_equal(day_text(p.last), "2023-12-19");
  p = vg_digest_period(&day, utc(2023, 12, 19, 23, 59, 59));
  assert_string_equal(day_text(p.last), "2023-12-18");
  /* in Seoul, 20:00 UTC on the 19th is already 05:00 on the 20th */
  use_zone(access("/usr/share/zoneinfo/Asia/Seoul", R_OK) == 0 ? "Asia/Seoul" : "KST-9");
  p = vg_digest_period(&day, utc(2023, 12, 19, 20, 0, 0));
  assert_string_equal(day_text(p.first), "2023-12-19");
  assert_string_equal(day_text(p.last), "2023-12-19");
  p = vg_digest_period(&week, utc(2023, 12, 19, 20, 0, 0));
  assert_string_equal(day_text(p.first), "2023-12-13");
}

/* ---- due runs ---- */

static void test_due_never_run_writes_only_the_latest(void **state) {
  fixture *fx = *state;
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  vg_cron c = cron_of(d.schedule);
  time_t runs[32];
  int n = vg_digest_due(&d, &c, INT32_MIN, utc(2023, 12, 20, 12, 0, 0), runs, 32);
  assert_int_equal(n, 1);
  assert_string_equal(when(runs[0]), "2023-12-20 07:00");
  assert_string_equal(day_text(vg_digest_period(&d, runs[0]).last), "2023-12-19");
}

static void test_due_never_run_catch_up_all_oldest_first(void **state) {
  fixture *fx = *state;
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  d.catch_up_all = 1;
  vg_cron c = cron_of(d.schedule);
  time_t runs[32];
  int n = vg_digest_due(&d, &c, INT32_MIN, utc(2023, 12, 20, 12, 0, 0), runs, 5);
  assert_int_equal(n, 5);
  assert_string_equal(when(runs[0]), "2023-12-16 07:00");
  assert_string_equal(when(runs[1]), "2023-12-17 07:00");
  assert_string_equal(when(runs[2]), "2023-12-18 07:00");
  assert_string_equal(when(runs[3]), "2023-12-19 07:00");
  assert_string_equal(when(runs[4]), "2023-12-20 07:00");
  n = vg_digest_due(&d, &c, INT32_MIN, utc(2023, 12, 20, 12, 0, 0), runs, 1);
  assert_int_equal(n, 1);
  assert_string_equal(when(runs[0]), "2023-12-20 07:00");
}

static void test_due_nothing_when_the_period_is_recorded(void **state) {
  fixture *fx = *state;
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  vg_cron c = cron_of(d.schedule);
  time_t runs[32], now = utc(2023, 12, 20, 12, 0, 0);
  assert_int_equal(vg_digest_due(&d, &c, day_of(2023, 12, 19), now, runs, 32), 0);
  d.catch_up_all = 1;
  assert_int_equal(vg_digest_due(&d, &c, day_of(2023, 12, 19), now, runs, 32), 0);
  /* a record of a later period (the clock went back): nothing either */
  assert_int_equal(vg_digest_due(&d, &c, day_of(2023, 12, 25), now, runs, 32), 0);
  /* before today's run, yesterday's is the latest: recorded, nothing due */
  assert_int_equal(vg_digest_due(&d, &c, day_of(2023, 12, 18), utc(2023, 12, 20, 6, 59, 59), runs, 32), 0);
}

static void test_due_after_three_days_down(void **state) {
  fixture *fx = *state;
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  vg_cron c = cron_of(d.schedule);
  time_t runs[32], now = utc(2023, 12, 20, 12, 0, 0);
  /* the last run written was Dec. 17 at 07:00, for Dec. 16; down since */
  int32_t last = day_of(2023, 12, 16);
  int n = vg_digest_due(&d, &c, last, now, runs, 32);
  assert_int_equal(n, 1);
  assert_string_equal(when(runs[0]), "2023-12-20 07:00");
  d.catch_up_all = 1;
  n = vg_digest_due(&d, &c, last, now, runs, 32);
  assert_int_equal(n, 3);
  assert_string_equal(when(runs[0]), "2023-12-18 07:00");
  assert_string_equal(when(runs[1]), "2023-12-19 07:00");
  assert_string_equal(when(runs[2]), "2023-12-20 07:00");
  assert_string_equal(day_text(vg_digest_period(&d, runs[0]).last), "2023-12-17");
  /* more missed than max: the newest max of them, still oldest first */
  n = vg_digest_due(&d, &c, last, now, runs, 2);
  assert_int_equal(n, 2);
  assert_string_equal(when(runs[0]), "2023-12-19 07:00");
  assert_string_equal(when(runs[1]), "2023-12-20 07:00");
}

static void test_due_at_the_scheduled_minute(void **state) {
  fixture *fx = *state;
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  vg_cron c = cron_of(d.schedule);
  time_t runs[32];
  int32_t last = day_of(2023, 12, 18);
  assert_int_equal(vg_digest_due(&d, &c, last, utc(2023, 12, 20, 7, 0, 0), runs, 32), 1);
  assert_string_equal(when(runs[0]), "2023-12-20 07:00");
  assert_int_equal(vg_digest_due(&d, &c, last, utc(2023, 12, 20, 6, 59, 0), runs, 32), 0);
  assert_int_equal(vg_digest_due(&d, &c, INT32_MIN, utc(2023, 12, 20, 6, 59, 0), runs, 32), 1);
  assert_string_equal(when(runs[0]), "2023-12-19 07:00");
}

static void test_due_weekly(void **state) {
  fixture *fx = *state;
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  vg_cron c = cron_of(d.schedule);
  time_t runs[32], now = utc(2023, 12, 20, 12, 0, 0); /* a Wednesday */
  int n = vg_digest_due(&d, &c, INT32_MIN, now, runs, 32);
  assert_int_equal(n, 1);
  assert_string_equal(when(runs[0]), "2023-12-18 08:00");
  vg_period p = vg_digest_period(&d, runs[0]);
  assert_string_equal(day_text(p.first), "2023-12-11");
  assert_string_equal(day_text(p.last), "2023-12-17");
  assert_int_equal(vg_digest_due(&d, &c, day_of(2023, 12, 17), now, runs, 32), 0);
  d.catch_up_all = 1;
  n = vg_digest_due(&d, &c, day_of(2023, 11, 26), now, runs, 32); /* written up to Nov. 27's */
  assert_int_equal(n, 3);
  assert_string_equal(when(runs[0]), "2023-12-04 08:00");
  assert_string_equal(when(runs[2]), "2023-12-18 08:00");
}

/* A schedule that fires several times a day with days = 1 has one period
 * per day: a catch-up writes each missed period once, not once per firing. */
static void test_due_each_period_once(void **state) {
  fixture *fx = *state;
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  d.schedule = "0 */6 * * *";
  d.catch_up_all = 1;
  vg_cron c = cron_of(d.schedule);
  time_t runs[32];
  /* written up to Dec. 16; now Dec. 20 at noon: Dec. 17, 18 and 19 missing */
  int n = vg_digest_due(&d, &c, day_of(2023, 12, 16), utc(2023, 12, 20, 12, 0, 0), runs, 32);
  char got[512] = "";
  for (int i = 0; i < n; i++) {
    size_t used = strlen(got);
    snprintf(got + used, sizeof got - used, "%s%s", i ? "," : "",
             day_text(vg_digest_period(&d, runs[i]).last));
  }
  assert_string_equal(got, "2023-12-17,2023-12-18,2023-12-19");
}

/* Where the clocks go forward, a run at 02:30 has no time to happen on that
 * day; the period it would have written must not be lost for good. */
static void test_due_across_a_clock_change(void **state) {
  fixture *fx = *state;
  if (access("/usr/share/zoneinfo/America/New_York", R_OK) != 0) skip();
  use_zone("America/New_York");
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  d.schedule = "30 2 * * *";
  d.catch_up_all = 1;
  vg_cron c = cron_of(d.schedule);
  time_t runs[32];
  /* written up to the period of Mar. 8, 2024 (the run of the 9th); now the
   * 12th at noon local time. 02:30 on Mar. 10 did not exist. */
  int n = vg_digest_due(&d, &c, day_of(2024, 3, 8), utc(2024, 3, 12, 16, 0, 0), runs, 32);
  char got[256] = "";
  for (int i = 0; i < n; i++) {
    size_t used = strlen(got);
    snprintf(got + used, sizeof got - used, "%s%s", i ? "," : "",
             day_text(vg_digest_period(&d, runs[i]).last));
  }
  /* the periods of Mar. 9, 10 and 11 are all missing */
  assert_string_equal(got, "2024-03-09,2024-03-10,2024-03-11");
}

/* ---- rendering ---- */

static void test_render_weekly_writes_three_files(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), 0);
  char expected[3 * PATH_MAX];
  snprintf(expected, sizeof expected, "%s\n%s\n%s\n", path_in(fx, "weekly-2023-12-13_2023-12-19.md"),
           path_in(fx, "weekly-2023-12-13_2023-12-19.html"),
           path_in(fx, "weekly-2023-12-13_2023-12-19.json"));
  assert_string_equal(fx->files, expected);
  assert_int_equal(files_in(fx->dir), 3); /* and no temporary file left */

  char *md = slurp(fx, path_in(fx, "weekly-2023-12-13_2023-12-19.md"));
  assert_true(strncmp(md, "# Weekly digest: 2023-12-13 to 2023-12-19\n", 42) == 0);
  assert_contains(md, "*Period: 2023-12-13 to 2023-12-19 (7 days).* 4 entries and 3 alerts");
  assert_contains(md, "## Alerts (3)");
  assert_contains(md, "- **crit** 2023-12-18, icbm-launch: strategic missile launch");
  assert_contains(md, "## Launches (1)\n\n- 2023-12-18: North Korea launched a solid-fuel "
                      "Hwasong-18 ICBM. *(desk)* `actor:north-korea by:north-korea launch`\n");
  assert_contains(md, "## Exercises and shows of force (1)\n\n- 2023-12-14: Two Chinese");
  assert_contains(md, "## Meetings and visits (1)\n\n- 2023-12-15: South Korean and American");
  assert_contains(md, "## Other entries (1)\n\n- 2023-12-19: South Korea, Japan and the US");
  assert_not_contains(md, "## Sanctions"); /* Dec. 1 is outside the week */
  assert_not_contains(md, "launch-then-exercise"); /* dated Dec. 20, on the drill */
  assert_not_contains(md, "2023-12-20");
  assert_not_contains(md, "2023-12-09");
  assert_contains(md, "| launch | 1 | 0 | +1 |");
  assert_contains(md, "| meeting | 1 | 1 | = |"); /* Dec. 9 was the week before */
  assert_int_equal(md[strlen(md) - 1], '\n');

  char *html = slurp(fx, path_in(fx, "weekly-2023-12-13_2023-12-19.html"));
  assert_true(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
  assert_contains(html, "<title>Weekly digest: 2023-12-13 to 2023-12-19</title>");
  assert_contains(html, "<img alt=\"Timeline of the period");
  assert_contains(html, "src=\"data:image/svg+xml;base64,PHN2Zy");   /* "<svg" */
  assert_contains(html, "South Korea&#39;s air defense");             /* escaped */
  assert_contains(html, "<h2>Launches (1)</h2>");
  assert_contains(html, "</html>\n");
}

static void test_render_json_document(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), 0);
  cJSON *j = json_file(fx, path_in(fx, "weekly-2023-12-13_2023-12-19.json"));
  assert_string_equal(str_at(j, "title"), "Weekly digest: 2023-12-13 to 2023-12-19");
  assert_string_equal(str_at(j, "digest"), "weekly");
  cJSON *period = cJSON_GetObjectItemCaseSensitive(j, "period");
  assert_non_null(period);
  assert_string_equal(str_at(period, "first"), "2023-12-13");
  assert_string_equal(str_at(period, "last"), "2023-12-19");
  assert_int_equal(cJSON_GetObjectItemCaseSensitive(period, "days")->valueint, 7);
  assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "empty")));

  cJSON *sections = cJSON_GetObjectItemCaseSensitive(j, "sections");
  assert_true(cJSON_IsArray(sections));
  assert_int_equal(cJSON_GetArraySize(sections), 4);
  static const struct { const char *tag, *heading, *starts; } want[] = {
      {"launch", "Launches", "North Korea launched"},
      {"exercise", "Exercises and shows of force", "Two Chinese and four Russian"},
      {"meeting", "Meetings and visits", "South Korean and American officials"},
      {"other", "Other entries", "South Korea, Japan and the US"},
  };
  for (size_t i = 0; i < 4; i++) {
    cJSON *s = cJSON_GetArrayItem(sections, (int)i);
    assert_string_equal(str_at(s, "tag"), want[i].tag);
    assert_string_equal(str_at(s, "heading"), want[i].heading);
    cJSON *entries = cJSON_GetObjectItemCaseSensitive(s, "entries");
    assert_true(cJSON_IsArray(entries));
    assert_int_equal(cJSON_GetArraySize(entries), 1);
    cJSON *e = cJSON_GetArrayItem(entries, 0);
    assert_true(strncmp(str_at(e, "text"), want[i].starts, strlen(want[i].starts)) == 0);
    assert_string_equal(str_at(e, "source"), "desk");
    assert_string_equal(str_at(e, "precision"), "day");
    cJSON *tags = cJSON_GetObjectItemCaseSensitive(e, "tags");
    assert_true(cJSON_IsArray(tags));
  }
  cJSON *launch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sections, 0), "entries"), 0);
  assert_string_equal(str_at(launch, "date"), "2023-12-18");
  assert_int_equal(cJSON_GetObjectItemCaseSensitive(launch, "day")->valueint, day_of(2023, 12, 18));

  cJSON *alerts = cJSON_GetObjectItemCaseSensitive(j, "alerts");
  assert_true(cJSON_IsArray(alerts));
  assert_int_equal(cJSON_GetArraySize(alerts), 3);
  cJSON *icbm = find_by(alerts, "rule", "icbm-launch");
  assert_non_null(icbm);
  assert_string_equal(str_at(icbm, "severity"), "crit");
  assert_string_equal(str_at(icbm, "date"), "2023-12-18");
  cJSON *ents = cJSON_GetObjectItemCaseSensitive(icbm, "entries");
  assert_true(cJSON_IsArray(ents));
  assert_int_equal(cJSON_GetArraySize(ents), 1);
  assert_int_equal(cJSON_GetArrayItem(ents, 0)->valueint,
                   cJSON_GetObjectItemCaseSensitive(launch, "id")->valueint);
  assert_non_null(find_by(alerts, "rule", "dprk-launch"));
  assert_null(find_by(alerts, "rule", "sanctions-news"));       /* dated Dec. 1 */
  assert_null(find_by(alerts, "rule", "launch-then-exercise")); /* dated Dec. 20 */

  cJSON *counts = cJSON_GetObjectItemCaseSensitive(j, "counts");
  assert_true(cJSON_IsArray(counts));
  cJSON *meeting = find_by(counts, "tag", "meeting");
  assert_non_null(meeting);
  assert_int_equal(cJSON_GetObjectItemCaseSensitive(meeting, "count")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItemCaseSensitive(meeting, "previous")->valueint, 1);
  assert_null(find_by(counts, "tag", "sanctions"));
}

static void test_render_one_day_period_is_named_by_its_day(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  vg_digest_conf d = conf(fx, "daily", 1, "daily");
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 19)), 0);
  char expected[3 * PATH_MAX];
  snprintf(expected, sizeof expected, "%s\n%s\n%s\n", path_in(fx, "daily-2023-12-18.md"),
           path_in(fx, "daily-2023-12-18.html"), path_in(fx, "daily-2023-12-18.json"));
  assert_string_equal(fx->files, expected);
  char *md = slurp(fx, path_in(fx, "daily-2023-12-18.md"));
  assert_true(strncmp(md, "# Daily digest: 2023-12-18\n", 27) == 0);
  assert_contains(md, "(1 day)");
  assert_contains(md, "## Entries (1)\n\n- 2023-12-18: North Korea launched");
  assert_contains(md, "## Alerts (3)");
  cJSON *j = json_file(fx, path_in(fx, "daily-2023-12-18.json"));
  cJSON *period = cJSON_GetObjectItemCaseSensitive(j, "period");
  assert_string_equal(str_at(period, "first"), "2023-12-18");
  assert_string_equal(str_at(period, "last"), "2023-12-18");
}

static void test_render_records_the_run_only_when_asked(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  vg_period p = vg_digest_period_of_day(&d, day_of(2023, 12, 20));
  char last[11] = "";
  assert_int_equal(recorded(fx, "weekly", last), 0);
  render_ok(fx, &d, p, 0);
  assert_int_equal(recorded(fx, "weekly", last), 0);
  render_ok(fx, &d, p, 1);
  assert_int_equal(recorded(fx, "weekly", last), 1);
  assert_string_equal(last, "2023-12-19");
  /* an earlier period recorded later does not move the last one back */
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 13)), 1);
  assert_int_equal(recorded(fx, "weekly", last), 1);
  assert_string_equal(last, "2023-12-19");
  /* the same period again is kept once, and is no error */
  render_ok(fx, &d, p, 1);
  assert_int_equal(recorded(fx, "daily", last), 0); /* another digest's record is its own */
}

static void test_render_formats_and_configured_directory(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  char out[PATH_MAX];
  snprintf(out, sizeof out, "%s/not/yet/there", fx->dir);
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  d.out = out;
  d.formats = VG_DIGEST_MD | VG_DIGEST_JSON;
  int rc = render(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), NULL, 0);
  if (rc) fail_msg("render: %s", fx->err);
  char expected[3 * PATH_MAX];
  snprintf(expected, sizeof expected, "%s/weekly-2023-12-13_2023-12-19.md\n%s/weekly-2023-12-13_2023-12-19.json\n",
           out, out);
  assert_string_equal(fx->files, expected);
  assert_int_equal(files_in(out), 2);
}

static void test_render_empty_period_says_so(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2020, 1, 1)), 1);
  char *md = slurp(fx, path_in(fx, "weekly-2019-12-25_2019-12-31.md"));
  assert_contains(md, "# Weekly digest: 2019-12-25 to 2019-12-31");
  assert_contains(md, "Nothing was recorded");
  assert_not_contains(md, "## Alerts");
  char *html = slurp(fx, path_in(fx, "weekly-2019-12-25_2019-12-31.html"));
  assert_contains(html, "Nothing was recorded");
  assert_not_contains(html, "<img");
  cJSON *j = json_file(fx, path_in(fx, "weekly-2019-12-25_2019-12-31.json"));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "empty")));
  assert_contains(str_at(j, "summary"), "Nothing was recorded");
  char last[11];
  assert_int_equal(recorded(fx, "weekly", last), 1); /* an empty period is a period written */
  assert_string_equal(last, "2019-12-31");
  /* the daily template too, on an empty store */
  vg_digest_conf daily = conf(fx, "daily", 1, "daily");
  render_ok(fx, &daily, vg_digest_period_of_day(&daily, day_of(2020, 1, 1)), 0);
  md = slurp(fx, path_in(fx, "daily-2019-12-31.md"));
  assert_contains(md, "Nothing was recorded for 2019-12-31.");
}

/* JSON readers expect a list to stay a list: alerts, sections, counts and
 * tags are arrays, also when they happen to be empty. */
static void test_json_lists_are_arrays_even_when_empty(void **state) {
  fixture *fx = *state;
  static const char *const quiet[] = {"Dec. 16, 2023: Nothing of note was reported along the border."};
  ingest(fx, quiet, 1);
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), 0);
  cJSON *j = json_file(fx, path_in(fx, "weekly-2023-12-13_2023-12-19.json"));
  cJSON *sections = cJSON_GetObjectItemCaseSensitive(j, "sections");
  assert_true(cJSON_IsArray(sections));
  cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sections, 0), "entries"), 0);
  assert_non_null(e);
  cJSON *tags = cJSON_GetObjectItemCaseSensitive(e, "tags");
  cJSON *alerts = cJSON_GetObjectItemCaseSensitive(j, "alerts");
  int tags_array = cJSON_IsArray(tags), alerts_array = cJSON_IsArray(alerts);
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2020, 1, 1)), 0);
  j = json_file(fx, path_in(fx, "weekly-2019-12-25_2019-12-31.json"));
  int empty_sections = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "sections"));
  int empty_alerts = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "alerts"));
  int empty_counts = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "counts"));
  if (!tags_array || !alerts_array || !empty_sections || !empty_alerts || !empty_counts)
    fail_msg("written as objects, not arrays:%s%s%s%s%s", tags_array ? "" : " tags of an untagged entry",
             alerts_array ? "" : ", alerts of a period without any",
             empty_sections ? "" : ", sections of an empty period",
             empty_alerts ? "" : ", alerts of an empty period",
             empty_counts ? "" : ", counts of an empty period");
}

/* ---- what did not happen, and what changed ---- */

/* A launch nothing answered within 7 days (Nov. 21: its window closes on
 * Nov. 28), one answered by the drill of Dec. 20 (Dec. 17), and the drill,
 * late enough for the first absence to fire. */
static const char *const absences[] = {
    "Nov. 21, 2023: North Korea launched its Malligyong-1 reconnaissance satellite on a Chollima-1 rocket.",
    "Dec. 17, 2023: Late in the evening North Korea fired a short-range ballistic missile into the sea off its east coast.",
    "Dec. 20, 2023: US B-1B bombers flew with South Korean and Japanese fighter jets in a combined air drill.",
};

static void test_render_what_did_not_happen(void **state) {
  fixture *fx = *state;
  ingest(fx, absences, 3);
  vg_digest_conf daily = conf(fx, "daily", 1, "daily");
  render_ok(fx, &daily, vg_digest_period_of_day(&daily, day_of(2023, 11, 29)), 0);
  char *md = slurp(fx, path_in(fx, "daily-2023-11-28.md"));
  /* a day without entries still says what did not happen on it */
  assert_contains(md, "Nothing was recorded for 2023-11-28.");
  assert_contains(md, "## What did not happen (1)\n\n- **info** window closed 2023-11-28, "
                      "launch-without-response: no allied show of force within 7 days of: North "
                      "Korea launched its Malligyong-1 reconnaissance satellite on a Chollima-1 "
                      "rocket. *(entry 1, 2023-11-21)*\n");
  assert_not_contains(md, "## What changed"); /* nothing to say, in an empty digest */
  cJSON *j = json_file(fx, path_in(fx, "daily-2023-11-28.json"));
  cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "absences");
  assert_true(cJSON_IsArray(list));
  assert_int_equal(cJSON_GetArraySize(list), 1);
  cJSON *a = cJSON_GetArrayItem(list, 0);
  assert_string_equal(str_at(a, "rule"), "launch-without-response");
  assert_string_equal(str_at(a, "deadline"), "2023-11-28");
  cJSON *e = cJSON_GetObjectItemCaseSensitive(a, "entry");
  assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "id")->valueint, 1);
  assert_string_equal(str_at(e, "date"), "2023-11-21");
  /* the day before, the window was still open */
  render_ok(fx, &daily, vg_digest_period_of_day(&daily, day_of(2023, 11, 28)), 0);
  assert_not_contains(slurp(fx, path_in(fx, "daily-2023-11-27.md")), "What did not happen");
  /* the answered launch's window closes on Dec. 24: no line for it */
  vg_digest_conf weekly = conf(fx, "weekly", 7, "weekly");
  render_ok(fx, &weekly, vg_digest_period_of_day(&weekly, day_of(2023, 12, 25)), 0);
  md = slurp(fx, path_in(fx, "weekly-2023-12-18_2023-12-24.md"));
  assert_contains(md, "## What did not happen (0)\n\nNo window closed unanswered.\n");
  char *html = slurp(fx, path_in(fx, "weekly-2023-12-18_2023-12-24.html"));
  assert_contains(html, "<h2>What did not happen (0)</h2>\n<p>No window closed unanswered.</p>");
}

static void test_render_what_changed_since_the_previous_run(void **state) {
  fixture *fx = *state;
  ingest(fx, absences, 3);
  /* a launch five days before the drill: the launch-then-exercise alert
   * names it too (version 2) */
  static const char *const late[] = {
      "Dec. 15, 2023: North Korea fired a cruise missile off its west coast."};
  ingest(fx, late, 1);
  vg_digest_conf d = conf(fx, "weekly", 7, "weekly");
  vg_period week = vg_digest_period_of_day(&d, day_of(2023, 12, 18));
  render_ok(fx, &d, week, 1);
  char *md = slurp(fx, path_in(fx, "weekly-2023-12-11_2023-12-17.md"));
  assert_contains(md, "## What changed (1)\n\n*Since the start of the period, "
                      "2023-12-11T00:00:00Z (no earlier digest was written).*\n\n- alert ");
  assert_contains(md, " (launch-then-exercise) amended to version 2 at ");
  cJSON *j = json_file(fx, path_in(fx, "weekly-2023-12-11_2023-12-17.json"));
  assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "changes_after_run")));
  cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "changes"), 0);
  assert_non_null(c);
  assert_string_equal(str_at(c, "kind"), "amend");
  assert_int_equal(cJSON_GetObjectItemCaseSensitive(c, "version")->valueint, 2);
  /* written again, the recorded period says what it said */
  render_ok(fx, &d, week, 0);
  assert_contains(slurp(fx, path_in(fx, "weekly-2023-12-11_2023-12-17.md")), "## What changed (1)");
  /* the next period starts from that run */
  char last[11], ran[32];
  assert_int_equal(vg_store_digest_last(fx->st, "weekly", last, ran), 1);
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 25)), 0);
  j = json_file(fx, path_in(fx, "weekly-2023-12-18_2023-12-24.json"));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "changes_after_run")));
  assert_string_equal(str_at(j, "changes_since"), ran);
  char want[80];
  snprintf(want, sizeof want, "*Since the previous digest, written %s.*", ran);
  assert_contains(slurp(fx, path_in(fx, "weekly-2023-12-18_2023-12-24.md")), want);
}

/* ---- templates ---- */

static void test_missing_template_name(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  vg_digest_conf d = conf(fx, "weekly", 7, "monthly");
  int rc = render(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), fx->dir, 1);
  assert_int_equal(rc, VG_EINVAL);
  assert_contains(fx->err, "no template 'monthly'");
  assert_contains(fx->err, "daily, weekly");
  assert_null(fx->files);
  assert_int_equal(files_in(fx->dir), 0);
  char last[11];
  assert_int_equal(recorded(fx, "weekly", last), 0);
  /* a path that does not exist */
  d.template = (char *)path_in(fx, "nowhere.lua");
  rc = render(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), fx->dir, 1);
  assert_int_equal(rc, VG_EINVAL);
  assert_contains(fx->err, "nowhere.lua");
  assert_int_equal(files_in(fx->dir), 0);
}

static void test_user_template_file(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  const char *tpl = template_file(
      fx, "mine.lua",
      "-- only the launches and the critical alerts\n"
      "local function crit(list)\n"
      "  local out = {}\n"
      "  for _, a in ipairs(list) do if a.severity == 'crit' then out[#out + 1] = a end end\n"
      "  return out\n"
      "end\n"
      "return function(d)\n"
      "  local launches = d.entries{ tag = 'launch' }\n"
      "  local counted = 0\n"
      "  for _, c in ipairs(d.counts()) do counted = counted + c.count end\n"
      "  return {\n"
      "    title = 'Launch watch ' .. d.period.first .. '/' .. d.period.last .. ' by ' .. digest.name,\n"
      "    period = d.period,\n"
      "    alerts = crit(d.alerts()),\n"
      "    sections = { { heading = 'Launches only', tag = 'launch', entries = launches } },\n"
      "    summary = ('%d launches; %d alerts from icbm-launch; %d in all entries; %d tag counts')\n"
      "      :format(#launches, #d.alerts{ rule = 'icbm-launch' }, #d.entries(), counted),\n"
      "    mine = true,\n"
      "  }\n"
      "end\n");
  vg_digest_conf d = conf(fx, "watch", 7, tpl);
  render_ok(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), 1);
  char *md = slurp(fx, path_in(fx, "watch-2023-12-13_2023-12-19.md"));
  assert_contains(md, "# Launch watch 2023-12-13/2023-12-19 by watch\n");
  assert_contains(md, "1 launches; 1 alerts from icbm-launch; 4 in all entries;");
  assert_contains(md, "## Alerts (1)\n\n- **crit** 2023-12-18, icbm-launch");
  assert_contains(md, "## Launches only (1)\n\n- 2023-12-18: North Korea launched");
  assert_not_contains(md, "Counts by tag"); /* it gave none */
  cJSON *j = json_file(fx, path_in(fx, "watch-2023-12-13_2023-12-19.json"));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "mine")));
  char last[11];
  assert_int_equal(recorded(fx, "watch", last), 1);
  assert_string_equal(last, "2023-12-19");
}

/* Renders the template text expecting a failure; checks that nothing was
 * written or recorded, and leaves the message in fx->err. */
static void render_fails(fixture *fx, const char *name, const char *text) {
  const char *tpl = template_file(fx, name, text);
  vg_digest_conf d = conf(fx, "broken", 7, tpl);
  char out[PATH_MAX];
  snprintf(out, sizeof out, "%s/out", fx->dir);
  int rc = render(fx, &d, vg_digest_period_of_day(&d, day_of(2023, 12, 20)), out, 1);
  if (rc == 0) fail_msg("template %s rendered: %s", name, fx->files);
  assert_int_equal(rc, VG_EINVAL);
  assert_contains(fx->err, name);
  assert_true(files_in(out) <= 0); /* no directory, or an empty one */
  char last[11];
  assert_int_equal(recorded(fx, "broken", last), 0);
}

static void test_template_that_errors(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  render_fails(fx, "raises.lua", "return function(d)\n  error('no such luck')\nend\n");
  assert_contains(fx->err, "raises.lua:2:");
  assert_contains(fx->err, "no such luck");
  render_fails(fx, "syntax.lua", "return function(d\n");
  assert_contains(fx->err, "syntax.lua");
  render_fails(fx, "nofunc.lua", "return 42\n");
  assert_contains(fx->err, "must return function(d)");
  render_fails(fx, "atload.lua", "error('at load time')\n");
  assert_contains(fx->err, "at load time");
  render_fails(fx, "badapi.lua", "return function(d) return d.entries{ limit = 'many' } end\n");
  assert_contains(fx->err, "badapi.lua");
}

static void test_template_without_a_document(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  render_fails(fx, "nothing.lua", "return function(d) end\n");
  assert_contains(fx->err, "document");
  render_fails(fx, "text.lua", "return function(d) return 'a digest, as text' end\n");
  assert_contains(fx->err, "document");
}

static void test_template_that_loops_runs_out_of_budget(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  time_t t0 = time(NULL);
  render_fails(fx, "loops.lua", "return function(d)\n  while true do end\nend\n");
  assert_contains(fx->err, "instruction budget");
  render_fails(fx, "loadloop.lua", "local n = 0\nwhile true do n = n + 1 end\nreturn function(d) end\n");
  assert_contains(fx->err, "instruction budget");
  assert_true(time(NULL) - t0 < 60);
}

static void test_template_that_hogs_memory_fails(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  render_fails(fx, "hog.lua",
               "return function(d)\n"
               "  local t, s = {}, ('x'):rep(1 << 20)\n"
               "  for i = 1, 1000 do t[i] = s .. i end\n"
               "  return { title = 'never', period = d.period, alerts = {}, sections = {} }\n"
               "end\n");
  assert_contains(fx->err, "memory");
}

static void test_template_cannot_reach_the_system(void **state) {
  fixture *fx = *state;
  ingest_december(fx);
  char victim[PATH_MAX];
  snprintf(victim, sizeof victim, "%s/victim", fx->dir);
  char text[PATH_MAX + 128];
  snprintf(text, sizeof text, "return function(d) io.open('%s', 'w'):write('x') end\n", victim);
  render_fails(fx, "io.lua", text);
  assert_int_equal(access(victim, F_OK), -1);
  snprintf(text, sizeof text, "return function(d) os.execute('touch %s') end\n", victim);
  render_fails(fx, "exec.lua", text);
  assert_int_equal(access(victim, F_OK), -1);
  render_fails(fx, "load.lua", "return function(d) return load('return {}')() end\n");
}

int main(void) {
  vg_log_set_level(getenv("VIGIL_TEST_LOG") ? VG_LOG_DEBUG : VG_LOG_ERROR + 1);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_period_of_day),
      T(test_period_reads_the_local_date),
      T(test_due_never_run_writes_only_the_latest),
      T(test_due_never_run_catch_up_all_oldest_first),
      T(test_due_nothing_when_the_period_is_recorded),
      T(test_due_after_three_days_down),
      T(test_due_at_the_scheduled_minute),
      T(test_due_weekly),
      T(test_due_each_period_once),
      T(test_due_across_a_clock_change),
      T(test_render_weekly_writes_three_files),
      T(test_render_json_document),
      T(test_render_one_day_period_is_named_by_its_day),
      T(test_render_records_the_run_only_when_asked),
      T(test_render_formats_and_configured_directory),
      T(test_render_empty_period_says_so),
      T(test_json_lists_are_arrays_even_when_empty),
      T(test_render_what_did_not_happen),
      T(test_render_what_changed_since_the_previous_run),
      T(test_missing_template_name),
      T(test_user_template_file),
      T(test_template_that_errors),
      T(test_template_without_a_document),
      T(test_template_that_loops_runs_out_of_budget),
      T(test_template_that_hogs_memory_fails),
      T(test_template_cannot_reach_the_system),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
