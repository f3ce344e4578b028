/* test_textmatch.c — finding words and phrases in entry text (vg_text_has).
 *
 * Covers what rule writers rely on when they call e:find: matching ignores
 * ASCII case, holds only on word boundaries (a typographic or plain
 * apostrophe ends a word, a non-ASCII letter does not), blanks in a phrase
 * match any run of blanks, acronyms written in capitals match only in
 * capitals, hyphens and dots inside needles are matched as written, needles
 * may sit at the very start or end of the text, and an empty needle never
 * matches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "textmatch.h"

/* Whether needle occurs in text, both NUL-terminated. Every case checks
 * too that the text's character pairs never rule out a needle it holds. */
static int has(const char *text, const char *needle) {
  int yes = vg_text_has(text, strlen(text), needle, strlen(needle));
  vg_text_pairs p;
  vg_text_pairs_make(&p, text, strlen(text));
  if (yes && !vg_text_pairs_may_have(&p, needle, strlen(needle)))
    fail_msg("the pairs of \"%s\" rule out \"%s\", which it holds", text, needle);
  return yes;
}

static void test_pairs_rule_out_what_cannot_occur(void **state) {
  (void)state;
  const char *text = "North  Korea fires a Hwasong-18 ICBM";
  vg_text_pairs p;
  vg_text_pairs_make(&p, text, strlen(text));
  assert_true(vg_text_pairs_may_have(&p, "north korea", 11));
  assert_true(vg_text_pairs_may_have(&p, " icbm ", 6));
  assert_true(vg_text_pairs_may_have(&p, "Hwasong-18", 10));
  assert_false(vg_text_pairs_may_have(&p, "Pyongyang", 9));
  assert_false(vg_text_pairs_may_have(&p, "Korea  launches", 15));
  assert_false(vg_text_pairs_may_have(&p, "NorthKorea", 10));
}

#define assert_has(text, needle)                                                                   \
  do {                                                                                             \
    if (!has((text), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (text));           \
  } while (0)

#define assert_has_not(text, needle)                                                               \
  do {                                                                                             \
    if (has((text), (needle))) fail_msg("did not expect \"%s\" in \"%s\"", (needle), (text));      \
  } while (0)

static void test_word_matches_ignoring_case(void **state) {
  (void)state;
  assert_has("North Korea launches a missile.", "launches");
  assert_has("North Korea launches a missile.", "LAUNCHES");
  assert_has("NORTH KOREA LAUNCHES A MISSILE.", "north korea");
  assert_has("The Missile flew 1,000 km.", "missile");
}

static void test_word_absent(void **state) {
  (void)state;
  assert_has_not("North Korea launches a missile.", "satellite");
  assert_has_not("", "missile");
}

static void test_word_inside_longer_word_does_not_match(void **state) {
  (void)state;
  assert_has_not("North Korea launched a missile.", "launch");
  assert_has_not("Relaunch of the talks.", "launch");
  assert_has_not("Missiles were fired.", "missile");
  assert_has_not("Hwasong18 was fired.", "Hwasong");
}

static void test_word_followed_by_punctuation_matches(void **state) {
  (void)state;
  assert_has("They fired a missile, then another.", "missile");
  assert_has("(missile)", "missile");
  assert_has("a missile; then", "missile");
}

static void test_typographic_apostrophe_ends_a_word(void **state) {
  (void)state;
  assert_has("South Korea\xe2\x80\x99s air defense zone", "Korea"); /* Korea’s */
  assert_has("South Korea\xe2\x80\x99s air defense zone", "South Korea");
}

static void test_plain_apostrophe_ends_a_word(void **state) {
  (void)state;
  assert_has("South Korea's air defense zone", "Korea");
  assert_has("Korean People's Army", "Korean People's Army");
}

static void test_non_ascii_letter_is_part_of_the_word(void **state) {
  (void)state;
  assert_has_not("Korea\xc3\xa9 is not a word here", "Korea"); /* Koreaé */
  assert_has_not("\xc3\xa9Korea", "Korea");                    /* éKorea */
  assert_has("caf\xc3\xa9 Korea", "Korea");                    /* café Korea */
}

static void test_non_breaking_space_separates_words(void **state) {
  (void)state;
  assert_has("North\xc2\xa0Korea fires", "Korea"); /* U+00A0 before */
  assert_has("Korea\xc2\xa0" "fires", "Korea"); /* and after */
}

static void test_dashes_and_cjk_punctuation_separate_words(void **state) {
  (void)state;
  assert_has("Korea\xe2\x80\x94the peninsula", "Korea");      /* Korea—the */
  assert_has("\xe2\x80\x9cKorea\xe2\x80\x9d", "Korea");       /* “Korea” */
  assert_has("\xe5\x8c\x97\xe3\x80\x81Korea", "Korea");       /* 北、Korea */
}

static void test_latin1_punctuation_separates_words(void **state) {
  (void)state;
  /* Guillemets are punctuation, like the curly quotes above. */
  assert_has("\xc2\xab" "Korea" "\xc2\xbb", "Korea"); /* «Korea» */
  assert_has("Korea\xc2\xb7Japan", "Japan");            /* Korea·Japan */
}

static void test_phrase_matches_runs_of_blanks(void **state) {
  (void)state;
  assert_has("North  Korea fires", "North Korea");
  assert_has("North\tKorea fires", "North Korea");
  assert_has("North \n Korea fires", "North Korea");
  assert_has("North Korea fires", "North   Korea"); /* a run in the needle too */
}

static void test_phrase_needs_a_blank_where_the_needle_has_one(void **state) {
  (void)state;
  assert_has_not("NorthKorea fires", "North Korea");
  assert_has_not("North-Korea fires", "North Korea");
}

static void test_phrase_on_word_boundaries(void **state) {
  (void)state;
  assert_has_not("North Koreans protest", "North Korea");
  assert_has_not("SouthNorth Korea", "North Korea");
  assert_has("North Koreans protest", "North Koreans");
}

static void test_blanks_around_needle_are_ignored(void **state) {
  (void)state;
  assert_has("North Korea fires", "  Korea ");
}

static void test_acronym_matches_only_in_capitals(void **state) {
  (void)state;
  assert_has_not("Officials tell us little.", "US");
  assert_has_not("Officials tell Us little.", "US");
  assert_has("The US and South Korea sign.", "US");
}

static void test_acronym_not_inside_words(void **state) {
  (void)state;
  assert_has_not("A bus crosses the border.", "US");
  assert_has_not("A BUS crosses the border.", "US");
  assert_has_not("USA and ROK", "US");
  assert_has("USA and ROK", "ROK");
}

static void test_acronym_before_hyphen_matches(void **state) {
  (void)state;
  assert_has("The US-led drills began.", "US");
  assert_has("ROK-US drills began.", "US");
  assert_has("ROK-US drills began.", "ROK");
}

static void test_dotted_acronym(void **state) {
  (void)state;
  assert_has("U.S. forces in Korea", "U.S.");
  assert_has("with the U.S.", "U.S.");
  assert_has_not("u.s. forces in Korea", "U.S.");
  assert_has_not("U.S forces in Korea", "U.S.");
}

static void test_lower_case_needle_finds_capitals(void **state) {
  (void)state;
  /* Only a needle written in capitals is an acronym. */
  assert_has("The US and South Korea sign.", "us");
  assert_has("North Korea fires an ICBM.", "icbm");
}

static void test_acronym_with_digits(void **state) {
  (void)state;
  assert_has("A B-52 bomber lands.", "B-52");
  assert_has_not("A B-52H bomber lands.", "B-52");
  assert_has_not("A b-52 bomber lands.", "B-52");
}

static void test_hyphenated_needle(void **state) {
  (void)state;
  assert_has("North Korea test-fires a Hwasong-18.", "test-fires");
  assert_has("North Korea Test-Fires a Hwasong-18.", "test-fires");
  assert_has("North Korea test-fires a Hwasong-18.", "Hwasong-18");
  assert_has_not("North Korea test fires a Hwasong-18.", "test-fires");
  assert_has_not("North Korea test-fired a missile.", "test-fires");
  assert_has_not("a Hwasong-180 was shown", "Hwasong-18");
}

static void test_part_of_hyphenated_word_matches(void **state) {
  (void)state;
  /* A hyphen is not a word character, so the parts of a compound are words. */
  assert_has("North Korea test-fires a missile.", "fires");
  assert_has("a solid-fuel ICBM", "solid");
}

static void test_needle_at_start_of_text(void **state) {
  (void)state;
  assert_has("Pyongyang fires a missile", "Pyongyang");
  assert_has("US forces", "US");
  assert_has_not("Pyongyangs fire", "Pyongyang");
}

static void test_needle_at_end_of_text(void **state) {
  (void)state;
  assert_has("A missile is fired by Pyongyang", "Pyongyang");
  assert_has("Talks with the US", "US");
  assert_has_not("fired by Pyongyan", "Pyongyang");
}

static void test_needle_is_whole_text(void **state) {
  (void)state;
  assert_has("Korea", "Korea");
  assert_has("U.S.", "U.S.");
}

static void test_needle_longer_than_text(void **state) {
  (void)state;
  assert_has_not("Kor", "Korea");
}

static void test_empty_needle_never_matches(void **state) {
  (void)state;
  assert_false(vg_text_has("some text", 9, "", 0));
  assert_false(vg_text_has("", 0, "", 0));
  assert_false(has("some text", "   "));
}

static void test_only_given_lengths_are_read(void **state) {
  (void)state;
  /* hay and needle need not be NUL-terminated: the lengths bound them. */
  const char text[] = "Korea fires";
  assert_true(vg_text_has(text, 5, "Korea", 5));
  assert_false(vg_text_has(text, 4, "Korea", 5));
  assert_true(vg_text_has(text, 5, "Korea fires", 5));
  assert_true(vg_text_has(text, 3, "Kor", 3)); /* "Kor" is the whole of hay[0..3) */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_word_matches_ignoring_case),
      cmocka_unit_test(test_word_absent),
      cmocka_unit_test(test_word_inside_longer_word_does_not_match),
      cmocka_unit_test(test_word_followed_by_punctuation_matches),
      cmocka_unit_test(test_typographic_apostrophe_ends_a_word),
      cmocka_unit_test(test_plain_apostrophe_ends_a_word),
      cmocka_unit_test(test_non_ascii_letter_is_part_of_the_word),
      cmocka_unit_test(test_non_breaking_space_separates_words),
      cmocka_unit_test(test_dashes_and_cjk_punctuation_separate_words),
      cmocka_unit_test(test_latin1_punctuation_separates_words),
      cmocka_unit_test(test_phrase_matches_runs_of_blanks),
      cmocka_unit_test(test_phrase_needs_a_blank_where_the_needle_has_one),
      cmocka_unit_test(test_phrase_on_word_boundaries),
      cmocka_unit_test(test_blanks_around_needle_are_ignored),
      cmocka_unit_test(test_acronym_matches_only_in_capitals),
      cmocka_unit_test(test_acronym_not_inside_words),
      cmocka_unit_test(test_acronym_before_hyphen_matches),
      cmocka_unit_test(test_dotted_acronym),
      cmocka_unit_test(test_lower_case_needle_finds_capitals),
      cmocka_unit_test(test_acronym_with_digits),
      cmocka_unit_test(test_hyphenated_needle),
      cmocka_unit_test(test_part_of_hyphenated_word_matches),
      cmocka_unit_test(test_needle_at_start_of_text),
      cmocka_unit_test(test_needle_at_end_of_text),
      cmocka_unit_test(test_needle_is_whole_text),
      cmocka_unit_test(test_needle_longer_than_text),
      cmocka_unit_test(test_empty_needle_never_matches),
      cmocka_unit_test(test_only_given_lengths_are_read),
      cmocka_unit_test(test_pairs_rule_out_what_cannot_occur),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
