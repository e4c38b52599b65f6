"""The benchmark shapes (PERF.md section 1) that dfirc compiles today: each
is a DFIR program and a hand-written C++ baseline computing the same
checked answer."""

N = 1_000_000


def chain(op, n=N):
    maps = " -> ".join(["map(|x| %s)" % op] * 20)
    return ("source_iter(0..%d) -> %s -> fold(0, |acc, x| acc ^ x) -> for_each(|x| println(x));\n" % (n, maps))


SHAPES = {
    "identity": {
        "dfir": chain("x"),
        "cpp": """
#include <cstdint>
#include <cstdio>
int main() {
  int64_t acc = 0;
  for (int64_t x = 0; x < %d; ++x) {
    int64_t v = x;
    for (int i = 0; i < 20; ++i) v = v;  // 20 identity maps
    acc ^= v;
  }
  std::printf("%%lld\\n", (long long)acc);
}
""" % N,
    },
    "arithmetic": {
        "dfir": chain("x + 1"),
        "cpp": """
#include <cstdint>
#include <cstdio>
int main() {
  int64_t acc = 0;
  for (int64_t x = 0; x < %d; ++x) {
    int64_t v = x;
    for (int i = 0; i < 20; ++i) v = v + 1;  // 20 maps of x + 1
    acc ^= v;
  }
  std::printf("%%lld\\n", (long long)acc);
}
""" % N,
    },
    "fan_in": {
        "dfir": "u = union() -> fold(0, |acc, x| acc + x) -> for_each(|x| println(x));\n" +
                "".join("source_iter(0..%d) -> [%d]u;\n" % (N, i) for i in range(20)),
        "cpp": """
#include <cstdint>
#include <cstdio>
int main() {
  int64_t acc = 0;
  for (int s = 0; s < 20; ++s)
    for (int64_t x = 0; x < %d; ++x) acc += x;
  std::printf("%%lld\\n", (long long)acc);
}
""" % N,
    },
}
