/* bus.c — the connection to NATS JetStream; see bus.h. */
#include "bus.h"

#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_disconnected(natsConnection *nc, void *ud) {
  vg_bus *b = ud;
  if (natsConnection_IsClosed(nc)) return; /* vg_bus_close: no loss to report */
  vg_warn("nats: disconnected from %s (%s); reconnecting", b->url, b->name);
}

static void on_reconnected(natsConnection *nc, void *ud) {
  vg_bus *b = ud;
  char url[256] = "";
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  vg_notice("nats: reconnected to %s (%s)", url[0] ? url : b->url, b->name);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *ud) {
  (void)nc;
  (void)sub;
  vg_bus *b = ud;
  vg_warn("nats: %s (%s)", natsStatus_GetText(s), b->name);
}

void vg_bus_why(char *err, size_t cap, const char *what, natsStatus s, jsErrCode jerr) {
  char last[256] = "";
  natsStatus ls;
  const char *t = nats_GetLastError(&ls);
  if (t && ls == s) snprintf(last, sizeof last, ": %s", t);
  if (jerr)
    snprintf(err, cap, "%s: %s (JetStream error %d)%s", what, natsStatus_GetText(s), (int)jerr,
             last);
  else
    snprintf(err, cap, "%s: %s%s", what, natsStatus_GetText(s), last);
}

/* With VG_BUS_RETRY_CONNECT: the first connection came at last. */
static void on_connected(natsConnection *nc, void *ud) {
  vg_bus *b = ud;
  char url[256] = "";
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  vg_notice("nats: connected to %s (%s)", url[0] ? url : b->url, b->name);
}

vg_bus *vg_bus_connect(const char *url, const char *name, int64_t timeout_ms, char *err,
                       size_t cap) {
  return vg_bus_open(url, name, timeout_ms, 0, err, cap);
}

int vg_bus_connected(const vg_bus *b) {
  return b && b->nc && natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
}

vg_bus *vg_bus_open(const char *url, const char *name, int64_t timeout_ms, unsigned flags,
                    char *err, size_t cap) {
  vg_bus *b = calloc(1, sizeof *b);
  natsOptions *o = NULL;
  if (!b) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  snprintf(b->url, sizeof b->url, "%s", url);
  snprintf(b->name, sizeof b->name, "%s", name);
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsOptions_SetURL(o, url);
  if (s == NATS_OK) s = natsOptions_SetName(o, name);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, timeout_ms > 0 ? timeout_ms : 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1); /* without end */
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(o, 64 << 20);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(o, on_disconnected, b);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, on_reconnected, b);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(o, on_error, b);
  if (s == NATS_OK && (flags & VG_BUS_RETRY_CONNECT))
    s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, b);
  if (s == NATS_OK) s = natsConnection_Connect(&b->nc, o);
  if (s == NATS_NOT_YET_CONNECTED && b->nc) { /* retrying in the background */
    vg_warn("nats: cannot reach %s yet (%s); trying again in the background", url, name);
    s = NATS_OK;
  }
  if (s == NATS_OK) s = natsConnection_JetStream(&b->js, b->nc, NULL);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    char what[600];
    snprintf(what, sizeof what, "nats: connecting to %s", url);
    vg_bus_why(err, cap, what, s, 0);
    vg_bus_close(b);
    return NULL;
  }
  return b;
}

void vg_bus_close(vg_bus *b) {
  if (!b) return;
  jsCtx_Destroy(b->js);
  if (b->nc) {
    natsConnection_Close(b->nc);
    natsConnection_Destroy(b->nc);
  }
  free(b);
}

int vg_bus_stream(vg_bus *b, const char *name, const char *const *subjects, int64_t dup_ms,
                  char *err, size_t cap) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, b->js, name, NULL, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return 0;
  }
  if (s != NATS_NOT_FOUND) {
    char what[300];
    snprintf(what, sizeof what, "nats: looking up stream %s", name);
    vg_bus_why(err, cap, what, s, jerr);
    return -1;
  }
  size_t n = 0;
  while (subjects && subjects[n]) n++;
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = name;
  sc.Subjects = (const char **)subjects;
  sc.SubjectsLen = (int)n;
  sc.Storage = js_FileStorage;
  if (dup_ms > 0) sc.Duplicates = dup_ms * 1000000; /* nanoseconds */
  jerr = 0;
  s = js_AddStream(&si, b->js, &sc, NULL, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    vg_info("nats: created stream %s", name);
    return 0;
  }
  /* Another process made it meanwhile: as good. */
  if (js_GetStreamInfo(&si, b->js, name, NULL, NULL) == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return 0;
  }
  char what[300];
  snprintf(what, sizeof what, "nats: creating stream %s", name);
  vg_bus_why(err, cap, what, s, jerr);
  return -1;
}

unsigned vg_bus_partition(const char *value, size_t len, unsigned n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)value[i];
    h *= 16777619u;
  }
  return n ? h % n : 0;
}
