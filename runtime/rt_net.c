/* Deployed runs: one location instance per OS process, channels over TCP
 * (docs/deployment.md). The instance's loop: ticks when input comes,
 * backpressure, stopping on SIGTERM/SIGINT, and the reports to `dfirc
 * launch` on the control socket. */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC, strndup */
#include "rt_net.h"

/* Limits on what peers may make this instance hold, each configurable by
 * an environment variable (docs/deployment.md). */
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

dfir_net_state dfir_net = {
    .listen_fd = -1,
    .control_fd = -1,
    .wake_fds = {-1, -1},
    .max_frame = kMaxFrame,
    .max_buffered = 256u << 20,
    .handshake_ns = 10000000000ull,
    .frame_ns = 30000000000ull,
};

/* ---- the instance's loop ------------------------------------------------ */

/* Ends the tick's frames and writes them (batches only when full or
 * due); waits while a peer has more than kOutLimit unsent bytes (it is not
 * reading: backpressure). */
static void flush_peers(void) {
  dfir_net_close_frames(dfir_net_now_ns());
  /* Stopping ends the wait: the stop deadline bounds what happens next. */
  for (;;) {
    int full = 0;
    for (uint32_t g = 0; g < dfir_net.ninst; ++g) {
      const conn *c = &dfir_net.outs[g];
      full |= (c->fd >= 0 || dfir_net_reconnecting(c)) && c->out.len - c->out.off > kOutLimit;
    }
    if (!full || dfir_net.stop_requested) return;
    dfir_net_pump(100, -1);
  }
}

/* Tells the launcher what this instance is doing (docs/deployment.md). */
static void report_phase(const char *line) {
  if (dfir_net.control_fd < 0) return;
  ssize_t ignored = write(dfir_net.control_fd, line, strlen(line));
  (void)ignored;
}

/* Stopping, once the instance is idle: with everything sent, tell each
 * peer so (half-close); it closes its end once it has read it all. */
static void shut_outgoing(void) {
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) {
    conn *c = &dfir_net.outs[g];
    if (c->fd < 0 || c->shut || dfir_net_unsent_items(c) > 0) continue;
    if (c->stage != kAuthenticated) { /* never used, and nothing to deliver */
      dfir_net_close_conn(c);
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
  for (uint32_t i = 0; i < dfir_net.nins; ++i)
    if (dfir_net.ins[i].fd >= 0) return 0;
  for (uint32_t g = 0; g < dfir_net.ninst; ++g)
    if (dfir_net.outs[g].fd >= 0) return 0;
  return 1;
}

/* Stopping time is up: what could not be sent is a loss, and an error. */
static int finish_stop(void) {
  int lost = 0;
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) {
    conn *c = &dfir_net.outs[g];
    if ((c->fd < 0 && !dfir_net_reconnecting(c)) || dfir_net_unsent_items(c) == 0) continue;
    char name[96];
    dfir_rt_flush();
    if (c->fd < 0) /* lost, and not back */
      fprintf(stderr, "dfir: error: stopped with %llu bytes of messages to %s at %s not sent: its connection was lost and it did not come back\n",
              (unsigned long long)dfir_net_unsent_items(c), dfir_net_peer_name(c->peer, name, sizeof name), c->addr);
    else
      fprintf(stderr, "dfir: error: stopped with %llu bytes of messages to %s at %s not sent: it did not read them within %llu ms\n",
              (unsigned long long)dfir_net_unsent_items(c), dfir_net_peer_name(c->peer, name, sizeof name), c->addr,
              (unsigned long long)(stop_ns / 1000000));
    lost = 1;
  }
  if (dfir_net.dropped) {
    dfir_rt_flush();
    fprintf(stderr, "dfir: warning: %llu items made while stopping were not sent: their connections had closed\n",
            (unsigned long long)dfir_net.dropped);
  }
  for (uint32_t i = 0; i < dfir_net.nins; ++i) dfir_net_close_conn(&dfir_net.ins[i]);
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) dfir_net_close_conn(&dfir_net.outs[g]);
  return lost;
}

static void on_stop(int sig) {
  (void)sig;
  dfir_net.stop_requested = 1;
  if (dfir_net.wake_fds[1] >= 0) {
    int saved = errno;
    ssize_t ignored = write(dfir_net.wake_fds[1], "", 1);
    (void)ignored;
    errno = saved;
  }
}

/* Frees what the instance holds, once it has stopped. */
static void net_free(void) {
  for (uint32_t i = 0; i < dfir_net.nins; ++i) dfir_net_close_conn(&dfir_net.ins[i]);
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) dfir_net_close_conn(&dfir_net.outs[g]);
  for (uint32_t c = 0; c < dfir_net.nchans; ++c) {
    free(dfir_net.inboxes[c].queued.data);
    free(dfir_net.inboxes[c].current.data);
  }
  for (uint32_t l = 0; l < dfir_net.nlocs; ++l) {
    for (uint32_t i = 0; i < dfir_net.locs[l].count; ++i) {
      free(dfir_net.locs[l].hosts[i]);
      free(dfir_net.locs[l].listen_hosts[i]);
    }
    free(dfir_net.locs[l].hosts);
    free(dfir_net.locs[l].ports);
    free(dfir_net.locs[l].listen_hosts);
    free(dfir_net.locs[l].listen_ports);
  }
  dfir_net_metrics_close();
  free(dfir_net.ins);
  free(dfir_net.outs);
  free(dfir_net.inboxes);
  free(dfir_net.sent);
  free(dfir_net.received);
  free(dfir_net.locs);
  free(dfir_net.chans);
  dfir_rt_json_free(dfir_net.deploy_root);
  free(dfir_net.deploy_text);
  if (dfir_net.listen_fd >= 0) close(dfir_net.listen_fd);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  close(dfir_net.wake_fds[0]);
  close(dfir_net.wake_fds[1]);
  dfir_net.wake_fds[0] = dfir_net.wake_fds[1] = -1;
}

int dfir_rt_net_run(const dfir_location *location, const char *path, const char *location_name, uint32_t id) {
  dfir_rt_stack_guard();
  dfir_net.deploy_path = path;
  dfir_net.self_loc = location;
  dfir_net.batching = location->channel_batch;
  if (strcmp(location_name, location->name) != 0)
    dfir_net_die("this executable runs location `%s`, not `%s`", location->name, location_name);
  dfir_net_read_deploy(location);
  dfir_net_load_crypto();
  dfir_net.self_index = location->index;
  uint32_t count = dfir_net.locs[dfir_net.self_index].count;
  if (id >= count) {
    /* Also what an instance started beyond the size it was built for sees
     * (a StatefulSet whose replicas were raised). */
    char msg[128];
    if (count == 1)
      snprintf(msg, sizeof msg, "%u in the deploy file (it has one, id 0)", id);
    else
      snprintf(msg, sizeof msg, "%u in the deploy file (it has %u, ids 0 to %u)", id, count, count - 1);
    dfir_net_die("location `%s` has no instance %s", location->name, msg);
  }
  dfir_net.self_id = id;
  dfir_net.self_global = dfir_net.locs[dfir_net.self_index].first + id;
  dfir_net.max_frame = env_number("DFIR_MAX_FRAME", kMaxFrame, 1);
  if (dfir_net.max_frame > kMaxFrame) dfir_net.max_frame = kMaxFrame;
  dfir_net.max_buffered = env_number("DFIR_MAX_BUFFERED", dfir_net.max_buffered, 1);
  dfir_net.handshake_ns = env_number("DFIR_HANDSHAKE_TIMEOUT_MS", dfir_net.handshake_ns / 1000000, 1000000);
  dfir_net.frame_ns = env_number("DFIR_FRAME_TIMEOUT_MS", dfir_net.frame_ns / 1000000, 1000000);
  stop_ns = env_number("DFIR_STOP_TIMEOUT_MS", stop_ns / 1000000, 1000000);
  dfir_net.reconnect_ns = env_number("DFIR_RECONNECT_MS", 0, 1000000);
  dfir_rt_net_active = 1;
  /* A signal between the check of stop_requested and poll would otherwise
   * go unseen until the next message: the handler also wakes poll. */
  if (pipe2(dfir_net.wake_fds, O_NONBLOCK | O_CLOEXEC) != 0) dfir_net_die("cannot create a pipe: %s%s", strerror(errno), "");
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
      dfir_net.control_fd = (int)fd;
    else
      fprintf(stderr, "dfir: warning: DFIR_CONTROL_FD=%s is not an open file descriptor; ignored\n", control);
  }
  char why[160] = "";
  const dloc *self = &dfir_net.locs[dfir_net.self_index];
  const char *host = self->listen_hosts[id] ? self->listen_hosts[id] : self->hosts[id];
  uint16_t port = self->listen_hosts[id] ? self->listen_ports[id] : self->ports[id];
  dfir_net.listen_fd = dfir_net_open_socket(host, port, 1, why, sizeof why);
  if (dfir_net.listen_fd < 0) {
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%u", host, (unsigned)port);
    dfir_net_die("cannot listen on %s: %s", addr, why);
  }
  dfir_net_set_nonblocking(dfir_net.listen_fd);
  dfir_net_metrics_open();
  dfir_net.started_ns = dfir_net_now_ns();
  dfir_net.outs = (conn *)calloc(dfir_net.ninst, sizeof(conn));
  dfir_net.inboxes = (inbox *)calloc(dfir_net.nchans ? dfir_net.nchans : 1, sizeof(inbox));
  dfir_net.sent = (chan_counts *)calloc(dfir_net.nchans ? dfir_net.nchans : 1, sizeof(chan_counts));
  dfir_net.received = (chan_counts *)calloc(dfir_net.nchans ? dfir_net.nchans : 1, sizeof(chan_counts));
  if (!dfir_net.outs || !dfir_net.inboxes || !dfir_net.sent || !dfir_net.received)
    dfir_net_die("out of memory starting%s%s", "", "");
  for (uint32_t g = 0; g < dfir_net.ninst; ++g) dfir_net.outs[g].fd = -1;
  report_phase("connecting\n");
  dfir_net_connect_peers();
  report_phase("running\n");

  void *state = calloc(1, location->state_size ? location->state_size : 1);
  if (!state) dfir_net_die("out of memory allocating the state of `%s`%s", location->name, "");
  dfir_prof *prof = dfir_rt_profile_attach(location, id, state);
  location->init(state);
  dfir_net.state = state;
  int first = 1, more = 0, reported = 0, open = 0;
  uint64_t last_poll = 0;
  uint64_t last_sent = 0, last_received = 0, stop_deadline = 0;
  int lost = 0;
  for (;;) {
    if (dfir_net.stop_requested && !dfir_net.stopping) {
      /* Stopping: no new connections, input or timers; items that arrive
       * are still handled, and everything made is sent. */
      dfir_net.stopping = 1;
      stop_deadline = dfir_net_now_ns() + stop_ns;
      close(dfir_net.listen_fd);
      dfir_net.listen_fd = -1;
      dfir_net_close_frames(0); /* batches go out now */
    }
    /* Batched frames that fell due while the instance waited go out. */
    uint64_t batch_due = dfir_net.open_batches ? dfir_net_close_frames(dfir_net_now_ns()) : 0;
    if (dfir_net.stopping && dfir_net_now_ns() >= stop_deadline) { /* however much work is left */
      lost = finish_stop();
      break;
    }
    int queued = 0;
    for (uint32_t c = 0; c < dfir_net.nchans; ++c) queued |= dfir_net.inboxes[c].queued.len > dfir_net.inboxes[c].queued.off;
    int stdin_open = !dfir_net.stopping && location->reads_stdin && !dfir_rt_stdin_done();
    int timers = !dfir_net.stopping && dfir_rt_timers_active();
    queued |= dfir_rt_host_pending();
    /* Stopping (the system was quiescent), with nothing queued: windows
     * still open fire in a flush tick. */
    int flush = dfir_net.stopping && open && !queued;
    int work = dfir_net.stopping ? queued || flush : first || more || queued;
    if (dfir_net.stopping && !work) {
      shut_outgoing();
      uint64_t now = dfir_net_now_ns();
      if (all_closed() || now >= stop_deadline) {
        lost = finish_stop();
        break;
      }
      dfir_net_pump((int)((stop_deadline - now) / 1000000) + 1, -1);
      continue;
    }
    int lines = stdin_open ? dfir_rt_stdin_batch(0) : 0;
    for (; dfir_net.probes > 0; --dfir_net.probes) {
      /* A probe of the launcher's quiescence check: the state right now. */
      char line[96];
      int idle = !work && !lines && !stdin_open && !timers && !dfir_net.open_batches;
      int n = snprintf(line, sizeof line, "%s %llu %llu\n", idle ? "probe-idle" : "probe-busy",
                       (unsigned long long)dfir_net.items_sent, (unsigned long long)dfir_net.items_received);
      ssize_t ignored = write(dfir_net.control_fd, line, (size_t)n);
      (void)ignored;
    }
    if (!work && !lines) {
      /* Idle: tell the launcher (once per change), then wait. */
      if (dfir_net.control_fd >= 0 && !stdin_open && !timers && !dfir_net.open_batches &&
          (!reported || last_sent != dfir_net.items_sent || last_received != dfir_net.items_received)) {
        char line[96];
        int n = snprintf(line, sizeof line, "idle %llu %llu\n", (unsigned long long)dfir_net.items_sent,
                         (unsigned long long)dfir_net.items_received);
        ssize_t ignored = write(dfir_net.control_fd, line, (size_t)n);
        (void)ignored;
        reported = 1;
        last_sent = dfir_net.items_sent;
        last_received = dfir_net.items_received;
      }
      uint64_t wait = timers ? dfir_rt_timers_wait_ms() : 0;
      if (timers && wait == 0) {
        /* A timer is due: tick. */
      } else {
        int ms = timers ? (int)(wait > 1000000 ? 1000000 : wait) : -1;
        if (batch_due) { /* wake when the first open batch falls due */
          uint64_t now = dfir_net_now_ns();
          int until = batch_due > now ? (int)((batch_due - now + 999999) / 1000000) : 0;
          if (ms < 0 || until < ms) ms = until;
        }
        dfir_net_pump(ms, stdin_open ? 0 : -1);
        continue;
      }
    }
    /* This tick's messages: everything queued so far, or, on a batched
     * channel, at most a batch of them (the rest wait for the next tick). */
    dfir_net.inbound_bytes = 0;
    for (uint32_t c = 0; c < dfir_net.nchans; ++c) {
      inbox *in = &dfir_net.inboxes[c];
      buffer spare = in->current; /* last tick's, read: its memory is reused, unless a burst made it big */
      spare.len = spare.off = 0;
      if (spare.cap > kInLimit) {
        free(spare.data);
        spare.data = NULL;
        spare.cap = 0;
      }
      uint32_t limit = dfir_net.batching ? dfir_net.batching[2 * c] : 0;
      if (limit > 1 && dfir_net_queued_more_than(&in->queued, limit)) {
        in->current = spare;
        dfir_net_take_batch(&in->queued, &in->current, limit);
        dfir_net.inbound_bytes += in->queued.len - in->queued.off;
      } else {
        in->current = in->queued;
        in->queued = spare;
      }
      in->at = in->current.off;
      in->left = 0;
    }
    dfir_rt_host_before_tick();
    dfir_rt_profile_tick(prof, 1);
    dfir_rt_windows_begin_tick(flush);
    uint64_t tick_start = dfir_net_now_ns();
    more = location->tick(state);
    dfir_net.busy_ns += dfir_net_now_ns() - tick_start;
    ++dfir_net.ticks;
    open = dfir_rt_windows_end_tick();
    dfir_rt_profile_tick(prof, 0);
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
      uint64_t t = dfir_net_now_ns();
      if (t - last_poll >= kBusyPollNs) {
        dfir_net_pump(0, -1);
        last_poll = t;
      }
    }
  }
  dfir_rt_profile_detach(prof);
  dfir_net.state = NULL;
  if (location->fini) location->fini(state);
  free(state);
  dfir_rt_flush();
  net_free();
  return lost;
}
