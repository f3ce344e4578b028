/* test_gdelt.c — GDELT's update listing and its archives (gdelt.h), and the
 * MD5 a listing is checked by (gdelt.h).
 *
 * Covers the listing as GDELT writes it (three lines, LF or CRLF) and what
 * is no listing (a table, a chronology line, XML, an empty body); a listing
 * that names no export archive; the archive's name taken from its URL; MD5
 * against the RFC 1321 vectors and around the block boundaries; and zips
 * built here with libzip: one .CSV member read whole, and refused in turn a
 * member over the cap, two members, a member with a path, a member that is
 * no .CSV, a member whose bytes no longer match its checksum, and bytes
 * that are no zip at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "gdelt.h"
#include "vigil.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

/* A listing shaped as GDELT's, with made-up sizes and digests. */
static const char listing[] =
    "81734 1D5E8AF0C2B94A7E8F3C6B2D1A0E9F87 "
    "http://data.example.org/gdeltv2/20240528000000.export.CSV.zip\n"
    "102552 0f1e2d3c4b5a69788796a5b4c3d2e1f0 "
    "http://data.example.org/gdeltv2/20240528000000.mentions.CSV.zip\n"
    "5512904 aa55aa55aa55aa55aa55aa55aa55aa55 "
    "http://data.example.org/gdeltv2/20240528000000.gkg.csv.zip\n";

static void test_listing_names_its_export_archive(void **state) {
  (void)state;
  vg_gdelt_archive a;
  char err[200] = "";
  assert_int_equal(vg_gdelt_listing(listing, strlen(listing), &a, err, sizeof err), 1);
  assert_int_equal(a.size, 81734);
  assert_string_equal(a.md5, "1d5e8af0c2b94a7e8f3c6b2d1a0e9f87"); /* lower case */
  assert_string_equal(a.url, "http://data.example.org/gdeltv2/20240528000000.export.CSV.zip");
  assert_string_equal(a.name, "20240528000000.export.CSV.zip");
}

static void test_listing_with_crlf_and_blank_lines(void **state) {
  (void)state;
  const char *body = "\r\n12 00112233445566778899aabbccddeeff "
                     "https://h.example.org/a/b/20231007033000.export.CSV.zip?x=1#y\r\n\r\n";
  vg_gdelt_archive a;
  char err[200] = "";
  assert_int_equal(vg_gdelt_listing(body, strlen(body), &a, err, sizeof err), 1);
  assert_int_equal(a.size, 12);
  assert_string_equal(a.name, "20231007033000.export.CSV.zip"); /* query and fragment aside */
}

static void test_what_is_no_listing(void **state) {
  (void)state;
  static const char *const bodies[] = {
      "",
      "\n\n",
      "910000101\t20180427\t201804\t2018\t2018.3205\tPRKGOV\n",
      "April 27, 2018: the leaders of the two Koreas meet at Panmunjom\n",
      "<?xml version=\"1.0\"?><rss version=\"2.0\"></rss>\n",
      /* one good line and one that is not */
      "12 00112233445566778899aabbccddeeff http://h/x.export.CSV.zip\nhello\n",
      /* a digest one digit short, a size that is not a number */
      "12 00112233445566778899aabbccddeef http://h/x.export.CSV.zip\n",
      "1x2 00112233445566778899aabbccddeeff http://h/x.export.CSV.zip\n",
      /* a size past 64 bits */
      "99999999999999999999999 00112233445566778899aabbccddeeff http://h/x.export.CSV.zip\n",
  };
  for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
    vg_gdelt_archive a;
    char err[200] = "";
    if (vg_gdelt_listing(bodies[i], strlen(bodies[i]), &a, err, sizeof err) != 0)
      fail_msg("body %zu was taken for a listing", i);
  }
}

static void test_listing_without_export_line_is_refused(void **state) {
  (void)state;
  const char *body = "102552 0f1e2d3c4b5a69788796a5b4c3d2e1f0 "
                     "http://data.example.org/gdeltv2/20240528000000.mentions.CSV.zip\n";
  vg_gdelt_archive a;
  char err[200] = "";
  assert_int_equal(vg_gdelt_listing(body, strlen(body), &a, err, sizeof err), VG_EPARSE);
  assert_contains(err, "names no .export.CSV.zip archive");
}

static void test_md5_vectors(void **state) {
  (void)state;
  static const struct {
    const char *in, *hex;
  } v[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  char hex[33];
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    vg_md5_hex(v[i].in, strlen(v[i].in), hex);
    assert_string_equal(hex, v[i].hex);
  }
  /* 55, 56, 63 and 64 bytes: the padding takes one block or two. */
  static const struct {
    size_t n;
    const char *hex;
  } z[] = {{55, "04364420e25c512fd958a70738aa8f72"},
           {56, "668a72d5ba17f08e62dabcafad6db14b"},
           {63, "7dc2ca208106a2f703567bdff99d8981"},
           {64, "c1bb4f81d892b2d57947682aeb252456"}};
  char buf[64];
  memset(buf, 'x', sizeof buf);
  for (size_t i = 0; i < sizeof z / sizeof *z; i++) {
    vg_md5_hex(buf, z[i].n, hex);
    assert_string_equal(hex, z[i].hex);
  }
}

/* A zip archive of the members names[i] with texts[i] (stored, not
 * deflated, when `stored`), built with libzip in a scratch file; *n gets
 * its size. The caller frees it. */
static char *make_zip(const char *const *names, const char *const *texts, size_t k, int stored,
                      size_t *n) {
  char path[] = "/tmp/vigil-test-gdelt.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  int ze = 0;
  zip_t *za = zip_open(path, ZIP_TRUNCATE, &ze);
  assert_non_null(za);
  for (size_t i = 0; i < k; i++) {
    zip_source_t *src = zip_source_buffer(za, texts[i], strlen(texts[i]), 0);
    assert_non_null(src);
    zip_int64_t idx = zip_file_add(za, names[i], src, ZIP_FL_ENC_UTF_8);
    assert_true(idx >= 0);
    if (stored)
      assert_int_equal(zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0), 0);
  }
  assert_int_equal(zip_close(za), 0);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = malloc(1 << 16);
  assert_non_null(buf);
  *n = fread(buf, 1, 1 << 16, f);
  fclose(f);
  unlink(path);
  return buf;
}

static const char table[] = "910000101\t20180427\t201804\n910000102\t20180427\t201804\n";

static void test_unzip_reads_the_one_member(void **state) {
  (void)state;
  const char *names[] = {"20180427013000.export.CSV"}, *texts[] = {table};
  size_t n, len;
  char *zip = make_zip(names, texts, 1, 0, &n), *out, member[256], err[300] = "";
  assert_true(vg_gdelt_is_zip(zip, n));
  assert_int_equal(vg_gdelt_unzip(zip, n, 1 << 20, &out, &len, member, err, sizeof err), 0);
  assert_int_equal(len, strlen(table));
  assert_string_equal(out, table);
  assert_string_equal(member, "20180427013000.export.CSV");
  free(out);
  /* a cap of the member's size exactly is enough; a byte less is not */
  assert_int_equal(vg_gdelt_unzip(zip, n, strlen(table), &out, &len, NULL, err, sizeof err), 0);
  free(out);
  assert_int_equal(vg_gdelt_unzip(zip, n, strlen(table) - 1, &out, &len, NULL, err, sizeof err),
                   VG_EPARSE);
  assert_null(out);
  assert_contains(err, "over the");
  free(zip);
}

static void test_unzip_refuses_what_is_not_one_table(void **state) {
  (void)state;
  static const struct {
    const char *names[2];
    size_t k;
    const char *why;
  } cases[] = {
      {{"a.export.CSV", "b.export.CSV"}, 2, "holds 2 members"},
      {{"dir/a.export.CSV", NULL}, 1, "without a path"},
      {{"../a.export.CSV", NULL}, 1, "without a path"},
      {{"notes.txt", NULL}, 1, "not a .CSV file"},
  };
  const char *texts[] = {table, table};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t n, len;
    char *zip = make_zip(cases[i].names, texts, cases[i].k, 1, &n), *out, err[300] = "";
    assert_int_equal(vg_gdelt_unzip(zip, n, 1 << 20, &out, &len, NULL, err, sizeof err),
                     VG_EPARSE);
    assert_null(out);
    assert_contains(err, cases[i].why);
    free(zip);
  }
}

static void test_unzip_refuses_a_broken_archive(void **state) {
  (void)state;
  const char *names[] = {"x.CSV"}, *texts[] = {table};
  size_t n, len;
  char *zip = make_zip(names, texts, 1, 1, &n), *out, err[300] = "";
  zip[30 + strlen("x.CSV")] ^= 0x20; /* the first byte of the stored member */
  assert_int_equal(vg_gdelt_unzip(zip, n, 1 << 20, &out, &len, NULL, err, sizeof err), VG_EPARSE);
  assert_null(out);
  assert_contains(err, "is broken");
  /* cut short */
  assert_int_equal(vg_gdelt_unzip(zip, n / 2, 1 << 20, &out, &len, NULL, err, sizeof err),
                   VG_EPARSE);
  assert_contains(err, "not a zip archive");
  free(zip);
  const char *text = "not a zip at all";
  assert_false(vg_gdelt_is_zip(text, strlen(text)));
  assert_int_equal(vg_gdelt_unzip(text, strlen(text), 1 << 20, &out, &len, NULL, err, sizeof err),
                   VG_EPARSE);
  assert_contains(err, "not a zip archive");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_listing_names_its_export_archive),
      cmocka_unit_test(test_listing_with_crlf_and_blank_lines),
      cmocka_unit_test(test_what_is_no_listing),
      cmocka_unit_test(test_listing_without_export_line_is_refused),
      cmocka_unit_test(test_md5_vectors),
      cmocka_unit_test(test_unzip_reads_the_one_member),
      cmocka_unit_test(test_unzip_refuses_what_is_not_one_table),
      cmocka_unit_test(test_unzip_refuses_a_broken_archive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
