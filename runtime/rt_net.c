/* Deployed runs: one location instance per OS process, channels over TCP
 * (docs/deployment.md has the wire format).
 *
 * Every instance listens on its address from the deploy file and, before
 * its first tick, connects to every instance of every location it sends
 * to (retrying with backoff while the peer starts). A connection carries
 * one direction: the connecting side sends a hello (program and channel
 * type fingerprints), then frames; the accepting side checks the hello and
 * answers only to refuse it. Items sent during a tick are framed per
 * channel and written at the end of the tick in one write per peer. */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC, strndup */
#include "dfir_rt.h"
#include "rt_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
  kVersion = 1,
  kMaxFrame = 64 << 20,      /* a bigger frame is malformed */
  kOutLimit = 8 << 20,       /* unsent bytes per peer before the sender waits */
  kInLimit = 32 << 20,       /* received, unprocessed bytes before reading pauses */
  kReadChunk = 256 << 10,    /* bytes read per connection per turn */
  kBusyPollNs = 100 * 1000,  /* between checks for input while ticking without pause */
  kHelloMax = 1 << 16,
};

int dfir_rt_net_active;

/* ---- the deploy file ----------------------------------------------------- */

typedef struct {
  char *name;
  uint32_t count, first; /* instances; global index of the first */
  char **hosts;
  uint16_t *ports;
} dloc;

typedef struct {
  char *name;
  uint32_t from, to;
  uint64_t fingerprint;
} dchan;

static const char *deploy_path;
static uint32_t nlocs, nchans, ninst;
static dloc *locs;
static dchan *chans;

static DFIR_RT_NORETURN void die(const char *fmt, const char *a, const char *b) {
  dfir_rt_flush();
  fprintf(stderr, "dfir: error: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(1);
}

static DFIR_RT_NORETURN void bad_deploy(const char *what) { die("deploy file `%s`: %s", deploy_path, what); }

static const dfir_json *member(const dfir_json *obj, const char *key, int kind) {
  const dfir_json *v = dfir_rt_json_get(obj, key);
  if (!v || v->kind != kind) {
    char msg[160];
    static const char *kinds[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    snprintf(msg, sizeof msg, "expected `%s` to be %s", key, kinds[kind]);
    bad_deploy(msg);
  }
  return v;
}

static uint64_t parse_hex(const char *s) {
  char *end = NULL;
  errno = 0;
  uint64_t v = strtoull(s, &end, 16);
  if (errno || !end || *end || !*s) bad_deploy("a fingerprint is not a hexadecimal number");
  return v;
}

static uint32_t loc_index(const char *name) {
  for (uint32_t l = 0; l < nlocs; ++l)
    if (strcmp(locs[l].name, name) == 0) return l;
  die("deploy file `%s`: no location named `%s`", deploy_path, name);
}

static void read_deploy(const dfir_location *self) {
  FILE *f = fopen(deploy_path, "rb");
  if (!f) die("cannot open the deploy file `%s`: %s", deploy_path, strerror(errno));
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 > cap) {
      char *t = (char *)realloc(text, cap = cap * 2 + 4096);
      if (!t) die("out of memory reading `%s`%s", deploy_path, "");
      text = t;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  fclose(f);
  char error[240];
  dfir_json *root = dfir_rt_json_parse(text, len, error, sizeof error);
  if (!root) bad_deploy(error);
  if (parse_hex(member(root, "fingerprint", DFIR_JSON_STRING)->string) != self->fingerprint)
    die("deploy file `%s` was written for a different build of the program than this executable (`%s`)",
        deploy_path, self->name);
  const dfir_json *ls = member(root, "locations", DFIR_JSON_ARRAY);
  nlocs = ls->count;
  locs = (dloc *)calloc(nlocs ? nlocs : 1, sizeof(dloc));
  if (nlocs != self->nlocations) bad_deploy("its locations are not the program's");
  for (uint32_t l = 0; l < nlocs; ++l) {
    const dfir_json *lj = &ls->items[l];
    locs[l].name = member(lj, "name", DFIR_JSON_STRING)->string;
    const dfir_json *is = member(lj, "instances", DFIR_JSON_ARRAY);
    if (is->count == 0) bad_deploy("a location has no instances");
    if (!member(lj, "cluster", DFIR_JSON_BOOL)->number && is->count > 1)
      bad_deploy("a process (`\"cluster\": false`) has exactly one instance");
    locs[l].count = is->count;
    locs[l].first = ninst;
    ninst += is->count;
    locs[l].hosts = (char **)calloc(is->count, sizeof(char *));
    locs[l].ports = (uint16_t *)calloc(is->count, sizeof(uint16_t));
    for (uint32_t i = 0; i < is->count; ++i) {
      if ((uint32_t)member(&is->items[i], "id", DFIR_JSON_NUMBER)->number != i)
        bad_deploy("instance ids must be 0, 1, ... in order");
      const char *addr = member(&is->items[i], "address", DFIR_JSON_STRING)->string;
      const char *colon = strrchr(addr, ':');
      long port = colon ? strtol(colon + 1, NULL, 10) : 0;
      if (!colon || colon == addr || port <= 0 || port > 65535)
        die("deploy file `%s`: address `%s` is not HOST:PORT with a port from 1 to 65535", deploy_path, addr);
      locs[l].hosts[i] = strndup(addr, (size_t)(colon - addr));
      locs[l].ports[i] = (uint16_t)port;
    }
  }
  if (strcmp(locs[self->index].name, self->name) != 0) bad_deploy("its locations are not the program's");
  const dfir_json *cs = member(root, "channels", DFIR_JSON_ARRAY);
  nchans = cs->count;
  if (nchans != self->nchannels) bad_deploy("its channels are not the program's");
  chans = (dchan *)calloc(nchans ? nchans : 1, sizeof(dchan));
  for (uint32_t c = 0; c < nchans; ++c) {
    const dfir_json *cj = &cs->items[c];
    chans[c].name = member(cj, "name", DFIR_JSON_STRING)->string;
    chans[c].from = loc_index(member(cj, "from", DFIR_JSON_STRING)->string);
    chans[c].to = loc_index(member(cj, "to", DFIR_JSON_STRING)->string);
    chans[c].fingerprint = parse_hex(member(cj, "fingerprint", DFIR_JSON_STRING)->string);
    if (chans[c].fingerprint != self->channel_fingerprints[c]) bad_deploy("its channels are not the program's");
  }
}

/* ---- buffers and messages -------------------------------------------- */

typedef struct {
  char *data;
  uint64_t len, cap, off; /* bytes [off, len) are pending */
} buffer;

static void grow_buffer(buffer *b, uint64_t more) {
  if (b->off > 0) {
    memmove(b->data, b->data + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
    if (b->len + more <= b->cap) return;
  }
  uint64_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  char *d = (char *)realloc(b->data, cap);
  if (!d) die("out of memory buffering messages%s%s", "", "");
  b->data = d;
  b->cap = cap;
}

static inline void reserve(buffer *b, uint64_t more) {
  if (b->len + more > b->cap) grow_buffer(b, more);
}

/* memcpy for the short items of most messages, without a call: two
 * overlapping fixed-size copies cover every length of a size class. */
static inline void copy_bytes(char *to, const char *from, uint64_t n) {
  if (n > 32) {
    memcpy(to, from, n);
  } else if (n >= 16) {
    memcpy(to, from, 16);
    memcpy(to + n - 16, from + n - 16, 16);
  } else if (n >= 8) {
    memcpy(to, from, 8);
    memcpy(to + n - 8, from + n - 8, 8);
  } else if (n >= 4) {
    memcpy(to, from, 4);
    memcpy(to + n - 4, from + n - 4, 4);
  } else if (n > 0) {
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  }
}

static void put(buffer *b, const void *p, uint64_t n) {
  reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void put32(buffer *b, uint32_t v) { put(b, &v, 4); }
static void put64(buffer *b, uint64_t v) { put(b, &v, 8); }
static uint32_t get32(const char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t get64(const char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* Received items, per channel, as runs copied whole from frames: a run is
 * {u32 sender, u32 count} then its `count` items as framed, {u32 len,
 * bytes}. No allocation per item. */
typedef struct {
  buffer queued;  /* for the next tick */
  buffer current; /* this tick's, read by dfir_rt_net_recv */
  uint64_t at;    /* next unread byte of `current` */
  uint32_t left;  /* items left in the run being read */
  uint32_t sender;
} inbox;

/* ---- connections ------------------------------------------------------ */

typedef struct {
  int fd;
  uint32_t peer;    /* global instance index; UINT32_MAX before the hello */
  int outgoing;     /* we send on it */
  buffer in, out;
  int64_t frame;    /* outgoing: this tick's open frame, as an offset from out.off; or -1 */
  uint32_t frame_channel, frame_len, frame_count; /* its header, written when it closes */
} conn;

static const dfir_location *self_loc;
static uint32_t self_index, self_id, self_global;
static conn *outs;      /* per global instance: our connection to it (fd -1 if none) */
static conn *ins;       /* accepted connections */
static uint32_t nins, cap_ins;
static int listen_fd = -1;
/* dfirc launch: a socket on which this instance reports idleness and
 * answers probes (docs/deployment.md); -1 when not launched. */
static int control_fd = -1;
static uint32_t probes;
static volatile sig_atomic_t stop_requested;
static inbox *inboxes; /* per channel */
static uint64_t inbound_bytes, items_sent, items_received;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *peer_name(uint32_t global, char *buf, size_t size) {
  for (uint32_t l = 0; l < nlocs; ++l)
    if (global >= locs[l].first && global < locs[l].first + locs[l].count) {
      snprintf(buf, size, "%s/%u", locs[l].name, global - locs[l].first);
      return buf;
    }
  snprintf(buf, size, "an unknown peer");
  return buf;
}

static uint32_t loc_of(uint32_t global) {
  for (uint32_t l = 0; l < nlocs; ++l)
    if (global >= locs[l].first && global < locs[l].first + locs[l].count) return l;
  return 0;
}

static int open_socket(const char *host, uint16_t port, int listening, char *why, size_t why_size) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = listening ? AI_PASSIVE : 0;
  char service[8];
  snprintf(service, sizeof service, "%u", (unsigned)port);
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) {
    snprintf(why, why_size, "%s", gai_strerror(rc));
    return -2;
  }
  int fd = -1;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    if (listening) {
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0) break;
    } else {
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    }
    snprintf(why, why_size, "%s", strerror(errno));
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Connects to every instance of every location this one sends to. */
static void connect_peers(void) {
  const char *limit = getenv("DFIR_CONNECT_TIMEOUT_MS");
  uint64_t budget = limit ? strtoull(limit, NULL, 10) : 30000, waited = 0;
  for (uint32_t l = 0; l < nlocs; ++l) {
    int sends = 0;
    for (uint32_t c = 0; c < nchans; ++c) sends |= chans[c].from == self_index && chans[c].to == l;
    if (!sends) continue;
    for (uint32_t i = 0; i < locs[l].count; ++i) {
      uint32_t g = locs[l].first + i;
      char why[160] = "";
      uint64_t delay = 10;
      int fd;
      while ((fd = open_socket(locs[l].hosts[i], locs[l].ports[i], 0, why, sizeof why)) < 0) {
        if (fd == -2 || waited >= budget) {
          char name[96], msg[400];
          snprintf(msg, sizeof msg, "%s at %s:%u (%s)", peer_name(g, name, sizeof name), locs[l].hosts[i],
                   (unsigned)locs[l].ports[i], why);
          die("cannot connect to %s%s", msg, fd == -2 ? "" : " after retrying");
        }
        if (stop_requested) exit(0); /* stopped before its first tick: nothing to finish */
        dfir_rt_sleep_ms(delay);
        if (stop_requested) exit(0);
        waited += delay;
        delay = delay * 2 > 500 ? 500 : delay * 2;
      }
      set_nonblocking(fd);
      conn *c = &outs[g];
      c->fd = fd;
      c->peer = g;
      c->outgoing = 1;
      c->frame = -1;
      /* The hello: who we are and what we send this location. */
      buffer *b = &c->out;
      put(b, "DFIR", 4);
      put32(b, kVersion);
      put64(b, self_loc->fingerprint);
      put32(b, self_index);
      put32(b, self_id);
      uint32_t n = 0;
      for (uint32_t ch = 0; ch < nchans; ++ch) n += chans[ch].from == self_index && chans[ch].to == l;
      put32(b, n);
      for (uint32_t ch = 0; ch < nchans; ++ch)
        if (chans[ch].from == self_index && chans[ch].to == l) {
          put32(b, ch);
          put64(b, self_loc->channel_fingerprints[ch]);
        }
    }
  }
}

static void close_conn(conn *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->in.data);
  free(c->out.data);
  memset(&c->in, 0, sizeof c->in);
  memset(&c->out, 0, sizeof c->out);
}

/* Drops an accepted connection after a protocol error, saying why. */
static void reject(conn *c, const char *why) {
  char name[96];
  dfir_rt_flush();
  fprintf(stderr, "dfir: error: closing the connection from %s: %s\n",
          c->peer == UINT32_MAX ? "a peer" : peer_name(c->peer, name, sizeof name), why);
  /* Tell the sender why, so that it reports it too. */
  buffer b = {0, 0, 0, 0};
  uint8_t refused = 1;
  put(&b, &refused, 1);
  put32(&b, (uint32_t)strlen(why));
  put(&b, why, strlen(why));
  ssize_t ignored = send(c->fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
  free(b.data);
  close_conn(c);
}

/* Checks the hello at the start of an accepted connection's input. Returns
 * bytes consumed, 0 if incomplete, -1 after rejecting it. */
static int64_t read_hello(conn *c) {
  buffer *b = &c->in;
  const char *p = b->data + b->off;
  uint64_t avail = b->len - b->off;
  if (avail < 28) return 0;
  if (memcmp(p, "DFIR", 4) != 0) return reject(c, "it is not a dfir peer (bad magic bytes)"), -1;
  if (get32(p + 4) != kVersion) return reject(c, "it speaks another version of the wire protocol"), -1;
  uint32_t loc = get32(p + 16), id = get32(p + 20), n = get32(p + 24);
  if (n > nchans || 28 + (uint64_t)n * 12 > kHelloMax) return reject(c, "malformed hello"), -1;
  if (avail < 28 + (uint64_t)n * 12) return 0;
  if (get64(p + 8) != self_loc->fingerprint)
    return reject(c, "it was built from a different program (program fingerprints differ)"), -1;
  if (loc >= nlocs || id >= locs[loc].count) return reject(c, "it names an instance the deploy file does not have"), -1;
  c->peer = locs[loc].first + id;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t ch = get32(p + 28 + i * 12);
    if (ch >= nchans || chans[ch].from != loc || chans[ch].to != self_index)
      return reject(c, "it sends on a channel this location does not receive from it"), -1;
    if (get64(p + 28 + i * 12 + 4) != self_loc->channel_fingerprints[ch]) {
      char msg[200];
      snprintf(msg, sizeof msg, "the element type of channel `%s` differs between the two builds", chans[ch].name);
      return reject(c, msg), -1;
    }
  }
  return 28 + (int64_t)n * 12;
}

/* Whether the `count` items of the frame at `p` (ending at `end`) all have
 * the size of the first and fill it exactly: the common case (items of a
 * fixed-size type), checked with loads that do not wait for each other. */
static int same_size_items(const char *p, uint32_t count, uint64_t end) {
  if (count == 0 || end < 16) return count == 0 && end == 12;
  uint64_t size = get32(p + 12), stride = 4 + size;
  if (size > end - 16 || (uint64_t)count * stride != end - 12) return 0; /* (no overflow: size < 64 MiB) */
  uint32_t mismatched = 0;
  for (uint64_t i = 1; i < count; ++i) mismatched |= get32(p + 12 + i * stride) ^ (uint32_t)size;
  return mismatched == 0;
}

/* Parses complete frames of an accepted connection into the inbound queues.
 * Returns 0 after closing the connection for a malformed frame. */
static int read_frames(conn *c) {
  buffer *b = &c->in;
  if (c->peer == UINT32_MAX) {
    int64_t used = read_hello(c);
    if (used <= 0) return used == 0;
    b->off += (uint64_t)used;
  }
  uint32_t from = loc_of(c->peer), sender = c->peer - locs[from].first;
  for (;;) {
    const char *p = b->data + b->off;
    uint64_t avail = b->len - b->off;
    if (avail < 4) return 1;
    uint32_t len = get32(p);
    if (len < 8 || len > kMaxFrame) return reject(c, "malformed frame (bad length)"), 0;
    if (avail < 4 + (uint64_t)len) return 1;
    uint32_t ch = get32(p + 4), count = get32(p + 8);
    if (ch >= nchans || chans[ch].from != from || chans[ch].to != self_index)
      return reject(c, "malformed frame (a channel it does not send on)"), 0;
    /* Check every item fits before queueing any. */
    uint64_t end = 4 + (uint64_t)len;
    if (!same_size_items(p, count, end)) {
      uint64_t at = 12;
      for (uint32_t i = 0; i < count; ++i) {
        if (at + 4 > end || at + 4 + get32(p + at) > end) return reject(c, "malformed frame (items overrun it)"), 0;
        at += 4 + get32(p + at);
      }
      if (at != end) return reject(c, "malformed frame (bytes after its items)"), 0;
    }
    if (count > 0) {
      buffer *q = &inboxes[ch].queued;
      put32(q, sender);
      put32(q, count);
      put(q, p + 12, end - 12);
      inbound_bytes += end - 12;
      items_received += count;
    }
    b->off += 4 + (uint64_t)len;
  }
}

/* Reads what a connection has (up to a chunk). Returns 0 when it closed. */
static int read_some(conn *c) {
  reserve(&c->in, kReadChunk);
  ssize_t n = recv(c->fd, c->in.data + c->in.len, kReadChunk, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 1;
  if (n <= 0) return 0;
  c->in.len += (uint64_t)n;
  return 1;
}

/* An outgoing connection has input only when the peer refused us. */
static void read_refusal(conn *c) {
  char buf[600];
  ssize_t n = recv(c->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  char name[96];
  if (n >= 5 && buf[0] == 1) {
    uint32_t len = get32(buf + 1);
    if (len > (uint32_t)n - 5) len = (uint32_t)n - 5;
    buf[5 + len] = 0;
    die("%s refused our connection: %s", peer_name(c->peer, name, sizeof name), buf + 5);
  }
  die("lost the connection to %s%s", peer_name(c->peer, name, sizeof name),
      c->out.len > c->out.off ? " with messages not yet sent" : "");
}

static void write_some(conn *c) {
  while (c->out.len > c->out.off) {
    ssize_t n = send(c->fd, c->out.data + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      char name[96];
      die("lost the connection to %s with messages not yet sent (%s)", peer_name(c->peer, name, sizeof name),
          strerror(errno));
    }
    c->out.off += (uint64_t)n;
  }
  c->out.off = c->out.len = 0;
}

static void accept_all(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (nins == cap_ins) {
      conn *t = (conn *)realloc(ins, (cap_ins = cap_ins * 2 + 8) * sizeof(conn));
      if (!t) die("out of memory accepting a connection%s%s", "", "");
      ins = t;
    }
    conn *c = &ins[nins++];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->peer = UINT32_MAX;
    c->frame = -1;
  }
}

/* Waits up to `wait_ms` (-1: forever) for network events and handles them:
 * new connections, frames, refusals, room to write. Reading pauses while
 * too many received bytes wait for a tick (backpressure on the senders). */
static void pump(int wait_ms, int stdin_fd) {
  static struct pollfd *fds;
  static conn **owner;
  static uint32_t cap;
  uint32_t n = 0;
  if (cap < 3 + nins + ninst) {
    cap = 3 + nins + ninst;
    free(fds);
    free(owner);
    fds = (struct pollfd *)calloc(cap, sizeof(struct pollfd));
    owner = (conn **)calloc(cap, sizeof(conn *));
    if (!fds || !owner) die("out of memory waiting for messages%s%s", "", "");
  }
  int reading = inbound_bytes < kInLimit;
  fds[n++] = (struct pollfd){listen_fd, POLLIN, 0};
  fds[n++] = (struct pollfd){control_fd, POLLIN, 0}; /* ignored by poll when -1 */
  if (stdin_fd >= 0) fds[n++] = (struct pollfd){stdin_fd, POLLIN, 0};
  uint32_t first_conn = n;
  for (uint32_t i = 0; i < nins; ++i)
    if (ins[i].fd >= 0) {
      owner[n] = &ins[i];
      fds[n++] = (struct pollfd){ins[i].fd, (short)(reading ? POLLIN : 0), 0};
    }
  for (uint32_t g = 0; g < ninst; ++g)
    if (outs[g].fd >= 0) {
      owner[n] = &outs[g];
      fds[n++] = (struct pollfd){outs[g].fd, (short)(POLLIN | (outs[g].out.len > outs[g].out.off ? POLLOUT : 0)), 0};
    }
  int rc = poll(fds, n, wait_ms);
  if (rc > 0) {
    if (fds[1].revents) {
      char buf[64];
      ssize_t got = read(control_fd, buf, sizeof buf);
      for (ssize_t i = 0; i < got; ++i) probes += buf[i] == '?';
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) stop_requested = 1; /* the launcher is gone */
    }
    for (uint32_t i = first_conn; i < n; ++i) {
      conn *c = owner[i];
      if (!fds[i].revents) continue;
      if (c->outgoing) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_refusal(c);
        if (fds[i].revents & POLLOUT) write_some(c);
        continue;
      }
      if (!read_some(c)) {
        /* The peer closed: it exited (after its last frame) or was stopped. */
        if (read_frames(c) && c->in.len > c->in.off) {
          char name[96];
          dfir_rt_flush();
          fprintf(stderr, "dfir: error: the connection from %s ended in the middle of a frame (%llu bytes dropped)\n",
                  c->peer == UINT32_MAX ? "a peer" : peer_name(c->peer, name, sizeof name),
                  (unsigned long long)(c->in.len - c->in.off));
        }
        close_conn(c);
        continue;
      }
      read_frames(c);
    }
    /* Last: accepting may move `ins`, which `owner` points into. */
    if (fds[0].revents & POLLIN) accept_all();
  }
}

/* ---- the generated code's side ---------------------------------------- */

/* Writes the header of a connection's open frame: {u32 length, u32
 * channel, u32 count}, the length counting what follows it. */
static void close_frame(conn *c) {
  if (c->frame < 0) return;
  char *h = c->out.data + c->out.off + c->frame;
  memcpy(h, &c->frame_len, 4);
  memcpy(h + 4, &c->frame_channel, 4);
  memcpy(h + 8, &c->frame_count, 4);
  c->frame = -1;
}

void dfir_rt_net_send(uint32_t channel, const char *name, uint32_t line, uint32_t to, uint64_t member,
                      const void *bytes, uint64_t len) {
  if (member >= locs[to].count) {
    char msg[256];
    snprintf(msg, sizeof msg, "destination member %llu does not exist (the cluster has %u members)",
             (unsigned long long)member, locs[to].count);
    dfir_rt_error(name, line, msg);
  }
  if (len > kMaxFrame - 64) dfir_rt_error(name, line, "a message is larger than the 64 MiB frame limit");
  conn *c = &outs[locs[to].first + (uint32_t)member];
  if (c->fd < 0) dfir_rt_error(name, line, "no connection to the destination (internal error)");
  buffer *b = &c->out;
  uint64_t need = 4 + len;
  if (c->frame < 0 || c->frame_channel != channel || c->frame_len + need > kMaxFrame) {
    close_frame(c);
    reserve(b, 12 + need);
    c->frame = (int64_t)(b->len - b->off);
    c->frame_channel = channel;
    c->frame_len = 8;
    c->frame_count = 0;
    b->len += 12;
  } else {
    reserve(b, need);
  }
  uint32_t len32 = (uint32_t)len;
  memcpy(b->data + b->len, &len32, 4);
  copy_bytes(b->data + b->len + 4, (const char *)bytes, len);
  b->len += need;
  c->frame_len += (uint32_t)need;
  ++c->frame_count;
  ++items_sent;
}

void dfir_rt_net_send_batch(uint32_t channel, const char *name, uint32_t line, uint32_t to, const void *items,
                            uint64_t size, uint64_t count) {
  for (uint32_t member = 0; member < locs[to].count; ++member) {
    conn *c = &outs[locs[to].first + member];
    if (c->fd < 0) dfir_rt_error(name, line, "no connection to the destination (internal error)");
    if (size + 12 > kMaxFrame || count > UINT32_MAX - 1) {
      /* Too big for one frame: item by item, in as many frames as needed. */
      const char *p = (const char *)items;
      for (uint64_t i = 0; i < count; ++i) {
        uint32_t len = get32(p);
        dfir_rt_net_send(channel, name, line, to, member, p + 4, len);
        p += 4 + (uint64_t)len;
      }
      continue;
    }
    /* The batch is already framed item by item: one copy after a header. */
    close_frame(c);
    buffer *b = &c->out;
    reserve(b, 12 + size);
    c->frame = (int64_t)(b->len - b->off);
    c->frame_channel = channel;
    c->frame_len = 8 + (uint32_t)size;
    c->frame_count = (uint32_t)count;
    memcpy(b->data + b->len + 12, items, size);
    b->len += 12 + size;
    close_frame(c);
    items_sent += count;
  }
}

int dfir_rt_net_recv(uint32_t channel, const void **bytes, uint64_t *len, uint32_t *sender) {
  inbox *in = &inboxes[channel];
  const char *data = in->current.data;
  if (in->left == 0) {
    if (in->at >= in->current.len) return 0;
    in->sender = get32(data + in->at);
    in->left = get32(data + in->at + 4);
    in->at += 8;
  }
  uint32_t n = get32(data + in->at);
  *bytes = data + in->at + 4;
  *len = n;
  *sender = in->sender;
  in->at += 4 + (uint64_t)n;
  --in->left;
  return 1;
}

uint32_t dfir_rt_net_member_id(void) { return self_id; }
uint32_t dfir_rt_net_cluster_size(uint32_t location) { return location < nlocs ? locs[location].count : 1; }

/* ---- the instance's loop ------------------------------------------------ */

/* Ends the tick's frames and writes them; waits while a peer has more
 * than kOutLimit unsent bytes (it is not reading: backpressure). */
static void flush_peers(void) {
  for (uint32_t g = 0; g < ninst; ++g) {
    conn *c = &outs[g];
    if (c->fd < 0) continue;
    close_frame(c);
    write_some(c);
  }
  for (;;) {
    int full = 0;
    for (uint32_t g = 0; g < ninst; ++g) full |= outs[g].fd >= 0 && outs[g].out.len - outs[g].out.off > kOutLimit;
    if (!full) return;
    pump(100, -1);
  }
}

/* Tells the launcher what this instance is doing (docs/deployment.md). */
static void report_phase(const char *line) {
  if (control_fd < 0) return;
  ssize_t ignored = write(control_fd, line, strlen(line));
  (void)ignored;
}

static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

int dfir_rt_net_run(const dfir_location *location, const char *path, const char *location_name, uint32_t id) {
  deploy_path = path;
  self_loc = location;
  if (strcmp(location_name, location->name) != 0)
    die("this executable runs location `%s`, not `%s`", location->name, location_name);
  read_deploy(location);
  self_index = location->index;
  if (id >= locs[self_index].count) {
    char msg[64];
    snprintf(msg, sizeof msg, "%u", id);
    die("location `%s` has no instance %s in the deploy file", location->name, msg);
  }
  self_id = id;
  self_global = locs[self_index].first + id;
  dfir_rt_net_active = 1;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  /* The launcher's control socket, checked before this process opens any
   * descriptor of its own that could take its number. */
  const char *control = getenv("DFIR_CONTROL_FD");
  if (control) {
    char *end = NULL;
    long fd = strtol(control, &end, 10);
    if (end && !*end && fd >= 0 && fd <= 1 << 20 && fcntl((int)fd, F_GETFD) != -1)
      control_fd = (int)fd;
    else
      fprintf(stderr, "dfir: warning: DFIR_CONTROL_FD=%s is not an open file descriptor; ignored\n", control);
  }
  char why[160] = "";
  listen_fd = open_socket(locs[self_index].hosts[id], locs[self_index].ports[id], 1, why, sizeof why);
  if (listen_fd < 0) {
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%u", locs[self_index].hosts[id], (unsigned)locs[self_index].ports[id]);
    die("cannot listen on %s: %s", addr, why);
  }
  set_nonblocking(listen_fd);
  outs = (conn *)calloc(ninst, sizeof(conn));
  inboxes = (inbox *)calloc(nchans ? nchans : 1, sizeof(inbox));
  if (!outs || !inboxes) die("out of memory starting%s%s", "", "");
  for (uint32_t g = 0; g < ninst; ++g) outs[g].fd = -1;
  report_phase("connecting\n");
  connect_peers();
  report_phase("running\n");

  void *state = calloc(1, location->state_size ? location->state_size : 1);
  if (!state) die("out of memory allocating the state of `%s`%s", location->name, "");
  location->init(state);
  int first = 1, more = 0, reported = 0;
  uint64_t last_poll = 0;
  uint64_t last_sent = 0, last_received = 0;
  while (!stop_requested) {
    int queued = 0;
    for (uint32_t c = 0; c < nchans; ++c) queued |= inboxes[c].queued.len > 0;
    int stdin_open = location->reads_stdin && !dfir_rt_stdin_done();
    int timers = dfir_rt_timers_active();
    int work = first || more || queued;
    int lines = stdin_open ? dfir_rt_stdin_batch(0) : 0;
    for (; probes > 0; --probes) {
      /* A probe of the launcher's quiescence check: the state right now. */
      char line[96];
      int idle = !work && !lines && !stdin_open && !timers;
      int n = snprintf(line, sizeof line, "%s %llu %llu\n", idle ? "probe-idle" : "probe-busy",
                       (unsigned long long)items_sent, (unsigned long long)items_received);
      ssize_t ignored = write(control_fd, line, (size_t)n);
      (void)ignored;
    }
    if (!work && !lines) {
      /* Idle: tell the launcher (once per change), then wait. */
      if (control_fd >= 0 && !stdin_open && !timers &&
          (!reported || last_sent != items_sent || last_received != items_received)) {
        char line[96];
        int n = snprintf(line, sizeof line, "idle %llu %llu\n", (unsigned long long)items_sent,
                         (unsigned long long)items_received);
        ssize_t ignored = write(control_fd, line, (size_t)n);
        (void)ignored;
        reported = 1;
        last_sent = items_sent;
        last_received = items_received;
      }
      uint64_t wait = timers ? dfir_rt_timers_wait_ms() : 0;
      if (timers && wait == 0) {
        /* A timer is due: tick. */
      } else {
        pump(timers ? (int)(wait > 1000000 ? 1000000 : wait) : -1, stdin_open ? 0 : -1);
        continue;
      }
    }
    /* This tick's messages: everything queued so far. */
    for (uint32_t c = 0; c < nchans; ++c) {
      inbox *in = &inboxes[c];
      buffer spare = in->current; /* last tick's, read: its memory is reused, unless a burst made it big */
      in->current = in->queued;
      spare.len = spare.off = 0;
      if (spare.cap > kInLimit) {
        free(spare.data);
        spare.data = NULL;
        spare.cap = 0;
      }
      in->queued = spare;
      in->at = 0;
      in->left = 0;
    }
    inbound_bytes = 0;
    more = location->tick(state);
    first = 0;
    dfir_rt_tick_done();
    dfir_rt_flush();
    flush_peers();
    /* With more work, take what arrived meanwhile before ticking again, at
     * most every kBusyPollNs (a poll per tick would double the system calls
     * of a sender ticking small batches); otherwise the wait of the idle
     * branch reads it (one poll, not two, per message: the latency of a
     * round trip). */
    if (more) {
      uint64_t t = now_ns();
      if (t - last_poll >= kBusyPollNs) {
        pump(0, -1);
        last_poll = t;
      }
    }
  }
  if (location->fini) location->fini(state);
  free(state);
  dfir_rt_flush();
  return 0;
}
