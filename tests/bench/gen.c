/* gen.c — the benchmark's input: N dated news entries, deterministically.
 *
 * usage: gen N SEED BATCH JSON_OUT [TEXT_OUT]
 *
 * Writes N JSON lines {"date":"YYYY-MM-DD","text":"...","region":"rNN"} to
 * JSON_OUT ("-" for standard output), about 100 entries a day from
 * 2000-01-01, over 100 regions: ~5% launches ("... launches ..."), ~5%
 * exercises ("... exercise ..."), the rest other news. Every text carries a
 * serial "BATCH-NNNNNNN", so no two entries of the same or of different
 * batches are alike. One entry in ten has its date moved 1 to 5 days back or
 * forward, so entries arrive out of date order.
 * TEXT_OUT, when given, gets the same entries in the same order as plain
 * lines "YYYY-MM-DD rNN text" for SEC.
 * GEN_FIRST_DAY in the environment moves the first day that many days past
 * 2000-01-01, so that successive batches can go on in time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_DAY 100
#define REGIONS 100

static uint64_t state;

static uint64_t next(void) { /* splitmix64 */
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static unsigned below(unsigned n) { return (unsigned)(next() % n); }

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(long z, int *y, unsigned *m, unsigned *d) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long yy = (long)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yy + (*m <= 2));
}

static const char *const launches[] = {
    "North Korea launches a missile",
    "North Korea launches a ballistic missile into the sea",
    "North Korea launches two cruise missiles off its coast",
    "North Korea launches a short-range missile",
};
static const char *const exercises[] = {
    "Allied forces hold an exercise",
    "Allied forces hold a naval exercise near the coast",
    "Allied forces begin an air defense exercise",
    "Allied forces hold a joint exercise at sea",
};
static const char *const others[] = {
    "Officials discuss rice prices",
    "The weather service issues a storm warning",
    "The trade ministry publishes export figures",
    "A new bridge opens to traffic",
    "The central bank keeps its rate unchanged",
    "A court hears a fraud case",
    "Farmers report an early harvest",
    "A city council approves a budget",
};
#define COUNT(a) (sizeof a / sizeof a[0])

int main(int argc, char **argv) {
  if (argc < 5 || argc > 6) {
    fprintf(stderr, "usage: gen N SEED BATCH JSON_OUT [TEXT_OUT]\n");
    return 2;
  }
  long n = atol(argv[1]);
  state = strtoull(argv[2], NULL, 10);
  const char *batch = argv[3];
  FILE *js = strcmp(argv[4], "-") == 0 ? stdout : fopen(argv[4], "w");
  FILE *tx = argc == 6 ? fopen(argv[5], "w") : NULL;
  if (!js || (argc == 6 && !tx)) {
    perror("gen");
    return 1;
  }
  static char jbuf[1 << 20], tbuf[1 << 20];
  setvbuf(js, jbuf, _IOFBF, sizeof jbuf);
  if (tx) setvbuf(tx, tbuf, _IOFBF, sizeof tbuf);
  const char *first = getenv("GEN_FIRST_DAY");
  const long day0 = 10957 + (first ? atol(first) : 0); /* 2000-01-01 + GEN_FIRST_DAY */
  for (long i = 0; i < n; i++) {
    long day = day0 + i / PER_DAY;
    if (below(10) == 0) { /* late or early: 1 to 5 days either way */
      int shift = 1 + (int)below(5);
      day += below(2) ? shift : -shift;
    }
    unsigned region = below(REGIONS);
    unsigned k = below(1000);
    const char *what;
    if (k < 50) what = launches[below(COUNT(launches))];
    else if (k < 100) what = exercises[below(COUNT(exercises))];
    else what = others[below(COUNT(others))];
    int y;
    unsigned m, d;
    civil(day, &y, &m, &d);
    fprintf(js, "{\"date\":\"%04d-%02u-%02u\",\"text\":\"%s (report %s-%07ld)\",\"region\":\"r%02u\"}\n",
            y, m, d, what, batch, i, region);
    if (tx)
      fprintf(tx, "%04d-%02u-%02u r%02u %s (report %s-%07ld)\n", y, m, d, region, what, batch, i);
  }
  if (fclose(js) != 0 || (tx && fclose(tx) != 0)) {
    perror("gen");
    return 1;
  }
  return 0;
}
