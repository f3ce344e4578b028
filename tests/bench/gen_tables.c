/* gen_tables.c — the benchmark's table input: N rows of an ACLED-shaped CSV
 * or of GDELT 2.0 events (TSV), and the same entries as JSON Lines,
 * deterministically.
 *
 * usage: gen_tables acled N SEED CSV_OUT JSONL_OUT
 *        gen_tables gdelt N SEED TSV_OUT JSONL_OUT CAMEO_LUA
 *
 * acled: a header of ACLED's 31 columns, then N rows over four countries of
 * Eastern Asia (North and South Korea, Japan, China): protests, launches,
 * shelling, clashes, each with its actors, place, coordinates, sources and
 * notes. The notes are quoted (they hold commas); some quote a name with
 * doubled quotes, about one in 40 holds a newline. Ids ("KOR1234") are
 * unique; the timestamp (the last edit) is 3 to 14 days after the event.
 * gdelt: N rows of GDELT 2.0's 61 tab-separated columns, no header: actors
 * of PRK, KOR, USA, JPN and CHN, CAMEO event codes ("190", "0874") with
 * their base and root codes, quad class and Goldstein scale, the three
 * geographies, DATEADDED and a SOURCEURL under example.org. The text vigil
 * makes of a row names the CAMEO code's description, read from CAMEO_LUA
 * (scripts/cameo.lua), as vigil's own table does.
 *
 * The rows are spread evenly over 2019-01-01 .. 2022-12-31, in date order.
 * Within a day, each row takes a distinct combination of the parts its text
 * is made of (place, kind of event, a number; or actors, code and place), so
 * no two entries of a day have the same text: every row is an entry of its
 * own in JSON Lines too, where entries are told apart by date, source and
 * text, not by an id.
 *
 * JSONL_OUT gets, line for line, the entry vigil makes of each row:
 * {"date", "text", "source", then every other non-empty cell under its
 * column's name, as a string, in column order}, the text the text columns
 * joined by " — " (tabular.h), so that both inputs store the same entries,
 * fields included, byte for byte. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_DAY 17897 /* 2019-01-01, in days since 1970-01-01 */
#define DAYS 1461       /* to 2022-12-31 */
#define CELL_MAX 512
#define COLS_MAX 61
#define COUNT(a) (sizeof a / sizeof a[0])

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

static const char *const MONTHS[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};

/* ---- one row: its cells, then both outputs ---- */

static char cells[COLS_MAX][CELL_MAX];
static const char *const *names;
static size_t ncols;

static void set(size_t col, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set(size_t col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cells[col], CELL_MAX, fmt, ap);
  va_end(ap);
}

static void put_csv(FILE *f, const char *s, char delim) {
  if (!delim || !strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  putc('"', f);
  for (; *s; s++) {
    if (*s == '"') putc('"', f);
    putc(*s, f);
  }
  putc('"', f);
}

/* A JSON string as cJSON prints one: \" \\ \b \f \n \r \t, other control
 * characters as \u00XX, everything else as it is. */
static void put_json(FILE *f, const char *s) {
  putc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\b': fputs("\\b", f); break;
    case '\f': fputs("\\f", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (c < 0x20) fprintf(f, "\\u%04x", c);
      else putc(c, f);
    }
  }
  putc('"', f);
}

/* Writes the row (quoted as CSV when quoting, else cells as they are) and
 * its entry. date_col and source_col (or -1) are the cells the entry holds
 * itself; text is the joined text; date and source what the entry says. */
static void emit(FILE *tab, FILE *js, char delim, int quoting, long date_col, long source_col,
                 const char *date, const char *text, const char *source) {
  for (size_t i = 0; i < ncols; i++) {
    if (i) putc(delim, tab);
    put_csv(tab, cells[i], quoting ? delim : 0);
  }
  putc('\n', tab);
  fputs("{\"date\":", js);
  put_json(js, date);
  fputs(",\"text\":", js);
  put_json(js, text);
  fputs(",\"source\":", js);
  put_json(js, source);
  for (size_t i = 0; i < ncols; i++) {
    if ((long)i == date_col || (long)i == source_col || !cells[i][0]) continue;
    putc(',', js);
    put_json(js, names[i]);
    putc(':', js);
    put_json(js, cells[i]);
  }
  fputs("}\n", js);
}

/* Appends s to text, joined by " — " as vigil joins a row's text cells. */
static void join(char *text, size_t cap, const char *s) {
  if (!*s) return;
  size_t n = strlen(text);
  snprintf(text + n, cap - n, "%s%s", n ? " \u2014 " : "", s);
}

/* The first row index of day d (0-based) when n rows spread over DAYS. */
static long first_of(long d, long n) { return (d * n + DAYS - 1) / DAYS; }

static unsigned long gcd(unsigned long a, unsigned long b) {
  while (b) {
    unsigned long t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* The row's place in its day's combinations: the index within its day,
 * scrambled by a step prime to p, so that the rows of a day take distinct
 * combinations of 0..p-1 (p at least the day's rows) in no visible order. */
static unsigned long combo(long i, long day, long n, unsigned long p) {
  unsigned long j = (unsigned long)(i - first_of(day, n));
  unsigned long step = 7919;
  while (gcd(step, p) != 1) step += 2;
  return (j * step + (unsigned long)day * 104729) % p;
}

/* ---- ACLED ---- */

static const char *const ACLED_NAMES[] = {
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp"};
enum { A_ID, A_DATE, A_YEAR, A_PREC, A_DISORDER, A_TYPE, A_SUB, A_ACTOR1, A_ASSOC1, A_INTER1,
       A_ACTOR2, A_ASSOC2, A_INTER2, A_INTERACTION, A_CIVILIAN, A_ISO, A_REGION, A_COUNTRY,
       A_ADMIN1, A_ADMIN2, A_ADMIN3, A_LOCATION, A_LAT, A_LON, A_GEO, A_SOURCE, A_SCALE,
       A_NOTES, A_FATALITIES, A_TAGS, A_TIMESTAMP };

typedef struct {
  const char *location, *admin1, *admin2;
  double lat, lon;
} place;

typedef struct {
  const char *disorder, *type, *sub, *actor1, *inter1, *actor2, *inter2, *interaction;
  int civilian;    /* civilians were targeted */
  int crowd;       /* the number is a crowd's size (tags say so) */
  long base, step; /* the number in the notes: base + step * k */
  /* The notes: %1$s the date, %2$s the location, %3$s admin1, %4$ld the number. */
  const char *notes;
} happening;

typedef struct {
  const char *iso3, *name;
  int iso;
  const char *sources[3];
  place places[6];
  happening what[4];
} country;

static const country COUNTRIES[] = {
    {"KOR", "South Korea", 410, {"Yonhap", "Korea Herald", "Yonhap; Korea Times"},
     {{"Seoul - Jongno", "Seoul", "Jongno-gu", 37.5730, 126.9794},
      {"Busan - Jung", "Busan", "Jung-gu", 35.1028, 129.0403},
      {"Incheon - Jung", "Incheon", "Jung-gu", 37.4738, 126.6216},
      {"Daegu - Jung", "Daegu", "Jung-gu", 35.8703, 128.5911},
      {"Gwangju - Dong", "Gwangju", "Dong-gu", 35.1460, 126.9230},
      {"Pyeongtaek", "Gyeonggi", "Pyeongtaek-si", 36.9908, 127.0856}},
     {{"Demonstrations", "Protests", "Peaceful protest", "Protesters (South Korea)", "Protesters",
       "", "", "Protesters only", 0, 1, 100, 50,
       "On %1$s, around %4$ld members of a trade union rallied in %2$s, %3$s, calling for a "
       "shorter working week and higher pay. [size=around %4$ld]"},
      {"Demonstrations", "Protests", "Protest with intervention", "Protesters (South Korea)",
       "Protesters", "Police Forces of South Korea (2022-)", "State forces",
       "State forces-Protesters", 0, 1, 40, 20,
       "On %1$s, about %4$ld farmers protested against rice import quotas in %2$s, %3$s; police "
       "removed their tents and detained several of them."},
      {"Strategic developments", "Strategic developments", "Other",
       "Military Forces of South Korea (2022-)", "State forces",
       "Military Forces of the United States (2021-)", "External/Other forces",
       "State forces-External/Other forces", 0, 0, 2000, 500,
       "On %1$s, South Korean and US forces began the \"Freedom Shield\" exercise near %2$s, "
       "%3$s, with about %4$ld troops, the Joint Chiefs of Staff said."},
      {"Political violence", "Violence against civilians", "Attack", "Unidentified Armed Group "
       "(South Korea)", "Political militia", "Civilians (South Korea)", "Civilians",
       "Political militia-Civilians", 1, 0, 2, 1,
       "On %1$s, a man attacked passers-by with a knife near a subway station in %2$s, %3$s, "
       "injuring %4$ld of them, before he was arrested."}}},
    {"PRK", "North Korea", 408, {"Yonhap", "NK News", "KCNA; Yonhap"},
     {{"Pyongyang", "Pyongyang", "Sunan", 39.2241, 125.6700},
      {"Sinpo", "South Hamgyong", "Sinpo-si", 40.0333, 128.1833},
      {"Wonsan", "Kangwon", "Wonsan-si", 39.1528, 127.4436},
      {"Sohae", "North Pyongan", "Cholsan-gun", 39.6600, 124.7050},
      {"Kaesong", "North Hwanghae", "Kaesong-si", 37.9708, 126.5544},
      {"Hamhung", "South Hamgyong", "Hamhung-si", 39.9183, 127.5364}},
     {{"Strategic developments", "Strategic developments", "Other",
       "Military Forces of North Korea (2011-)", "State forces", "", "", "State forces only", 0, 0,
       1, 1,
       "On %1$s, North Korea fired %4$ld short-range ballistic missiles from near %2$s, %3$s, "
       "into the sea off its east coast, according to the Joint Chiefs of Staff."},
      {"Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack",
       "Military Forces of North Korea (2011-)", "State forces", "", "", "State forces only", 0, 0,
       60, 30,
       "On %1$s, North Korean forces fired about %4$ld artillery rounds from coastal positions "
       "near %2$s, %3$s, into the maritime buffer zone. No casualties were reported."},
      {"Strategic developments", "Strategic developments", "Change to group/activity",
       "Government of North Korea (2011-)", "State forces", "", "", "State forces only", 0, 0, 10,
       10,
       "On %1$s, Kim Jong Un inspected a munitions factory in %2$s, %3$s, and ordered %4$ld more "
       "launchers built this year, KCNA reported."},
      {"Political violence", "Battles", "Armed clash", "Military Forces of North Korea (2011-)",
       "State forces", "Military Forces of South Korea (2022-)", "State forces",
       "State forces-State forces", 0, 0, 2, 1,
       "On %1$s, South Korean guards fired warning shots after %4$ld North Korean soldiers crossed "
       "the demarcation line north of %2$s, %3$s; the soldiers went back."}}},
    {"JPN", "Japan", 392, {"Kyodo News", "Japan Times", "NHK; Kyodo News"},
     {{"Tokyo - Chiyoda", "Tokyo", "Chiyoda", 35.6940, 139.7536},
      {"Naha", "Okinawa", "Naha", 26.2124, 127.6809},
      {"Nago", "Okinawa", "Nago", 26.5917, 127.9775},
      {"Iwaki", "Fukushima", "Iwaki", 37.0504, 140.8877},
      {"Wakayama", "Wakayama", "Wakayama", 34.2260, 135.1675},
      {"Sapporo - Chuo", "Hokkaido", "Sapporo", 43.0642, 141.3469}},
     {{"Demonstrations", "Protests", "Peaceful protest", "Protesters (Japan)", "Protesters", "",
       "", "Protesters only", 0, 1, 200, 100,
       "On %1$s, around %4$ld people rallied in %2$s, %3$s, against the building of a new US "
       "base. [size=around %4$ld]"},
      {"Strategic developments", "Strategic developments", "Other",
       "Military Forces of North Korea (2011-)", "State forces", "", "", "State forces only", 0, 0,
       150, 25,
       "On %1$s, a North Korean missile fell into Japan's exclusive economic zone about %4$ld km "
       "west of %2$s, %3$s; the government sent out a J-Alert."},
      {"Demonstrations", "Protests", "Peaceful protest", "Protesters (Japan)", "Protesters",
       "", "", "Protesters only", 0, 1, 30, 10,
       "On %1$s, %4$ld fishermen from %2$s, %3$s, protested the release of treated water from the "
       "Fukushima plant, saying \"we were never asked\"."},
      {"Political violence", "Violence against civilians", "Attack", "Unidentified Armed Group "
       "(Japan)", "Political militia", "Civilians (Japan)", "Civilians",
       "Political militia-Civilians", 1, 0, 1, 1,
       "On %1$s, a man threw a pipe bomb at a campaign stop in %2$s, %3$s; %4$ld people were "
       "hurt, and the man was held at the scene."}}},
    {"CHN", "China", 156, {"South China Morning Post", "Reuters", "Radio Free Asia"},
     {{"Beijing - Dongcheng", "Beijing", "Dongcheng", 39.9042, 116.4074},
      {"Shanghai - Huangpu", "Shanghai", "Huangpu", 31.2304, 121.4737},
      {"Dandong", "Liaoning", "Dandong", 40.1290, 124.3947},
      {"Urumqi", "Xinjiang", "Urumqi", 43.8256, 87.6168},
      {"Guangzhou", "Guangdong", "Guangzhou", 23.1291, 113.2644},
      {"Shenzhen", "Guangdong", "Shenzhen", 22.5431, 114.0579}},
     {{"Strategic developments", "Strategic developments", "Other",
       "Military Forces of China (2013-)", "State forces", "", "", "State forces only", 0, 0, 10,
       5,
       "On %1$s, %4$ld Chinese military aircraft took part in drills staged from near %2$s, "
       "%3$s, the defence ministry said."},
      {"Demonstrations", "Protests", "Peaceful protest", "Protesters (China)", "Protesters", "",
       "", "Protesters only", 0, 1, 50, 50,
       "On %1$s, about %4$ld residents of %2$s, %3$s, protested against a COVID-19 lockdown, "
       "holding up blank sheets of paper."},
      {"Demonstrations", "Riots", "Violent demonstration", "Rioters (China)", "Rioters",
       "Private Security Forces (China)", "External/Other forces",
       "Rioters-External/Other forces", 0, 1, 100, 100,
       "On %1$s, about %4$ld workers at an electronics factory in %2$s, %3$s, clashed with "
       "security staff over unpaid wages; several were injured."},
      {"Strategic developments", "Strategic developments", "Arrests",
       "Police Forces of China (2013-)", "State forces", "Civilians (China)", "Civilians",
       "State forces-Civilians", 1, 0, 3, 1,
       "On %1$s, police in %2$s, %3$s, detained %4$ld activists who had posted about a "
       "\"forbidden\" anniversary, a rights group said."}}},
};

#define ACLED_PLACES 6
#define ACLED_KINDS 4
#define ACLED_COMBOS (COUNT(COUNTRIES) * ACLED_PLACES * ACLED_KINDS)

static void acled_row(long i, long n, unsigned long per_day_max, FILE *tab, FILE *js) {
  long day = FIRST_DAY + i * DAYS / n;
  unsigned long rounds = (per_day_max + ACLED_COMBOS - 1) / ACLED_COMBOS;
  unsigned long q = combo(i, day - FIRST_DAY, n, ACLED_COMBOS * rounds);
  const country *c = &COUNTRIES[q % COUNT(COUNTRIES)];
  q /= COUNT(COUNTRIES);
  const place *pl = &c->places[q % ACLED_PLACES];
  q /= ACLED_PLACES;
  const happening *h = &c->what[q % ACLED_KINDS];
  q /= ACLED_KINDS;
  long number = h->base + h->step * (long)q;
  int y;
  unsigned m, d;
  civil(day, &y, &m, &d);
  char date[32], notes[CELL_MAX], text[2 * CELL_MAX];
  snprintf(date, sizeof date, "%u %s %d", d, MONTHS[m - 1], y);
  snprintf(notes, sizeof notes, h->notes, date, pl->location, pl->admin1, number);
  if (below(40) == 0) {
    size_t k = strlen(notes);
    snprintf(notes + k, sizeof notes - k, "\nUpdated: the figure above is the one the %s gave.",
             h->crowd ? "organisers" : "authorities");
  }
  set(A_ID, "%s%ld", c->iso3, i + 1);
  set(A_DATE, "%s", date);
  set(A_YEAR, "%d", y);
  set(A_PREC, "%u", below(8) ? 1u : 2u);
  set(A_DISORDER, "%s", h->disorder);
  set(A_TYPE, "%s", h->type);
  set(A_SUB, "%s", h->sub);
  set(A_ACTOR1, "%s", h->actor1);
  set(A_ASSOC1, "%s", h->crowd && below(3) == 0 ? "Labour Group; Civilians" : "");
  set(A_INTER1, "%s", h->inter1);
  set(A_ACTOR2, "%s", h->actor2);
  set(A_ASSOC2, "%s", "");
  set(A_INTER2, "%s", h->inter2);
  set(A_INTERACTION, "%s", h->interaction);
  set(A_CIVILIAN, "%s", h->civilian ? "Civilian targeting" : "");
  set(A_ISO, "%d", c->iso);
  set(A_REGION, "%s", "Eastern Asia");
  set(A_COUNTRY, "%s", c->name);
  set(A_ADMIN1, "%s", pl->admin1);
  set(A_ADMIN2, "%s", pl->admin2);
  set(A_ADMIN3, "%s", "");
  set(A_LOCATION, "%s", pl->location);
  set(A_LAT, "%.4f", pl->lat);
  set(A_LON, "%.4f", pl->lon);
  set(A_GEO, "%u", 1 + below(2));
  set(A_SOURCE, "%s", c->sources[below(3)]);
  set(A_SCALE, "%s", (const char *[]){"National", "International", "National-International"}[below(3)]);
  set(A_NOTES, "%s", notes);
  set(A_FATALITIES, "%u", h->civilian || strcmp(h->type, "Battles") == 0 ? below(3) : 0u);
  if (h->crowd) set(A_TAGS, "crowd size=around %ld", number);
  else set(A_TAGS, "%s", "");
  set(A_TIMESTAMP, "%ld", (day + 3 + (long)below(12)) * 86400 + (long)below(86400));
  text[0] = '\0';
  join(text, sizeof text, cells[A_TYPE]);
  join(text, sizeof text, cells[A_SUB]);
  join(text, sizeof text, cells[A_NOTES]);
  emit(tab, js, ',', 1, A_DATE, A_SOURCE, date, text, cells[A_SOURCE]);
}

/* ---- GDELT 2.0 ---- */

/* The 61 columns, in the codebook's order (vigil's gdelt_columns). */
static char gdelt_names_buf[COLS_MAX][40];
static const char *gdelt_names[COLS_MAX];

static void gdelt_columns(void) {
  static const char *const actor[] = {"Code", "Name", "CountryCode", "KnownGroupCode",
                                      "EthnicCode", "Religion1Code", "Religion2Code",
                                      "Type1Code", "Type2Code", "Type3Code"};
  static const char *const geo[] = {"Type", "FullName", "CountryCode", "ADM1Code",
                                    "ADM2Code", "Lat", "Long", "FeatureID"};
  static const char *const event[] = {"IsRootEvent", "EventCode", "EventBaseCode",
                                      "EventRootCode", "QuadClass", "GoldsteinScale",
                                      "NumMentions", "NumSources", "NumArticles", "AvgTone"};
  static const char *const head[] = {"GLOBALEVENTID", "SQLDATE", "MonthYear", "Year",
                                     "FractionDate"};
  static const char *const places[] = {"Actor1Geo_", "Actor2Geo_", "ActionGeo_"};
  size_t k = 0;
  for (size_t i = 0; i < 5; i++) snprintf(gdelt_names_buf[k++], 40, "%s", head[i]);
  for (int a = 1; a <= 2; a++)
    for (size_t i = 0; i < 10; i++) snprintf(gdelt_names_buf[k++], 40, "Actor%d%s", a, actor[i]);
  for (size_t i = 0; i < 10; i++) snprintf(gdelt_names_buf[k++], 40, "%s", event[i]);
  for (size_t p = 0; p < 3; p++)
    for (size_t i = 0; i < 8; i++) snprintf(gdelt_names_buf[k++], 40, "%s%s", places[p], geo[i]);
  snprintf(gdelt_names_buf[k++], 40, "DATEADDED");
  snprintf(gdelt_names_buf[k++], 40, "SOURCEURL");
  for (size_t i = 0; i < k; i++) gdelt_names[i] = gdelt_names_buf[i];
  names = gdelt_names;
  ncols = k;
}

enum { G_ID, G_SQLDATE, G_MONTHYEAR, G_YEAR, G_FRACTION, G_ACTOR1 = 5, G_ACTOR2 = 15,
       G_EVENT = 25, G_GEO1 = 35, G_GEO2 = 43, G_ACTIONGEO = 51, G_DATEADDED = 59,
       G_SOURCEURL = 60 };

typedef struct {
  const char *code, *name, *country, *type1;
  int home; /* its country's place in GEOS */
} actor;

typedef struct {
  int type;
  const char *full, *country, *adm1;
  double lat, lon;
  const char *feature;
} geo;

static const geo GEOS[] = {
    {4, "Pyongyang, P'yongyang-si, North Korea", "KN", "KN12", 39.0194, 125.755, "-1143075"},
    {4, "Seoul, Seoul-t'ukpyolsi, South Korea", "KS", "KS11", 37.5664, 127.0, "-716583"},
    {2, "District of Columbia, United States", "US", "USDC", 38.8964, -77.0262, "531871"},
    {4, "Tokyo, Tokyo, Japan", "JA", "JA40", 35.685, 139.751, "-246227"},
    {4, "Beijing, Beijing, China", "CH", "CH22", 39.9289, 116.388, "-1898541"},
    {1, "North Korea", "KN", "KN", 40.0, 127.0, "KN"},
    {1, "South Korea", "KS", "KS", 37.0, 127.5, "KS"},
    {4, "Sinpo, Hamgyong-namdo, North Korea", "KN", "KN03", 40.0333, 128.183, "-1143557"},
    {4, "Busan, Pusan-jikhalsi, South Korea", "KS", "KS10", 35.1028, 129.04, "-713869"},
    {4, "Panmunjom, Kaesong-si, North Korea", "KN", "KN07", 37.9558, 126.677, "-1142766"},
    {1, "Japan", "JA", "JA", 36.0, 138.0, "JA"},
    {4, "Okinawa, Okinawa, Japan", "JA", "JA47", 26.5, 128.0, "-240698"},
    {1, "United States", "US", "US", 39.828175, -98.5795, "US"},
    {4, "Dandong, Liaoning, China", "CH", "CH19", 40.1292, 124.394, "-1902709"},
};

static const actor ACTORS[] = {
    {"PRK", "NORTH KOREA", "PRK", "", 0},       {"PRKMIL", "NORTH KOREAN", "PRK", "MIL", 0},
    {"PRKGOV", "PYONGYANG", "PRK", "GOV", 0},   {"KOR", "SOUTH KOREA", "KOR", "", 1},
    {"KORMIL", "SOUTH KOREAN", "KOR", "MIL", 1}, {"KORGOV", "SEOUL", "KOR", "GOV", 1},
    {"USA", "UNITED STATES", "USA", "", 2},     {"USAMIL", "PENTAGON", "USA", "MIL", 2},
    {"JPN", "JAPAN", "JPN", "", 3},             {"JPNGOV", "TOKYO", "JPN", "GOV", 3},
    {"CHN", "CHINA", "CHN", "", 4},             {"CHNGOV", "BEIJING", "CHN", "GOV", 4},
};

static const struct {
  const char *code;
  double goldstein;
} EVENTS[] = {
    {"010", 0.0},  {"036", 4.0},   {"042", 1.9},   {"043", 2.8},  {"051", 3.4},  {"057", 8.0},
    {"0874", 10.0}, {"111", -2.0}, {"112", -2.0},  {"130", -4.4}, {"138", -7.0}, {"141", -6.5},
    {"150", -7.2}, {"152", -7.2},  {"154", -7.2},  {"172", -5.0}, {"173", -5.0}, {"180", -9.0},
    {"190", -10.0}, {"193", -10.0}, {"194", -10.0}, {"195", -10.0},
};

static char cameo_text[COUNT(EVENTS)][400];

/* Reads the descriptions of EVENTS' codes from scripts/cameo.lua's lines
 * `  ["CODE"] = "TEXT",`; 0, or -1 naming a code it lacks. */
static int read_cameo(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return -1;
  }
  char line[512], code[16], text[sizeof cameo_text[0]];
  while (fgets(line, sizeof line, f))
    if (sscanf(line, " [\"%15[0-9]\"] = \"%399[^\"]\"", code, text) == 2)
      for (size_t i = 0; i < COUNT(EVENTS); i++)
        if (strcmp(code, EVENTS[i].code) == 0) snprintf(cameo_text[i], sizeof cameo_text[i], "%s", text);
  fclose(f);
  for (size_t i = 0; i < COUNT(EVENTS); i++)
    if (!cameo_text[i][0]) {
      fprintf(stderr, "gen_tables: %s has no CAMEO code %s\n", path, EVENTS[i].code);
      return -1;
    }
  return 0;
}

static void put_actor(size_t at, const actor *a) {
  set(at + 0, "%s", a ? a->code : "");
  set(at + 1, "%s", a ? a->name : "");
  set(at + 2, "%s", a ? a->country : "");
  for (size_t k = 3; k < 7; k++) cells[at + k][0] = '\0';
  set(at + 7, "%s", a ? a->type1 : "");
  cells[at + 8][0] = cells[at + 9][0] = '\0';
}

static void put_geo(size_t at, const geo *g) {
  if (!g) {
    for (size_t k = 0; k < 8; k++) cells[at + k][0] = '\0';
    return;
  }
  set(at + 0, "%d", g->type);
  set(at + 1, "%s", g->full);
  set(at + 2, "%s", g->country);
  set(at + 3, "%s", g->adm1);
  cells[at + 4][0] = '\0'; /* ADM2Code: often empty */
  set(at + 5, "%g", g->lat);
  set(at + 6, "%g", g->lon);
  set(at + 7, "%s", g->feature);
}

#define G_A2 (COUNT(ACTORS) + 1) /* actor 2, or none */
#define GDELT_COMBOS (COUNT(ACTORS) * COUNT(EVENTS) * G_A2 * COUNT(GEOS))

static void gdelt_row(long i, long n, FILE *tab, FILE *js) {
  long day = FIRST_DAY + i * DAYS / n;
  unsigned long q = combo(i, day - FIRST_DAY, n, GDELT_COMBOS);
  const actor *a1 = &ACTORS[q % COUNT(ACTORS)];
  q /= COUNT(ACTORS);
  size_t ev = q % COUNT(EVENTS);
  q /= COUNT(EVENTS);
  size_t k2 = q % G_A2;
  const actor *a2 = k2 < COUNT(ACTORS) ? &ACTORS[k2] : NULL;
  q /= G_A2;
  const geo *where = &GEOS[q % COUNT(GEOS)];
  int y;
  unsigned m, d;
  civil(day, &y, &m, &d);
  const char *code = EVENTS[ev].code;
  int root = atoi((char[3]){code[0], code[1], 0});
  int quad = root <= 5 ? 1 : root <= 9 ? 2 : root <= 14 ? 3 : 4;
  char date[16];
  snprintf(date, sizeof date, "%04d-%02u-%02u", y, m, d);
  long doy = day - (FIRST_DAY + 365L * (y - 2019) + (y > 2020));
  set(G_ID, "%ld", 800000000L + i);
  set(G_SQLDATE, "%04d%02u%02u", y, m, d);
  set(G_MONTHYEAR, "%04d%02u", y, m);
  set(G_YEAR, "%d", y);
  set(G_FRACTION, "%.4f", y + (doy + 0.5) / 365.0);
  put_actor(G_ACTOR1, a1);
  put_actor(G_ACTOR2, a2);
  set(G_EVENT + 0, "%u", below(3) ? 1u : 0u);
  set(G_EVENT + 1, "%s", code);
  set(G_EVENT + 2, "%.3s", code);
  set(G_EVENT + 3, "%.2s", code);
  set(G_EVENT + 4, "%d", quad);
  set(G_EVENT + 5, "%.1f", EVENTS[ev].goldstein);
  unsigned mentions = 1 + below(40);
  set(G_EVENT + 6, "%u", mentions);
  set(G_EVENT + 7, "%u", 1 + below(mentions < 5 ? mentions : 5));
  set(G_EVENT + 8, "%u", mentions);
  set(G_EVENT + 9, "%.14g", ((double)below(2000000) - 1400000.0) / 200000.0);
  put_geo(G_GEO1, &GEOS[a1->home]);
  put_geo(G_GEO2, a2 ? &GEOS[a2->home] : NULL);
  put_geo(G_ACTIONGEO, where);
  unsigned added = 1 + below(2);
  int ay;
  unsigned am, ad;
  civil(day + added, &ay, &am, &ad);
  set(G_DATEADDED, "%04d%02u%02u%02u%02u00", ay, am, ad, below(24), 15 * below(4));
  static const char *const desks[] = {"world/asia", "news/politics", "defence", "korea"};
  set(G_SOURCEURL, "https://www.example.org/%s/%04d/%02u/%02u/%s-%s-%ld.html",
      desks[below(COUNT(desks))], y, m, d, a1->country, code, 800000000L + i);
  char text[4 * CELL_MAX];
  text[0] = '\0';
  join(text, sizeof text, cells[G_ACTOR1 + 1]);
  join(text, sizeof text, cameo_text[ev]);
  join(text, sizeof text, cells[G_ACTOR2 + 1]);
  join(text, sizeof text, cells[G_ACTIONGEO + 1]);
  emit(tab, js, '\t', 0, G_SQLDATE, -1, date, text, "gdelt");
}

int main(int argc, char **argv) {
  int acled = argc == 6 && strcmp(argv[1], "acled") == 0;
  int gdelt = argc == 7 && strcmp(argv[1], "gdelt") == 0;
  if (!acled && !gdelt) {
    fprintf(stderr, "usage: gen_tables acled N SEED CSV_OUT JSONL_OUT\n"
                    "       gen_tables gdelt N SEED TSV_OUT JSONL_OUT CAMEO_LUA\n");
    return 2;
  }
  long n = atol(argv[2]);
  state = strtoull(argv[3], NULL, 10);
  if (n <= 0 || (gdelt && read_cameo(argv[6]))) return n <= 0 ? 2 : 1;
  FILE *tab = fopen(argv[4], "w"), *js = fopen(argv[5], "w");
  if (!tab || !js) {
    perror("gen_tables");
    return 1;
  }
  static char tbuf[1 << 20], jbuf[1 << 20];
  setvbuf(tab, tbuf, _IOFBF, sizeof tbuf);
  setvbuf(js, jbuf, _IOFBF, sizeof jbuf);
  unsigned long per_day_max = (unsigned long)((n + DAYS - 1) / DAYS);
  if (gdelt && per_day_max > GDELT_COMBOS) {
    fprintf(stderr, "gen_tables: at most %lu GDELT rows a day\n", (unsigned long)GDELT_COMBOS);
    return 2;
  }
  if (acled) {
    names = ACLED_NAMES;
    ncols = COUNT(ACLED_NAMES);
    for (size_t i = 0; i < ncols; i++) {
      if (i) putc(',', tab);
      fputs(names[i], tab);
    }
    putc('\n', tab);
  } else {
    gdelt_columns();
  }
  for (long i = 0; i < n; i++) {
    if (acled) acled_row(i, n, per_day_max, tab, js);
    else gdelt_row(i, n, tab, js);
  }
  if (fclose(tab) != 0 || fclose(js) != 0) {
    perror("gen_tables");
    return 1;
  }
  return 0;
}
