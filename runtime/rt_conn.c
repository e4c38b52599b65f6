/* The connections of a deployed instance. Every instance listens on its
 * address from the deploy file and, before its first tick, connects to
 * every instance of every location it sends to (retrying with backoff while
 * the peer starts). A connection carries one direction: the connecting side
 * sends a hello (program and channel type fingerprints), the accepting side
 * answers with a challenge, the connecting side proves it holds the key,
 * then sends frames. The poll loop reads, writes and accepts. */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC, strndup */
#include "rt_net.h"

static uint32_t cap_ins;
/* dfirc launch: a socket on which this instance reports idleness and
 * answers probes (docs/deployment.md); -1 when not launched. */

uint64_t dfir_net_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *dfir_net_peer_name(uint32_t global, char *buf, size_t size) {
  for (uint32_t l = 0; l < dfir_net.nlocs; ++l)
    if (global >= dfir_net.locs[l].first && global < dfir_net.locs[l].first + dfir_net.locs[l].count) {
      snprintf(buf, size, "%s/%u", dfir_net.locs[l].name, global - dfir_net.locs[l].first);
      return buf;
    }
  snprintf(buf, size, "an unknown peer");
  return buf;
}

static uint32_t loc_of(uint32_t global) {
  for (uint32_t l = 0; l < dfir_net.nlocs; ++l)
    if (global >= dfir_net.locs[l].first && global < dfir_net.locs[l].first + dfir_net.locs[l].count) return l;
  return 0;
}

int dfir_net_open_socket(const char *host, uint16_t port, int listening, char *why, size_t why_size) {
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

void dfir_net_set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* The hello (who we are and what we send the peer's location `l`), and
 * room for our proof after it, at the start of the empty `c->out`. */
static void write_hello(conn *c, uint32_t l) {
  buffer *b = &c->out;
  put(b, "DFIR", 4);
  put32(b, kVersion);
  put64(b, dfir_net.self_loc->fingerprint);
  put32(b, dfir_net.self_index);
  put32(b, dfir_net.self_id);
  uint32_t n = 0;
  for (uint32_t ch = 0; ch < dfir_net.nchans; ++ch) n += dfir_net.chans[ch].from == dfir_net.self_index && dfir_net.chans[ch].to == l;
  put32(b, n);
  for (uint32_t ch = 0; ch < dfir_net.nchans; ++ch)
    if (dfir_net.chans[ch].from == dfir_net.self_index && dfir_net.chans[ch].to == l) {
      put32(b, ch);
      put64(b, dfir_net.self_loc->channel_fingerprints[ch]);
    }
  unsigned char ours[kNonce];
  dfir_net_nonce(ours);
  put(b, ours, kNonce);
  /* Only the hello goes out until the peer has answered; room is kept
   * after it for our proof (read_challenge fills it in). */
  c->hello_len = c->held = b->len;
  free(c->hello);
  c->hello = (char *)malloc(b->len);
  if (!c->hello) dfir_net_die("out of memory connecting%s%s", "", "");
  memcpy(c->hello, b->data, b->len);
  reserve(b, kMac);
  memset(b->data + b->len, 0, kMac);
  b->len += kMac;
  c->frames_at = b->len;
  c->stage = kAwaitHello;
}

/* Connects to every instance of every location this one sends to. */
void dfir_net_connect_peers(void) {
  const char *limit = getenv("DFIR_CONNECT_TIMEOUT_MS");
  uint64_t budget = limit ? strtoull(limit, NULL, 10) : 30000, waited = 0;
  for (uint32_t l = 0; l < dfir_net.nlocs; ++l) {
    int sends = 0;
    for (uint32_t c = 0; c < dfir_net.nchans; ++c) sends |= dfir_net.chans[c].from == dfir_net.self_index && dfir_net.chans[c].to == l;
    if (!sends) continue;
    for (uint32_t i = 0; i < dfir_net.locs[l].count; ++i) {
      uint32_t g = dfir_net.locs[l].first + i;
      char why[160] = "";
      uint64_t delay = 10;
      int fd;
      /* Retried while the peer starts, and while its name does not resolve
       * yet (a Kubernetes pod's DNS record appears as the pod starts). */
      while ((fd = dfir_net_open_socket(dfir_net.locs[l].hosts[i], dfir_net.locs[l].ports[i], 0, why, sizeof why)) < 0) {
        if (waited >= budget) {
          char name[96], msg[400];
          snprintf(msg, sizeof msg, "%s at %s:%u (%s)", dfir_net_peer_name(g, name, sizeof name), dfir_net.locs[l].hosts[i],
                   (unsigned)dfir_net.locs[l].ports[i], why);
          dfir_net_die("cannot connect to %s%s", msg, " after retrying");
        }
        if (dfir_net.stop_requested) exit(0); /* stopped before its first tick: nothing to finish */
        dfir_rt_sleep_ms(delay);
        if (dfir_net.stop_requested) exit(0);
        waited += delay;
        delay = delay * 2 > 500 ? 500 : delay * 2;
      }
      dfir_net_set_nonblocking(fd);
      conn *c = &dfir_net.outs[g];
      c->fd = fd;
      c->peer = g;
      c->outgoing = 1;
      c->frame = -1;
      write_hello(c, l);
      snprintf(c->addr, sizeof c->addr, strchr(dfir_net.locs[l].hosts[i], ':') ? "[%s]:%u" : "%s:%u", dfir_net.locs[l].hosts[i],
               (unsigned)dfir_net.locs[l].ports[i]);
    }
  }
}

void dfir_net_close_conn(conn *c) {
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
    snprintf(buf, size, "a peer at %s claiming to be %s", c->addr, dfir_net_peer_name(c->peer, name, sizeof name));
  else
    snprintf(buf, size, "%s at %s", dfir_net_peer_name(c->peer, name, sizeof name), c->addr);
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
  ++dfir_net.refused;
  dfir_net_close_conn(c);
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
  if (n > dfir_net.nchans || size > kHelloMax) return reject(c, "malformed hello"), -1;
  if (avail < size) return 0;
  if (get64(p + 8) != dfir_net.self_loc->fingerprint)
    return reject(c, "it was built from a different program (program fingerprints differ)"), -1;
  if (loc >= dfir_net.nlocs || id >= dfir_net.locs[loc].count) return reject(c, "it names an instance the deploy file does not have"), -1;
  c->peer = dfir_net.locs[loc].first + id;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t ch = get32(p + 28 + i * 12);
    if (ch >= dfir_net.nchans || dfir_net.chans[ch].from != loc || dfir_net.chans[ch].to != dfir_net.self_index)
      return reject(c, "it sends on a channel this location does not receive from it"), -1;
    if (get64(p + 28 + i * 12 + 4) != dfir_net.self_loc->channel_fingerprints[ch]) {
      char msg[200];
      snprintf(msg, sizeof msg, "the element type of channel `%s` differs between the two builds", dfir_net.chans[ch].name);
      return reject(c, msg), -1;
    }
  }
  /* The challenge: our nonce, and a MAC over the hello (with its nonce)
   * and ours that only a holder of the key can make. */
  unsigned char reply[kChallenge];
  reply[0] = 0;
  dfir_net_nonce(reply + 1);
  dfir_net_mac("dfir-accept", p, size, reply + 1, kNonce, reply + 1 + kNonce);
  dfir_net_mac("dfir-connect", p, size, reply + 1, kNonce, c->proof);
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
    if (!dfir_net_same_secret((const unsigned char *)b->data + b->off, c->proof, kMac))
      return reject(c, "it could not prove that it holds the deployment key"), 0;
    b->off += kMac;
    c->stage = kAuthenticated;
    c->since = 0;
  }
  uint32_t from = loc_of(c->peer), sender = c->peer - dfir_net.locs[from].first;
  for (;;) {
    const char *p = b->data + b->off;
    uint64_t avail = b->len - b->off;
    if (avail < 4) return 1;
    uint32_t len = get32(p);
    if (len < 8 || len > dfir_net.max_frame) return reject(c, "malformed frame (bad length)"), 0;
    if (avail < 4 + (uint64_t)len) return 1;
    uint32_t ch = get32(p + 4), count = get32(p + 8);
    if (ch >= dfir_net.nchans || dfir_net.chans[ch].from != from || dfir_net.chans[ch].to != dfir_net.self_index)
      return reject(c, "malformed frame (a channel it does not send on)"), 0;
    /* Check every item before queueing any: that it fits in the frame,
     * and that its bytes are a well-formed value of the channel's type. */
    uint64_t end = 4 + (uint64_t)len;
    const char *why = dfir_rt_frame_check(dfir_net.self_loc->channel_schemas[ch], p + 12, end - 12, count);
    if (why) {
      char msg[200];
      snprintf(msg, sizeof msg, "malformed frame on channel `%s` (%s)", dfir_net.chans[ch].name, why);
      return reject(c, msg), 0;
    }
    if (count > 0) {
      buffer *q = &dfir_net.inboxes[ch].queued;
      put32(q, sender);
      put32(q, count);
      put(q, p + 12, end - 12);
      dfir_net.inbound_bytes += end - 12;
      dfir_net.items_received += count;
    }
    chan_counts *k = &dfir_net.received[ch];
    k->items += count;
    k->bytes += end - 12 - 4 * (uint64_t)count;
    ++k->frames;
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
  c->talking = 1;
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
uint64_t dfir_net_unsent_items(const conn *c) {
  uint64_t n = c->out.len - c->out.off;
  if (c->stage == kAuthenticated || dfir_net_reconnecting(c)) return n; /* lost: only frames, no hello yet */
  return n > c->held + kMac ? n - c->held - kMac : 0;
}

/* The connection to a peer broke while reconnecting is on
 * (DFIR_RECONNECT_MS, docs/deployment.md, "Failures"): the frame it was
 * sending is lost with it (the peer had part of it), the whole frames not
 * yet begun are kept for the peer's next incarnation, after a new
 * handshake, and so are the items made meanwhile. */
static void lose(conn *c, const char *why) {
  uint64_t end = c->frame >= 0 ? c->out.len - 4 - c->frame_len : c->out.len;
  uint64_t keep = c->frames_at;
  while (keep < c->out.off && keep < end) keep += 4 + (uint64_t)get32(c->out.data + keep);
  if (keep > c->out.len) keep = c->out.len;
  buffer frames = {0, 0, 0, 0};
  if (c->out.len > keep) put(&frames, c->out.data + keep, c->out.len - keep);
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->in.data);
  memset(&c->in, 0, sizeof c->in);
  free(c->out.data);
  c->out = frames;
  c->frames_at = 0;
  c->stage = kAwaitHello;
  c->held = 0;
  uint64_t now = dfir_net_now_ns();
  if (!c->lost_at) {
    char name[96];
    dfir_rt_flush();
    fprintf(stderr, "dfir: warning: lost the connection to %s at %s (%s); reconnecting for up to %llu ms\n",
            dfir_net_peer_name(c->peer, name, sizeof name), c->addr, why,
            (unsigned long long)(dfir_net.reconnect_ns / 1000000));
    c->lost_at = now;
    c->retry_delay = 10000000;
  }
  c->retry_at = now + c->retry_delay;
  c->retry_delay = c->retry_delay * 2 > 500000000 ? 500000000 : c->retry_delay * 2;
}

/* A connection to `host`:`port` under way, without waiting (-1: none). */
static int connect_soon(const char *host, uint16_t port) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  char service[8];
  snprintf(service, sizeof service, "%u", (unsigned)port);
  if (getaddrinfo(host, service, &hints, &res) != 0) return -1;
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

/* Tries again the lost connections whose time has come; gives up on a peer
 * lost for longer than DFIR_RECONNECT_MS. Returns the ms until the next
 * try (-1: none). */
static int reconnect_due(uint64_t now) {
  int64_t next = -1;
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) {
    conn *c = &dfir_net.outs[g];
    if (!c->retry_at) continue;
    if (now - c->lost_at >= dfir_net.reconnect_ns) {
      char name[96], msg[300], limit[64];
      snprintf(msg, sizeof msg, "%s at %s", dfir_net_peer_name(g, name, sizeof name), c->addr);
      snprintf(limit, sizeof limit, " within %llu ms (DFIR_RECONNECT_MS)", (unsigned long long)(dfir_net.reconnect_ns / 1000000));
      dfir_net_die("lost the connection to %s and could not reconnect%s", msg, limit);
    }
    if (now >= c->retry_at && !dfir_net.stopping) {
      uint32_t l = 0;
      while (l + 1 < dfir_net.nlocs && g >= dfir_net.locs[l + 1].first) ++l;
      uint32_t i = g - dfir_net.locs[l].first;
      int fd = connect_soon(dfir_net.locs[l].hosts[i], dfir_net.locs[l].ports[i]);
      if (fd >= 0) {
        /* A new handshake, before the frames kept. */
        buffer frames = c->out;
        memset(&c->out, 0, sizeof c->out);
        write_hello(c, l);
        if (frames.len > frames.off) put(&c->out, frames.data + frames.off, frames.len - frames.off);
        free(frames.data);
        c->fd = fd;
        c->retry_at = 0;
        continue;
      }
      lose(c, "it cannot be reached");
    }
    int64_t left = (int64_t)((c->retry_at - now) / 1000000) + 1;
    if (next < 0 || left < next) next = left;
  }
  return (int)next;
}

/* Input on an outgoing connection: the peer's challenge, its refusal, or
 * the end of the connection. */
static void read_reply(conn *c) {
  char name[96], who[200];
  snprintf(who, sizeof who, "%s at %s", dfir_net_peer_name(c->peer, name, sizeof name), c->addr);
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
    dfir_net_die("%s refused our connection: %s", who, why);
  }
  if (avail >= kChallenge && p[0] == 0 && c->stage != kAuthenticated) {
    unsigned char expect[kMac], proof[kMac];
    dfir_net_mac("dfir-accept", c->hello, c->hello_len, p + 1, kNonce, expect);
    if (!dfir_net_same_secret(expect, (const unsigned char *)p + 1 + kNonce, kMac))
      dfir_net_die("%s could not prove that it holds the deployment key: not connecting to it%s", who, "");
    /* Our proof goes where room was kept for it, right after the hello. */
    dfir_net_mac("dfir-connect", c->hello, c->hello_len, p + 1, kNonce, proof);
    memcpy(c->out.data + c->out.off + c->held, proof, kMac);
    c->stage = kAuthenticated;
    if (c->lost_at) {
      char name[96];
      dfir_rt_flush();
      fprintf(stderr, "dfir: note: reconnected to %s at %s\n", dfir_net_peer_name(c->peer, name, sizeof name), c->addr);
      c->lost_at = 0;
    }
    c->in.off += kChallenge;
    avail -= kChallenge;
    p += kChallenge;
  }
  if (avail > 0 && (p[0] > 1 || c->stage == kAuthenticated))
    dfir_net_die("%s answered with bytes that are not the dfir protocol%s", who, "");
  if (ended) {
    if (dfir_net.reconnect_ns && !dfir_net.stopping) {
      lose(c, n == 0 ? "it closed the connection" : strerror(errno));
      return;
    }
    if (dfir_net_unsent_items(c) == 0 && (n == 0 || dfir_net.stopping)) {
      /* All was sent, and the peer closed in order (it reads everything
       * before it closes: it was stopped). Not a loss; a later send to it
       * is an error (dfir_rt_net_send). */
      dfir_net_close_conn(c);
      return;
    }
    dfir_net_die("lost the connection to %s%s", who, dfir_net_unsent_items(c) > 0 ? " with messages not yet sent" : "");
  }
}

void dfir_net_write_some(conn *c) {
  uint64_t n;
  while ((n = sendable(c)) > 0) {
    ssize_t sent = send(c->fd, c->out.data + c->out.off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0 && dfir_net.reconnect_ns && !dfir_net.stopping) {
      lose(c, strerror(errno));
      return;
    }
    if (sent <= 0) {
      char name[96];
      dfir_net_die("lost the connection to %s with messages not yet sent (%s)", dfir_net_peer_name(c->peer, name, sizeof name),
          strerror(errno));
    }
    c->out.off += (uint64_t)sent;
    if (c->stage != kAuthenticated) c->held -= (uint64_t)sent;
  }
  if (c->out.len == c->out.off) c->out.off = c->out.len = c->frames_at = 0;
}

static uint64_t accept_paused_until; /* out of descriptors: when to try again */

static void accept_all(void) {
  static int warned;
  for (;;) {
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    /* Blocking, but every read and write passes MSG_DONTWAIT, except the
     * wait on one peer (wait_on_one_peer), which its timeout bounds. */
    int fd = accept4(dfir_net.listen_fd, (struct sockaddr *)&from, &fromlen, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* The connection waits in the backlog; stop asking for 100 ms
         * rather than spin (poll would report it again at once). */
        accept_paused_until = dfir_net_now_ns() + 100000000u;
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
    for (uint32_t i = 0; i < dfir_net.nins && !c; ++i)
      if (dfir_net.ins[i].fd < 0) c = &dfir_net.ins[i];
    if (!c) {
      if (dfir_net.nins == cap_ins) {
        conn *t = (conn *)realloc(dfir_net.ins, (cap_ins = cap_ins * 2 + 8) * sizeof(conn));
        if (!t) dfir_net_die("out of memory accepting a connection%s%s", "", "");
        dfir_net.ins = t;
      }
      c = &dfir_net.ins[dfir_net.nins++];
    }
    struct timeval wait = {0, kOnePeerWaitMs * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->peer = UINT32_MAX;
    c->frame = -1;
    c->stage = kAwaitHello;
    c->since = dfir_net_now_ns();
    format_address((struct sockaddr *)&from, fromlen, c->addr, sizeof c->addr);
  }
}

/* Closes accepted connections that are too slow: a handshake not finished
 * in time, or a frame begun and not finished in time. Returns the time
 * until the next such deadline, in ms (-1: none). */
static int expire_slow(uint64_t now) {
  int64_t next = -1;
  for (uint32_t i = 0; i < dfir_net.nins; ++i) {
    conn *c = &dfir_net.ins[i];
    if (c->fd < 0 || c->since == 0) continue;
    uint64_t limit = c->stage == kAuthenticated ? dfir_net.frame_ns : dfir_net.handshake_ns;
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
    c->since = c->in.len == c->in.off ? 0 : c->since == 0 || progress ? dfir_net_now_ns() : c->since;
  }
  return 1;
}

/* An accepted connection ended: its peer exited (after its last frame)
 * or was stopped. */
static void peer_closed(conn *c) {
  if (take_frames(c) && c->in.len > c->in.off) {
    char who[200];
    dfir_rt_flush();
    fprintf(stderr, "dfir: error: the connection from %s ended in the middle of a %s (%llu bytes dropped)\n",
            describe_peer(c, who, sizeof who), c->stage == kAuthenticated ? "frame" : "handshake",
            (unsigned long long)(c->in.len - c->in.off));
  }
  dfir_net_close_conn(c);
}

/* The wait of an instance that hears from one peer: a blocking read on
 * that connection, one system call per message as a hand-written peer
 * would make, instead of poll and then recv. Taken only while that peer
 * is talking (its last read brought bytes), with nothing else to watch
 * for (no other accepted connection, no unsent bytes, handshake,
 * deadline, timer or standard input: the caller waits without a limit),
 * and within kOnePeerWaitMs of the last poll of every descriptor: new
 * connections, the launcher's probes and the stop signal's pipe wait at
 * most that long. (The signal itself interrupts the read.) Returns 0 if
 * it did not wait or the read timed out: the caller polls. */
static int wait_on_one_peer(void) {
  conn *one = NULL;
  for (uint32_t i = 0; i < dfir_net.nins; ++i)
    if (dfir_net.ins[i].fd >= 0) {
      if (one) return 0;
      one = &dfir_net.ins[i];
    }
  if (!one || !one->talking || one->stage != kAuthenticated || one->in.len != one->in.off) return 0;
  for (uint32_t g = 0; g < dfir_net.ninst; ++g)
    if (dfir_net.outs[g].fd >= 0 && (dfir_net.outs[g].stage != kAuthenticated || sendable(&dfir_net.outs[g]) > 0))
      return 0;
  if (dfir_net.stop_requested || dfir_net.inbound_bytes >= kInLimit ||
      dfir_net_now_ns() - dfir_net.polled_ns >= (uint64_t)kOnePeerWaitMs * 1000000)
    return 0;
  reserve(&one->in, kReadChunk);
  ssize_t n = recv(one->fd, one->in.data + one->in.len, kReadChunk, 0);
  if (n > 0) {
    one->in.len += (uint64_t)n;
    take_frames(one);
    return 1;
  }
  if (n < 0 && errno == EINTR) return 1; /* a signal: the caller looks at it */
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    one->talking = 0; /* it fell silent */
    return 0;
  }
  peer_closed(one);
  return 1;
}

void dfir_net_pump(int wait_ms, int stdin_fd) {
  static struct pollfd *fds;
  static conn **owner;
  static uint32_t cap;
  uint32_t n = 0;
  uint64_t now = dfir_net_now_ns();
  int deadline = expire_slow(now);
  if (deadline >= 0 && (wait_ms < 0 || deadline < wait_ms)) wait_ms = deadline;
  int accepting = dfir_net.listen_fd >= 0 && now >= accept_paused_until;
  if (dfir_net.listen_fd >= 0 && !accepting) {
    int paused = (int)((accept_paused_until - now) / 1000000) + 1;
    if (wait_ms < 0 || paused < wait_ms) wait_ms = paused;
  }
  int retry_wait = reconnect_due(now);
  if (retry_wait >= 0 && (wait_ms < 0 || retry_wait < wait_ms)) wait_ms = retry_wait;
  int metrics_wait = dfir_net_metrics_deadline_ms(now);
  if (metrics_wait >= 0 && (wait_ms < 0 || metrics_wait < wait_ms)) wait_ms = metrics_wait;
  if (wait_ms < 0 && stdin_fd < 0 && !dfir_net_metrics_busy() && wait_on_one_peer()) return;
  if (cap < 4 + dfir_net.nins + dfir_net.ninst + dfir_net_metrics_max_fds()) {
    cap = 4 + dfir_net.nins + dfir_net.ninst + dfir_net_metrics_max_fds();
    free(fds);
    free(owner);
    fds = (struct pollfd *)calloc(cap, sizeof(struct pollfd));
    owner = (conn **)calloc(cap, sizeof(conn *));
    if (!fds || !owner) dfir_net_die("out of memory waiting for messages%s%s", "", "");
  }
  /* Reading pauses while too many received bytes wait for a tick, and a
   * connection in the middle of a frame pauses while unfinished frames
   * hold more than DFIR_MAX_BUFFERED in all, except the one whose frame
   * began first (so that one always finishes, or times out). */
  int reading = dfir_net.inbound_bytes < kInLimit;
  uint64_t unfinished = 0;
  conn *oldest = NULL;
  for (uint32_t i = 0; i < dfir_net.nins; ++i)
    if (dfir_net.ins[i].fd >= 0 && dfir_net.ins[i].in.len > dfir_net.ins[i].in.off) {
      unfinished += dfir_net.ins[i].in.len - dfir_net.ins[i].in.off;
      if (!oldest || dfir_net.ins[i].since < oldest->since) oldest = &dfir_net.ins[i];
    }
  int room = unfinished + kReadChunk <= dfir_net.max_buffered;
  fds[n++] = (struct pollfd){accepting ? dfir_net.listen_fd : -1, POLLIN, 0};
  fds[n++] = (struct pollfd){dfir_net.control_fd, POLLIN, 0}; /* ignored by poll when -1 */
  fds[n++] = (struct pollfd){dfir_net.wake_fds[0], POLLIN, 0};
  if (stdin_fd >= 0) fds[n++] = (struct pollfd){stdin_fd, POLLIN, 0};
  uint32_t first_conn = n;
  for (uint32_t i = 0; i < dfir_net.nins; ++i)
    if (dfir_net.ins[i].fd >= 0) {
      owner[n] = &dfir_net.ins[i];
      fds[n++] = (struct pollfd){dfir_net.ins[i].fd, (short)(reading && (room || &dfir_net.ins[i] == oldest) ? POLLIN : 0), 0};
    }
  for (uint32_t g = 0; g < dfir_net.ninst; ++g)
    if (dfir_net.outs[g].fd >= 0) {
      owner[n] = &dfir_net.outs[g];
      fds[n++] = (struct pollfd){dfir_net.outs[g].fd, (short)(POLLIN | (sendable(&dfir_net.outs[g]) > 0 ? POLLOUT : 0)), 0};
    }
  uint32_t metrics_at = n;
  n += dfir_net_metrics_fds(fds + n);
  int rc = poll(fds, n, wait_ms);
  dfir_net.polled_ns = dfir_net_now_ns();
  dfir_net_metrics_serve(fds + metrics_at, n - metrics_at); /* revents stay 0 unless rc > 0 */
  n = metrics_at;
  if (rc > 0) {
    if (fds[1].revents) {
      char buf[64];
      ssize_t got = read(dfir_net.control_fd, buf, sizeof buf);
      for (ssize_t i = 0; i < got; ++i) dfir_net.probes += buf[i] == '?';
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) dfir_net.stop_requested = 1; /* the launcher is gone */
    }
    if (fds[2].revents) {
      char buf[64];
      while (read(dfir_net.wake_fds[0], buf, sizeof buf) > 0) {
      }
    }
    for (uint32_t i = first_conn; i < n; ++i) {
      conn *c = owner[i];
      if (!fds[i].revents || c->fd < 0) continue;
      if (c->outgoing) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_reply(c);
        if (c->fd >= 0 && (fds[i].revents & POLLOUT)) dfir_net_write_some(c);
        continue;
      }
      if (!read_some(c)) {
        peer_closed(c);
        continue;
      }
      take_frames(c);
    }
    /* Last: accepting may move `ins`, which `owner` points into. */
    if (fds[0].revents & POLLIN) accept_all();
  }
}
