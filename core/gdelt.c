/* gdelt.c — GDELT's update listing and its archives; see gdelt.h. */
#include "gdelt.h"

#include "vigil.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#define EXPORT_SUFFIX ".export.CSV.zip"

/* One line of a listing, split: the size, the digest and the URL. */
typedef struct {
  uint64_t size;
  const char *md5, *url;
  size_t url_len;
} listing_line;

/* Reads "SIZE MD5 URL" from s[0..n) (no newline). Returns 1 when the line
 * is one, 0 when not. */
static int read_line(const char *s, size_t n, listing_line *l) {
  size_t i = 0;
  uint64_t size = 0;
  while (i < n && isdigit((unsigned char)s[i])) {
    if (size > (UINT64_MAX - 9) / 10) return 0;
    size = size * 10 + (uint64_t)(s[i++] - '0');
  }
  if (i == 0 || i == n || s[i++] != ' ') return 0;
  size_t md5 = i;
  while (i < n && isxdigit((unsigned char)s[i])) i++;
  if (i - md5 != 32 || i == n || s[i++] != ' ') return 0;
  size_t url = i;
  while (i < n && s[i] > ' ' && s[i] != 0x7f) i++;
  if (i == url || i != n) return 0;
  *l = (listing_line){size, s + md5, s + url, n - url};
  return 1;
}

/* The last path segment of url[0..n) (before a query or fragment). */
static const char *last_segment(const char *url, size_t n, size_t *len) {
  size_t end = 0;
  while (end < n && url[end] != '?' && url[end] != '#') end++;
  size_t start = end;
  while (start > 0 && url[start - 1] != '/') start--;
  *len = end - start;
  return url + start;
}

static int ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

int vg_gdelt_listing(const char *body, size_t n, vg_gdelt_archive *out, char *err, size_t cap) {
  listing_line export = {0}, l;
  size_t lines = 0;
  for (size_t at = 0; at < n;) {
    const char *nl = memchr(body + at, '\n', n - at);
    size_t end = nl ? (size_t)(nl - body) : n, len = end - at;
    if (len && body[at + len - 1] == '\r') len--;
    if (len) {
      if (!read_line(body + at, len, &l)) return 0;
      size_t name_len;
      const char *name = last_segment(l.url, l.url_len, &name_len);
      if (!export.url && ends_with(name, name_len, EXPORT_SUFFIX)) export = l;
      lines++;
    }
    at = end + 1;
  }
  if (!lines) return 0;
  if (!export.url) {
    snprintf(err, cap, "the update listing names no %s archive", EXPORT_SUFFIX);
    return VG_EPARSE;
  }
  size_t name_len;
  const char *name = last_segment(export.url, export.url_len, &name_len);
  if (export.url_len >= sizeof out->url || name_len >= sizeof out->name) {
    snprintf(err, cap, "the update listing's export URL is over %zu bytes", sizeof out->url - 1);
    return VG_EPARSE;
  }
  memset(out, 0, sizeof *out);
  out->size = export.size;
  for (int i = 0; i < 32; i++) out->md5[i] = (char)tolower((unsigned char)export.md5[i]);
  memcpy(out->url, export.url, export.url_len);
  memcpy(out->name, name, name_len);
  return 1;
}

int vg_gdelt_is_zip(const char *body, size_t n) {
  return n >= 4 && memcmp(body, "PK\3\4", 4) == 0;
}

/* Whether a member's name is a path rather than a plain file name. */
static int is_path(const char *name) {
  return !name[0] || strchr(name, '/') || strchr(name, '\\') || strcmp(name, ".") == 0 ||
         strcmp(name, "..") == 0;
}

int vg_gdelt_unzip(const char *zip, size_t n, size_t max, char **out, size_t *len,
                   char member[256], char *err, size_t cap) {
  *out = NULL;
  *len = 0;
  if (member) member[0] = '\0';
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t *src = zip_source_buffer_create(zip, n, 0, &ze);
  zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
  zip_file_t *zf = NULL;
  char *buf = NULL;
  int rc = VG_EPARSE;
  if (!za) {
    snprintf(err, cap, "not a zip archive that can be read: %s", zip_error_strerror(&ze));
    zip_source_free(src); /* NULL is fine */
    goto cleanup;
  }
  zip_int64_t members = zip_get_num_entries(za, 0);
  zip_stat_t st;
  zip_stat_init(&st);
  if (members != 1) {
    snprintf(err, cap, "the archive holds %lld members, not the one table it should",
             (long long)members);
    goto cleanup;
  }
  if (zip_stat_index(za, 0, 0, &st) || !(st.valid & ZIP_STAT_NAME) ||
      !(st.valid & ZIP_STAT_SIZE)) {
    snprintf(err, cap, "the archive's member cannot be read: %s", zip_strerror(za));
    goto cleanup;
  }
  if (is_path(st.name) || !ends_with(st.name, strlen(st.name), ".csv")) {
    char name[120];
    vg_escape_line(name, sizeof name, st.name, strlen(st.name));
    snprintf(err, cap, "the archive's member '%s' is not a .CSV file without a path", name);
    goto cleanup;
  }
  if (member) snprintf(member, 256, "%s", st.name);
  if (st.size > max) {
    snprintf(err, cap, "the archive's member %s unpacks to %llu bytes, over the %zu-byte cap",
             st.name, (unsigned long long)st.size, max);
    goto cleanup;
  }
  if (!(zf = zip_fopen_index(za, 0, 0))) {
    snprintf(err, cap, "the archive's member %s cannot be opened: %s", st.name,
             zip_strerror(za));
    goto cleanup;
  }
  /* The size the archive declares is read, and one byte more to tell a
   * member that unpacks to more than it says. */
  size_t want = (size_t)st.size;
  if (!(buf = malloc(want + 2))) {
    rc = VG_ENOMEM;
    snprintf(err, cap, "out of memory");
    goto cleanup;
  }
  size_t got = 0;
  for (;;) {
    zip_int64_t r = zip_fread(zf, buf + got, want + 1 - got);
    if (r < 0) {
      snprintf(err, cap, "the archive's member %s is broken: %s", st.name,
               zip_file_strerror(zf));
      goto cleanup;
    }
    if (r == 0) break;
    got += (size_t)r;
    if (got > want) {
      snprintf(err, cap, "the archive's member %s unpacks to more than the %zu bytes it declares",
               st.name, want);
      goto cleanup;
    }
  }
  if (got != want) {
    snprintf(err, cap, "the archive's member %s unpacks to %zu bytes, not the %zu it declares",
             st.name, got, want);
    goto cleanup;
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  buf = NULL;
  rc = 0;
cleanup:
  if (zf) zip_fclose(zf);
  if (za) zip_discard(za); /* read only: nothing to write back */
  free(buf);
  zip_error_fini(&ze);
  return rc;
}

void vg_md5_hex(const void *data, size_t n, char hex[33]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!EVP_Digest(data, n, md, &len, EVP_md5(), NULL)) len = 0;
  hex[0] = '\0';
  for (unsigned i = 0; i < len && i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}
