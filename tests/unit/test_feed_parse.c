/* test_feed_parse.c — a fetched feed body to items (feed_parse.h).
 *
 * Covers RSS 2.0 (title, description with escaped HTML reduced to text,
 * link, guid, an RFC 822 pubDate with an offset turned into UTC ISO 8601,
 * content:encoded over description, dc:date), RSS 1.0 (RDF) and Atom 1.0
 * (published, else updated; the alternate link; summary type="html";
 * content when there is no summary; id); the guid fallbacks (link, then a
 * hash of title and date); the content hash that tells an update; the
 * detection of JSON Lines, chronology text and HTML pages; malformed,
 * truncated and foreign documents refused with a reason; a byte order mark;
 * vg_html_text; and the poller's backoff. Every document is inline.
 *
 * And the caps on what the parser makes of a body: entities expanded in
 * text and attributes; an internal entity over VG_FEED_ENTITY_MAX refused;
 * an item with a part over max_text kept as a reject beside the others;
 * entities over max_expanded refused (by bytes, and by nodes when they
 * expand to nothing); an external entity never read; a tag or comment
 * over what the push parser may hold back refused, a long text not; the
 * time limit; HTML reduced from its first 64 KiB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed_parse.h"
#include "feeds.h"
#include "vigil.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

/* Parses a NUL-terminated body; err is cleared first. */
static int parse(const char *body, const char *type, vg_feed_format fmt, vg_feed_items *out,
                 char *err, size_t cap) {
  err[0] = '\0';
  return vg_feed_parse(body, strlen(body), type, fmt, NULL, out, err, cap);
}

/* Parses a body that must parse; fails the test with the reason otherwise. */
static void parse_ok(const char *body, const char *type, vg_feed_items *out) {
  char err[400];
  int rc = parse(body, type, VG_FEED_AUTO, out, err, sizeof err);
  if (rc != 0) fail_msg("parse failed (%d): %s", rc, err);
}

/* A parse that failed leaves nothing behind. */
static void assert_empty(const vg_feed_items *it) {
  assert_int_equal(it->n, 0);
  assert_null(it->v);
  assert_null(it->lines);
}

/* The text of an HTML fragment, compared and freed. */
static void assert_html_text(const char *html, const char *expected) {
  char *t = vg_html_text(html, strlen(html));
  assert_non_null(t);
  if (strcmp(t, expected) != 0) {
    char msg[512];
    snprintf(msg, sizeof msg, "vg_html_text(\"%s\") is \"%s\", expected \"%s\"", html, t, expected);
    free(t);
    fail_msg("%s", msg);
  }
  free(t);
}

/* ---- RSS 2.0 ---- */

static const char rss2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
    "     xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "<channel>\n"
    "  <title>Peninsula Watch</title>\n"
    "  <link>https://news.example.org/</link>\n"
    "  <item>\n"
    "    <title>North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo</title>\n"
    "    <link>https://news.example.org/2023/03/16/hwasong-17</link>\n"
    "    <guid isPermaLink=\"false\">pw-2023-03-16-icbm</guid>\n"
    "    <pubDate>Thu, 16 Mar 2023 07:10:00 +0900</pubDate>\n"
    "    <description>&lt;p&gt;The missile flew for about &lt;b&gt;70 minutes&lt;/b&gt;\n"
    "      and came down   in the sea between Korea &amp;amp; Japan&amp;#8217;s islands.&lt;/p&gt;"
    "</description>\n"
    "  </item>\n"
    "  <item>\n"
    "    <title>Biden and Yoon adopt the Washington Declaration</title>\n"
    "    <link>https://news.example.org/2023/04/26/washington-declaration</link>\n"
    "    <pubDate>Wed, 26 Apr 2023 14:00:00 -0400</pubDate>\n"
    "    <description>A short teaser.</description>\n"
    "    <content:encoded><![CDATA[<p>The allies set up a <em>Nuclear Consultative "
    "Group</em>.</p>]]></content:encoded>\n"
    "  </item>\n"
    "  <item>\n"
    "    <title>Kim &amp; Putin meet at Vostochny</title>\n"
    "    <dc:date>2023-09-13T14:00:00+10:00</dc:date>\n"
    "    <description>Plain words.</description>\n"
    "  </item>\n"
    "</channel>\n"
    "</rss>\n";

static void test_rss2_item(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok(rss2, "application/rss+xml; charset=utf-8", &it);
  assert_int_equal(it.kind, VG_FEED_RSS);
  assert_int_equal(it.n, 3);
  assert_null(it.lines);
  const vg_feed_item *a = &it.v[0];
  assert_string_equal(a->title, "North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo");
  /* tags dropped, blanks folded, entities decoded once per level of escaping */
  assert_string_equal(a->summary, "The missile flew for about 70 minutes and came down in the sea "
                                  "between Korea & Japan\u2019s islands.");
  assert_string_equal(a->link, "https://news.example.org/2023/03/16/hwasong-17");
  assert_string_equal(a->guid, "pw-2023-03-16-icbm");
  assert_non_null(a->date);
  assert_string_equal(a->date, "2023-03-15T22:10:00Z"); /* 07:10 at +0900 is 22:10 UTC the day before */
  vg_feed_items_free(&it);
}

static void test_rss2_content_encoded_preferred(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok(rss2, NULL, &it);
  const vg_feed_item *b = &it.v[1];
  assert_string_equal(b->summary, "The allies set up a Nuclear Consultative Group.");
  assert_string_equal(b->date, "2023-04-26T18:00:00Z");
  /* no guid: the link names the item */
  assert_string_equal(b->guid, "https://news.example.org/2023/04/26/washington-declaration");
  vg_feed_items_free(&it);
}

static void test_rss2_dc_date_and_entities(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok(rss2, NULL, &it);
  const vg_feed_item *c = &it.v[2];
  assert_string_equal(c->title, "Kim & Putin meet at Vostochny");
  assert_string_equal(c->summary, "Plain words.");
  assert_string_equal(c->link, "");
  assert_non_null(c->date);
  assert_string_equal(c->date, "2023-09-13T14:00:00+10:00"); /* ISO 8601 already: kept */
  assert_true(strncmp(c->guid, "hash:", 5) == 0);
  vg_feed_items_free(&it);
}

static void test_rss2_bad_pubdate_is_undated(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok("<rss version=\"2.0\"><channel><item><title>Drills resume</title>"
           "<pubDate>sometime in spring</pubDate></item>"
           "<item><title>No date at all</title></item></channel></rss>",
           NULL, &it);
  assert_int_equal(it.n, 2);
  assert_null(it.v[0].date);
  assert_null(it.v[1].date);
  assert_string_equal(it.v[0].summary, "");
  vg_feed_items_free(&it);
}

static void test_rss2_many_items(void **state) {
  (void)state;
  size_t cap = 200 * 160 + 100, len = 0;
  char *doc = malloc(cap);
  assert_non_null(doc);
  len += (size_t)snprintf(doc + len, cap - len, "<rss version=\"2.0\"><channel>");
  for (int i = 0; i < 200; i++)
    len += (size_t)snprintf(doc + len, cap - len,
                            "<item><title>Item %d</title><guid>g-%d</guid>"
                            "<pubDate>Mon, 18 Dec 2023 08:24:00 +0900</pubDate></item>",
                            i, i);
  len += (size_t)snprintf(doc + len, cap - len, "</channel></rss>");
  assert_true(len < cap);
  vg_feed_items it;
  parse_ok(doc, NULL, &it);
  assert_int_equal(it.n, 200);
  assert_string_equal(it.v[0].guid, "g-0");
  assert_string_equal(it.v[199].guid, "g-199");
  assert_string_equal(it.v[199].title, "Item 199");
  assert_string_equal(it.v[199].date, "2023-12-17T23:24:00Z");
  vg_feed_items_free(&it);
  free(doc);
}

/* ---- RSS 1.0 ---- */

static void test_rss1_rdf(void **state) {
  (void)state;
  static const char rdf[] =
      "<?xml version=\"1.0\"?>\n"
      "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
      "         xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
      "  <channel rdf:about=\"https://news.example.org/rdf\">\n"
      "    <title>Peninsula Watch</title>\n"
      "    <link>https://news.example.org/</link>\n"
      "    <items><rdf:Seq><rdf:li rdf:resource=\"https://news.example.org/2023/07/18/kentucky\"/>"
      "</rdf:Seq></items>\n"
      "  </channel>\n"
      "  <item rdf:about=\"https://news.example.org/2023/07/18/kentucky\">\n"
      "    <title>USS Kentucky calls at Busan</title>\n"
      "    <link>https://news.example.org/2023/07/18/kentucky</link>\n"
      "    <description>The first such submarine visit since the 1980s.</description>\n"
      "    <dc:date>2023-07-18T15:00:00+09:00</dc:date>\n"
      "  </item>\n"
      "  <item rdf:about=\"https://news.example.org/2023/12/02/425\">\n"
      "    <title>Seoul's first spy satellite reaches orbit</title>\n"
      "    <link>https://news.example.org/2023/12/02/425</link>\n"
      "  </item>\n"
      "</rdf:RDF>\n";
  vg_feed_items it;
  parse_ok(rdf, "application/rdf+xml", &it);
  assert_int_equal(it.kind, VG_FEED_RSS);
  assert_int_equal(it.n, 2);
  assert_string_equal(it.v[0].title, "USS Kentucky calls at Busan");
  assert_string_equal(it.v[0].summary, "The first such submarine visit since the 1980s.");
  assert_string_equal(it.v[0].link, "https://news.example.org/2023/07/18/kentucky");
  assert_string_equal(it.v[0].guid, "https://news.example.org/2023/07/18/kentucky");
  assert_string_equal(it.v[0].date, "2023-07-18T15:00:00+09:00");
  assert_null(it.v[1].date);
  assert_string_equal(it.v[1].guid, "https://news.example.org/2023/12/02/425");
  vg_feed_items_free(&it);
}

/* ---- Atom 1.0 ---- */

static const char atom[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
    "  <title>Peninsula Watch</title>\n"
    "  <id>tag:news.example.org,2023:atom</id>\n"
    "  <link rel=\"self\" href=\"https://news.example.org/atom.xml\"/>\n"
    "  <updated>2023-12-19T00:00:00Z</updated>\n"
    "  <entry>\n"
    "    <title>First flight of the solid-fuel Hwasong-18</title>\n"
    "    <id>tag:news.example.org,2023:hwasong-18-first</id>\n"
    "    <link rel=\"related\" href=\"https://news.example.org/background\"/>\n"
    "    <link rel=\"alternate\" type=\"text/html\" href=\"https://news.example.org/2023/04/13\"/>\n"
    "    <published>2023-04-13T07:23:00+09:00</published>\n"
    "    <updated>2023-04-14T09:00:00+09:00</updated>\n"
    "    <summary type=\"html\">&lt;p&gt;A &lt;i&gt;solid-fuel&lt;/i&gt; ICBM &amp;mdash; "
    "quicker to launch.&lt;/p&gt;</summary>\n"
    "    <content type=\"html\">&lt;p&gt;The long story.&lt;/p&gt;</content>\n"
    "  </entry>\n"
    "  <entry>\n"
    "    <title type=\"html\">Kim &amp;amp; Putin at Vostochny</title>\n"
    "    <id>tag:news.example.org,2023:vostochny</id>\n"
    "    <link href=\"https://news.example.org/2023/09/13\"/>\n"
    "    <updated>2023-09-13T14:00:00+10:00</updated>\n"
    "    <content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>The leaders\n"
    "      toured the launch site.</p></div></content>\n"
    "  </entry>\n"
    "  <entry>\n"
    "    <title>An entry with neither id nor link</title>\n"
    "    <updated>2023-12-18T08:24:00+09:00</updated>\n"
    "    <content type=\"html\">&lt;b&gt;Bold&lt;/b&gt; words</content>\n"
    "  </entry>\n"
    "</feed>\n";

static void test_atom_entries(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok(atom, "application/atom+xml", &it);
  assert_int_equal(it.kind, VG_FEED_ATOM);
  assert_int_equal(it.n, 3);
  const vg_feed_item *a = &it.v[0];
  assert_string_equal(a->title, "First flight of the solid-fuel Hwasong-18");
  assert_string_equal(a->guid, "tag:news.example.org,2023:hwasong-18-first");
  assert_string_equal(a->link, "https://news.example.org/2023/04/13"); /* alternate, not related */
  assert_string_equal(a->date, "2023-04-13T07:23:00+09:00");           /* published over updated */
  assert_string_equal(a->summary, "A solid-fuel ICBM \u2014 quicker to launch.");
  const vg_feed_item *b = &it.v[1];
  assert_string_equal(b->title, "Kim & Putin at Vostochny");
  assert_string_equal(b->link, "https://news.example.org/2023/09/13"); /* a link without rel */
  assert_string_equal(b->date, "2023-09-13T14:00:00+10:00");          /* updated when unpublished */
  assert_string_equal(b->summary, "The leaders toured the launch site.");
  const vg_feed_item *c = &it.v[2];
  assert_string_equal(c->summary, "Bold words");
  assert_string_equal(c->link, "");
  assert_true(strncmp(c->guid, "hash:", 5) == 0);
  vg_feed_items_free(&it);
}

static void test_atom_only_other_links(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok("<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>T</title>"
           "<link rel=\"enclosure\" href=\"https://news.example.org/a.mp3\"/>"
           "<link rel=\"via\" href=\"https://news.example.org/via\"/></entry></feed>",
           NULL, &it);
  assert_int_equal(it.n, 1);
  assert_string_equal(it.v[0].link, "https://news.example.org/a.mp3"); /* the first, for want of one */
  assert_null(it.v[0].date);
  vg_feed_items_free(&it);
}

/* ---- guids and the content hash ---- */

static void test_guid_fallbacks(void **state) {
  (void)state;
  static const char doc[] =
      "<rss version=\"2.0\"><channel>"
      "<item><title>Has a link</title><link>https://news.example.org/x</link><guid></guid></item>"
      "<item><title>Undated one</title></item>"
      "<item><title>Undated two</title></item>"
      "<item><title>Undated one</title></item>"
      "<item><title>Undated one</title><pubDate>Mon, 18 Dec 2023 08:24:00 +0900</pubDate></item>"
      "</channel></rss>";
  vg_feed_items it, again;
  parse_ok(doc, NULL, &it);
  parse_ok(doc, NULL, &again);
  assert_int_equal(it.n, 5);
  assert_string_equal(it.v[0].guid, "https://news.example.org/x"); /* an empty guid: the link */
  assert_true(strncmp(it.v[1].guid, "hash:", 5) == 0);
  assert_true(strncmp(it.v[2].guid, "hash:", 5) == 0);
  assert_string_not_equal(it.v[1].guid, it.v[2].guid);   /* different titles */
  assert_string_equal(it.v[1].guid, it.v[3].guid);       /* the same item twice */
  assert_string_not_equal(it.v[1].guid, it.v[4].guid);   /* the same title, dated */
  for (size_t i = 0; i < it.n; i++) {                    /* and the same across parses */
    assert_string_equal(it.v[i].guid, again.v[i].guid);
    assert_memory_equal(it.v[i].content, again.v[i].content, 16);
  }
  vg_feed_items_free(&it);
  vg_feed_items_free(&again);
}

/* One RSS item with these parts, parsed; its content hash in out. */
static void item_hash(const char *title, const char *desc, const char *link, const char *date,
                      uint8_t out[16]) {
  char doc[1024];
  snprintf(doc, sizeof doc,
           "<rss version=\"2.0\"><channel><item><guid>fixed</guid><title>%s</title>"
           "<description>%s</description><link>%s</link><pubDate>%s</pubDate></item>"
           "</channel></rss>",
           title, desc, link, date);
  vg_feed_items it;
  parse_ok(doc, NULL, &it);
  assert_int_equal(it.n, 1);
  assert_string_equal(it.v[0].guid, "fixed");
  memcpy(out, it.v[0].content, 16);
  vg_feed_items_free(&it);
}

static void test_content_hash(void **state) {
  (void)state;
  static const char t[] = "Hwasong-18 flies again", d[] = "The third flight of the year.",
                    l[] = "https://news.example.org/a", date[] = "Mon, 18 Dec 2023 08:24:00 +0900";
  uint8_t base[16], same[16], h[16];
  item_hash(t, d, l, date, base);
  item_hash(t, d, l, date, same);
  assert_memory_equal(base, same, 16);
  item_hash("Hwasong-18 flies a third time", d, l, date, h);
  assert_memory_not_equal(base, h, 16);
  item_hash(t, "The third flight of the year, 73 minutes long.", l, date, h);
  assert_memory_not_equal(base, h, 16);
  item_hash(t, d, "https://news.example.org/b", date, h);
  assert_memory_not_equal(base, h, 16);
  /* moving text from the title to the summary is a change too */
  item_hash("Hwasong-18 flies", "again The third flight of the year.", l, date, h);
  assert_memory_not_equal(base, h, 16);
  /* markup and blanks that reduce to the same text are no change */
  item_hash(t, "&lt;p&gt;The third   flight of the year.&lt;/p&gt;", l, date, h);
  assert_memory_equal(base, h, 16);
}

/* ---- detection ---- */

static void test_detect_json(void **state) {
  (void)state;
  static const char body[] = "{\"date\":\"2023-07-12\",\"text\":\"a\"}\n{\"date\":\"2023-07-13\"}\n";
  const char *types[] = {"application/json", "application/x-ndjson; charset=utf-8",
                         "application/jsonl", "text/plain", NULL};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    vg_feed_items it;
    parse_ok(body, types[i], &it);
    assert_int_equal(it.kind, VG_FEED_JSON);
    assert_int_equal(it.n, 0);
    assert_non_null(it.lines);
    assert_int_equal(it.lines_len, strlen(body));
    assert_memory_equal(it.lines, body, strlen(body));
    assert_int_equal(it.lines[it.lines_len], '\0');
    vg_feed_items_free(&it);
  }
}

static void test_detect_chronology(void **state) {
  (void)state;
  static const char body[] = "May 31, 2023: The first Chollima-1 rocket fell into the Yellow Sea.\n"
                             "Aug. 24, 2023: A second satellite launch failed.\n";
  const char *types[] = {"text/plain; charset=utf-8", "application/octet-stream", NULL};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    vg_feed_items it;
    parse_ok(body, types[i], &it);
    assert_int_equal(it.kind, VG_FEED_CHRONO);
    assert_int_equal(it.lines_len, strlen(body));
    assert_string_equal(it.lines, body);
    vg_feed_items_free(&it);
  }
}

static void test_detect_xml_by_body(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok(atom, "text/plain", &it); /* a wrong type: the body tells */
  assert_int_equal(it.kind, VG_FEED_ATOM);
  assert_int_equal(it.n, 3);
  vg_feed_items_free(&it);
  parse_ok(rss2, "application/octet-stream", &it);
  assert_int_equal(it.kind, VG_FEED_RSS);
  vg_feed_items_free(&it);
}

static void test_explicit_format(void **state) {
  (void)state;
  char err[400];
  vg_feed_items it;
  /* --format json takes the body as lines whatever its type says */
  assert_int_equal(parse("{\"date\":\"2023-01-01\",\"text\":\"x\"}\n", "text/html",
                         VG_FEED_JSON, &it, err, sizeof err),
                   0);
  assert_int_equal(it.kind, VG_FEED_JSON);
  vg_feed_items_free(&it);
  assert_int_equal(parse("Jan. 1, 2023: a line\n", NULL, VG_FEED_CHRONO, &it, err, sizeof err), 0);
  assert_int_equal(it.kind, VG_FEED_CHRONO);
  vg_feed_items_free(&it);
  /* rss or atom: the root element still decides */
  assert_int_equal(parse(atom, NULL, VG_FEED_RSS, &it, err, sizeof err), 0);
  assert_int_equal(it.kind, VG_FEED_ATOM);
  vg_feed_items_free(&it);
}

static void test_format_names(void **state) {
  (void)state;
  vg_feed_format f = VG_FEED_JSON;
  assert_int_equal(vg_feed_format_parse("auto", &f), 0);
  assert_int_equal(f, VG_FEED_AUTO);
  assert_int_equal(vg_feed_format_parse("rss", &f), 0);
  assert_int_equal(f, VG_FEED_RSS);
  assert_int_equal(vg_feed_format_parse("atom", &f), 0);
  assert_int_equal(f, VG_FEED_ATOM);
  assert_int_equal(vg_feed_format_parse("json", &f), 0);
  assert_int_equal(f, VG_FEED_JSON);
  assert_int_equal(vg_feed_format_parse("chrono", &f), 0);
  assert_int_equal(f, VG_FEED_CHRONO);
  assert_int_equal(vg_feed_format_parse("RSS", &f), VG_EINVAL);
  assert_int_equal(vg_feed_format_parse("", &f), VG_EINVAL);
  assert_int_equal(f, VG_FEED_CHRONO); /* untouched on error */
}

/* ---- refusals ---- */

/* An HTML page that does not even look like markup at first: refused by its type. */
static void test_html_type_refused(void **state) {
  (void)state;
  char err[400];
  vg_feed_items it;
  assert_int_equal(parse("Service unavailable, try later\n", "text/html; charset=utf-8",
                         VG_FEED_AUTO, &it, err, sizeof err),
                   VG_EPARSE);
  assert_contains(err, "HTML page");
  assert_empty(&it);
}

/* The usual error page of a web server or a captive portal, sent with 200. */
static void test_html_error_page(void **state) {
  (void)state;
  static const char page[] = "<!DOCTYPE html>\n"
                             "<html lang=\"en\">\n"
                             "<head>\n"
                             "<meta charset=\"utf-8\">\n"
                             "<title>Temporarily unavailable</title>\n"
                             "</head>\n"
                             "<body><h1>We'll be back soon</h1><p>Down for maintenance.<br>\n"
                             "Please try again later.</p></body>\n"
                             "</html>\n";
  char err[400];
  vg_feed_items it;
  assert_int_equal(parse(page, "text/html; charset=utf-8", VG_FEED_AUTO, &it, err, sizeof err),
                   VG_EPARSE);
  assert_contains(err, "HTML page");
  assert_empty(&it);
}

/* Well-formed XHTML: it parses as XML, and must still be called an HTML page. */
static void test_xhtml_page(void **state) {
  (void)state;
  char err[400];
  vg_feed_items it;
  assert_int_equal(parse("<html><head><title>502</title></head><body><p>Bad gateway</p></body>"
                         "</html>",
                         "text/html", VG_FEED_AUTO, &it, err, sizeof err),
                   VG_EPARSE);
  assert_contains(err, "HTML page");
  assert_empty(&it);
}

static void test_malformed_xml(void **state) {
  (void)state;
  static const char doc[] = "<?xml version=\"1.0\"?>\n"
                            "<rss version=\"2.0\">\n"
                            "<channel>\n"
                            "<item><title>One</title></item>\n"
                            "<item><title>Two</titel></item>\n" /* line 5 */
                            "</channel>\n"
                            "</rss>\n";
  char err[400];
  vg_feed_items it;
  assert_int_equal(parse(doc, "application/rss+xml", VG_FEED_AUTO, &it, err, sizeof err),
                   VG_EPARSE);
  assert_contains(err, "malformed XML at line 5");
  assert_null(strchr(err, '\n'));
  assert_empty(&it);
}

/* The line is where the document first went wrong, not where libxml2 gave
 * up: here an item never closed, noticed at </channel> on line 8. */
static void test_malformed_xml_first_error(void **state) {
  (void)state;
  static const char doc[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<rss version=\"2.0\">\n"
                            "  <channel>\n"
                            "    <title>Peninsula Watch</title>\n"
                            "    <item>\n"
                            "      <title>A launch report whose item is never closed</title>\n"
                            "      <pubDate>Mon, 18 Dec 2023 08:24:00 +0900</pubDate>\n"
                            "    </channel>\n" /* line 8 */
                            "</rss>\n";
  char err[400];
  vg_feed_items it;
  assert_int_equal(parse(doc, NULL, VG_FEED_AUTO, &it, err, sizeof err), VG_EPARSE);
  assert_contains(err, "malformed XML at line 8: ");
  assert_empty(&it);
}

static void test_truncated_body(void **state) {
  (void)state;
  static const char doc[] = "<?xml version=\"1.0\"?>\n"
                            "<rss version=\"2.0\">\n"
                            "<channel>\n"
                            "<item><title>One</title></item>\n"
                            "<item><title>Two</title><descrip";
  char err[400];
  vg_feed_items it;
  assert_int_equal(parse(doc, NULL, VG_FEED_AUTO, &it, err, sizeof err), VG_EPARSE);
  assert_contains(err, "malformed XML at line 5");
  assert_empty(&it);
  /* cut anywhere after the root opened: refused, never half the items */
  size_t n = strlen(rss2);
  for (size_t cut = 120; cut < n - 8; cut += 97) {
    assert_int_equal(vg_feed_parse(rss2, cut, NULL, VG_FEED_AUTO, NULL, &it, err, sizeof err),
                     VG_EPARSE);
    assert_contains(err, "malformed XML at line ");
    assert_empty(&it);
  }
}

static void test_not_a_feed(void **state) {
  (void)state;
  char err[400];
  vg_feed_items it;
  assert_int_equal(parse("<?xml version=\"1.0\"?>\n<opml version=\"2.0\"><body/></opml>\n",
                         "text/xml", VG_FEED_AUTO, &it, err, sizeof err),
                   VG_EPARSE);
  assert_contains(err, "not a feed");
  assert_contains(err, "<opml>");
  assert_empty(&it);
}

/* ---- byte order mark, blanks ---- */

static void test_byte_order_mark(void **state) {
  (void)state;
  static const char doc[] = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<rss version=\"2.0\"><channel><item><title>\xec\xa1\xb0\xec\x84\xa0"
                            "</title><guid>bom-1</guid></item></channel></rss>\n";
  vg_feed_items it;
  parse_ok(doc, "application/rss+xml", &it);
  assert_int_equal(it.n, 1);
  assert_string_equal(it.v[0].title, "\xec\xa1\xb0\xec\x84\xa0");
  assert_string_equal(it.v[0].guid, "bom-1");
  vg_feed_items_free(&it);
  /* before JSON Lines too */
  parse_ok("\xef\xbb\xbf{\"date\":\"2023-01-01\",\"text\":\"x\"}\n", NULL, &it);
  assert_int_equal(it.kind, VG_FEED_JSON);
  vg_feed_items_free(&it);
}

/* Detection skips blanks before the first '<'; so must the XML parser: a
 * newline before the XML declaration is a common slip of feed generators. */
static void test_blank_line_before_declaration(void **state) {
  (void)state;
  vg_feed_items it;
  parse_ok("\n  <?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><item><title>Drills"
           "</title></item></channel></rss>\n",
           "application/rss+xml", &it);
  assert_int_equal(it.kind, VG_FEED_RSS);
  assert_int_equal(it.n, 1);
  vg_feed_items_free(&it);
}

/* ---- caps on what the parser produces ---- */

/* A growable string for the documents built below. */
typedef struct {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  assert_true(need >= 0);
  if (b->n + (size_t)need + 1 > b->cap) {
    b->cap = (b->n + (size_t)need + 1) * 2;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->n, (size_t)need + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)need;
}

/* Adds s `times` times. */
static void sb_rep(sbuf *b, const char *s, size_t times) {
  for (size_t i = 0; i < times; i++) sb_add(b, "%s", s);
}

/* Parses b with lim; the error, if any, in err. */
static int parse_lim(const sbuf *b, const vg_feed_limits *lim, vg_feed_items *out, char *err,
                     size_t cap) {
  err[0] = '\0';
  return vg_feed_parse(b->p, b->n, "application/rss+xml", VG_FEED_AUTO, lim, out, err, cap);
}

/* Entities are read as xmlNodeGetContent would, in text and attributes. */
static void test_entities_expanded(void **state) {
  (void)state;
  static const char rss[] =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE rss [\n"
      "<!ENTITY nk \"North Korea\">\n"
      "<!ENTITY agency \"the Korean Central News Agency\">\n"
      "<!ENTITY both \"&nk;, says &agency;\">\n"
      "]>\n"
      "<rss version=\"2.0\"><channel><item><title>&both;, fires a missile</title>"
      "<guid>ent-1</guid></item></channel></rss>\n";
  vg_feed_items it;
  parse_ok(rss, NULL, &it);
  assert_int_equal(it.n, 1);
  assert_string_equal(it.v[0].title,
                      "North Korea, says the Korean Central News Agency, fires a missile");
  assert_null(it.v[0].reject);
  vg_feed_items_free(&it);
  static const char atom_doc[] =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE feed [<!ENTITY path \"2023/11/21\">]>\n"
      "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>ent-2</id>"
      "<title>Satellite</title><link href=\"https://news.example.org/&path;/satellite\"/>"
      "</entry></feed>\n";
  parse_ok(atom_doc, NULL, &it);
  assert_int_equal(it.n, 1);
  assert_string_equal(it.v[0].link, "https://news.example.org/2023/11/21/satellite");
  vg_feed_items_free(&it);
}

/* An internal entity over VG_FEED_ENTITY_MAX refuses the document, saying
 * where and why; one of that size exactly is read. */
static void test_entity_over_cap_refused(void **state) {
  (void)state;
  for (int size = VG_FEED_ENTITY_MAX; size <= VG_FEED_ENTITY_MAX + 1; size++) {
    sbuf b = {0};
    sb_add(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY big \"");
    sb_rep(&b, "A", (size_t)size);
    sb_add(&b, "\">\n]>\n<rss version=\"2.0\"><channel><item><title>&big;&big;</title>"
               "</item></channel></rss>\n");
    vg_feed_items it;
    char err[400];
    int rc = parse_lim(&b, NULL, &it, err, sizeof err);
    if (size == VG_FEED_ENTITY_MAX) {
      assert_int_equal(rc, 0);
      assert_int_equal(strlen(it.v[0].title), 2 * VG_FEED_ENTITY_MAX);
      vg_feed_items_free(&it);
    } else {
      assert_int_equal(rc, VG_EPARSE);
      char want[200];
      snprintf(want, sizeof want,
               "XML refused at line 3: the entity 'big' holds %d bytes, over the %d", size,
               VG_FEED_ENTITY_MAX);
      assert_contains(err, want);
      assert_empty(&it);
    }
    free(b.p);
  }
  /* a parameter entity too */
  sbuf b = {0};
  sb_add(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY %% pe \"");
  sb_rep(&b, "<!-- x -->", 200);
  sb_add(&b, "\">\n]>\n<rss version=\"2.0\"><channel/></rss>\n");
  vg_feed_items it;
  char err[400];
  assert_int_equal(parse_lim(&b, NULL, &it, err, sizeof err), VG_EPARSE);
  assert_contains(err, "the entity 'pe' holds 2000 bytes");
  free(b.p);
}

/* The bomb: one entity used 2,000 times in a title. With entities of 200
 * bytes (under the entity cap) the title is 400,000 bytes: over max_text,
 * that item is kept as a reject, cut at the cap, and the others are read. */
static void test_item_over_max_text_rejected(void **state) {
  (void)state;
  sbuf b = {0};
  sb_add(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY e \"");
  sb_rep(&b, "\xea\xb0\x80", 66); /* 198 bytes of a three-byte character, then two */
  sb_add(&b, "ab\">\n]>\n<rss version=\"2.0\"><channel>\n<item><title>Before</title></item>\n"
             "<item><guid>bomb</guid><title>");
  sb_rep(&b, "&e;", 2000);
  sb_add(&b, "</title></item>\n<item><title>After</title><description>");
  sb_rep(&b, "d", 1001); /* a summary over the cap, without entities */
  sb_add(&b, "</description></item>\n<item><title>Last</title><description>");
  sb_rep(&b, "d", 1000); /* one at the cap */
  sb_add(&b, "</description></item>\n</channel></rss>\n");
  vg_feed_limits lim = {1000, 0, 0};
  vg_feed_items it;
  char err[400];
  assert_int_equal(parse_lim(&b, &lim, &it, err, sizeof err), 0);
  assert_int_equal(it.n, 4);
  assert_null(it.v[0].reject);
  assert_string_equal(it.v[0].title, "Before");
  assert_non_null(it.v[1].reject);
  assert_string_equal(it.v[1].reject, "the item's title is over the 1000-byte cap");
  assert_string_equal(it.v[1].guid, "bomb");
  assert_int_equal(it.v[1].line, 7);
  size_t n = strlen(it.v[1].title);
  assert_in_range(n, 990, 1000);
  assert_int_equal(((unsigned char)it.v[1].title[n - 1] & 0xc0) != 0x80 ||
                       strncmp(it.v[1].title + n - 3, "\xea\xb0\x80", 3) == 0,
                   1); /* cut between characters */
  assert_string_equal(it.v[2].reject, "the item's summary is over the 1000-byte cap");
  assert_null(it.v[3].reject);
  assert_int_equal(strlen(it.v[3].summary), 1000);
  vg_feed_items_free(&it);
  free(b.p);
}

/* libxml2 2.9 refuses a nested entity that expands to ten times what it
 * reads, but not many references to entities of moderate size, nor one
 * level of nesting under a thousand bytes: what they expand to is counted
 * against max_expanded, by bytes ... */
static void test_entities_over_max_expanded(void **state) {
  (void)state;
  sbuf b = {0};
  sb_add(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY e1 \"");
  sb_rep(&b, "A", 99);
  sb_add(&b, "\">\n<!ENTITY e2 \"");
  sb_rep(&b, "&e1;", 10); /* 990 bytes */
  sb_add(&b, "\">\n]>\n<rss version=\"2.0\"><channel><item><title>");
  sb_rep(&b, "&e2;", 200);
  sb_add(&b, "</title></item></channel></rss>\n");
  vg_feed_limits lim = {0, 100000, 0};
  vg_feed_items it;
  char err[400];
  assert_int_equal(parse_lim(&b, &lim, &it, err, sizeof err), VG_EPARSE);
  assert_contains(err, "XML refused: its items hold over 100000 bytes of text once their "
                       "entities are expanded");
  assert_empty(&it);
  /* under a larger cap, the 198,000 bytes it holds are read */
  lim.max_expanded = 300000;
  assert_int_equal(parse_lim(&b, &lim, &it, err, sizeof err), 0);
  assert_int_equal(strlen(it.v[0].title), 198000);
  vg_feed_items_free(&it);
  free(b.p);
}

/* ... and by nodes, when they expand to nothing: 251,000 references. */
static void test_empty_entities_over_max_expanded(void **state) {
  (void)state;
  sbuf b = {0};
  sb_add(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY n0 \"\">\n<!ENTITY n1 \"");
  sb_rep(&b, "&n0;", 250);
  sb_add(&b, "\">\n]>\n<rss version=\"2.0\"><channel><item><title>");
  sb_rep(&b, "&n1;", 1000);
  sb_add(&b, "</title></item></channel></rss>\n");
  vg_feed_limits lim = {0, 100000, 0};
  vg_feed_items it;
  char err[400];
  assert_int_equal(parse_lim(&b, &lim, &it, err, sizeof err), VG_EPARSE);
  assert_contains(err, "XML refused: its items hold over 100000 bytes");
  assert_empty(&it);
  lim.max_expanded = 300000;
  assert_int_equal(parse_lim(&b, &lim, &it, err, sizeof err), 0);
  assert_string_equal(it.v[0].title, "");
  vg_feed_items_free(&it);
  free(b.p);
}

/* An error libxml2 meets inside an entity's text is said at the line of the
 * document the entity was used on, not at its line within the entity. */
static void test_entity_error_names_document_line(void **state) {
  (void)state;
  static const char doc[] = "<?xml version=\"1.0\"?>\n"
                            "<!DOCTYPE rss [\n"
                            "<!ENTITY ping \"ping &pong;\">\n"
                            "<!ENTITY pong \"pong &ping;\">\n"
                            "]>\n"
                            "<rss version=\"2.0\"><channel>\n"
                            "<item><title>A title</title></item>\n"
                            "<item><title>&ping;</title></item>\n" /* line 8 */
                            "</channel></rss>\n";
  vg_feed_items it;
  char err[400];
  assert_int_equal(parse(doc, NULL, VG_FEED_AUTO, &it, err, sizeof err), VG_EPARSE);
  assert_contains(err, "malformed XML at line 8: ");
  assert_empty(&it);
}

/* An external entity is never read: not from a file, not over the network. */
static void test_external_entity_not_loaded(void **state) {
  (void)state;
  char path[] = "/tmp/vigil-test-entity-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "SECRET-CONTENT", 14), 14);
  close(fd);
  sbuf b = {0};
  sb_add(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY x SYSTEM \"file://%s\">\n]>\n"
             "<rss version=\"2.0\"><channel><item><title>a &x; b</title><description>&x;"
             "</description></item></channel></rss>\n",
         path);
  vg_feed_items it;
  char err[400];
  int rc = parse_lim(&b, NULL, &it, err, sizeof err);
  unlink(path);
  assert_int_equal(rc, 0);
  assert_string_equal(it.v[0].title, "a b");
  assert_string_equal(it.v[0].summary, "");
  vg_feed_items_free(&it);
  free(b.p);
}

/* A tag (here one attribute of 400 KB) or a comment longer than the push
 * parser may hold back is refused; a text as long is read. */
static void test_long_construct_refused(void **state) {
  (void)state;
  static const char *const kinds[] = {"tag", "comment", "text"};
  for (int k = 0; k < 3; k++) {
    sbuf b = {0};
    sb_add(&b, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\n");
    if (k == 0) sb_add(&b, "<item x=\"");
    else if (k == 1) sb_add(&b, "<!-- ");
    else sb_add(&b, "<item><description>");
    sb_rep(&b, "0123456789", 40000);
    if (k == 0) sb_add(&b, "\"><title>t</title></item>\n");
    else if (k == 1) sb_add(&b, " -->\n");
    else sb_add(&b, "</description></item>\n");
    sb_add(&b, "</channel></rss>\n");
    vg_feed_items it;
    char err[400];
    int rc = parse_lim(&b, NULL, &it, err, sizeof err);
    if (k < 2) {
      if (rc != VG_EPARSE) fail_msg("a %s of 400 KB was not refused", kinds[k]);
      assert_contains(err, "XML refused at line 3: a tag, comment or declaration runs over "
                           "262144 bytes");
      assert_empty(&it);
    } else {
      if (rc != 0) fail_msg("a text of 400 KB was refused: %s", err);
      assert_int_equal(strlen(it.v[0].summary), 400000);
      vg_feed_items_free(&it);
    }
    free(b.p);
  }
}

/* A parse past its time is refused (a time of 1 ns is past at the first
 * look, after the first 64 KiB). */
static void test_time_limit(void **state) {
  (void)state;
  sbuf b = {0};
  sb_add(&b, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\n");
  for (int i = 0; i < 3000; i++)
    sb_add(&b, "<item><title>Item %d of a long feed</title></item>\n", i);
  sb_add(&b, "</channel></rss>\n");
  assert_true(b.n > 2 * 65536);
  vg_feed_limits lim = {0, 0, 1};
  vg_feed_items it;
  char err[400];
  assert_int_equal(parse_lim(&b, &lim, &it, err, sizeof err), VG_EPARSE);
  assert_contains(err, "XML refused: parsing took longer than the ");
  assert_empty(&it);
  lim.time_ns = UINT64_C(60000000000); /* a minute: ample */
  assert_int_equal(parse_lim(&b, &lim, &it, err, sizeof err), 0);
  assert_int_equal(it.n, 3000);
  vg_feed_items_free(&it);
  free(b.p);
}

/* HTML is reduced to text from its first 64 KiB: the entry keeps 2000
 * bytes of a summary, and libxml2's HTML parser slows down with the
 * square of a tag's attributes. */
static void test_html_reduced_from_its_start(void **state) {
  (void)state;
  sbuf b = {0};
  sb_add(&b, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><item><title>t</title>"
             "<description>&lt;p&gt;");
  sb_rep(&b, "word ", 30000);
  sb_add(&b, "&lt;/p&gt;</description></item></channel></rss>\n");
  vg_feed_items it;
  char err[400];
  assert_int_equal(parse_lim(&b, NULL, &it, err, sizeof err), 0);
  size_t n = strlen(it.v[0].summary);
  assert_in_range(n, 60000, 65536);
  assert_int_equal(strncmp(it.v[0].summary, "word word", 9), 0);
  vg_feed_items_free(&it);
  free(b.p);
}

/* ---- vg_html_text ---- */

static void test_html_text(void **state) {
  (void)state;
  assert_html_text("plain  text", "plain text");
  assert_html_text("  \t\n lead and trail \n\t ", "lead and trail");
  assert_html_text("<b>North</b> <i>Korea</i>", "North Korea");
  assert_html_text("<p>Kim &amp; Putin\n\n   met at   <a href=\"x\">Vostochny</a>.</p>",
                   "Kim & Putin met at Vostochny.");
  assert_html_text("&lt;tag&gt; &quot;q&quot; &#39;s&#39; caf&eacute; &#xC870;&#49440;",
                   "<tag> \"q\" 's' caf\u00e9 \xec\xa1\xb0\xec\x84\xa0");
  assert_html_text("", "");
}

/* Words either side of a line break or a paragraph end stay apart. */
static void test_html_text_block_boundaries(void **state) {
  (void)state;
  assert_html_text("<p>One launch.</p><p>Two launches.</p>", "One launch. Two launches.");
  assert_html_text("fired<br>a Hwasong-18", "fired a Hwasong-18");
}

/* ---- the poller's backoff ---- */

static void test_backoff(void **state) {
  (void)state;
  assert_int_equal(vg_feed_backoff(300, 0), 300);
  assert_int_equal(vg_feed_backoff(300, -1), 300);
  for (int i = 0; i < 50; i++) {
    unsigned d = vg_feed_backoff(10, 1); /* 20 s, a fifth either way */
    assert_in_range(d, 16, 24);
    d = vg_feed_backoff(10, 3); /* 80 s */
    assert_in_range(d, 64, 96);
    d = vg_feed_backoff(300, 40); /* capped at six hours */
    assert_in_range(d, 17280, 25920);
    d = vg_feed_backoff(0, 1); /* never zero */
    assert_true(d >= 1);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rss2_item),
      cmocka_unit_test(test_rss2_content_encoded_preferred),
      cmocka_unit_test(test_rss2_dc_date_and_entities),
      cmocka_unit_test(test_rss2_bad_pubdate_is_undated),
      cmocka_unit_test(test_rss2_many_items),
      cmocka_unit_test(test_rss1_rdf),
      cmocka_unit_test(test_atom_entries),
      cmocka_unit_test(test_atom_only_other_links),
      cmocka_unit_test(test_guid_fallbacks),
      cmocka_unit_test(test_content_hash),
      cmocka_unit_test(test_detect_json),
      cmocka_unit_test(test_detect_chronology),
      cmocka_unit_test(test_detect_xml_by_body),
      cmocka_unit_test(test_explicit_format),
      cmocka_unit_test(test_format_names),
      cmocka_unit_test(test_html_type_refused),
      cmocka_unit_test(test_html_error_page),
      cmocka_unit_test(test_xhtml_page),
      cmocka_unit_test(test_malformed_xml),
      cmocka_unit_test(test_malformed_xml_first_error),
      cmocka_unit_test(test_truncated_body),
      cmocka_unit_test(test_not_a_feed),
      cmocka_unit_test(test_byte_order_mark),
      cmocka_unit_test(test_blank_line_before_declaration),
      cmocka_unit_test(test_entities_expanded),
      cmocka_unit_test(test_entity_over_cap_refused),
      cmocka_unit_test(test_item_over_max_text_rejected),
      cmocka_unit_test(test_entities_over_max_expanded),
      cmocka_unit_test(test_empty_entities_over_max_expanded),
      cmocka_unit_test(test_entity_error_names_document_line),
      cmocka_unit_test(test_external_entity_not_loaded),
      cmocka_unit_test(test_long_construct_refused),
      cmocka_unit_test(test_time_limit),
      cmocka_unit_test(test_html_reduced_from_its_start),
      cmocka_unit_test(test_html_text),
      cmocka_unit_test(test_html_text_block_boundaries),
      cmocka_unit_test(test_backoff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
