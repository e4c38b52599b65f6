"""The benchmark shapes (PERF.md section 1) that dfirc compiles today: each
is a DFIR program and a hand-written C++ baseline computing the same
checked answer."""

N = 1_000_000


def chain(op, n=N):
    maps = " -> ".join(["map(|x| %s)" % op] * 20)
    return ("source_iter(0..%d) -> %s -> fold(0, |acc, x| acc ^ x) -> for_each(|x| println(x));\n" % (n, maps))


def chain_cpp(step, what, n=N):
    return """
#include <cstdint>
#include <cstdio>
int main() {
  int64_t acc = 0;
  for (int64_t x = 0; x < %d; ++x) {
    int64_t v = x;
    for (int i = 0; i < 20; ++i) %s;  // %s
    acc ^= v;
  }
  std::printf("%%lld\\n", (long long)acc);
}
""" % (n, step, what)


SHAPES = {
    "identity": {"dfir": chain("x"), "cpp": chain_cpp("v = v", "20 identity maps")},
    "arithmetic": {"dfir": chain("x + 1"), "cpp": chain_cpp("v = v + 1", "20 maps of x + 1")},
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


def cpp_main(body, includes=""):
    return ("#include <cstdint>\n#include <cstdio>\n" + includes +
            "int main() {\n" + body + "\n}\n")


# fan_out: one source, tee, 20 sinks each folding its own checksum.
SHAPES["fan_out"] = {
    "dfir": "t = source_iter(0..%d) -> tee();\n" % N +
            "".join("t[%d] -> fold(0, |acc, x| acc ^ (x + %d)) -> for_each(|x| println(x));\n" % (i, i)
                    for i in range(20)),
    "cpp": cpp_main("""
  int64_t acc[20] = {0};
  for (int64_t x = 0; x < %d; ++x)
    for (int i = 0; i < 20; ++i) acc[i] ^= x + i;
  for (int i = 0; i < 20; ++i) std::printf("%%lld\\n", (long long)acc[i]);""" % N),
}

# fork_join: 20 levels of split by parity into two filters, re-merged.
FJ_N = 100_000
_fj = ["source_iter(0..%d) -> l0;\n" % FJ_N]
for lvl in range(20):
    _fj.append("l%d = tee();\n" % lvl)
    _fj.append("l%d[0] -> filter(|x| x %% 2 == 0) -> [0]m%d;\n" % (lvl, lvl))
    _fj.append("l%d[1] -> filter(|x| x %% 2 == 1) -> [1]m%d;\n" % (lvl, lvl))
    _fj.append("m%d = union() -> map(|x| x + 1) -> l%d;\n" % (lvl, lvl + 1))
_fj.append("l20 = fold(0, |acc, x| acc + x) -> for_each(|x| println(x));\n")
SHAPES["fork_join"] = {
    "dfir": "".join(_fj),
    "cpp": cpp_main("""
  int64_t acc = 0;
  for (int64_t x = 0; x < %d; ++x) {
    int64_t v = x;
    for (int l = 0; l < 20; ++l) {
      if (v %% 2 == 0) v = v + 1;       // the even branch
      else if (v %% 2 == 1) v = v + 1;  // the odd branch
    }
    acc += v;
  }
  std::printf("%%lld\\n", (long long)acc);""" % FJ_N),
}

# join: two keyed streams over keys 0..N, joined, checksum of the matches.
J_N = 100_000
SHAPES["join"] = {
    "dfir": """
source_iter(0..%d) -> map(|k| (k, k * 3)) -> [0]j;
source_iter(0..%d) -> map(|k| ((k * 7) %% %d, k)) -> [1]j;
j = join() -> fold(0, |acc, (k, (a, b))| acc + k * 5 + a + b * 2) -> for_each(|x| println(x));
""" % (J_N, J_N, J_N),
    "cpp": cpp_main("""
  std::unordered_map<int64_t, std::vector<int64_t>> left, right;
  int64_t acc = 0;
  for (int64_t k = 0; k < %d; ++k) left[k].push_back(k * 3);
  for (int64_t k = 0; k < %d; ++k) right[(k * 7) %% %d].push_back(k);
  for (auto &[k, as] : left) {
    auto it = right.find(k);
    if (it == right.end()) continue;
    for (int64_t a : as)
      for (int64_t b : it->second) acc += k * 5 + a + b * 2;
  }
  std::printf("%%lld\\n", (long long)acc);""" % (J_N, J_N, J_N),
        "#include <unordered_map>\n#include <vector>\n"),
}

# cross_join: 3000 x 3000 pairs, checksum of the products.
CJ_N = 3000
SHAPES["cross_join"] = {
    "dfir": """
source_iter(0..%d) -> [0]c;
source_iter(0..%d) -> map(|x| x + 1) -> [1]c;
c = cross_join_multiset() -> fold(0, |acc, (a, b)| acc ^ (a * b)) -> for_each(|x| println(x));
""" % (CJ_N, CJ_N),
    "cpp": cpp_main("""
  std::vector<int64_t> l, r;
  for (int64_t x = 0; x < %d; ++x) l.push_back(x);
  for (int64_t x = 0; x < %d; ++x) r.push_back(x + 1);
  int64_t acc = 0;
  for (int64_t a : l)
    for (int64_t b : r) acc ^= a * b;
  std::printf("%%lld\\n", (long long)acc);""" % (CJ_N, CJ_N), "#include <vector>\n"),
}

# words_diamond: every dictionary word, two formatted strings per word on one
# side, the words whose length is a multiple of 5 on the other, merged, and the
# total length summed.
WORDS = "/usr/share/dict/words"
SHAPES["words_diamond"] = {
    "needs": WORDS,
    "dfir": """
w = source_file("%s") -> tee();
w[0] -> flat_map(|s| [format("hi {}", s), format("bye {}", s)]) -> [0]u;
w[1] -> filter(|s| len(s) %% 5 == 0) -> [1]u;
u = union() -> fold(0, |acc, s| acc + len(s)) -> for_each(|x| println(x));
""" % WORDS,
    "cpp": cpp_main("""
  std::ifstream in("%s");
  std::string s;
  uint64_t acc = 0;
  while (std::getline(in, s)) {
    std::string a = "hi " + s, b = "bye " + s;
    acc += a.size() + b.size();
    if (s.size() %% 5 == 0) acc += s.size();
  }
  std::printf("%%llu\\n", (unsigned long long)acc);""" % WORDS, "#include <fstream>\n#include <string>\n"),
}

# reachability: from vertex 1 over a pseudo-random graph of 100k vertices and
# 1M edges (the same generator on both sides), as an in-tick fixpoint.
R_V, R_E = 100_000, 1_000_000
EDGE = "((i * 2654435761) %% %d, (i * i * 7 + i * 13 + 5) %% %d)" % (R_V, R_V)
SHAPES["reachability"] = {
    "dfir": """
edges = source_iter(0..%d) -> map(|i| %s);
source_iter([1]) -> reached;
reached = union() -> unique() -> tee();
reached[0] -> map(|v| (v, ())) -> [0]step;
edges -> [1]step;
step = join() -> map(|(_, ((), next))| next) -> [1]reached;
reached[1] -> fold(0, |n, _| n + 1) -> for_each(|n| println(n));
""" % (R_E, EDGE),
    "cpp": cpp_main("""
  std::vector<std::vector<int64_t>> adj(%d);
  for (int64_t i = 0; i < %d; ++i) {
    auto [s, d] = std::pair<int64_t, int64_t>%s;
    adj[s].push_back(d);
  }
  std::vector<char> seen(%d, 0);
  std::vector<int64_t> stack{1};
  seen[1] = 1;
  int64_t n = 1;
  while (!stack.empty()) {
    int64_t v = stack.back();
    stack.pop_back();
    for (int64_t d : adj[v])
      if (!seen[d]) { seen[d] = 1; ++n; stack.push_back(d); }
  }
  std::printf("%%lld\\n", (long long)n);""" % (R_V, R_E, EDGE, R_V),
        "#include <utility>\n#include <vector>\n"),
}
