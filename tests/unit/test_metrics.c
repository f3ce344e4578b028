/* test_metrics.c — the metrics registry and its text exposition (metrics.h):
 * HELP and TYPE lines, label values escaped, cumulative histogram buckets
 * ending at +Inf with _sum and _count, the cap on series folded into
 * "other", transactional counts (committed or rolled back), and the
 * classes of reject reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "metrics.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

static char *render(vg_metrics *reg) {
  size_t len = 0;
  char *t = vg_metrics_render(reg, &len);
  assert_non_null(t);
  assert_int_equal(strlen(t), len);
  return t;
}

static void test_escape_label_values(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(vg_metrics_escape(out, sizeof out, "plain"), 5);
  assert_string_equal(out, "plain");
  size_t n = vg_metrics_escape(out, sizeof out, "a\\b\"c\nd");
  assert_string_equal(out, "a\\\\b\\\"c\\nd");
  assert_int_equal(n, strlen("a\\\\b\\\"c\\nd"));
  /* Cut between escapes, never inside one; the length needed is told. */
  char small[4];
  assert_int_equal(vg_metrics_escape(small, sizeof small, "ab\"c"), 5);
  assert_string_equal(small, "ab");
}

static void test_counter_with_labels(void **state) {
  (void)state;
  vg_metrics *reg = vg_metrics_new();
  static const char *const labels[] = {"source", NULL};
  vg_metric *m = vg_metric_new(reg, "vigil_test_total", "Things counted.\nSecond line \\ here.",
                               VG_COUNTER, labels, NULL, 0, 0);
  vg_series *a = vg_metric_series(m, (const char *[]){"wire \"A\"\\b\nc"});
  vg_series *b = vg_metric_series(m, (const char *[]){"plain"});
  assert_ptr_equal(a, vg_metric_series(m, (const char *[]){"wire \"A\"\\b\nc"}));
  vg_series_add(a, 3);
  vg_series_add(b, 1);
  vg_series_add(b, 1);
  char *t = render(reg);
  assert_string_equal(t, "# HELP vigil_test_total Things counted.\\nSecond line \\\\ here.\n"
                         "# TYPE vigil_test_total counter\n"
                         "vigil_test_total{source=\"wire \\\"A\\\"\\\\b\\nc\"} 3\n"
                         "vigil_test_total{source=\"plain\"} 2\n");
  free(t);
  vg_metrics_free(reg);
}

static void test_gauge_and_empty_family(void **state) {
  (void)state;
  vg_metrics *reg = vg_metrics_new();
  vg_metric *g = vg_metric_new(reg, "x_bytes", "Bytes.", VG_GAUGE, NULL, NULL, 0, 0);
  static const char *const labels[] = {"feed", "result", NULL};
  vg_metric_new(reg, "y_total", "Nothing yet.", VG_COUNTER, labels, NULL, 0, 0);
  vg_series_set(vg_metric_series(g, NULL), 1.5);
  char *t = render(reg);
  assert_string_equal(t, "# HELP x_bytes Bytes.\n# TYPE x_bytes gauge\nx_bytes 1.5\n"
                         "# HELP y_total Nothing yet.\n# TYPE y_total counter\n");
  free(t);
  vg_series_set(vg_metric_series(g, NULL), 1e300 * 1e300);
  t = render(reg);
  assert_non_null(strstr(t, "x_bytes +Inf\n"));
  free(t);
  vg_metrics_free(reg);
}

static void test_histogram_buckets_are_cumulative(void **state) {
  (void)state;
  vg_metrics *reg = vg_metrics_new();
  static const double bounds[] = {0.1, 1};
  vg_metric *h = vg_metric_new(reg, "z_seconds", "Time.", VG_HISTOGRAM, NULL, bounds, 2, 0);
  vg_series *s = vg_metric_series(h, NULL);
  vg_series_observe(s, 0.05);
  vg_series_observe(s, 0.1); /* on a bound: counted in it (le) */
  vg_series_observe(s, 0.5);
  vg_series_observe(s, 7);
  char *t = render(reg);
  assert_string_equal(t, "# HELP z_seconds Time.\n# TYPE z_seconds histogram\n"
                         "z_seconds_bucket{le=\"0.1\"} 2\n"
                         "z_seconds_bucket{le=\"1\"} 3\n"
                         "z_seconds_bucket{le=\"+Inf\"} 4\n"
                         "z_seconds_sum 7.65\n"
                         "z_seconds_count 4\n");
  free(t);
  vg_metrics_free(reg);
}

static void test_labelled_histogram(void **state) {
  (void)state;
  vg_metrics *reg = vg_metrics_new();
  static const double bounds[] = {1};
  static const char *const labels[] = {"rule", NULL};
  vg_metric *h = vg_metric_new(reg, "r_seconds", "Time.", VG_HISTOGRAM, labels, bounds, 1, 0);
  vg_series_observe(vg_metric_series(h, (const char *[]){"a"}), 2);
  char *t = render(reg);
  assert_non_null(strstr(t, "r_seconds_bucket{rule=\"a\",le=\"1\"} 0\n"
                            "r_seconds_bucket{rule=\"a\",le=\"+Inf\"} 1\n"
                            "r_seconds_sum{rule=\"a\"} 2\n"
                            "r_seconds_count{rule=\"a\"} 1\n"));
  free(t);
  vg_metrics_free(reg);
}

static void test_cap_folds_into_other(void **state) {
  (void)state;
  vg_metrics *reg = vg_metrics_new();
  static const char *const labels[] = {"sink", "result", NULL};
  vg_metric *m = vg_metric_new(reg, "c_total", "Capped.", VG_COUNTER, labels, NULL, 0, 2);
  vg_series_add(vg_metric_series(m, (const char *[]){"a", "ok"}), 1);
  vg_series_add(vg_metric_series(m, (const char *[]){"b", "ok"}), 1);
  vg_series_add(vg_metric_series(m, (const char *[]){"c", "ok"}), 1);
  vg_series_add(vg_metric_series(m, (const char *[]){"d", "ok"}), 1);
  vg_series_add(vg_metric_series(m, (const char *[]){"e", "failed"}), 1);
  char *t = render(reg);
  assert_string_equal(t, "# HELP c_total Capped.\n# TYPE c_total counter\n"
                         "c_total{sink=\"a\",result=\"ok\"} 1\n"
                         "c_total{sink=\"b\",result=\"ok\"} 1\n"
                         "c_total{sink=\"other\",result=\"ok\"} 2\n"
                         "c_total{sink=\"other\",result=\"failed\"} 1\n");
  free(t);
  vg_metrics_free(reg);
}

static void test_reject_classes(void **state) {
  (void)state;
  assert_int_equal(vg_metrics_reject_class("no date at the start of the line"), VG_REJECT_NO_DATE);
  assert_int_equal(vg_metrics_reject_class("JSON record has no \"date\""), VG_REJECT_NO_DATE);
  assert_int_equal(vg_metrics_reject_class("'Smarch' is no month name"), VG_REJECT_BAD_DATE);
  assert_int_equal(vg_metrics_reject_class("impossible date: there is no day 30 of a month"),
                   VG_REJECT_BAD_DATE);
  assert_int_equal(vg_metrics_reject_class("invalid JSON near byte 12"), VG_REJECT_BAD_JSON);
  assert_int_equal(vg_metrics_reject_class("a JSON record must be an object"), VG_REJECT_BAD_JSON);
  assert_int_equal(vg_metrics_reject_class("JSON record has no \"text\""), VG_REJECT_BAD_JSON);
  assert_int_equal(vg_metrics_reject_class("line of 90000 bytes is over the 65536-byte cap"),
                   VG_REJECT_TOO_LONG);
  assert_int_equal(vg_metrics_reject_class("empty line"), VG_REJECT_EMPTY);
  assert_int_equal(vg_metrics_reject_class("no text after the date"), VG_REJECT_EMPTY);
  assert_int_equal(vg_metrics_reject_class("invalid UTF-8 at byte 3"), VG_REJECT_ENCODING);
  assert_int_equal(vg_metrics_reject_class("the feed item has no title"), VG_REJECT_OTHER);
}

/* vigil's own registry: counts of a transaction count once it commits. */
static void test_counts_follow_the_transaction(void **state) {
  (void)state;
  assert_int_equal(vg_metrics_init(), 0);
  vg_metrics_entry("wire", VG_STORED);
  vg_metrics_entry("wire", VG_STORED);
  vg_metrics_entry("wire", VG_DUPLICATE);
  vg_metrics_reject("empty line");
  vg_metrics_commit();
  vg_metrics_entry("wire", VG_STORED);
  vg_metrics_reject("empty line");
  vg_metrics_rollback();
  vg_metrics_alert("launch", "crit");
  vg_metrics_alert_silenced("launch");
  vg_rule_stats *rs = vg_metrics_rule("launch");
  assert_ptr_equal(rs, vg_metrics_rule("launch"));
  vg_metrics_rule_call(rs, 2000);
  size_t len;
  char *t = vg_metrics_scrape(3, &len);
  assert_non_null(t);
  assert_non_null(strstr(t, "\nvigil_entries_ingested_total{source=\"wire\"} 2\n"));
  assert_non_null(strstr(t, "\nvigil_entries_duplicate_total 1\n"));
  assert_non_null(strstr(t, "\nvigil_entries_rejected_total{reason=\"empty\"} 1\n"));
  assert_non_null(strstr(t, "\nvigil_entries_rejected_total{reason=\"no_date\"} 0\n"));
  assert_non_null(strstr(t, "\nvigil_alerts_total{rule=\"launch\",severity=\"crit\"} 1\n"));
  assert_non_null(strstr(t, "\nvigil_alerts_total{rule=\"launch\",severity=\"info\"} 0\n"));
  assert_non_null(strstr(t, "\nvigil_alerts_silenced_total{rule=\"launch\"} 1\n"));
  assert_non_null(strstr(t, "\nvigil_rule_call_seconds_count 1\n"));
  assert_non_null(strstr(t, "\nvigil_pending_lines 3\n"));
  assert_non_null(strstr(t, "\nvigil_build_info{version=\""));
  assert_non_null(strstr(t, "\nprocess_open_fds "));
  assert_non_null(strstr(t, "\nprocess_start_time_seconds "));
  assert_int_equal(atomic_load(&rs->calls), 1);
  assert_int_equal(atomic_load(&rs->nanos), 2000);
  free(t);
  vg_metrics_shutdown();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape_label_values),
      cmocka_unit_test(test_counter_with_labels),
      cmocka_unit_test(test_gauge_and_empty_family),
      cmocka_unit_test(test_histogram_buckets_are_cumulative),
      cmocka_unit_test(test_labelled_histogram),
      cmocka_unit_test(test_cap_folds_into_other),
      cmocka_unit_test(test_reject_classes),
      cmocka_unit_test(test_counts_follow_the_transaction),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
