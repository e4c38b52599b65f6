/* The deploy file of a deployed instance: the locations, their instances
 * and addresses, the channels, and the deployment key that peers prove they
 * hold (HMAC-SHA256 over both nonces and the hello). */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC, strndup */
#include "rt_net.h"

/* ---- the deploy file ----------------------------------------------------- */

DFIR_RT_NORETURN void dfir_net_die(const char *fmt, const char *a, const char *b) {
  dfir_rt_flush();
  fprintf(stderr, "dfir: error: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(1);
}

static DFIR_RT_NORETURN void bad_deploy(const char *what) { dfir_net_die("deploy file `%s`: %s", dfir_net.deploy_path, what); }

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
  for (uint32_t l = 0; l < dfir_net.nlocs; ++l)
    if (strcmp(dfir_net.locs[l].name, name) == 0) return l;
  dfir_net_die("deploy file `%s`: no location named `%s`", dfir_net.deploy_path, name);
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
    if (!parse_key(env, deploy_key)) dfir_net_die("DFIR_DEPLOY_KEY is not a key of 64 hexadecimal digits%s%s", "", "");
    return;
  }
  const dfir_json *file = dfir_rt_json_get(root, "key_file");
  if (!file || file->kind != DFIR_JSON_STRING)
    bad_deploy("it names no `key_file` (`dfirc build` writes one), and DFIR_DEPLOY_KEY is not set");
  char path[4096];
  const char *slash = strrchr(dfir_net.deploy_path, '/');
  if (file->string[0] == '/' || !slash)
    snprintf(path, sizeof path, "%s", file->string);
  else
    snprintf(path, sizeof path, "%.*s/%s", (int)(slash - dfir_net.deploy_path), dfir_net.deploy_path, file->string);
  FILE *f = fopen(path, "rb");
  if (!f) dfir_net_die("cannot open the key file `%s`: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
    dfir_net_die("the key file `%s` can be read or written by other users: make it private (chmod 600 %s)", path, path);
  char text[256];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  if (n == sizeof text - 1 || strlen(text) != n || !parse_key(text, deploy_key))
    dfir_net_die("the key file `%s` does not hold a key of 64 hexadecimal digits%s", path, "");
}

/* libcrypto is loaded when a deployed instance starts, not linked into every
 * executable: a program that never runs deployed does not pay the dynamic
 * loader's relocations of it at start-up (about 2.5 M instructions), and
 * the system's libcrypto (with its security updates) is the one used.
 * DFIR_CRYPTO_LIBRARY names another file to load. */
#define DFIR_STRINGIFY2(x) #x
#define DFIR_STRINGIFY(x) DFIR_STRINGIFY2(x)
static const char kCryptoLibrary[] = "libcrypto.so." DFIR_STRINGIFY(OPENSSL_VERSION_MAJOR);
static __typeof__(&HMAC) hmac_fn;
static __typeof__(&EVP_sha256) sha256_fn;
static __typeof__(&RAND_bytes) rand_bytes_fn;

static void *crypto_symbol(void *lib, const char *path, const char *name) {
  void *f = dlsym(lib, name);
  if (!f) dfir_net_die("the crypto library `%s` does not define %s", path, name);
  return f;
}

void dfir_net_load_crypto(void) {
  if (&dfir_linked_crypto) { /* linked in (`dfirc build --static`) */
    hmac_fn = dfir_linked_crypto.hmac;
    sha256_fn = dfir_linked_crypto.sha256;
    rand_bytes_fn = dfir_linked_crypto.rand_bytes;
    return;
  }
  const char *path = getenv("DFIR_CRYPTO_LIBRARY");
  if (!path || !*path) path = kCryptoLibrary;
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    dfir_net_die("cannot load the crypto library that authenticates peers (%s): %s", path, why ? why : "unknown error");
  }
  /* POSIX: a function pointer is stored through a void *. */
  *(void **)&hmac_fn = crypto_symbol(lib, path, "HMAC");
  *(void **)&sha256_fn = crypto_symbol(lib, path, "EVP_sha256");
  *(void **)&rand_bytes_fn = crypto_symbol(lib, path, "RAND_bytes");
}

int dfir_net_same_secret(const unsigned char *a, const unsigned char *b, size_t n) {
  /* In constant time: the difference is gathered over every byte. */
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < n; ++i) diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

/* HMAC-SHA256 under the deployment key of `label`, `a` and `b`. */
void dfir_net_mac(const char *label, const void *a, size_t alen, const void *b, size_t blen, unsigned char *out) {
  size_t llen = strlen(label);
  unsigned char *msg = (unsigned char *)malloc(llen + alen + blen);
  if (!msg) dfir_net_die("out of memory authenticating a peer%s%s", "", "");
  memcpy(msg, label, llen);
  memcpy(msg + llen, a, alen);
  memcpy(msg + llen + alen, b, blen);
  unsigned int outlen = 0;
  if (!hmac_fn || !hmac_fn(sha256_fn(), deploy_key, sizeof deploy_key, msg, llen + alen + blen, out, &outlen) || outlen != kMac)
    dfir_net_die("cannot compute an HMAC-SHA256 (OpenSSL failed)%s%s", "", "");
  free(msg);
}

void dfir_net_nonce(unsigned char *out) {
  if (!rand_bytes_fn || rand_bytes_fn(out, kNonce) != 1) dfir_net_die("cannot draw a random nonce (OpenSSL failed)%s%s", "", "");
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

void dfir_net_read_deploy(const dfir_location *self) {
  FILE *f = fopen(dfir_net.deploy_path, "rb");
  if (!f) dfir_net_die("cannot open the deploy file `%s`: %s", dfir_net.deploy_path, strerror(errno));
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 > cap) {
      char *t = (char *)realloc(text, cap = cap * 2 + 4096);
      if (!t) dfir_net_die("out of memory reading `%s`%s", dfir_net.deploy_path, "");
      dfir_net.deploy_text = text = t;
    }
    size_t n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  fclose(f);
  char error[240];
  dfir_json *root = dfir_net.deploy_root = dfir_rt_json_parse(text, len, error, sizeof error);
  if (!root) bad_deploy(error);
  if (parse_hex(member(root, "fingerprint", DFIR_JSON_STRING)->string) != self->fingerprint)
    dfir_net_die("deploy file `%s` was written for a different build of the program than this executable (`%s`)",
        dfir_net.deploy_path, self->name);
  const dfir_json *ls = member(root, "locations", DFIR_JSON_ARRAY);
  dfir_net.nlocs = ls->count;
  dfir_net.locs = (dloc *)calloc(dfir_net.nlocs ? dfir_net.nlocs : 1, sizeof(dloc));
  if (dfir_net.nlocs != self->nlocations) bad_deploy("its locations are not the program's");
  for (uint32_t l = 0; l < dfir_net.nlocs; ++l) {
    const dfir_json *lj = &ls->items[l];
    dfir_net.locs[l].name = member(lj, "name", DFIR_JSON_STRING)->string;
    const dfir_json *is = member(lj, "instances", DFIR_JSON_ARRAY);
    if (is->count == 0) bad_deploy("a location has no instances");
    if (!member(lj, "cluster", DFIR_JSON_BOOL)->number && is->count > 1)
      bad_deploy("a process (`\"cluster\": false`) has exactly one instance");
    dfir_net.locs[l].count = is->count;
    dfir_net.locs[l].first = dfir_net.ninst;
    dfir_net.ninst += is->count;
    dfir_net.locs[l].hosts = (char **)calloc(is->count, sizeof(char *));
    dfir_net.locs[l].ports = (uint16_t *)calloc(is->count, sizeof(uint16_t));
    dfir_net.locs[l].listen_hosts = (char **)calloc(is->count, sizeof(char *));
    dfir_net.locs[l].listen_ports = (uint16_t *)calloc(is->count, sizeof(uint16_t));
    if (!dfir_net.locs[l].hosts || !dfir_net.locs[l].ports || !dfir_net.locs[l].listen_hosts ||
        !dfir_net.locs[l].listen_ports)
      dfir_net_die("out of memory reading `%s`%s", dfir_net.deploy_path, "");
    for (uint32_t i = 0; i < is->count; ++i) {
      if (member(&is->items[i], "id", DFIR_JSON_NUMBER)->number != (double)i)
        bad_deploy("instance ids must be 0, 1, ... in order");
      const char *addr = member(&is->items[i], "address", DFIR_JSON_STRING)->string;
      if (!parse_address(addr, &dfir_net.locs[l].hosts[i], &dfir_net.locs[l].ports[i]))
        dfir_net_die("deploy file `%s`: address `%s` is not HOST:PORT or [IPV6]:PORT with a port from 1 to 65535",
            dfir_net.deploy_path, addr);
      /* Where it listens, when peers reach it through another address (a
       * Kubernetes pod listens on all its interfaces, peers use its DNS name). */
      const dfir_json *listen = dfir_rt_json_get(&is->items[i], "listen");
      if (listen && (listen->kind != DFIR_JSON_STRING ||
                     !parse_address(listen->string, &dfir_net.locs[l].listen_hosts[i], &dfir_net.locs[l].listen_ports[i])))
        dfir_net_die("deploy file `%s`: `listen` of an instance of `%s` is not HOST:PORT or [IPV6]:PORT with a port from 1 to 65535",
            dfir_net.deploy_path, dfir_net.locs[l].name);
    }
  }
  if (strcmp(dfir_net.locs[self->index].name, self->name) != 0) bad_deploy("its locations are not the program's");
  const dfir_json *cs = member(root, "channels", DFIR_JSON_ARRAY);
  dfir_net.nchans = cs->count;
  if (dfir_net.nchans != self->nchannels) bad_deploy("its channels are not the program's");
  dfir_net.chans = (dchan *)calloc(dfir_net.nchans ? dfir_net.nchans : 1, sizeof(dchan));
  for (uint32_t c = 0; c < dfir_net.nchans; ++c) {
    const dfir_json *cj = &cs->items[c];
    dfir_net.chans[c].name = member(cj, "name", DFIR_JSON_STRING)->string;
    dfir_net.chans[c].from = loc_index(member(cj, "from", DFIR_JSON_STRING)->string);
    dfir_net.chans[c].to = loc_index(member(cj, "to", DFIR_JSON_STRING)->string);
    dfir_net.chans[c].fingerprint = parse_hex(member(cj, "fingerprint", DFIR_JSON_STRING)->string);
    if (dfir_net.chans[c].fingerprint != self->channel_fingerprints[c]) bad_deploy("its channels are not the program's");
  }
  load_key(root);
}
