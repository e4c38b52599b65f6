/* The raw-TCP baseline of the channel benchmarks (bench/channels): what the
 * same traffic costs with plain sockets and no runtime.
 *
 *   rawtcp stream N SIZE BATCH   N messages of SIZE bytes, each with a 4-byte
 *                                length, BATCH messages per write(); prints
 *                                messages per second
 *   rawtcp pingpong K            K round trips of an 8-byte message; prints
 *                                microseconds per round trip
 *
 * One process forks: the child sends, the parent receives and times. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void full_write(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) exit(1);
    p += w;
    n -= (size_t)w;
  }
}

static void full_read(int fd, char *p, size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) exit(1);
    p += r;
    n -= (size_t)r;
  }
}

/* A connected pair over loopback: *server is the accepted end. */
static void connect_pair(int *server, int *client) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len)) exit(1);
  *client = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(*client, (struct sockaddr *)&a, sizeof a)) exit(1);
  *server = accept(l, NULL, NULL);
  int one = 1;
  setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  close(l);
}

static int stream(long n, long size, long batch) {
  int server, client;
  connect_pair(&server, &client);
  double start = now();
  if (fork() == 0) {
    close(server);
    size_t msg = 4 + (size_t)size;
    char *buf = calloc((size_t)batch, msg);
    for (long i = 0; i < batch; ++i) memcpy(buf + i * msg, &(uint32_t){(uint32_t)size}, 4);
    for (long sent = 0; sent < n; sent += batch) {
      long k = n - sent < batch ? n - sent : batch;
      full_write(client, buf, (size_t)k * msg);
    }
    _exit(0);
  }
  close(client);
  char *buf = malloc(1 << 20);
  size_t have = 0, at = 0;
  long got = 0;
  while (got < n) {
    if (at == have) at = have = 0;
    if (have - at < 4 || have - at < 4 + (size_t)size) {
      memmove(buf, buf + at, have - at);
      have -= at;
      at = 0;
      ssize_t r = read(server, buf + have, (1 << 20) - have);
      if (r <= 0) return 1;
      have += (size_t)r;
      continue;
    }
    uint32_t len;
    memcpy(&len, buf + at, 4);
    at += 4 + len;
    ++got;
  }
  double t = now() - start;
  wait(NULL);
  printf("%.0f\n", n / t);
  return 0;
}

static int pingpong(long k) {
  int server, client;
  connect_pair(&server, &client);
  if (fork() == 0) {
    close(server);
    uint64_t v;
    for (long i = 0; i < k; ++i) {
      full_read(client, (char *)&v, 8);
      ++v;
      full_write(client, (char *)&v, 8);
    }
    _exit(0);
  }
  close(client);
  double start = now();
  uint64_t v = 0;
  for (long i = 0; i < k; ++i) {
    full_write(server, (char *)&v, 8);
    full_read(server, (char *)&v, 8);
  }
  double t = now() - start;
  wait(NULL);
  printf("%.2f\n", t / k * 1e6);
  return v == (uint64_t)k ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "stream") == 0) return stream(atol(argv[2]), atol(argv[3]), atol(argv[4]));
  if (argc == 3 && strcmp(argv[1], "pingpong") == 0) return pingpong(atol(argv[2]));
  fprintf(stderr, "usage: rawtcp stream N SIZE BATCH | rawtcp pingpong K\n");
  return 2;
}
