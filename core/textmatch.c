/* textmatch.c — word and phrase search on word boundaries; see textmatch.h. */
#include "textmatch.h"

#include <ctype.h>
#include <stdint.h>

/* The code point starting at s[i] (or ending before s[i] when back), decoded
 * leniently: bad UTF-8 counts as a word character. */
static uint32_t code_at(const unsigned char *s, size_t n, size_t i, int back) {
  if (back) {
    size_t k = i;
    do k--;
    while (k > 0 && (s[k] & 0xc0) == 0x80 && i - k < 4);
    i = k;
  }
  unsigned c = s[i];
  if (c < 0x80) return c;
  int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  if (len == 1 || i + (size_t)len > n) return 0xfffd;
  uint32_t cp = c & (0x7fu >> len);
  for (int k = 1; k < len; k++) cp = (cp << 6) | (s[i + (size_t)k] & 0x3f);
  return cp;
}

static int word_cp(uint32_t cp) {
  if (cp < 0x80) return isalnum((int)cp);
  /* Latin-1 punctuation and signs (« » · ¿ ×), general punctuation (’ “ —)
   * and CJK punctuation separate words. */
  if ((cp >= 0x80 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 || (cp >= 0x2000 && cp <= 0x206f) ||
      (cp >= 0x3000 && cp <= 0x303f))
    return 0;
  return 1;
}

static int blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* An acronym (US, ROK, ICBM, U.S.): short, no blanks, every letter a
 * capital. It matches only in capitals, so "US" does not find "us". */
static int acronym(const unsigned char *nd, size_t nn) {
  int letters = 0;
  if (nn > 6) return 0;
  for (size_t i = 0; i < nn; i++) {
    if (islower(nd[i]) || blank(nd[i]) || nd[i] >= 0x80) return 0;
    letters += isupper(nd[i]) != 0;
  }
  return letters > 0;
}

/* ASCII case folding without the locale: this runs for every byte scanned. */
static inline int fold(int c, int exact) {
  return !exact && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Matches needle at hay[i..]; returns the end of the match or 0. */
static size_t match_at(const unsigned char *h, size_t hn, size_t i, const unsigned char *nd,
                       size_t nn, int exact) {
  size_t j = 0;
  while (j < nn) {
    if (blank(nd[j])) {
      if (i >= hn || !blank(h[i])) return 0;
      while (j < nn && blank(nd[j])) j++;
      while (i < hn && blank(h[i])) i++;
      continue;
    }
    if (i >= hn || fold(h[i], exact) != fold(nd[j], exact)) return 0;
    i++;
    j++;
  }
  return i;
}

int vg_text_has(const char *hay, size_t hn, const char *needle, size_t nn) {
  const unsigned char *h = (const unsigned char *)hay, *nd = (const unsigned char *)needle;
  while (nn && blank(nd[0])) nd++, nn--;
  while (nn && blank(nd[nn - 1])) nn--;
  if (!nn) return 0;
  int word_start = word_cp(code_at(nd, nn, 0, 0));
  int word_end = word_cp(code_at(nd, nn, nn, 1));
  int exact = acronym(nd, nn);
  int first = fold(nd[0], exact), other = exact ? first : first ^ 0x20;
  if (!isalpha(first)) other = first;
  for (size_t i = 0; i < hn; i++) {
    if (h[i] != first && h[i] != other) continue;
    if (word_start && i > 0 && ((h[i] & 0xc0) == 0x80 || word_cp(code_at(h, hn, i, 1))))
      continue;
    size_t end = match_at(h, hn, i, nd, nn, exact);
    if (!end) continue;
    if (word_end && end < hn && word_cp(code_at(h, hn, end, 0))) continue;
    return 1;
  }
  return 0;
}

/* ---- pairs of characters ---- */

/* A pair's bit: the low six bits of each byte, folded as match_at folds
 * (or not: an acronym's capitals are compared as written, which folding
 * both sides only widens). */
static unsigned pair_bit(unsigned a, unsigned b) { return ((a & 63u) << 6) | (b & 63u); }

static unsigned folded(unsigned char c) { return blank(c) ? ' ' : (unsigned)fold(c, 0); }

void vg_text_pairs_make(vg_text_pairs *p, const char *hay, size_t hn) {
  const unsigned char *h = (const unsigned char *)hay;
  for (size_t i = 0; i < 64; i++) p->bits[i] = 0;
  unsigned prev = 256; /* none yet */
  for (size_t i = 0; i < hn; i++) {
    unsigned c = folded(h[i]);
    if (c == ' ' && prev == ' ') continue; /* a run of blanks is one */
    if (prev != 256) {
      unsigned bit = pair_bit(prev, c);
      p->bits[bit >> 6] |= (uint64_t)1 << (bit & 63);
    }
    prev = c;
  }
}

int vg_text_pairs_may_have(const vg_text_pairs *p, const char *needle, size_t nn) {
  const unsigned char *nd = (const unsigned char *)needle;
  while (nn && blank(nd[0])) nd++, nn--; /* trimmed, as vg_text_has does */
  while (nn && blank(nd[nn - 1])) nn--;
  unsigned prev = 256;
  for (size_t i = 0; i < nn; i++) {
    unsigned c = folded(nd[i]);
    if (c == ' ' && prev == ' ') continue;
    if (prev != 256) {
      unsigned bit = pair_bit(prev, c);
      if (!(p->bits[bit >> 6] & ((uint64_t)1 << (bit & 63)))) return 0;
    }
    prev = c;
  }
  return 1;
}
