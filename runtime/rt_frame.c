/* Frames and batches of a deployed instance, and the calls of generated
 * code: items sent during a tick are framed per channel and written at the
 * end of the tick in one write per peer (a batched channel's frame stays
 * open until it is full or due); received items wait in per-channel inboxes. */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC, strndup */
#include "rt_net.h"

void dfir_net_grow_buffer(buffer *b, uint64_t more) {
  if (b->off > 0) {
    memmove(b->data, b->data + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
    if (b->len + more <= b->cap) return;
  }
  uint64_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  char *d = (char *)realloc(b->data, cap);
  if (!d) dfir_net_die("out of memory buffering messages%s%s", "", "");
  b->data = d;
  b->cap = cap;
}

/* ---- a tick's share of a batched channel -------------------------------- */

/* Whether an inbox's queue ({u32 sender, u32 count, items...} runs) holds
 * more than `limit` items. */
int dfir_net_queued_more_than(const buffer *q, uint32_t limit) {
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
void dfir_net_take_batch(buffer *q, buffer *to, uint32_t limit) {
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
  if (c->frame_due) --dfir_net.open_batches;
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
  ++dfir_net.sent[channel].frames;
  if (dfir_rt_profiling) dfir_rt_profile_sent(channel, 0, 0, 1);
  if (dfir_net.batching && dfir_net.batching[2 * channel] > 1) {
    c->frame_due = dfir_net_now_ns() + (uint64_t)dfir_net.batching[2 * channel + 1] * 1000 + 1;
    ++dfir_net.open_batches;
  }
}

/* Ends every open frame that may not wait: all of them at the end of a
 * tick, except batched frames that are neither full nor due (all when
 * stopping); writes what can go out. Returns the earliest time an open
 * batch falls due (0: none open). */
uint64_t dfir_net_close_frames(uint64_t now) {
  uint64_t next = 0;
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) {
    conn *c = &dfir_net.outs[g];
    if ((c->fd < 0 && !dfir_net_reconnecting(c)) || c->shut) continue;
    if (c->frame >= 0 && c->frame_due && !dfir_net.stopping && now < c->frame_due) {
      if (!next || c->frame_due < next) next = c->frame_due;
    } else {
      close_frame(c);
    }
    if (c->fd >= 0) dfir_net_write_some(c); /* a lost peer's frames wait for its next incarnation */
  }
  return next;
}

/* A send to a peer whose connection has closed: it stopped. */
static DFIR_RT_NORETURN void gone(const char *name, uint32_t line, uint32_t peer) {
  char who[96], msg[200];
  snprintf(msg, sizeof msg, "cannot send to %s: it has stopped (its connection closed)", dfir_net_peer_name(peer, who, sizeof who));
  dfir_rt_error(name, line, msg);
}

void dfir_rt_net_send(uint32_t channel, const char *name, uint32_t line, uint32_t to, uint64_t member,
                      const void *bytes, uint64_t len) {
  if (member >= dfir_net.locs[to].count) {
    char msg[256];
    snprintf(msg, sizeof msg, "destination member %llu does not exist (the cluster has %u members)",
             (unsigned long long)member, dfir_net.locs[to].count);
    dfir_rt_error(name, line, msg);
  }
  if (len > dfir_net.max_frame - 64) dfir_rt_error(name, line, "a message is larger than the frame limit (64 MiB, or DFIR_MAX_FRAME)");
  conn *c = &dfir_net.outs[dfir_net.locs[to].first + (uint32_t)member];
  if ((c->fd < 0 && !dfir_net_reconnecting(c)) || c->shut) {
    if (!dfir_net.stopping) gone(name, line, dfir_net.locs[to].first + (uint32_t)member);
    ++dfir_net.dropped;
    return;
  }
  buffer *b = &c->out;
  uint64_t need = 4 + len;
  if (c->frame < 0 || c->frame_channel != channel || c->frame_len + need > dfir_net.max_frame) open_frame(c, channel);
  reserve(b, need);
  uint32_t len32 = (uint32_t)len;
  memcpy(b->data + b->len, &len32, 4);
  copy_bytes(b->data + b->len + 4, (const char *)bytes, len);
  b->len += need;
  c->frame_len += (uint32_t)need;
  ++c->frame_count;
  ++dfir_net.items_sent;
  ++dfir_net.sent[channel].items;
  dfir_net.sent[channel].bytes += len;
  if (dfir_rt_profiling) dfir_rt_profile_sent(channel, 1, len, 0);
  if (c->frame_due && c->frame_count >= dfir_net.batching[2 * channel]) close_frame(c); /* a full batch */
}

void dfir_rt_net_send_batch(uint32_t channel, const char *name, uint32_t line, uint32_t to, const void *items,
                            uint64_t size, uint64_t count) {
  for (uint32_t member = 0; member < dfir_net.locs[to].count; ++member) {
    conn *c = &dfir_net.outs[dfir_net.locs[to].first + member];
    if ((c->fd < 0 && !dfir_net_reconnecting(c)) || c->shut) {
      if (!dfir_net.stopping) gone(name, line, dfir_net.locs[to].first + member);
      dfir_net.dropped += count;
      continue;
    }
    if (size + 12 > dfir_net.max_frame || count > UINT32_MAX - 1 || (dfir_net.batching && dfir_net.batching[2 * channel] > 1)) {
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
    dfir_net.items_sent += count;
    chan_counts *k = &dfir_net.sent[channel];
    k->items += count;
    k->bytes += size - 4 * count;
    ++k->frames;
    if (dfir_rt_profiling) dfir_rt_profile_sent(channel, count, size - 4 * count, 1);
  }
}

int dfir_rt_net_recv(uint32_t channel, const void **bytes, uint64_t *len, uint32_t *sender) {
  inbox *in = &dfir_net.inboxes[channel];
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

uint32_t dfir_rt_net_member_id(void) { return dfir_net.self_id; }
uint32_t dfir_rt_net_cluster_size(uint32_t location) { return location < dfir_net.nlocs ? dfir_net.locs[location].count : 1; }
