/* fuzz_feed.c — libFuzzer harness for feed bodies (core/feed_parse.c).
 *
 * Byte 0 picks the content type the server claimed (bits 0-2) and the
 * format asked for (bits 3-5: 0-3 auto, then rss, atom, json, chrono); the
 * rest is the body, parsed with vg_feed_parse (with small caps, so that
 * items over them and expansions past them are met) and released with
 * vg_feed_items_free. Every item's strings must be NUL-terminated, and no
 * part longer than the cap. The body also goes through vg_html_text. */
#include "feed_parse.h"
#include "vigil.h"

#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *msg, ...) {
  (void)ctx;
  (void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  vg_log_set_level(VG_LOG_ERROR + 1);
  xmlInitParser();
  xmlSetGenericErrorFunc(NULL, quiet);
  return 0;
}

static const char *const types[8] = {
    NULL,
    "application/rss+xml",
    "application/atom+xml; charset=utf-8",
    "application/xml",
    "application/json",
    "application/x-ndjson",
    "text/plain",
    "text/html; charset=utf-8",
};

static const vg_feed_format formats[8] = {VG_FEED_AUTO, VG_FEED_AUTO,  VG_FEED_AUTO, VG_FEED_AUTO,
                                          VG_FEED_RSS,  VG_FEED_ATOM,  VG_FEED_JSON, VG_FEED_CHRONO};

static void str(const char *s, int may_be_null) {
  if (!s) {
    if (!may_be_null) __builtin_trap();
    return;
  }
  (void)strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > (1u << 20)) return 0;
  const char *type = types[data[0] & 7];
  vg_feed_format fmt = formats[(data[0] >> 3) & 7];
  const char *body = (const char *)data + 1;
  size_t n = size - 1;

  vg_feed_items items;
  memset(&items, 0, sizeof items);
  char err[256];
  const vg_feed_limits lim = {4096, 1u << 20, 0};
  if (vg_feed_parse(body, n, type, fmt, &lim, &items, err, sizeof err) == 0) {
    if (items.n > items.cap) __builtin_trap();
    for (size_t i = 0; i < items.n; i++) {
      const vg_feed_item *it = &items.v[i];
      str(it->guid, 0);
      str(it->title, 0);
      str(it->summary, 0);
      str(it->link, 0);
      str(it->date, 1);
      str(it->reject, 1);
      if (strlen(it->title) > lim.max_text || strlen(it->link) > lim.max_text) __builtin_trap();
    }
  } else {
    (void)strlen(err);
  }
  vg_feed_items_free(&items);

  char *text = vg_html_text(body, n);
  if (text) {
    (void)strlen(text);
    free(text);
  }
  return 0;
}
