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

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

enum {
  kVersion = 2,
  kMaxFrame = 64 << 20,      /* a bigger frame is malformed (DFIR_MAX_FRAME can lower it) */
  kOutLimit = 8 << 20,       /* unsent bytes per peer before the sender waits */
  kInLimit = 32 << 20,       /* received, unprocessed bytes before reading pauses */
  kReadChunk = 256 << 10,    /* bytes read per connection per turn */
  kBusyPollNs = 100 * 1000,  /* between checks for input while ticking without pause */
  kHelloMax = 1 << 16,
  kNonce = 32,               /* bytes of a handshake nonce */
  kMac = 32,                 /* bytes of an HMAC-SHA256 */
  kChallenge = 1 + kNonce + kMac, /* the accepting side's answer to a hello */
};

/* Limits on what peers may make this instance hold, each configurable by
 * an environment variable (docs/deployment.md). */
static uint64_t max_frame = kMaxFrame;            /* DFIR_MAX_FRAME: bytes of one frame */
static uint64_t max_buffered = 256u << 20;        /* DFIR_MAX_BUFFERED: unfinished frames, all connections */
static uint64_t handshake_ns = 10000000000ull;    /* DFIR_HANDSHAKE_TIMEOUT_MS: hello to proof */
static uint64_t frame_ns = 30000000000ull;        /* DFIR_FRAME_TIMEOUT_MS: a frame in progress */
static uint64_t stop_ns = 5000000000ull;          /* DFIR_STOP_TIMEOUT_MS: finishing after SIGTERM */

static uint64_t env_number(const char *name, uint64_t fallback, uint64_t scale) {
  const char *v = getenv(name);
  if (!v || !*v) return fallback * scale;
  char *end = NULL;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *end || n == 0 || n > UINT64_MAX / scale) {
    fprintf(stderr, "dfir: error: %s=%s is not a positive whole number\n", name, v);
    exit(2);
  }
  return (uint64_t)n * scale;
}

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

/* ---- the deployment key ----------------------------------------------- */

static unsigned char deploy_key[32];

/* 64 hexadecimal digits (surrounding white space ignored) into `key`. */
static int parse_key(const char *text, unsigned char *key) {
  while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r') ++text;
  for (int i = 0; i < 64; ++i) {
    char c = text[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) return 0;
    key[i / 2] = (unsigned char)(i % 2 ? key[i / 2] | v : v << 4);
  }
  for (text += 64; *text; ++text)
    if (*text != ' ' && *text != '\t' && *text != '\n' && *text != '\r') return 0;
  return 1;
}

/* The key that peers prove they hold: DFIR_DEPLOY_KEY, or the deploy
 * file's `key_file` (relative to the deploy file), private to its owner. */
static void load_key(const dfir_json *root) {
  const char *env = getenv("DFIR_DEPLOY_KEY");
  if (env && *env) {
    if (!parse_key(env, deploy_key)) die("DFIR_DEPLOY_KEY is not a key of 64 hexadecimal digits%s%s", "", "");
    return;
  }
  const dfir_json *file = dfir_rt_json_get(root, "key_file");
  if (!file || file->kind != DFIR_JSON_STRING)
    bad_deploy("it names no `key_file` (`dfirc build` writes one), and DFIR_DEPLOY_KEY is not set");
  char path[4096];
  const char *slash = strrchr(deploy_path, '/');
  if (file->string[0] == '/' || !slash)
    snprintf(path, sizeof path, "%s", file->string);
  else
    snprintf(path, sizeof path, "%.*s/%s", (int)(slash - deploy_path), deploy_path, file->string);
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open the key file `%s`: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
    die("the key file `%s` can be read or written by other users: make it private (chmod 600 %s)", path, path);
  char text[256];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  if (n == sizeof text - 1 || strlen(text) != n || !parse_key(text, deploy_key))
    die("the key file `%s` does not hold a key of 64 hexadecimal digits%s", path, "");
}

/* HMAC-SHA256 under the deployment key of `label`, `a` and `b`. */
static void mac(const char *label, const void *a, size_t alen, const void *b, size_t blen, unsigned char *out) {
  size_t llen = strlen(label);
  unsigned char *msg = (unsigned char *)malloc(llen + alen + blen);
  if (!msg) die("out of memory authenticating a peer%s%s", "", "");
  memcpy(msg, label, llen);
  memcpy(msg + llen, a, alen);
  memcpy(msg + llen + alen, b, blen);
  unsigned int outlen = 0;
  if (!HMAC(EVP_sha256(), deploy_key, sizeof deploy_key, msg, llen + alen + blen, out, &outlen) || outlen != kMac)
    die("cannot compute an HMAC-SHA256 (OpenSSL failed)%s%s", "", "");
  free(msg);
}

static void nonce(unsigned char *out) {
  if (RAND_bytes(out, kNonce) != 1) die("cannot draw a random nonce (OpenSSL failed)%s%s", "", "");
}

/* HOST:PORT or [IPV6]:PORT, the port a decimal number from 1 to 65535. */
static int parse_address(const char *addr, char **host, uint16_t *port) {
  const char *colon = strrchr(addr, ':'), *end = colon;
  if (!colon) return 0;
  const char *begin = addr;
  if (addr[0] == '[') {
    if (colon == addr || colon[-1] != ']') return 0;
    begin = addr + 1;
    end = colon - 1;
  } else if (memchr(addr, ':', (size_t)(colon - addr))) {
    return 0; /* an IPv6 address needs its brackets */
  }
  if (end <= begin) return 0;
  long n = 0;
  const char *d = colon + 1;
  if (!*d) return 0;
  for (; *d; ++d) {
    if (*d < '0' || *d > '9') return 0;
    n = n * 10 + (*d - '0');
    if (n > 65535) return 0;
  }
  if (n == 0) return 0;
  *host = strndup(begin, (size_t)(end - begin));
  *port = (uint16_t)n;
  return 1;
}

/* The deploy file's text and parse: names in the tables below point into
 * them, so they live until the instance stops (net_free). */
static char *deploy_text;
static dfir_json *deploy_root;

static void read_deploy(const dfir_location *self) {
  FILE *f = fopen(deploy_path, "rb");
  if (!f) die("cannot open the deploy file `%s`: %s", deploy_path, strerror(errno));
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 > cap) {
      char *t = (char *)realloc(text, cap = cap * 2 + 4096);
      if (!t) die("out of memory reading `%s`%s", deploy_path, "");
      deploy_text = text = t;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  fclose(f);
  char error[240];
  dfir_json *root = deploy_root = dfir_rt_json_parse(text, len, error, sizeof error);
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
      if (member(&is->items[i], "id", DFIR_JSON_NUMBER)->number != (double)i)
        bad_deploy("instance ids must be 0, 1, ... in order");
      const char *addr = member(&is->items[i], "address", DFIR_JSON_STRING)->string;
      if (!parse_address(addr, &locs[l].hosts[i], &locs[l].ports[i]))
        die("deploy file `%s`: address `%s` is not HOST:PORT or [IPV6]:PORT with a port from 1 to 65535",
            deploy_path, addr);
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
  load_key(root);
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

/* A connection carries items one way. The connecting side (outgoing)
 * sends its hello; the accepting side answers with a challenge (its nonce
 * and a MAC proving it holds the deployment key); the connecting side then
 * proves it holds the key too, and only then sends frames. */
enum { kAwaitHello, kAwaitProof, kAuthenticated };

typedef struct {
  int fd;
  uint32_t peer;    /* global instance index; UINT32_MAX before the hello */
  int outgoing;     /* we send on it */
  int stage;        /* kAwaitHello, kAwaitProof or kAuthenticated */
  buffer in, out;
  int frame;        /* outgoing: a frame is open: the last 4 + frame_len bytes of `out` (or -1) */
  uint32_t frame_channel, frame_len, frame_count; /* its header, written when it closes */
  uint64_t frame_due; /* an open frame of a batched channel: when it must go out (ns; 0: at the tick's end) */
  uint64_t held;    /* outgoing, before it is authenticated: bytes of `out` it may send (the hello) */
  char *hello;      /* outgoing: the hello it sent, for the MACs */
  uint64_t hello_len;
  unsigned char proof[kMac]; /* accepted: the proof the peer must send */
  uint64_t since;   /* accepted: when it was accepted, or its unfinished frame began (0: none) */
  int shut;         /* outgoing: nothing more is sent (stopping) */
  char addr[64];    /* the peer's address, as HOST:PORT */
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
static int stopping;        /* after SIGTERM/SIGINT: finishing (docs/deployment.md) */
static int wake_fds[2] = {-1, -1}; /* the stop signal's handler writes here: a wait in poll ends */
static uint64_t dropped;    /* items made while stopping, after their connection was closed */
static inbox *inboxes; /* per channel */
static const uint32_t *batching; /* per channel: {count, micros}; count 0: not batched */
static uint32_t open_batches;    /* outgoing connections holding a batched frame open */
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

/* HOST:PORT, with IPv6 hosts in brackets. */
static void format_address(const struct sockaddr *a, socklen_t len, char *buf, size_t size) {
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (getnameinfo(a, len, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    snprintf(buf, size, "an unknown address");
    return;
  }
  snprintf(buf, size, a->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
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
      unsigned char ours[kNonce];
      nonce(ours);
      put(b, ours, kNonce);
      /* Only the hello goes out until the peer has answered; room is kept
       * after it for our proof (read_challenge fills it in). */
      c->hello_len = c->held = b->len;
      c->hello = (char *)malloc(b->len);
      if (!c->hello) die("out of memory connecting%s%s", "", "");
      memcpy(c->hello, b->data, b->len);
      reserve(b, kMac);
      memset(b->data + b->len, 0, kMac);
      b->len += kMac;
      snprintf(c->addr, sizeof c->addr, strchr(locs[l].hosts[i], ':') ? "[%s]:%u" : "%s:%u", locs[l].hosts[i],
               (unsigned)locs[l].ports[i]);
    }
  }
}

static void close_conn(conn *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->in.data);
  free(c->out.data);
  free(c->hello);
  c->hello = NULL;
  memset(&c->in, 0, sizeof c->in);
  memset(&c->out, 0, sizeof c->out);
}

/* Who is at the other end of an accepted connection: its address, and the
 * instance it claims to be once its hello has been read. */
static const char *describe_peer(const conn *c, char *buf, size_t size) {
  char name[96];
  if (c->peer == UINT32_MAX)
    snprintf(buf, size, "a peer at %s", c->addr);
  else if (c->stage != kAuthenticated)
    snprintf(buf, size, "a peer at %s claiming to be %s", c->addr, peer_name(c->peer, name, sizeof name));
  else
    snprintf(buf, size, "%s at %s", peer_name(c->peer, name, sizeof name), c->addr);
  return buf;
}

/* Drops an accepted connection after a protocol error, saying why. */
static void reject(conn *c, const char *why) {
  char who[200];
  dfir_rt_flush();
  fprintf(stderr, "dfir: error: closing the connection from %s: %s\n", describe_peer(c, who, sizeof who), why);
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
  uint64_t size = 28 + (uint64_t)n * 12 + kNonce;
  if (n > nchans || size > kHelloMax) return reject(c, "malformed hello"), -1;
  if (avail < size) return 0;
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
  /* The challenge: our nonce, and a MAC over the hello (with its nonce)
   * and ours that only a holder of the key can make. */
  unsigned char reply[kChallenge];
  reply[0] = 0;
  nonce(reply + 1);
  mac("dfir-accept", p, size, reply + 1, kNonce, reply + 1 + kNonce);
  mac("dfir-connect", p, size, reply + 1, kNonce, c->proof);
  if (send(c->fd, reply, sizeof reply, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof reply)
    return reject(c, "it does not read our answer to its hello"), -1;
  c->stage = kAwaitProof;
  return (int64_t)size;
}

/* Parses complete frames of an accepted connection into the inbound queues.
 * Returns 0 after closing the connection for a malformed frame. */
static int read_frames(conn *c) {
  buffer *b = &c->in;
  if (c->stage == kAwaitHello) {
    int64_t used = read_hello(c);
    if (used <= 0) return used == 0;
    b->off += (uint64_t)used;
  }
  if (c->stage == kAwaitProof) {
    if (b->len - b->off < kMac) return 1;
    if (CRYPTO_memcmp(b->data + b->off, c->proof, kMac) != 0)
      return reject(c, "it could not prove that it holds the deployment key"), 0;
    b->off += kMac;
    c->stage = kAuthenticated;
    c->since = 0;
  }
  uint32_t from = loc_of(c->peer), sender = c->peer - locs[from].first;
  for (;;) {
    const char *p = b->data + b->off;
    uint64_t avail = b->len - b->off;
    if (avail < 4) return 1;
    uint32_t len = get32(p);
    if (len < 8 || len > max_frame) return reject(c, "malformed frame (bad length)"), 0;
    if (avail < 4 + (uint64_t)len) return 1;
    uint32_t ch = get32(p + 4), count = get32(p + 8);
    if (ch >= nchans || chans[ch].from != from || chans[ch].to != self_index)
      return reject(c, "malformed frame (a channel it does not send on)"), 0;
    /* Check every item before queueing any: that it fits in the frame,
     * and that its bytes are a well-formed value of the channel's type. */
    uint64_t end = 4 + (uint64_t)len;
    const char *why = dfir_rt_frame_check(self_loc->channel_schemas[ch], p + 12, end - 12, count);
    if (why) {
      char msg[200];
      snprintf(msg, sizeof msg, "malformed frame on channel `%s` (%s)", chans[ch].name, why);
      return reject(c, msg), 0;
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

/* Bytes of an outgoing connection's buffer that may go out now: before
 * the peer has answered, only the hello; never an open frame. */
static uint64_t sendable(const conn *c) {
  uint64_t n = c->out.len - c->out.off;
  if (c->frame >= 0) n -= 4 + (uint64_t)c->frame_len;
  return c->stage == kAuthenticated || n < c->held ? n : c->held;
}

/* Bytes of items an outgoing connection has not sent yet (not counting
 * the hello and the proof that go before them). */
static uint64_t unsent_items(const conn *c) {
  uint64_t n = c->out.len - c->out.off;
  if (c->stage == kAuthenticated) return n;
  return n > c->held + kMac ? n - c->held - kMac : 0;
}

/* Input on an outgoing connection: the peer's challenge, its refusal, or
 * the end of the connection. */
static void read_reply(conn *c) {
  char name[96], who[200];
  snprintf(who, sizeof who, "%s at %s", peer_name(c->peer, name, sizeof name), c->addr);
  reserve(&c->in, 600);
  ssize_t n = recv(c->fd, c->in.data + c->in.len, 600 - (c->in.len - c->in.off), MSG_DONTWAIT);
  int transient = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  if (transient) return;
  int ended = n <= 0;
  if (n > 0) c->in.len += (uint64_t)n;
  const unsigned char *p = (const unsigned char *)c->in.data + c->in.off;
  uint64_t avail = c->in.len - c->in.off;
  if (avail >= 1 && p[0] == 1) {
    /* Refused: {1, u32 length, reason}; the reason as much of it as came. */
    uint64_t len = avail >= 5 ? get32((const char *)p + 1) : 0;
    if (len > 500) len = 500;
    if (!ended && avail < 5 + len) return;
    if (len > avail - (avail >= 5 ? 5 : avail)) len = avail >= 5 ? avail - 5 : 0;
    char why[512];
    for (uint64_t i = 0; i < len; ++i) why[i] = p[5 + i] >= 0x20 && p[5 + i] < 0x7f ? (char)p[5 + i] : '?';
    why[len] = 0;
    die("%s refused our connection: %s", who, why);
  }
  if (avail >= kChallenge && p[0] == 0 && c->stage != kAuthenticated) {
    unsigned char expect[kMac], proof[kMac];
    mac("dfir-accept", c->hello, c->hello_len, p + 1, kNonce, expect);
    if (CRYPTO_memcmp(expect, p + 1 + kNonce, kMac) != 0)
      die("%s could not prove that it holds the deployment key: not connecting to it%s", who, "");
    /* Our proof goes where room was kept for it, right after the hello. */
    mac("dfir-connect", c->hello, c->hello_len, p + 1, kNonce, proof);
    memcpy(c->out.data + c->out.off + c->held, proof, kMac);
    c->stage = kAuthenticated;
    c->in.off += kChallenge;
    avail -= kChallenge;
    p += kChallenge;
  }
  if (avail > 0 && (p[0] > 1 || c->stage == kAuthenticated))
    die("%s answered with bytes that are not the dfir protocol%s", who, "");
  if (ended) {
    if (unsent_items(c) == 0 && (n == 0 || stopping)) {
      /* All was sent, and the peer closed in order (it reads everything
       * before it closes: it was stopped). Not a loss; a later send to it
       * is an error (dfir_rt_net_send). */
      close_conn(c);
      return;
    }
    die("lost the connection to %s%s", who, unsent_items(c) > 0 ? " with messages not yet sent" : "");
  }
}

static void write_some(conn *c) {
  uint64_t n;
  while ((n = sendable(c)) > 0) {
    ssize_t sent = send(c->fd, c->out.data + c->out.off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {
      char name[96];
      die("lost the connection to %s with messages not yet sent (%s)", peer_name(c->peer, name, sizeof name),
          strerror(errno));
    }
    c->out.off += (uint64_t)sent;
    if (c->stage != kAuthenticated) c->held -= (uint64_t)sent;
  }
  if (c->out.len == c->out.off) c->out.off = c->out.len = 0;
}

static uint64_t accept_paused_until; /* out of descriptors: when to try again */

static void accept_all(void) {
  static int warned;
  for (;;) {
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    int fd = accept4(listen_fd, (struct sockaddr *)&from, &fromlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* The connection waits in the backlog; stop asking for 100 ms
         * rather than spin (poll would report it again at once). */
        accept_paused_until = now_ns() + 100000000u;
        if (!warned) {
          dfir_rt_flush();
          fprintf(stderr, "dfir: warning: cannot accept connections: %s (pausing, then retrying)\n",
                  strerror(errno));
          warned = 1;
        }
      }
      return;
    }
    /* A slot of a closed connection, or a new one. */
    conn *c = NULL;
    for (uint32_t i = 0; i < nins && !c; ++i)
      if (ins[i].fd < 0) c = &ins[i];
    if (!c) {
      if (nins == cap_ins) {
        conn *t = (conn *)realloc(ins, (cap_ins = cap_ins * 2 + 8) * sizeof(conn));
        if (!t) die("out of memory accepting a connection%s%s", "", "");
        ins = t;
      }
      c = &ins[nins++];
    }
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->peer = UINT32_MAX;
    c->frame = -1;
    c->stage = kAwaitHello;
    c->since = now_ns();
    format_address((struct sockaddr *)&from, fromlen, c->addr, sizeof c->addr);
  }
}

/* Closes accepted connections that are too slow: a handshake not finished
 * in time, or a frame begun and not finished in time. Returns the time
 * until the next such deadline, in ms (-1: none). */
static int expire_slow(uint64_t now) {
  int64_t next = -1;
  for (uint32_t i = 0; i < nins; ++i) {
    conn *c = &ins[i];
    if (c->fd < 0 || c->since == 0) continue;
    uint64_t limit = c->stage == kAuthenticated ? frame_ns : handshake_ns;
    if (now - c->since >= limit) {
      char why[120];
      snprintf(why, sizeof why, c->stage == kAuthenticated ? "it sent part of a frame and not the rest within %llu ms"
                                                          : "it did not finish its handshake within %llu ms",
               (unsigned long long)(limit / 1000000));
      reject(c, why);
      continue;
    }
    int64_t left = (int64_t)((c->since + limit - now) / 1000000) + 1;
    if (next < 0 || left < next) next = left;
  }
  return (int)(next > 1000000 ? 1000000 : next);
}

/* Waits up to `wait_ms` (-1: forever) for network events and handles them:
 * new connections, frames, refusals, room to write. Reading pauses while
 * too many received bytes wait for a tick (backpressure on the senders). */
/* Parses what an accepted connection has; keeps the time its unfinished
 * frame began (each finished frame starts the clock again). Returns 0 if
 * it was closed. */
static int take_frames(conn *c) {
  uint64_t before = c->in.off;
  int stage = c->stage;
  if (!read_frames(c)) return 0;
  if (c->stage == kAuthenticated) {
    int progress = c->in.off != before || stage != kAuthenticated;
    c->since = c->in.len == c->in.off ? 0 : c->since == 0 || progress ? now_ns() : c->since;
  }
  return 1;
}

static void pump(int wait_ms, int stdin_fd) {
  static struct pollfd *fds;
  static conn **owner;
  static uint32_t cap;
  uint32_t n = 0;
  uint64_t now = now_ns();
  int deadline = expire_slow(now);
  if (deadline >= 0 && (wait_ms < 0 || deadline < wait_ms)) wait_ms = deadline;
  int accepting = listen_fd >= 0 && now >= accept_paused_until;
  if (listen_fd >= 0 && !accepting) {
    int paused = (int)((accept_paused_until - now) / 1000000) + 1;
    if (wait_ms < 0 || paused < wait_ms) wait_ms = paused;
  }
  if (cap < 4 + nins + ninst) {
    cap = 4 + nins + ninst;
    free(fds);
    free(owner);
    fds = (struct pollfd *)calloc(cap, sizeof(struct pollfd));
    owner = (conn **)calloc(cap, sizeof(conn *));
    if (!fds || !owner) die("out of memory waiting for messages%s%s", "", "");
  }
  /* Reading pauses while too many received bytes wait for a tick, and a
   * connection in the middle of a frame pauses while unfinished frames
   * hold more than DFIR_MAX_BUFFERED in all, except the one whose frame
   * began first (so that one always finishes, or times out). */
  int reading = inbound_bytes < kInLimit;
  uint64_t unfinished = 0;
  conn *oldest = NULL;
  for (uint32_t i = 0; i < nins; ++i)
    if (ins[i].fd >= 0 && ins[i].in.len > ins[i].in.off) {
      unfinished += ins[i].in.len - ins[i].in.off;
      if (!oldest || ins[i].since < oldest->since) oldest = &ins[i];
    }
  int room = unfinished + kReadChunk <= max_buffered;
  fds[n++] = (struct pollfd){accepting ? listen_fd : -1, POLLIN, 0};
  fds[n++] = (struct pollfd){control_fd, POLLIN, 0}; /* ignored by poll when -1 */
  fds[n++] = (struct pollfd){wake_fds[0], POLLIN, 0};
  if (stdin_fd >= 0) fds[n++] = (struct pollfd){stdin_fd, POLLIN, 0};
  uint32_t first_conn = n;
  for (uint32_t i = 0; i < nins; ++i)
    if (ins[i].fd >= 0) {
      owner[n] = &ins[i];
      fds[n++] = (struct pollfd){ins[i].fd, (short)(reading && (room || &ins[i] == oldest) ? POLLIN : 0), 0};
    }
  for (uint32_t g = 0; g < ninst; ++g)
    if (outs[g].fd >= 0) {
      owner[n] = &outs[g];
      fds[n++] = (struct pollfd){outs[g].fd, (short)(POLLIN | (sendable(&outs[g]) > 0 ? POLLOUT : 0)), 0};
    }
  int rc = poll(fds, n, wait_ms);
  if (rc > 0) {
    if (fds[1].revents) {
      char buf[64];
      ssize_t got = read(control_fd, buf, sizeof buf);
      for (ssize_t i = 0; i < got; ++i) probes += buf[i] == '?';
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) stop_requested = 1; /* the launcher is gone */
    }
    if (fds[2].revents) {
      char buf[64];
      while (read(wake_fds[0], buf, sizeof buf) > 0) {
      }
    }
    for (uint32_t i = first_conn; i < n; ++i) {
      conn *c = owner[i];
      if (!fds[i].revents || c->fd < 0) continue;
      if (c->outgoing) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_reply(c);
        if (c->fd >= 0 && (fds[i].revents & POLLOUT)) write_some(c);
        continue;
      }
      if (!read_some(c)) {
        /* The peer closed: it exited (after its last frame) or was stopped. */
        if (take_frames(c) && c->in.len > c->in.off) {
          char who[200];
          dfir_rt_flush();
          fprintf(stderr, "dfir: error: the connection from %s ended in the middle of a %s (%llu bytes dropped)\n",
                  describe_peer(c, who, sizeof who), c->stage == kAuthenticated ? "frame" : "handshake",
                  (unsigned long long)(c->in.len - c->in.off));
        }
        close_conn(c);
        continue;
      }
      take_frames(c);
    }
    /* Last: accepting may move `ins`, which `owner` points into. */
    if (fds[0].revents & POLLIN) accept_all();
  }
}

/* ---- a tick's share of a batched channel -------------------------------- */

/* Whether an inbox's queue ({u32 sender, u32 count, items...} runs) holds
 * more than `limit` items. */
static int queued_more_than(const buffer *q, uint32_t limit) {
  uint64_t items = 0;
  for (uint64_t pos = q->off; pos < q->len;) {
    uint32_t count = get32(q->data + pos + 4);
    items += count;
    if (items > limit) return 1;
    uint64_t p = pos + 8;
    for (uint32_t i = 0; i < count; ++i) p += 4 + (uint64_t)get32(q->data + p);
    pos = p;
  }
  return 0;
}

/* Moves the first `limit` items of queue `q` to `to`, in order; a run cut
 * in two keeps its sender and the rest of its count in a header written
 * just before its remaining items (over bytes already moved). */
static void take_batch(buffer *q, buffer *to, uint32_t limit) {
  uint64_t pos = q->off;
  uint32_t taken = 0;
  while (taken < limit && pos < q->len) {
    uint32_t sender = get32(q->data + pos), count = get32(q->data + pos + 4);
    uint32_t take = count < limit - taken ? count : limit - taken;
    uint64_t p = pos + 8;
    for (uint32_t i = 0; i < take; ++i) p += 4 + (uint64_t)get32(q->data + p);
    put32(to, sender);
    put32(to, take);
    put(to, q->data + pos + 8, p - pos - 8);
    taken += take;
    if (take < count) {
      uint32_t rest = count - take;
      memcpy(q->data + p - 8, &sender, 4);
      memcpy(q->data + p - 4, &rest, 4);
      pos = p - 8;
      break;
    }
    pos = p;
  }
  q->off = pos;
  if (q->off == q->len) q->off = q->len = 0;
}

/* ---- the generated code's side ---------------------------------------- */

/* Writes the header of a connection's open frame: {u32 length, u32
 * channel, u32 count}, the length counting what follows it. The open frame
 * is always the end of the buffer. */
static void close_frame(conn *c) {
  if (c->frame < 0) return;
  char *h = c->out.data + c->out.len - 4 - c->frame_len;
  memcpy(h, &c->frame_len, 4);
  memcpy(h + 4, &c->frame_channel, 4);
  memcpy(h + 8, &c->frame_count, 4);
  c->frame = -1;
  if (c->frame_due) --open_batches;
  c->frame_due = 0;
}

/* Opens a frame of `channel` at the end of the buffer: a batched channel's
 * frame stays open across ticks until it is full or due. */
static void open_frame(conn *c, uint32_t channel) {
  close_frame(c);
  reserve(&c->out, 12);
  c->frame = 0;
  c->frame_channel = channel;
  c->frame_len = 8;
  c->frame_count = 0;
  c->out.len += 12;
  if (batching && batching[2 * channel] > 1) {
    c->frame_due = now_ns() + (uint64_t)batching[2 * channel + 1] * 1000 + 1;
    ++open_batches;
  }
}

/* Ends every open frame that may not wait: all of them at the end of a
 * tick, except batched frames that are neither full nor due (all when
 * stopping); writes what can go out. Returns the earliest time an open
 * batch falls due (0: none open). */
static uint64_t close_frames(uint64_t now) {
  uint64_t next = 0;
  for (uint32_t g = 0; g < ninst; ++g) {
    conn *c = &outs[g];
    if (c->fd < 0 || c->shut) continue;
    if (c->frame >= 0 && c->frame_due && !stopping && now < c->frame_due) {
      if (!next || c->frame_due < next) next = c->frame_due;
    } else {
      close_frame(c);
    }
    write_some(c);
  }
  return next;
}

/* A send to a peer whose connection has closed: it stopped. */
static DFIR_RT_NORETURN void gone(const char *name, uint32_t line, uint32_t peer) {
  char who[96], msg[200];
  snprintf(msg, sizeof msg, "cannot send to %s: it has stopped (its connection closed)", peer_name(peer, who, sizeof who));
  dfir_rt_error(name, line, msg);
}

void dfir_rt_net_send(uint32_t channel, const char *name, uint32_t line, uint32_t to, uint64_t member,
                      const void *bytes, uint64_t len) {
  if (member >= locs[to].count) {
    char msg[256];
    snprintf(msg, sizeof msg, "destination member %llu does not exist (the cluster has %u members)",
             (unsigned long long)member, locs[to].count);
    dfir_rt_error(name, line, msg);
  }
  if (len > max_frame - 64) dfir_rt_error(name, line, "a message is larger than the frame limit (64 MiB, or DFIR_MAX_FRAME)");
  conn *c = &outs[locs[to].first + (uint32_t)member];
  if (c->fd < 0 || c->shut) {
    if (!stopping) gone(name, line, locs[to].first + (uint32_t)member);
    ++dropped;
    return;
  }
  buffer *b = &c->out;
  uint64_t need = 4 + len;
  if (c->frame < 0 || c->frame_channel != channel || c->frame_len + need > max_frame) open_frame(c, channel);
  reserve(b, need);
  uint32_t len32 = (uint32_t)len;
  memcpy(b->data + b->len, &len32, 4);
  copy_bytes(b->data + b->len + 4, (const char *)bytes, len);
  b->len += need;
  c->frame_len += (uint32_t)need;
  ++c->frame_count;
  ++items_sent;
  if (c->frame_due && c->frame_count >= batching[2 * channel]) close_frame(c); /* a full batch */
}

void dfir_rt_net_send_batch(uint32_t channel, const char *name, uint32_t line, uint32_t to, const void *items,
                            uint64_t size, uint64_t count) {
  for (uint32_t member = 0; member < locs[to].count; ++member) {
    conn *c = &outs[locs[to].first + member];
    if (c->fd < 0 || c->shut) {
      if (!stopping) gone(name, line, locs[to].first + member);
      dropped += count;
      continue;
    }
    if (size + 12 > max_frame || count > UINT32_MAX - 1 || (batching && batching[2 * channel] > 1)) {
      /* Item by item: too big for one frame (in as many frames as
       * needed), or batched (into the open batch, which goes out when it
       * is full or due). */
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
    c->frame = 0;
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

/* Ends the tick's frames and writes them (batches only when full or
 * due); waits while a peer has more than kOutLimit unsent bytes (it is not
 * reading: backpressure). */
static void flush_peers(void) {
  close_frames(now_ns());
  /* Stopping ends the wait: the stop deadline bounds what happens next. */
  for (;;) {
    int full = 0;
    for (uint32_t g = 0; g < ninst; ++g) full |= outs[g].fd >= 0 && outs[g].out.len - outs[g].out.off > kOutLimit;
    if (!full || stop_requested) return;
    pump(100, -1);
  }
}

/* Tells the launcher what this instance is doing (docs/deployment.md). */
static void report_phase(const char *line) {
  if (control_fd < 0) return;
  ssize_t ignored = write(control_fd, line, strlen(line));
  (void)ignored;
}

/* Stopping, once the instance is idle: with everything sent, tell each
 * peer so (half-close); it closes its end once it has read it all. */
static void shut_outgoing(void) {
  for (uint32_t g = 0; g < ninst; ++g) {
    conn *c = &outs[g];
    if (c->fd < 0 || c->shut || unsent_items(c) > 0) continue;
    if (c->stage != kAuthenticated) { /* never used, and nothing to deliver */
      close_conn(c);
      continue;
    }
    if (c->out.len > c->out.off) continue; /* the proof is still going out */
    shutdown(c->fd, SHUT_WR);
    c->shut = 1;
  }
}

/* Whether a stopping instance is done: every connection closed by its
 * peer (what it sent was read; what it was sent has ended). */
static int all_closed(void) {
  for (uint32_t i = 0; i < nins; ++i)
    if (ins[i].fd >= 0) return 0;
  for (uint32_t g = 0; g < ninst; ++g)
    if (outs[g].fd >= 0) return 0;
  return 1;
}

/* Stopping time is up: what could not be sent is a loss, and an error. */
static int finish_stop(void) {
  int lost = 0;
  for (uint32_t g = 0; g < ninst; ++g) {
    conn *c = &outs[g];
    if (c->fd < 0 || unsent_items(c) == 0) continue;
    char name[96];
    dfir_rt_flush();
    fprintf(stderr, "dfir: error: stopped with %llu bytes of messages to %s at %s not sent: it did not read them within %llu ms\n",
            (unsigned long long)unsent_items(c), peer_name(c->peer, name, sizeof name), c->addr,
            (unsigned long long)(stop_ns / 1000000));
    lost = 1;
  }
  if (dropped) {
    dfir_rt_flush();
    fprintf(stderr, "dfir: warning: %llu items made while stopping were not sent: their connections had closed\n",
            (unsigned long long)dropped);
  }
  for (uint32_t i = 0; i < nins; ++i) close_conn(&ins[i]);
  for (uint32_t g = 0; g < ninst; ++g) close_conn(&outs[g]);
  return lost;
}

static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
  if (wake_fds[1] >= 0) {
    int saved = errno;
    ssize_t ignored = write(wake_fds[1], "", 1);
    (void)ignored;
    errno = saved;
  }
}

/* Frees what the instance holds, once it has stopped. */
static void net_free(void) {
  for (uint32_t i = 0; i < nins; ++i) close_conn(&ins[i]);
  for (uint32_t g = 0; g < ninst; ++g) close_conn(&outs[g]);
  for (uint32_t c = 0; c < nchans; ++c) {
    free(inboxes[c].queued.data);
    free(inboxes[c].current.data);
  }
  for (uint32_t l = 0; l < nlocs; ++l) {
    for (uint32_t i = 0; i < locs[l].count; ++i) free(locs[l].hosts[i]);
    free(locs[l].hosts);
    free(locs[l].ports);
  }
  free(ins);
  free(outs);
  free(inboxes);
  free(locs);
  free(chans);
  dfir_rt_json_free(deploy_root);
  free(deploy_text);
  if (listen_fd >= 0) close(listen_fd);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  close(wake_fds[0]);
  close(wake_fds[1]);
  wake_fds[0] = wake_fds[1] = -1;
}

int dfir_rt_net_run(const dfir_location *location, const char *path, const char *location_name, uint32_t id) {
  deploy_path = path;
  self_loc = location;
  batching = location->channel_batch;
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
  max_frame = env_number("DFIR_MAX_FRAME", kMaxFrame, 1);
  if (max_frame > kMaxFrame) max_frame = kMaxFrame;
  max_buffered = env_number("DFIR_MAX_BUFFERED", max_buffered, 1);
  handshake_ns = env_number("DFIR_HANDSHAKE_TIMEOUT_MS", handshake_ns / 1000000, 1000000);
  frame_ns = env_number("DFIR_FRAME_TIMEOUT_MS", frame_ns / 1000000, 1000000);
  stop_ns = env_number("DFIR_STOP_TIMEOUT_MS", stop_ns / 1000000, 1000000);
  dfir_rt_net_active = 1;
  /* A signal between the check of stop_requested and poll would otherwise
   * go unseen until the next message: the handler also wakes poll. */
  if (pipe2(wake_fds, O_NONBLOCK | O_CLOEXEC) != 0) die("cannot create a pipe: %s%s", strerror(errno), "");
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
  uint64_t last_sent = 0, last_received = 0, stop_deadline = 0;
  int lost = 0;
  for (;;) {
    if (stop_requested && !stopping) {
      /* Stopping: no new connections, input or timers; items that arrive
       * are still handled, and everything made is sent. */
      stopping = 1;
      stop_deadline = now_ns() + stop_ns;
      close(listen_fd);
      listen_fd = -1;
      close_frames(0); /* batches go out now */
    }
    /* Batched frames that fell due while the instance waited go out. */
    uint64_t batch_due = open_batches ? close_frames(now_ns()) : 0;
    if (stopping && now_ns() >= stop_deadline) { /* however much work is left */
      lost = finish_stop();
      break;
    }
    int queued = 0;
    for (uint32_t c = 0; c < nchans; ++c) queued |= inboxes[c].queued.len > inboxes[c].queued.off;
    int stdin_open = !stopping && location->reads_stdin && !dfir_rt_stdin_done();
    int timers = !stopping && dfir_rt_timers_active();
    int work = stopping ? queued : first || more || queued;
    if (stopping && !work) {
      shut_outgoing();
      uint64_t now = now_ns();
      if (all_closed() || now >= stop_deadline) {
        lost = finish_stop();
        break;
      }
      pump((int)((stop_deadline - now) / 1000000) + 1, -1);
      continue;
    }
    int lines = stdin_open ? dfir_rt_stdin_batch(0) : 0;
    for (; probes > 0; --probes) {
      /* A probe of the launcher's quiescence check: the state right now. */
      char line[96];
      int idle = !work && !lines && !stdin_open && !timers && !open_batches;
      int n = snprintf(line, sizeof line, "%s %llu %llu\n", idle ? "probe-idle" : "probe-busy",
                       (unsigned long long)items_sent, (unsigned long long)items_received);
      ssize_t ignored = write(control_fd, line, (size_t)n);
      (void)ignored;
    }
    if (!work && !lines) {
      /* Idle: tell the launcher (once per change), then wait. */
      if (control_fd >= 0 && !stdin_open && !timers && !open_batches &&
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
        int ms = timers ? (int)(wait > 1000000 ? 1000000 : wait) : -1;
        if (batch_due) { /* wake when the first open batch falls due */
          uint64_t now = now_ns();
          int until = batch_due > now ? (int)((batch_due - now + 999999) / 1000000) : 0;
          if (ms < 0 || until < ms) ms = until;
        }
        pump(ms, stdin_open ? 0 : -1);
        continue;
      }
    }
    /* This tick's messages: everything queued so far, or, on a batched
     * channel, at most a batch of them (the rest wait for the next tick). */
    inbound_bytes = 0;
    for (uint32_t c = 0; c < nchans; ++c) {
      inbox *in = &inboxes[c];
      buffer spare = in->current; /* last tick's, read: its memory is reused, unless a burst made it big */
      spare.len = spare.off = 0;
      if (spare.cap > kInLimit) {
        free(spare.data);
        spare.data = NULL;
        spare.cap = 0;
      }
      uint32_t limit = batching ? batching[2 * c] : 0;
      if (limit > 1 && queued_more_than(&in->queued, limit)) {
        in->current = spare;
        take_batch(&in->queued, &in->current, limit);
        inbound_bytes += in->queued.len - in->queued.off;
      } else {
        in->current = in->queued;
        in->queued = spare;
      }
      in->at = in->current.off;
      in->left = 0;
    }
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
  net_free();
  return lost;
}
