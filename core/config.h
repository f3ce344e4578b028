/* config.h — every setting, its embedded default, and the Lua config file.
 *
 * Settings come from three layers, later ones winning: the defaults, the
 * configuration file (a Lua script that assigns globals, run in a sandbox:
 * no library that touches the system or loads code, capped instructions
 * and memory, and its tables read without their metamethods), and
 * command-line flags. config.c
 * declares each setting once (name, type, default, help text); the loader,
 * the checks, flags and `vigil config --show` all read that one table. A
 * global the file assigns that is no setting, or a value of the wrong type,
 * refuses the whole file, the nearest setting's name suggested; `local`
 * variables are the file's own. The paths of the database, socket, spool,
 * alerts file and digests that no layer set are derived after all three
 * (vg_config_resolve): under state_dir when it is set, else beside the
 * database; never from the working directory unless the database is there. */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include "entry.h"

#include <stddef.h>

/* How many settings there may be at most (config.c asserts it). */
#define VG_CONFIG_MAX 128

/* The alerts a command sink holds at most, by default (see sinks.h). */
#define VG_SINK_QUEUE_MAX 10000

/* A named alert sink of the configuration file's `sinks` table. */
typedef struct {
  char *name;          /* what rules call it by */
  char *file;          /* a JSON Lines file to append to, or NULL */
  char **command;      /* argv of a command to run per alert (NULL-ended), or NULL */
  unsigned timeout_ms; /* how long a command may run */
  unsigned retries;    /* how often a failed command is tried again */
  unsigned queue_max;  /* alerts a command sink holds (running, waiting, to retry) at most */
  int is_default;      /* every alert goes to it, not only its rules' */
  /* JetStream sinks: the server ("" for the nats_url setting), the subjects'
   * prefix and the stream; nats is NULL for other sinks. */
  char *nats, *subject, *stream;
} vg_sink_conf;

/* A digest of the configuration file's `digests` table. */
enum { VG_DIGEST_MD = 1, VG_DIGEST_HTML = 2, VG_DIGEST_JSON = 4 };
typedef struct {
  char *name;         /* what `vigil digest NAME` calls it */
  char *schedule;     /* five-field cron, in the configured time zone */
  int days;           /* the period: the days before the date it runs on */
  char *template;     /* a shipped template (daily, weekly) or a path to a .lua file */
  int formats;        /* VG_DIGEST_* bits */
  char *out;          /* the directory it is written to (NULL until resolved) */
  char **command;     /* run after writing, the files appended (NULL-ended), or NULL */
  int catch_up_all;   /* after downtime, every missed period, not only the latest */
} vg_digest_conf;

/* Which redirects the poll of a feed follows: to the feed's own host (on
 * its port or the standard one of http or https), to any host, or none.
 * Over http and https only, five at most. */
typedef enum { VG_REDIRECT_SAME_HOST, VG_REDIRECT_ANY, VG_REDIRECT_NONE } vg_redirects;

/* "same-host", "any" or "none"; returns 0 or VG_EINVAL. */
int vg_redirects_parse(const char *name, vg_redirects *out);
/* The name of a policy, as the configuration spells it. */
const char *vg_redirects_name(vg_redirects r);

/* A feed polled over HTTP. */
typedef struct {
  char *url;
  char *source;       /* the source of its entries (default: the URL's host and path) */
  char *format;       /* auto, rss, atom, json, chrono, or a table format (tabular.h) */
  unsigned interval;  /* seconds between polls */
  vg_redirects redirects; /* which redirects its polls follow */
} vg_feed_conf;

/* A path setting left NULL by the defaults is derived by vg_config_resolve. */
typedef struct {
  char *state_dir;    /* where derived paths go; "" (the default): beside the database */
  char *db;           /* database path (default var/vigil.db, or state_dir/vigil.db) */
  char *socket;       /* Unix socket path; "" for none */
  char *socket_group; /* when set, the socket is 0660 and owned by this group; "" for 0600 */
  char *listen;       /* TCP HOST:PORT; "" (the default) for none */
  char *tcp_token;    /* what a TCP client sends first as "auth TOKEN"; "" for none */
  char *tcp_token_file; /* or a file whose first line is that token; "" for none */
  char *spool;        /* spool directory; "" for none */
  char *http_listen;  /* the HTTP API's HOST:PORT; "" for none */
  char *http_token_file; /* a file whose first line is the token HTTP writes bear; "" for none */
  char **http_hosts;  /* more names requests' Host may give (NULL-ended, may be NULL) */
  char **http_origins; /* web origins allowed CORS and writes (NULL-ended, may be NULL) */
  size_t http_max_body; /* bytes an HTTP request body may have */
  size_t http_max_connections; /* HTTP connections served at once */
  unsigned http_timeout_ms; /* a request must arrive, and a reply be taken, within this */
  unsigned sse_heartbeat_ms; /* the live alert stream's heartbeat, and look for others' alerts */
  char *public_url;   /* the base URL alerts' links are built on; "" for the listen address */
  char **rules;       /* rule directories and files, NULL-ended: loaded as one set
                         (default: vg_default_rules()) */
  char *log_level;    /* debug, info, notice, warn, error */
  char *log_format;   /* text or json: the log's lines */
  char *durability;   /* "full" (fsync each commit) or "normal" */
  unsigned busy_timeout_ms; /* how long a write waits for another process's lock */
  char **formats;     /* the table formats the file declared (tabular.h), NULL-ended */
  vg_format format;   /* how input lines are read */
  size_t max_line;    /* the line cap in bytes */
  size_t batch_max;   /* entries per transaction at most */
  unsigned batch_ms;  /* how long a batch may wait to fill, in ms */
  size_t max_pending; /* lines waiting before the daemon stops reading */
  char *alerts_file;  /* the default JSON Lines alert file; "" for none */
  vg_sink_conf *sinks; /* named sinks */
  size_t nsinks;
  size_t rule_memory; /* bytes the rules' Lua state may use */
  long rule_budget;   /* instructions per rule call */
  unsigned rule_failures; /* failures that disable a rule until reload */
  double event_similarity; /* how alike two reports' texts must be to be one event, 0..1 */
  vg_digest_conf *digests; /* the scheduled digests */
  size_t ndigests;
  char *timezone;     /* of digest schedules and periods */
  vg_feed_conf *feeds; /* the feeds polled */
  size_t nfeeds;
  unsigned feed_interval; /* the default seconds between polls */
  size_t feed_max_body;   /* bytes a feed body may have */
  size_t feed_max_archive; /* bytes an archive a gdelt feed's listing names may have, packed
                             and unpacked */
  vg_redirects follow_redirects; /* the redirects a feed follows unless it says otherwise */
  /* NATS JetStream (bus.h); set one by one or as the table nats = {...} */
  char *nats_url;       /* the server(s) the JetStream source reads from; "" for none */
  char *nats_stream;    /* the stream of entries (made when missing) */
  char **nats_subjects; /* its subjects, when vigil makes it (NULL-ended) */
  char *nats_durable;   /* the durable pull consumer's name */
  char *nats_filter;    /* the subject the consumer takes; "" for the partition's or all */
  size_t nats_batch;    /* messages one fetch asks for at most */
  char *nats_dead_letter; /* where rejected messages are republished; "" for nowhere */
  char *nats_partition; /* the partition this daemon consumes ("" for all): a number */
  char *nats_partition_by; /* the entry field the partitions are keyed by ("" for none) */
  size_t nats_partitions;  /* how many partitions there are */
  int nats;             /* unused: the place of the `nats` table in the settings */
  char *file;         /* the configuration file loaded last, or NULL */
  unsigned char origin[VG_CONFIG_MAX]; /* per setting (vg_config_setting's index): vg_origin */
} vg_config;

/* Where a setting in force came from. */
typedef enum { VG_ORIGIN_DEFAULT, VG_ORIGIN_FILE, VG_ORIGIN_FLAG } vg_origin;

/* The partition nats_partition names: 0 to nats_partitions - 1, -1 for
 * none (""), -2 when it is no such number (vg_config_check refuses it). */
long vg_config_partition(const vg_config *c);
/* The name of the daemon's durable consumer into buf: nats_durable, else
 * vigil-pP when it consumes partition P, else vigil. Returns buf. */
const char *vg_config_durable(const vg_config *c, char *buf, size_t cap);

/* What the table of settings says of one. */
typedef struct {
  const char *name; /* as the file spells it */
  const char *type; /* string, integer, paths, format, redirects or table */
  const char *def;  /* the default as a flag would spell it, or NULL (a table) */
  const char *help; /* one sentence */
} vg_setting_info;

/* Setting i of the table (0, 1, ...), or NULL past the last. */
const vg_setting_info *vg_config_setting(size_t i);
/* The index of the setting called name, or -1. */
int vg_config_find(const char *name);
/* The value of setting i in c as a new JSON value (a secret is "(hidden)"
 * when set); NULL when out of memory. The caller deletes it. */
struct cJSON *vg_config_value(const vg_config *c, size_t i);
/* Sets setting `name` from the text of a command-line flag and marks it as
 * the flag's. A `paths` setting (rules) is appended to, the first flag
 * replacing what the file or default gave. Returns 0, or VG_EINVAL with why
 * in err (an unknown name, a bad value, a table, or one that
 * vg_config_check refuses, such as an empty db) and c unchanged. */
int vg_config_set_flag(vg_config *c, const char *name, const char *value, char *err, size_t cap);

/* Adds a feed (copies url, source and format; NULL source or format take
 * the defaults; it follows the redirects c->follow_redirects allows). */
void vg_config_add_feed(vg_config *c, const char *url, const char *source, const char *format,
                        unsigned interval);

/* The digest named name, or NULL. */
const vg_digest_conf *vg_config_digest(const vg_config *c, const char *name);
/* The base URL of alerts' links: public_url without a trailing '/', or
 * http://HTTP_LISTEN, or "" when http_listen is "" (no links). Writes it
 * into out (cut at cap) and returns its length. */
size_t vg_config_link_base(const vg_config *c, char *out, size_t cap);

/* Fills c with the embedded defaults (strings are owned by c); the derived
 * paths are left NULL for vg_config_resolve. */
void vg_config_defaults(vg_config *c);
/* Derives the paths no layer set, once all of them are applied (every
 * command calls it after its flags, the daemon after each load): db is
 * state_dir/vigil.db, or var/vigil.db without state_dir; the socket
 * (vigil.sock), spool (spool/), alerts file (alerts.jsonl) and each
 * digest's directory (digests/) go in state_dir, or without it in the
 * database's directory. A path set explicitly, "" included, is kept. */
void vg_config_resolve(vg_config *c);
/* Runs the Lua file at path and takes the settings it assigns. Returns 0, or
 * VG_EINVAL with every problem found in err, one a line, each naming the
 * file ("file:line: why" where the line is known) and the setting, with
 * the nearest known name for one that is unknown; c is then left as it
 * was. A message cut short by cap ends in "...". */
int vg_config_load(vg_config *c, const char *path, char *err, size_t cap);
/* Replaces a string setting with a copy of value (its origin unchanged). */
void vg_config_set(char **field, const char *value);
/* The number of rule paths of c. */
size_t vg_config_nrules(const vg_config *c);
/* The bounds of a TCP token, in bytes of printable ASCII without spaces. */
#define VG_TOKEN_MIN 16
#define VG_TOKEN_MAX 256

/* The TCP token c names, from tcp_token or the first line of tcp_token_file,
 * into out (VG_TOKEN_MAX + 1 bytes, NUL-terminated). Returns its length (0
 * when neither is set), or VG_EINVAL with why in err: both set, the file
 * unreadable, or a token that is not VG_TOKEN_MIN to VG_TOKEN_MAX printable
 * characters without spaces. A file that other users may read is named in
 * *warn (a static sentence) but taken; warn may be NULL. */
int vg_config_tcp_token(const vg_config *c, char out[VG_TOKEN_MAX + 1], const char **warn,
                        char *err, size_t cap);

/* The HTTP token c names: the first line of http_token_file, under the
 * rules of vg_config_tcp_token. */
int vg_config_http_token(const vg_config *c, char out[VG_TOKEN_MAX + 1], const char **warn,
                         char *err, size_t cap);

/* Whether db names a database file, as SQLite reads the name: "" (a
 * temporary file), ":memory:" and a "file:" URI name none, and what was
 * stored there would be gone at exit. Returns 0, or VG_EINVAL with why in
 * err. vg_config_check asks it, and so do the commands before they open
 * the database. */
int vg_config_check_db(const char *db, char *err, size_t cap);

/* Checks values that need it; returns 0 or VG_EINVAL with why in err. */
int vg_config_check(const vg_config *c, char *err, size_t cap);
void vg_config_free(vg_config *c);

#endif
