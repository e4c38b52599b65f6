/* The metrics endpoint of a deployed instance (docs/deployment.md,
 * "Metrics"): with --metrics-port P it serves, over HTTP on port P of the
 * host it listens on, `/metrics` in Prometheus' text format, `/healthz` (200 while
 * the instance's loop runs) and `/readyz` (200 once it is connected to
 * every peer it sends to). It runs in the instance's poll loop: no thread.
 *
 * A client is hostile until it has sent a well-formed request: a request
 * is at most kMaxRequest bytes, a client gets kClientTimeoutNs to send it
 * and read the answer, and at most kMaxClients are served at once (others
 * are closed at once). */
#define _GNU_SOURCE
#include "rt_net.h"

#include <stdarg.h>

enum {
  kMaxClients = 16,
  kMaxRequest = 8192,
};
static const uint64_t kClientTimeoutNs = 5000000000ull;

typedef struct {
  int fd;
  char request[kMaxRequest];
  uint32_t len;
  char *answer; /* once the request is complete */
  size_t answer_len, answer_off;
  uint64_t since;
  int draining; /* answered: reading what else it sent until it closes, so that closing does not reset the answer */
} client;

static int listen_fd = -1;
static client clients[kMaxClients];
static uint32_t metrics_port;

void dfir_rt_net_set_metrics_port(uint32_t port) { metrics_port = port; }

void dfir_net_metrics_open(void) {
  for (uint32_t i = 0; i < kMaxClients; ++i) clients[i].fd = -1;
  if (!metrics_port) return;
  const dloc *self = &dfir_net.locs[dfir_net.self_index];
  const char *host = self->listen_hosts[dfir_net.self_id] ? self->listen_hosts[dfir_net.self_id] : self->hosts[dfir_net.self_id];
  char why[160] = "";
  listen_fd = dfir_net_open_socket(host, (uint16_t)metrics_port, 1, why, sizeof why);
  if (listen_fd < 0) {
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%u", host, (unsigned)metrics_port);
    dfir_net_die("cannot serve metrics on %s: %s", addr, why);
  }
  dfir_net_set_nonblocking(listen_fd);
}

static void drop(client *c) {
  close(c->fd);
  c->fd = -1;
  free(c->answer);
  c->answer = NULL;
}

void dfir_net_metrics_close(void) {
  for (uint32_t i = 0; i < kMaxClients; ++i)
    if (clients[i].fd >= 0) drop(&clients[i]);
  if (listen_fd >= 0) close(listen_fd);
  listen_fd = -1;
}

uint32_t dfir_net_metrics_max_fds(void) { return 1 + kMaxClients; }

uint32_t dfir_net_metrics_fds(struct pollfd *fds) {
  if (listen_fd < 0) return 0;
  uint32_t n = 0;
  fds[n++] = (struct pollfd){listen_fd, POLLIN, 0};
  for (uint32_t i = 0; i < kMaxClients; ++i)
    fds[n++] = (struct pollfd){clients[i].fd, (short)(clients[i].answer ? POLLOUT : POLLIN), 0};
  return n;
}

int dfir_net_metrics_busy(void) {
  for (uint32_t i = 0; i < kMaxClients; ++i)
    if (clients[i].fd >= 0) return 1;
  return 0;
}

int dfir_net_metrics_deadline_ms(uint64_t now) {
  int64_t next = -1;
  for (uint32_t i = 0; i < kMaxClients; ++i) {
    if (clients[i].fd < 0) continue;
    uint64_t end = clients[i].since + kClientTimeoutNs;
    int64_t left = end > now ? (int64_t)((end - now) / 1000000) + 1 : 0;
    if (next < 0 || left < next) next = left;
  }
  return (int)next;
}

/* ---- the answer ------------------------------------------------------ */

typedef struct {
  char *data;
  size_t len, cap;
} text;

static void append(text *t, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (t->data && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 4096;
    while (cap < t->len + (size_t)n + 1) cap *= 2;
    char *grown = (char *)realloc(t->data, cap);
    if (!grown) dfir_net_die("out of memory answering a metrics request%s%s", "", "");
    t->data = grown;
    t->cap = cap;
  }
}

/* A label value, escaped as the text format wants. */
static void label(text *t, const char *v) {
  for (; *v; ++v) {
    if (*v == '\\' || *v == '"') append(t, "\\%c", *v);
    else if (*v == '\n') append(t, "\\n");
    else append(t, "%c", *v);
  }
}

static void family(text *t, const char *name, const char *type, const char *help) {
  append(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per channel that this location sends on (`out`) or receives
 * on, of field `field` (0 items, 1 bytes, 2 frames). */
static void per_channel(text *t, const char *name, const char *help, int out, int field) {
  family(t, name, "counter", help);
  for (uint32_t c = 0; c < dfir_net.nchans; ++c) {
    const dchan *ch = &dfir_net.chans[c];
    if ((out ? ch->from : ch->to) != dfir_net.self_index) continue;
    const chan_counts *k = out ? &dfir_net.sent[c] : &dfir_net.received[c];
    uint64_t v = field == 0 ? k->items : field == 1 ? k->bytes : k->frames;
    append(t, "%s{channel=\"", name);
    label(t, ch->name);
    append(t, "\"} %llu\n", (unsigned long long)v);
  }
}

/* Whether an authenticated connection from instance `global` is open. */
static int heard_from(uint32_t global) {
  for (uint32_t i = 0; i < dfir_net.nins; ++i)
    if (dfir_net.ins[i].fd >= 0 && dfir_net.ins[i].stage == kAuthenticated && dfir_net.ins[i].peer == global) return 1;
  return 0;
}

/* Whether instance `global` is a peer this one sends to (`out`) or hears
 * from: a channel joins their locations. */
static int peer_of(uint32_t global, int out) {
  uint32_t loc = 0;
  while (loc + 1 < dfir_net.nlocs && global >= dfir_net.locs[loc + 1].first) ++loc;
  for (uint32_t c = 0; c < dfir_net.nchans; ++c)
    if ((out ? dfir_net.chans[c].from : dfir_net.chans[c].to) == dfir_net.self_index &&
        (out ? dfir_net.chans[c].to : dfir_net.chans[c].from) == loc)
      return 1;
  return 0;
}

static int ready(void) {
  for (uint32_t g = 0; g < dfir_net.ninst; ++g)
    if (peer_of(g, 1) && (dfir_net.outs[g].fd < 0 || dfir_net.outs[g].stage != kAuthenticated)) return 0;
  return 1;
}

static void metrics(text *t) {
  const dfir_location *loc = dfir_net.self_loc;
  family(t, "dfir_instance_info", "gauge", "The instance: its location, member id and program fingerprint.");
  append(t, "dfir_instance_info{location=\"");
  label(t, loc->name);
  append(t, "\",member=\"%u\",fingerprint=\"%016llx\"} 1\n", (unsigned)dfir_net.self_id,
         (unsigned long long)loc->fingerprint);
  family(t, "dfir_uptime_seconds", "gauge", "Seconds since the instance started.");
  append(t, "dfir_uptime_seconds %.3f\n", (double)(dfir_net_now_ns() - dfir_net.started_ns) / 1e9);
  family(t, "dfir_ticks_total", "counter", "Ticks the instance has run.");
  append(t, "dfir_ticks_total %llu\n", (unsigned long long)dfir_net.ticks);
  family(t, "dfir_busy_seconds_total", "counter", "Seconds spent running ticks.");
  append(t, "dfir_busy_seconds_total %.6f\n", (double)dfir_net.busy_ns / 1e9);
  per_channel(t, "dfir_channel_items_sent_total", "Items sent, per channel.", 1, 0);
  per_channel(t, "dfir_channel_bytes_sent_total", "Bytes of items sent (without framing), per channel.", 1, 1);
  per_channel(t, "dfir_channel_frames_sent_total", "Frames sent, per channel.", 1, 2);
  per_channel(t, "dfir_channel_items_received_total", "Items received, per channel.", 0, 0);
  per_channel(t, "dfir_channel_bytes_received_total", "Bytes of items received (without framing), per channel.", 0, 1);
  per_channel(t, "dfir_channel_frames_received_total", "Frames received, per channel.", 0, 2);
  family(t, "dfir_channel_queued_bytes", "gauge", "Bytes of items received and waiting for a tick, per channel.");
  for (uint32_t c = 0; c < dfir_net.nchans; ++c) {
    if (dfir_net.chans[c].to != dfir_net.self_index) continue;
    const buffer *q = &dfir_net.inboxes[c].queued;
    append(t, "dfir_channel_queued_bytes{channel=\"");
    label(t, dfir_net.chans[c].name);
    append(t, "\"} %llu\n", (unsigned long long)(q->len - q->off));
  }
  family(t, "dfir_peer_connected", "gauge",
         "1 while the connection to (out) or from (in) a peer is open and authenticated, else 0.");
  text unsent = {0, 0, 0};
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) {
    char who[96];
    dfir_net_peer_name(g, who, sizeof who);
    for (int out = 1; out >= 0; --out) {
      if (!peer_of(g, out)) continue;
      const conn *c = &dfir_net.outs[g];
      int up = out ? c->fd >= 0 && c->stage == kAuthenticated : heard_from(g);
      append(t, "dfir_peer_connected{peer=\"");
      label(t, who);
      append(t, "\",direction=\"%s\"} %d\n", out ? "out" : "in", up);
      if (out) {
        append(&unsent, "dfir_peer_unsent_bytes{peer=\"");
        label(&unsent, who);
        append(&unsent, "\"} %llu\n", (unsigned long long)(c->fd >= 0 ? dfir_net_unsent_items(c) : 0));
      }
    }
  }
  family(t, "dfir_peer_unsent_bytes", "gauge", "Bytes of items made for a peer and not yet sent.");
  if (unsent.data) append(t, "%s", unsent.data);
  free(unsent.data);
  family(t, "dfir_restarts_total", "counter", "Times this instance was started again after a failure (dfirc launch --restart).");
  const char *restarts = getenv("DFIR_RESTARTS");
  append(t, "dfir_restarts_total %llu\n", restarts ? strtoull(restarts, NULL, 10) : 0ull);
  family(t, "dfir_connections_refused_total", "counter",
         "Connections closed for breaking the protocol (a bad handshake or frame, a timeout).");
  append(t, "dfir_connections_refused_total %llu\n", (unsigned long long)dfir_net.refused);
  const dfir_profile_info *info = loc->profile;
  if (!info || !dfir_net.state) return;
  /* A build with profiling counts the items into and out of each operator. */
  const uint64_t *counters = (const uint64_t *)((const char *)dfir_net.state + info->counters_offset);
  for (int out = 0; out < 2; ++out) {
    const char *name = out ? "dfir_operator_items_out_total" : "dfir_operator_items_in_total";
    family(t, name, "counter", out ? "Items out of each operator." : "Items into each operator.");
    for (uint32_t o = 0; o < info->nops; ++o) {
      append(t, "%s{operator=\"", name);
      label(t, info->op_names[o]);
      append(t, "\",op=\"");
      label(t, info->op_kinds[o]);
      append(t, "\",line=\"%u\"} %llu\n", (unsigned)info->op_lines[o], (unsigned long long)counters[2 * o + out]);
    }
  }
}

/* ---- requests -------------------------------------------------------- */

static void answer(client *c, int status, const char *reason, const char *body, size_t len) {
  text t = {0, 0, 0};
  append(&t, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status, reason,
         status == 200 && body && strncmp(body, "# HELP", 6) == 0 ? "text/plain; version=0.0.4; charset=utf-8"
                                                                  : "text/plain; charset=utf-8",
         len);
  if (len) {
    if (t.len + len + 1 > t.cap) {
      char *grown = (char *)realloc(t.data, t.len + len + 1);
      if (!grown) dfir_net_die("out of memory answering a metrics request%s%s", "", "");
      t.data = grown;
      t.cap = t.len + len + 1;
    }
    memcpy(t.data + t.len, body, len);
    t.len += len;
  }
  c->answer = t.data;
  c->answer_len = t.len;
  c->answer_off = 0;
}

static void plain(client *c, int status, const char *reason, const char *body) {
  answer(c, status, reason, body, strlen(body));
}

/* A complete request: `GET PATH HTTP/1.x` and headers, which are ignored. */
static void respond(client *c) {
  const char *r = c->request;
  const char *sp1 = memchr(r, ' ', c->len);
  const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(r + c->len - sp1 - 1)) : NULL;
  const char *eol = memchr(r, '\r', c->len);
  if (!sp1 || !sp2 || !eol || sp2 > eol || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
    plain(c, 400, "Bad Request", "not an HTTP/1 request\n");
    return;
  }
  int head = sp1 - r == 4 && memcmp(r, "HEAD", 4) == 0;
  if (!head && !(sp1 - r == 3 && memcmp(r, "GET", 3) == 0)) {
    plain(c, 405, "Method Not Allowed", "only GET and HEAD\n");
    return;
  }
  size_t path_len = (size_t)(sp2 - sp1 - 1);
  const char *query = memchr(sp1 + 1, '?', path_len);
  if (query) path_len = (size_t)(query - sp1 - 1);
  const char *path = sp1 + 1;
#define IS(p) (path_len == strlen(p) && memcmp(path, p, path_len) == 0)
  if (IS("/metrics")) {
    text t = {0, 0, 0};
    metrics(&t);
    answer(c, 200, "OK", t.data, head ? 0 : t.len);
    free(t.data);
  } else if (IS("/healthz")) {
    plain(c, 200, "OK", head ? "" : "ok\n");
  } else if (IS("/readyz")) {
    int up = ready();
    plain(c, up ? 200 : 503, up ? "OK" : "Service Unavailable",
          head ? "" : up ? "ready\n" : "not connected to every peer yet\n");
  } else {
    plain(c, 404, "Not Found", "not found: the endpoints are /metrics, /healthz and /readyz\n");
  }
#undef IS
}

static void accept_clients(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    client *c = NULL;
    for (uint32_t i = 0; i < kMaxClients && !c; ++i)
      if (clients[i].fd < 0) c = &clients[i];
    if (!c) { /* all busy: this one is not served */
      close(fd);
      continue;
    }
    c->fd = fd;
    c->len = 0;
    c->answer = NULL;
    c->draining = 0;
    c->since = dfir_net_now_ns();
  }
}

/* Reads what a client sent; answers once its request is complete. */
static void take_request(client *c) {
  ssize_t n = recv(c->fd, c->request + c->len, kMaxRequest - c->len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    drop(c);
    return;
  }
  c->len += (uint32_t)n;
  for (uint32_t i = c->len - (uint32_t)n >= 3 ? c->len - (uint32_t)n - 3 : 0; i + 4 <= c->len; ++i)
    if (memcmp(c->request + i, "\r\n\r\n", 4) == 0) {
      respond(c);
      return;
    }
  if (c->len == kMaxRequest) plain(c, 431, "Request Header Fields Too Large", "a request is at most 8192 bytes\n");
}

static void send_answer(client *c) {
  ssize_t n = send(c->fd, c->answer + c->answer_off, c->answer_len - c->answer_off, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    drop(c);
    return;
  }
  c->answer_off += (size_t)n;
  if (c->answer_off < c->answer_len) return;
  free(c->answer);
  c->answer = NULL;
  shutdown(c->fd, SHUT_WR);
  c->draining = 1;
}

static void drain(client *c) {
  char scratch[4096];
  ssize_t n = recv(c->fd, scratch, sizeof scratch, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) drop(c);
}

void dfir_net_metrics_serve(const struct pollfd *fds, uint32_t n) {
  if (listen_fd < 0 || n == 0) return;
  uint64_t now = dfir_net_now_ns();
  for (uint32_t i = 0; i < kMaxClients; ++i) {
    client *c = &clients[i];
    if (c->fd < 0) continue;
    if (fds[1 + i].fd == c->fd && fds[1 + i].revents) {
      if (c->draining) drain(c);
      else if (c->answer) send_answer(c);
      else take_request(c);
    }
    if (c->fd >= 0 && now - c->since >= kClientTimeoutNs) drop(c); /* too slow */
  }
  if (fds[0].revents & POLLIN) accept_clients();
}
