/* libdfir_rt_crypto.a: libcrypto's functions that authenticate peers,
 * linked in rather than loaded. `dfirc build --static` links it (and a
 * static libcrypto) into executables that must run with no shared library
 * at all, as in a container image built `FROM scratch`; other executables
 * load the system's libcrypto when a deployed instance starts
 * (rt_deploy.c). */
#define _GNU_SOURCE
#include "rt_net.h"

const dfir_crypto_api dfir_linked_crypto = {HMAC, EVP_sha256, RAND_bytes};
