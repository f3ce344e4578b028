/* natstool — the end-to-end tests' own JetStream client (Debian ships the
 * NATS server and libnats, but no command-line client). Each command
 * prints JSON on stdout, one object a line, and exits 0; on failure it
 * says why on stderr and exits 1 (2 for a bad command line).
 *
 *   natstool URL stream NAME                 {"messages","first_seq","last_seq","consumers"}
 *   natstool URL stream-add NAME SUBJECT...  makes a file stream (2 min duplicate window)
 *   natstool URL consumer STREAM DURABLE     {"ack_floor","delivered","num_pending",
 *                                             "num_ack_pending","num_redelivered"}
 *   natstool URL consumer-delete STREAM DURABLE
 *   natstool URL stream-delete STREAM        deletes the stream, its messages and consumers
 *   natstool URL consumer-add STREAM DURABLE makes a durable pull consumer taking every
 *                                            message from the first (explicit acks)
 *   natstool URL dump STREAM                 each message: {"seq","subject","msg_id","data",
 *                                            "headers"}, headers but Nats-Msg-Id
 *   natstool URL pub SUBJECT [MSG_ID_PREFIX] each line of stdin as one message, waiting
 *                                            for JetStream's ack; with a prefix, the
 *                                            Nats-Msg-Id of line N is PREFIX-N
 */
#include <cJSON.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const char *what, natsStatus s, jsErrCode jerr) {
  fprintf(stderr, "natstool: %s: %s (JetStream error %d) %s\n", what, natsStatus_GetText(s),
          (int)jerr, nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
  return 1;
}

static void print_json(cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  puts(s);
  free(s);
  cJSON_Delete(o);
}

static int cmd_stream(jsCtx *js, const char *name) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
  if (s != NATS_OK) return die("stream info", s, jerr);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "messages", (double)si->State.Msgs);
  cJSON_AddNumberToObject(o, "first_seq", (double)si->State.FirstSeq);
  cJSON_AddNumberToObject(o, "last_seq", (double)si->State.LastSeq);
  cJSON_AddNumberToObject(o, "consumers", (double)si->State.Consumers);
  print_json(o);
  jsStreamInfo_Destroy(si);
  return 0;
}

static int cmd_stream_add(jsCtx *js, const char *name, const char **subjects, int n) {
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = name;
  sc.Subjects = subjects;
  sc.SubjectsLen = n;
  sc.Storage = js_FileStorage;
  sc.Duplicates = 120LL * 1000000000;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_AddStream(&si, js, &sc, NULL, &jerr);
  if (s != NATS_OK) return die("stream add", s, jerr);
  jsStreamInfo_Destroy(si);
  return 0;
}

static int cmd_consumer(jsCtx *js, const char *stream, const char *durable) {
  jsConsumerInfo *ci = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetConsumerInfo(&ci, js, stream, durable, NULL, &jerr);
  if (s != NATS_OK) return die("consumer info", s, jerr);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "ack_floor", (double)ci->AckFloor.Stream);
  cJSON_AddNumberToObject(o, "delivered", (double)ci->Delivered.Stream);
  cJSON_AddNumberToObject(o, "num_pending", (double)ci->NumPending);
  cJSON_AddNumberToObject(o, "num_ack_pending", (double)ci->NumAckPending);
  cJSON_AddNumberToObject(o, "num_redelivered", (double)ci->NumRedelivered);
  print_json(o);
  jsConsumerInfo_Destroy(ci);
  return 0;
}

static int cmd_consumer_delete(jsCtx *js, const char *stream, const char *durable) {
  jsErrCode jerr = 0;
  natsStatus s = js_DeleteConsumer(js, stream, durable, NULL, &jerr);
  return s == NATS_OK ? 0 : die("consumer delete", s, jerr);
}

static int cmd_stream_delete(jsCtx *js, const char *stream) {
  jsErrCode jerr = 0;
  natsStatus s = js_DeleteStream(js, stream, NULL, &jerr);
  return s == NATS_OK ? 0 : die("stream delete", s, jerr);
}

static int cmd_consumer_add(jsCtx *js, const char *stream, const char *durable) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable;
  cc.AckPolicy = js_AckExplicit;
  cc.DeliverPolicy = js_DeliverAll;
  jsConsumerInfo *ci = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_AddConsumer(&ci, js, stream, &cc, NULL, &jerr);
  jsConsumerInfo_Destroy(ci);
  return s == NATS_OK ? 0 : die("consumer add", s, jerr);
}

/* The headers of m but Nats-Msg-Id, as an object (first value of each). */
static cJSON *headers_of(natsMsg *m) {
  cJSON *h = cJSON_CreateObject();
  const char **keys = NULL;
  int n = 0;
  if (natsMsgHeader_Keys(m, &keys, &n) != NATS_OK) return h;
  for (int i = 0; i < n; i++) {
    const char *v = NULL;
    if (strcmp(keys[i], "Nats-Msg-Id") == 0 || natsMsgHeader_Get(m, keys[i], &v) != NATS_OK)
      continue;
    cJSON_AddStringToObject(h, keys[i], v ? v : "");
  }
  free((void *)keys);
  return h;
}

static int cmd_dump(jsCtx *js, const char *stream) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
  if (s != NATS_OK) return die("stream info", s, jerr);
  uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  for (uint64_t seq = first; seq && seq <= last; seq++) {
    natsMsg *m = NULL;
    jerr = 0;
    s = js_GetMsg(&m, js, stream, seq, NULL, &jerr);
    if (s == NATS_NOT_FOUND) continue; /* deleted */
    if (s != NATS_OK) return die("get message", s, jerr);
    const char *id = NULL;
    natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddStringToObject(o, "subject", natsMsg_GetSubject(m));
    if (id) cJSON_AddStringToObject(o, "msg_id", id);
    else cJSON_AddNullToObject(o, "msg_id");
    char *data = strndup(natsMsg_GetData(m) ? natsMsg_GetData(m) : "",
                         (size_t)natsMsg_GetDataLength(m));
    cJSON_AddStringToObject(o, "data", data);
    free(data);
    cJSON_AddItemToObject(o, "headers", headers_of(m));
    print_json(o);
    natsMsg_Destroy(m);
  }
  return 0;
}

static int cmd_pub(jsCtx *js, const char *subject, const char *prefix) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long no = 0;
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    if (n && line[n - 1] == '\n') line[--n] = '\0';
    no++;
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, line, (int)n);
    if (s == NATS_OK && prefix) {
      char id[256];
      snprintf(id, sizeof id, "%s-%ld", prefix, no);
      s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
    }
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    if (s == NATS_OK) s = js_PublishMsg(&pa, js, m, NULL, &jerr);
    natsMsg_Destroy(m);
    jsPubAck_Destroy(pa);
    if (s != NATS_OK) {
      free(line);
      return die("publish", s, jerr);
    }
  }
  free(line);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: natstool URL stream|stream-add|stream-delete|consumer|consumer-add|consumer-delete|dump|pub ...\n");
    return 2;
  }
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  natsOptions *o = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsOptions_SetURL(o, argv[1]);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, 10000);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, o);
  if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, NULL);
  natsOptions_Destroy(o);
  if (s != NATS_OK) return die("connect", s, 0);
  const char *c = argv[2];
  int rc = 2;
  if (strcmp(c, "stream") == 0 && argc == 4) rc = cmd_stream(js, argv[3]);
  else if (strcmp(c, "stream-add") == 0 && argc >= 5)
    rc = cmd_stream_add(js, argv[3], (const char **)argv + 4, argc - 4);
  else if (strcmp(c, "consumer") == 0 && argc == 5) rc = cmd_consumer(js, argv[3], argv[4]);
  else if (strcmp(c, "consumer-delete") == 0 && argc == 5)
    rc = cmd_consumer_delete(js, argv[3], argv[4]);
  else if (strcmp(c, "stream-delete") == 0 && argc == 4) rc = cmd_stream_delete(js, argv[3]);
  else if (strcmp(c, "consumer-add") == 0 && argc == 5)
    rc = cmd_consumer_add(js, argv[3], argv[4]);
  else if (strcmp(c, "dump") == 0 && argc == 4) rc = cmd_dump(js, argv[3]);
  else if (strcmp(c, "pub") == 0 && (argc == 4 || argc == 5))
    rc = cmd_pub(js, argv[3], argc == 5 ? argv[4] : NULL);
  else fprintf(stderr, "natstool: bad command line\n");
  jsCtx_Destroy(js);
  natsConnection_Close(nc);
  natsConnection_Destroy(nc);
  nats_Close();
  return rc;
}
