/* Private to the runtime's deployed instances (docs/deployment.md has the
 * wire format), shared by the files that run one:
 *
 *   rt_deploy.c  the deploy file, the deployment key, peer authentication
 *   rt_conn.c    connections, the handshake, the poll loop
 *   rt_frame.c   buffers, frames and batches; the generated code's calls
 *   rt_net.c     the instance's loop, stopping, the launcher protocol
 *
 * An instance's state is one struct, `dfir_net`; like the rest of the
 * runtime it belongs to the one thread that runs the location (dfir_rt.h).
 * Files that include this define _GNU_SOURCE first. */
#ifndef DFIR_RT_NET_H
#define DFIR_RT_NET_H

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

#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

enum {
  kVersion = 2,
  kMaxFrame = 64 << 20,      /* a bigger frame is malformed (DFIR_MAX_FRAME can lower it) */
  kOutLimit = 8 << 20,       /* unsent bytes per peer before the sender waits */
  kInLimit = 32 << 20,       /* received, unprocessed bytes before reading pauses */
  kReadChunk = 256 << 10,    /* bytes read per connection per turn */
  kBusyPollNs = 100 * 1000,  /* between checks for input while ticking without pause */
  kOnePeerWaitMs = 5,        /* a blocking read on the one talking peer: at most this, between full polls */
  kHelloMax = 1 << 16,
  kNonce = 32,               /* bytes of a handshake nonce */
  kMac = 32,                 /* bytes of an HMAC-SHA256 */
  kChallenge = 1 + kNonce + kMac, /* the accepting side's answer to a hello */
};

typedef struct {
  char *name;
  uint32_t count, first; /* instances; global index of the first */
  char **hosts;
  uint16_t *ports;
  char **listen_hosts;     /* where each instance listens, when not at its address (`listen`; NULL: there) */
  uint16_t *listen_ports;
} dloc;

typedef struct {
  char *name;
  uint32_t from, to;
  uint64_t fingerprint;
} dchan;

/* ---- buffers and messages -------------------------------------------- */

typedef struct {
  char *data;
  uint64_t len, cap, off; /* bytes [off, len) are pending */
} buffer;

/* Makes room for `more` bytes after `len` (rt_frame.c). */
void dfir_net_grow_buffer(buffer *b, uint64_t more);


static inline void reserve(buffer *b, uint64_t more) {
  if (b->len + more > b->cap) dfir_net_grow_buffer(b, more);
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

static inline void put(buffer *b, const void *p, uint64_t n) {
  reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static inline void put32(buffer *b, uint32_t v) { put(b, &v, 4); }
static inline void put64(buffer *b, uint64_t v) { put(b, &v, 8); }
static inline uint32_t get32(const char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static inline uint64_t get64(const char *p) {
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
  int talking;      /* accepted: its last read brought bytes (the wait may be a blocking read on it) */
  uint64_t frames_at; /* outgoing: where its frames begin in `out` (after the hello and the proof) */
  uint64_t lost_at, retry_at, retry_delay; /* outgoing, reconnecting (DFIR_RECONNECT_MS): since when, next try (ns) */
  int shut;         /* outgoing: nothing more is sent (stopping) */
  char addr[64];    /* the peer's address, as HOST:PORT */
} conn;

/* What went over one channel one way: items, their bytes (without the
 * per-item lengths) and frames. */
typedef struct {
  uint64_t items, bytes, frames;
} chan_counts;

typedef struct {
  const char *deploy_path;
  uint32_t nlocs;
  uint32_t nchans;
  uint32_t ninst;
  dloc *locs;
  dchan *chans;
  char *deploy_text;
  dfir_json *deploy_root;
  const dfir_location *self_loc;
  uint32_t self_index;
  uint32_t self_id;
  uint32_t self_global;
  conn *outs; /* per global instance: our connection to it (fd -1 if none) */
  conn *ins; /* accepted connections */
  uint32_t nins;
  int listen_fd;
  int control_fd;
  uint32_t probes;
  volatile sig_atomic_t stop_requested;
  int stopping; /* after SIGTERM/SIGINT: finishing (docs/deployment.md) */
  int wake_fds[2]; /* the stop signal's handler writes here: a wait in poll ends */
  uint64_t dropped; /* items made while stopping, after their connection was closed */
  inbox *inboxes; /* per channel */
  const uint32_t *batching; /* per channel: {count, micros}; count 0: not batched */
  uint32_t open_batches; /* outgoing connections holding a batched frame open */
  uint64_t inbound_bytes;
  uint64_t items_sent;
  uint64_t items_received;
  uint64_t max_frame; /* DFIR_MAX_FRAME: bytes of one frame */
  uint64_t max_buffered; /* DFIR_MAX_BUFFERED: unfinished frames, all connections */
  uint64_t handshake_ns; /* DFIR_HANDSHAKE_TIMEOUT_MS: hello to proof */
  uint64_t frame_ns; /* DFIR_FRAME_TIMEOUT_MS: a frame in progress */
  uint64_t polled_ns; /* when the last poll of every descriptor returned */
  uint64_t reconnect_ns; /* DFIR_RECONNECT_MS: how long to try to reach a lost peer again (0: its loss is an error) */
  /* What the metrics endpoint reports (rt_metrics.c). */
  chan_counts *sent, *received; /* per channel */
  uint64_t ticks, busy_ns, started_ns, refused;
  void *state; /* the location's, while it runs (operator counters of a profiling build) */
} dfir_net_state;

extern dfir_net_state dfir_net;

/* The functions of libcrypto that authenticate peers. */
typedef struct {
  __typeof__(&HMAC) hmac;
  __typeof__(&EVP_sha256) sha256;
  __typeof__(&RAND_bytes) rand_bytes;
} dfir_crypto_api;
/* Defined by libdfir_rt_crypto.a (rt_crypto_linked.c), which a static
 * executable links: then nothing is loaded. */
extern const dfir_crypto_api dfir_linked_crypto __attribute__((weak));

/* rt_deploy.c: the deploy file, the deployment key, peer authentication */
DFIR_RT_NORETURN void dfir_net_die(const char *fmt, const char *a, const char *b);
/* Loads libcrypto (or DFIR_CRYPTO_LIBRARY); dies saying why it cannot. */
void dfir_net_load_crypto(void);
/* Whether two secrets (MACs) are equal, compared in constant time. */
int dfir_net_same_secret(const unsigned char *a, const unsigned char *b, size_t n);
void dfir_net_mac(const char *label, const void *a, size_t alen, const void *b, size_t blen, unsigned char *out);
void dfir_net_nonce(unsigned char *out);
void dfir_net_read_deploy(const dfir_location *self);

/* rt_conn.c: connections, the handshake, the poll loop */
uint64_t dfir_net_now_ns(void);
const char *dfir_net_peer_name(uint32_t global, char *buf, size_t size);
int dfir_net_open_socket(const char *host, uint16_t port, int listening, char *why, size_t why_size);
void dfir_net_set_nonblocking(int fd);
void dfir_net_connect_peers(void);
void dfir_net_close_conn(conn *c);
uint64_t dfir_net_unsent_items(const conn *c);
void dfir_net_write_some(conn *c);
void dfir_net_pump(int wait_ms, int stdin_fd);
/* Whether items for a peer whose connection is lost are kept for its next
 * incarnation (reconnecting), rather than an error. */
static inline int dfir_net_reconnecting(const conn *c) { return c->retry_at != 0; }

/* rt_metrics.c: the Prometheus endpoint (--metrics-port) */
/* Listens on the instance's host at the port asked for, if any; dies
 * saying why it cannot. */
void dfir_net_metrics_open(void);
/* Appends the endpoint's descriptors to a poll set (at most
 * dfir_net_metrics_max_fds()); returns how many. */
uint32_t dfir_net_metrics_fds(struct pollfd *fds);
uint32_t dfir_net_metrics_max_fds(void);
/* Handles what poll reported on them. */
void dfir_net_metrics_serve(const struct pollfd *fds, uint32_t n);
/* Whether a client is being served (the caller polls, not a blocking read
 * on one peer), and the ms until the earliest client times out (-1: none). */
int dfir_net_metrics_busy(void);
int dfir_net_metrics_deadline_ms(uint64_t now);
void dfir_net_metrics_close(void);

/* rt_frame.c: buffers, frames, batches */
int dfir_net_queued_more_than(const buffer *q, uint32_t limit);
void dfir_net_take_batch(buffer *q, buffer *to, uint32_t limit);
uint64_t dfir_net_close_frames(uint64_t now);

#endif
