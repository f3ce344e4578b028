/* feed_parse.c — RSS and Atom items through libxml2; see feed_parse.h. */
#include "feed_parse.h"

#include "vigil.h"

#include <ctype.h>
#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

int vg_feed_format_parse(const char *name, vg_feed_format *out) {
  static const char *const names[] = {"auto", "rss", "atom", "json", "chrono"};
  for (int i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (vg_feed_format)i;
      return 0;
    }
  return VG_EINVAL;
}

void vg_feed_items_free(vg_feed_items *items) {
  for (size_t i = 0; i < items->n; i++) {
    vg_feed_item *it = &items->v[i];
    free(it->guid);
    free(it->title);
    free(it->summary);
    free(it->link);
    free(it->date);
  }
  free(items->v);
  free(items->lines);
  memset(items, 0, sizeof *items);
}

/* Folds runs of blanks (no-break spaces too) to one space and trims, in place. */
static char *fold_blanks(char *s) {
  char *o = s;
  int blank = 1;
  for (char *p = s; *p; p++) {
    int nbsp = (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0;
    if (nbsp) p++;
    if (nbsp || isspace((unsigned char)*p)) {
      if (!blank) *o++ = ' ';
      blank = 1;
    } else {
      *o++ = *p;
      blank = 0;
    }
  }
  if (o > s && o[-1] == ' ') o--;
  *o = '\0';
  return s;
}

/* The text of an HTML tree: scripts and styles dropped, a space at every
 * block boundary so that words of two paragraphs do not run together. */
static void html_walk(xmlNodePtr n, xmlBufferPtr out) {
  static const char *const blocks[] = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4",
                                       "h5", "h6", "tr", "td", "th", "table", "blockquote", "hr",
                                       "section", "article", "header", "footer", "dd", "dt", NULL};
  for (; n; n = n->next) {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      xmlBufferCat(out, n->content);
    } else if (n->type == XML_ELEMENT_NODE) {
      const char *name = (const char *)n->name;
      if (strcasecmp(name, "script") == 0 || strcasecmp(name, "style") == 0) continue;
      int block = 0;
      for (const char *const *b = blocks; *b && !block; b++) block = strcasecmp(name, *b) == 0;
      if (block) xmlBufferCCat(out, " ");
      html_walk(n->children, out);
      if (block) xmlBufferCCat(out, " ");
    }
  }
}

char *vg_html_text(const char *html, size_t n) {
  htmlDocPtr doc = htmlReadMemory(html, (int)n, NULL, "UTF-8",
                                  HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  char *out = NULL;
  if (doc) {
    xmlBufferPtr buf = xmlBufferCreate();
    if (buf) {
      html_walk(xmlDocGetRootElement(doc), buf);
      out = strdup((const char *)xmlBufferContent(buf));
      xmlBufferFree(buf);
    }
    xmlFreeDoc(doc);
  } else {
    out = strndup(html, n);
  }
  return out ? fold_blanks(out) : NULL;
}

static int named(xmlNodePtr n, const char *name) {
  return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name) {
  for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
    if (named(c, name)) return c;
  return NULL;
}

/* An element's text, with any HTML inside it reduced to plain text. */
static char *text_of(xmlNodePtr n) {
  if (!n) return strdup("");
  xmlChar *raw = xmlNodeGetContent(n);
  const char *s = raw ? (const char *)raw : "";
  char *out = strchr(s, '<') || strchr(s, '&') ? vg_html_text(s, strlen(s)) : fold_blanks(strdup(s));
  xmlFree(raw);
  return out;
}

/* An RFC 822 date (RSS pubDate) as ISO 8601 in UTC, or NULL. */
static char *rfc822(const char *s) {
  time_t t = curl_getdate(s, NULL);
  if (t == (time_t)-1) return NULL;
  struct tm tm;
  char buf[32];
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return strdup(buf);
}

static int add_item(vg_feed_items *out, char *title, char *summary, char *link, char *guid,
                    char *date) {
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 32;
    vg_feed_item *v = realloc(out->v, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    out->v = v;
    out->cap = cap;
  }
  vg_feed_item *it = &out->v[out->n++];
  it->title = title ? title : strdup("");
  it->summary = summary ? summary : strdup("");
  it->link = link ? link : strdup("");
  it->date = date;
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  XXH3_128bits_update(&st, it->title, strlen(it->title) + 1);
  XXH3_128bits_update(&st, it->summary, strlen(it->summary) + 1);
  XXH3_128bits_update(&st, it->link, strlen(it->link) + 1);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
  memcpy(it->content, c.digest, 16);
  if (guid && *guid) {
    it->guid = guid;
  } else {
    free(guid);
    if (*it->link) {
      it->guid = strdup(it->link);
    } else { /* neither guid nor link: title and date name it */
      XXH128_hash_t h = XXH3_128bits_withSeed(it->title, strlen(it->title),
                                              date ? XXH3_64bits(date, strlen(date)) : 0);
      char hex[40];
      snprintf(hex, sizeof hex, "hash:%016llx%016llx", (unsigned long long)h.high64,
               (unsigned long long)h.low64);
      it->guid = strdup(hex);
    }
  }
  return it->title && it->summary && it->link && it->guid ? 0 : VG_ENOMEM;
}

static int rss_items(xmlNodePtr parent, vg_feed_items *out) {
  int rc = 0;
  for (xmlNodePtr n = parent->children; n && rc == 0; n = n->next) {
    if (!named(n, "item")) continue;
    xmlNodePtr d = child(n, "pubDate"), dc = child(n, "date"), enc = child(n, "encoded");
    char *date = NULL;
    if (d) {
      xmlChar *s = xmlNodeGetContent(d);
      date = s ? rfc822((const char *)s) : NULL;
      xmlFree(s);
    } else if (dc) { /* dc:date is ISO 8601 already */
      xmlChar *s = xmlNodeGetContent(dc);
      date = s ? fold_blanks(strdup((const char *)s)) : NULL;
      xmlFree(s);
    }
    xmlNodePtr desc = enc ? enc : child(n, "description");
    rc = add_item(out, text_of(child(n, "title")), text_of(desc), text_of(child(n, "link")),
                  child(n, "guid") ? text_of(child(n, "guid")) : NULL, date);
  }
  return rc;
}

static int atom_items(xmlNodePtr feed, vg_feed_items *out) {
  int rc = 0;
  for (xmlNodePtr n = feed->children; n && rc == 0; n = n->next) {
    if (!named(n, "entry")) continue;
    char *link = NULL;
    for (xmlNodePtr l = n->children; l; l = l->next) {
      if (!named(l, "link")) continue;
      xmlChar *rel = xmlGetProp(l, (const xmlChar *)"rel");
      xmlChar *href = xmlGetProp(l, (const xmlChar *)"href");
      int alternate = !rel || strcmp((const char *)rel, "alternate") == 0;
      if (href && (alternate || !link)) {
        free(link);
        link = strdup((const char *)href);
      }
      xmlFree(rel);
      xmlFree(href);
      if (link && alternate) break;
    }
    xmlNodePtr d = child(n, "published") ? child(n, "published") : child(n, "updated");
    char *date = NULL;
    if (d) {
      xmlChar *s = xmlNodeGetContent(d);
      date = s ? fold_blanks(strdup((const char *)s)) : NULL;
      xmlFree(s);
    }
    xmlNodePtr body = child(n, "summary") ? child(n, "summary") : child(n, "content");
    rc = add_item(out, text_of(child(n, "title")), text_of(body), link,
                  child(n, "id") ? text_of(child(n, "id")) : NULL, date);
  }
  return rc;
}

static int starts_with_ci(const char *s, const char *prefix) {
  return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Keeps the first error libxml2 reports: the later ones follow from it. */
static void first_error(void *ud, xmlErrorPtr e) {
  xmlError *keep = ud;
  if (keep->code == 0 && e) {
    keep->code = e->code ? e->code : 1;
    keep->line = e->line;
    keep->message = e->message ? strdup(e->message) : NULL;
  }
}

/* Whether the body is an HTML page, by its type or its first tag. */
static int html_page(const char *body, size_t n, const char *content_type) {
  if (content_type && strncasecmp(content_type, "text/html", 9) == 0) return 1;
  return (n >= 9 && strncasecmp(body, "<!DOCTYPE", 9) == 0 &&
          n >= 14 && strncasecmp(body + 9, " html", 5) == 0) ||
         (n >= 5 && strncasecmp(body, "<html", 5) == 0);
}

int vg_feed_parse(const char *body, size_t n, const char *content_type, vg_feed_format fmt,
                  vg_feed_items *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  size_t i = 0;
  if (n >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) i = 3; /* a byte order mark */
  while (i < n && isspace((unsigned char)body[i])) i++;
  if (fmt == VG_FEED_AUTO) {
    if (starts_with_ci(content_type, "application/json") ||
        starts_with_ci(content_type, "application/x-ndjson") ||
        starts_with_ci(content_type, "application/jsonl") || (i < n && body[i] == '{'))
      fmt = VG_FEED_JSON;
    else if (i < n && body[i] == '<')
      fmt = VG_FEED_RSS; /* RSS or Atom: the root element says which */
    else if (starts_with_ci(content_type, "text/html")) {
      snprintf(err, cap, "the server sent an HTML page (%s), not a feed", content_type);
      return VG_EPARSE;
    } else
      fmt = VG_FEED_CHRONO;
  }
  if ((fmt == VG_FEED_RSS || fmt == VG_FEED_ATOM) && html_page(body + i, n - i, content_type)) {
    snprintf(err, cap, "the server sent an HTML page (%s), not a feed",
             content_type ? content_type : "no content type");
    return VG_EPARSE;
  }
  if (fmt == VG_FEED_JSON || fmt == VG_FEED_CHRONO) {
    out->kind = fmt;
    if (!(out->lines = malloc(n + 1))) return VG_ENOMEM;
    memcpy(out->lines, body, n);
    out->lines[n] = '\0';
    out->lines_len = n;
    return 0;
  }
  /* From the first tag on (a blank line before <?xml ...?> is no reason to
   * refuse a feed), reporting the first error, not the last. */
  xmlError first = {0};
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (!ctxt) return VG_ENOMEM;
  xmlSetStructuredErrorFunc(&first, first_error);
  xmlDocPtr doc = xmlCtxtReadMemory(ctxt, body + i, (int)(n - i), NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                        XML_PARSE_NOCDATA);
  xmlSetStructuredErrorFunc(NULL, NULL);
  xmlFreeParserCtxt(ctxt);
  if (!doc || first.code) {
    int skipped = 0; /* lines before the first tag, which the parser did not see */
    for (size_t k = 0; k < i; k++) skipped += body[k] == '\n';
    if (first.code)
      snprintf(err, cap, "malformed XML at line %d: %s", first.line + skipped,
               first.message ? first.message : "error");
    else
      snprintf(err, cap, "malformed XML");
    char *nl = strchr(err, '\n');
    if (nl) *nl = '\0';
    free(first.message);
    if (doc) xmlFreeDoc(doc);
    return VG_EPARSE;
  }
  xmlNodePtr root = xmlDocGetRootElement(doc);
  int rc = 0;
  if (root && named(root, "rss")) {
    out->kind = VG_FEED_RSS;
    xmlNodePtr channel = child(root, "channel");
    rc = channel ? rss_items(channel, out) : 0;
  } else if (root && named(root, "RDF")) {
    out->kind = VG_FEED_RSS;
    rc = rss_items(root, out);
  } else if (root && named(root, "feed")) {
    out->kind = VG_FEED_ATOM;
    rc = atom_items(root, out);
  } else if (root && strcasecmp((const char *)root->name, "html") == 0) {
    snprintf(err, cap, "the server sent an HTML page, not a feed");
    rc = VG_EPARSE;
  } else {
    snprintf(err, cap, "not a feed: the document is <%s>, not <rss> or <feed>",
             root ? (const char *)root->name : "?");
    rc = VG_EPARSE;
  }
  xmlFreeDoc(doc);
  if (rc) {
    if (rc == VG_ENOMEM) snprintf(err, cap, "out of memory");
    vg_feed_items_free(out);
  }
  return rc;
}
