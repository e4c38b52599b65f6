"""The benchmark shapes (PERF.md section 1): each is a DFIR program and a
hand-written C++ baseline computing the same checked answer. Sizes come
through `bench_n` (baselines/opaque.c, linked into both sides), so that no
optimizer sees a constant bound; reductions that could be folded into a
formula (sums over a range) mix their items instead.

A formula that multiplies and then takes a remainder (the micro shapes'
items, join's keys) is written in unsigned arithmetic on both sides.
DFIR's integers wrap on overflow (defined, as in Rust), while a signed
C++ overflow is undefined: with `int64_t`, clang may assume that `i * K`
of a non-negative `i` is non-negative and divide unsigned, which a DFIR
compiler may not (measured: clang -O2 0.12 s, clang -O2 -fwrapv 0.17 s,
on micro_fold's signed formula). Unsigned arithmetic wraps in both
languages, so both compilers see the same arithmetic."""

N = 1_000_000


def chain(op, n=N):
    maps = " -> ".join(["map(|x| %s)" % op] * 20)
    return ("source_iter(0..bench_n(%d)) -> %s -> fold(0, |acc, x| acc ^ x) -> for_each(|x| println(x));\n" % (n, maps))


def chain_cpp(step, what, n=N):
    return """
#include <cstdint>
#include <cstdio>
int main() {
  int64_t acc = 0;
  for (int64_t x = 0, x_end = bench_n(%d); x < x_end; ++x) {
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
        "dfir": "u = union() -> fold(0, |acc, x| acc ^ (x * MIX)) -> for_each(|x| println(x));\n" +
                "".join("source_iter(%d * bench_n(%d)..%d * bench_n(%d)) -> [%d]u;\n" % (i, N, i + 1, N, i)
                        for i in range(20)),
        "cpp": """
#include <cstdint>
#include <cstdio>
int main() {
  int64_t acc = 0, n = bench_n(%d);
  for (int s = 0; s < 20; ++s)
    for (int64_t x = s * n; x < (s + 1) * n; ++x) acc ^= mix(x);
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
    "dfir": "t = source_iter(0..bench_n(%d)) -> tee();\n" % N +
            "".join("t[%d] -> fold(0, |acc, x| acc ^ (x + %d)) -> for_each(|x| println(x));\n" % (i, i)
                    for i in range(20)),
    "cpp": cpp_main("""
  int64_t acc[20] = {0};
  for (int64_t x = 0, x_end = bench_n(%d); x < x_end; ++x)
    for (int i = 0; i < 20; ++i) acc[i] ^= x + i;
  for (int i = 0; i < 20; ++i) std::printf("%%lld\\n", (long long)acc[i]);""" % N),
}

# fork_join: 20 levels of split by parity into two filters, re-merged.
FJ_N = 100_000
_fj = ["source_iter(0..bench_n(%d)) -> l0;\n" % FJ_N]
for lvl in range(20):
    _fj.append("l%d = tee();\n" % lvl)
    _fj.append("l%d[0] -> filter(|x| x %% 2 == 0) -> [0]m%d;\n" % (lvl, lvl))
    _fj.append("l%d[1] -> filter(|x| x %% 2 == 1) -> [1]m%d;\n" % (lvl, lvl))
    _fj.append("m%d = union() -> map(|x| x + 1) -> l%d;\n" % (lvl, lvl + 1))
_fj.append("l20 = fold(0, |acc, x| acc ^ (x * MIX)) -> for_each(|x| println(x));\n")
SHAPES["fork_join"] = {
    "dfir": "".join(_fj),
    "cpp": cpp_main("""
  int64_t acc = 0;
  for (int64_t x = 0, x_end = bench_n(%d); x < x_end; ++x) {
    int64_t v = x;
    for (int l = 0; l < 20; ++l) {
      if (v %% 2 == 0) v = v + 1;       // the even branch
      else if (v %% 2 == 1) v = v + 1;  // the odd branch
    }
    acc ^= mix(v);
  }
  std::printf("%%lld\\n", (long long)acc);""" % FJ_N),
}

# join: two keyed streams over keys 0..N, joined, checksum of the matches.
J_N = 100_000
SHAPES["join"] = {
    "dfir": """
source_iter(0..bench_n(%d)) -> map(|k| (k, k * 3)) -> [0]j;
source_iter(0..bench_n(%d)) -> map(|k| ((((k as u64) * 7) %% %d) as i64, k)) -> [1]j;
j = join() -> fold(0, |acc, (k, (a, b))| acc + k * 5 + a + b * 2) -> for_each(|x| println(x));
""" % (J_N, J_N, J_N),
    "cpp": cpp_main("""
  std::unordered_map<int64_t, std::vector<int64_t>> left, right;
  int64_t acc = 0;
  for (int64_t k = 0, k_end = bench_n(%d); k < k_end; ++k) left[k].push_back(k * 3);
  for (int64_t k = 0, k_end = bench_n(%d); k < k_end; ++k) right[(int64_t)(((uint64_t)k * 7) %% %du)].push_back(k);
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
source_iter(0..bench_n(%d)) -> [0]c;
source_iter(0..bench_n(%d)) -> map(|x| x + 1) -> [1]c;
c = cross_join_multiset() -> fold(0, |acc, (a, b)| acc ^ (a * b)) -> for_each(|x| println(x));
""" % (CJ_N, CJ_N),
    "cpp": cpp_main("""
  std::vector<int64_t> l, r;
  for (int64_t x = 0, x_end = bench_n(%d); x < x_end; ++x) l.push_back(x);
  for (int64_t x = 0, x_end = bench_n(%d); x < x_end; ++x) r.push_back(x + 1);
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
rep = cross_join_multiset();
source_file("%s") -> [0]rep;
source_iter(0..bench_n(1)) -> [1]rep;
w = rep -> map(|(s, _)| s) -> tee();
w[0] -> flat_map(|s| [format("hi {}", s), format("bye {}", s)]) -> [0]u;
w[1] -> filter(|s| len(s) %% 5 == 0) -> [1]u;
u = union() -> fold(0, |acc, s| acc + len(s)) -> for_each(|x| println(x));
""" % WORDS,
    "cpp": cpp_main("""
  std::ifstream in("%s");
  std::vector<std::string> lines;
  for (std::string s; std::getline(in, s);) lines.push_back(s);
  uint64_t acc = 0;
  for (int64_t r = 0, r_end = bench_n(1); r < r_end; ++r)
    for (const std::string &s : lines) {
      std::string a = "hi " + s, b = "bye " + s;
      acc += a.size() + b.size();
      if (s.size() %% 5 == 0) acc += s.size();
    }
  std::printf("%%llu\\n", (unsigned long long)acc);""" % WORDS, "#include <fstream>\n#include <string>\n#include <vector>\n"),
}

# reachability: from vertex 1 over a pseudo-random graph of 100k vertices and
# 1M edges (the same generator on both sides), as an in-tick fixpoint.
R_V, R_E = 100_000, 1_000_000
EDGE = "((i * 2654435761) %% %d, (i * i * 7 + i * 13 + 5) %% %d)" % (R_V, R_V)
SHAPES["reachability"] = {
    "dfir": """
edges = source_iter(0..bench_n(%d)) -> map(|i| %s);
source_iter([1]) -> reached;
reached = union() -> unique() -> tee();
reached[0] -> map(|v| (v, ())) -> [0]step;
edges -> [1]step;
step = join() -> map(|(_, ((), next))| next) -> [1]reached;
reached[1] -> fold(0, |n, _| n + 1) -> for_each(|n| println(n));
""" % (R_E, EDGE),
    "cpp": cpp_main("""
  std::vector<std::vector<int64_t>> adj(%d);
  for (int64_t i = 0, i_end = bench_n(%d); i < i_end; ++i) {
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


# Every program sees its sizes through bench_n, and mixes with one constant.
DFIR_PRELUDE = "extern fn bench_n(n: i64) -> i64;\nconst MIX: i64 = -7046029254386353131;\n"
CPP_PRELUDE = """#include <cstdint>
extern "C" int64_t bench_n(int64_t n);
static inline int64_t mix(int64_t x) { return (int64_t)((uint64_t)x * 0x9E3779B97F4A7C15ull); }
"""
for _shape in SHAPES.values():
    _shape["dfir"] = DFIR_PRELUDE + _shape["dfir"]
    _shape["cpp"] = CPP_PRELUDE + _shape["cpp"]

# micro_ops: one operator each over 10,000 ints in 0..100 (the same formula on both sides), repeated for
# MR ticks so that the operator, not process start-up, dominates; each tick prints an order-independent
# checksum (a sum) unless the operator orders its output.
MR, MN = 100, 10_000
# The formula in unsigned arithmetic on both sides (see the module's note).
VALUE_DFIR = "((((i as u64) * 2654435761) % 1000003) % 100) as i64"
VALUE_CPP = "(int64_t)((((uint64_t)i * 2654435761u) % 1000003u) % 100u)"
_TICKS = """
ticks = union() -> tee();
source_iter([0]) -> ticks;
ticks -> filter(|t| t < %d) -> map(|t| t + 1) -> defer_tick() -> ticks;
data = ticks -> flat_map(|t| 0..bench_n(%d)) -> map(|i| %s) -> tee();
""" % (MR - 1, MN, VALUE_DFIR)
_CPP_DATA = """
  const int64_t n = bench_n(%d);
  std::vector<int64_t> data(n);
"""  % MN
# Like the DFIR program, each tick makes its items afresh.
_CPP_TICK_DATA = """
    for (int64_t i = 0; i < n; ++i) data[i] = %s;""" % VALUE_CPP


def micro(name, dfir, cpp_body, includes=""):
    SHAPES["micro_" + name] = {
        "dfir": _TICKS + dfir,
        "cpp": cpp_main(_CPP_DATA + ("  for (int t = 0; t < %d; ++t) {" % MR) + _CPP_TICK_DATA + cpp_body + "\n  }",
                        "#include <vector>\n" + includes),
    }


micro("unique", "data -> unique() -> fold(0, |s, x| s + x) -> for_each(|s| println(s));\n", """
    std::unordered_set<int64_t> seen;
    int64_t s = 0;
    for (int64_t x : data)
      if (seen.insert(x).second) s += x;
    std::printf("%lld\\n", (long long)s);""", "#include <unordered_set>\n")
micro("sort", "data -> sort() -> fold(0, |h, x| h * 31 + x) -> for_each(|h| println(h));\n", """
    std::vector<int64_t> v(data);
    std::stable_sort(v.begin(), v.end());
    uint64_t h = 0;
    for (int64_t x : v) h = h * 31 + (uint64_t)x;
    std::printf("%lld\\n", (long long)h);""", "#include <algorithm>\n")
micro("fold", "data -> fold(0, |s, x| s ^ (x * MIX)) -> for_each(|s| println(s));\n", """
    int64_t s = 0;
    for (int64_t x : data) s ^= mix(x);
    std::printf("%lld\\n", (long long)s);""")
micro("fold_keyed", "data -> map(|x| (x % 10, x)) -> fold_keyed(|| 0, |a, x| a + x)"
      " -> fold(0, |s, (k, a)| s ^ ((k * 1000000 + a) * MIX)) -> for_each(|s| println(s));\n", """
    std::unordered_map<int64_t, int64_t> acc;
    for (int64_t x : data) acc[x % 10] += x;
    int64_t s = 0;
    for (auto &[k, a] : acc) s ^= mix(k * 1000000 + a);
    std::printf("%lld\\n", (long long)s);""", "#include <unordered_map>\n")
micro("reduce_keyed", "data -> map(|x| (x % 7, x)) -> reduce_keyed(|a, x| a ^ (x * MIX))"
      " -> fold(0, |s, (k, a)| s ^ ((k * 1000000 + a) * MIX)) -> for_each(|s| println(s));\n", """
    std::unordered_map<int64_t, int64_t> acc;
    for (int64_t x : data) {
      auto [it, fresh] = acc.try_emplace(x % 7, x);
      if (!fresh) it->second ^= mix(x);
    }
    int64_t s = 0;
    for (auto &[k, a] : acc) s ^= mix((int64_t)((uint64_t)k * 1000000u + (uint64_t)a));
    std::printf("%lld\\n", (long long)s);""", "#include <unordered_map>\n")
def _negated_cpp(kept):
    """The baseline of difference/anti_join: a set of the [neg] keys, then the [pos] items not in it."""
    return """
    std::unordered_set<int64_t> neg;
    for (int64_t x : data)
      if (x %% 3 == 0) neg.insert(x);
    int64_t s = 0;
    for (int64_t x : data)
      if (!neg.count(x)) s += %s;
    std::printf("%%lld\\n", (long long)s);""" % kept


micro("difference", "data -> [pos]d;\ndata -> filter(|x| x % 3 == 0) -> [neg]d;\n"
      "d = difference() -> fold(0, |s, x| s + x) -> for_each(|s| println(s));\n", _negated_cpp("x"),
      "#include <unordered_set>\n")
micro("anti_join", "data -> map(|x| (x, x * 2)) -> [pos]a;\ndata -> filter(|x| x % 3 == 0) -> [neg]a;\n"
      "a = anti_join() -> fold(0, |s, (k, v)| s + k + v) -> for_each(|s| println(s));\n", _negated_cpp("x + x * 2"),
      "#include <unordered_set>\n")
micro("enumerate", "data -> enumerate() -> fold(0, |s, (i, x)| s ^ ((i as i64 * 100 + x) * MIX))"
      " -> for_each(|s| println(s));\n", """
    int64_t s = 0, i = 0;
    for (int64_t x : data) s ^= mix(i++ * 100 + x);
    std::printf("%lld\\n", (long long)s);""")
# next_tick: each tick 1024 new items enter a chain of 10 defer_ticks; the items leaving it are summed.
SHAPES["micro_next_tick"] = {
    "dfir": """
ticks = union() -> tee();
source_iter([0]) -> ticks;
ticks -> filter(|t| t < %d) -> map(|t| t + 1) -> defer_tick() -> ticks;
ticks -> flat_map(|t| 0..bench_n(1024)) -> map(|i| i as u64)
  %s -> fold(0u64, |s, x| s + x) -> for_each(|s| println(s));
""" % (MR * 10 - 1, "-> defer_tick() " * 10),
    "cpp": cpp_main("""
  // A delay line of 10 stages: what enters in tick t leaves in tick t + 10.
  const int64_t n = bench_n(1024);
  std::vector<std::vector<uint64_t>> stages(11);
  for (int t = 0; t < %d + 10; ++t) {
    std::vector<uint64_t> fresh;
    if (t < %d)
      for (int64_t i = 0; i < n; ++i) fresh.push_back((uint64_t)i);
    for (int k = 10; k > 0; --k) stages[k].swap(stages[k - 1]);
    stages[0].swap(fresh);
    uint64_t s = 0;
    for (uint64_t x : stages[10]) s += x;
    stages[10].clear();
    std::printf("%%llu\\n", (unsigned long long)s);
  }""" % (MR * 10, MR * 10), "#include <vector>\n"),
}
# Growing accumulators: a list appended to, and a map of counts, one item at a time. Each update is in
# place (an amortized append, a binary search and, for a new key, a move of the entries after it);
# copying the accumulator per item, as before, took quadratic time.
micro("fold_list", "data -> fold([], |l, x| l + [x]) -> map(|l| (len(l) as i64) * 1000 + l[len(l) - 1])"
      " -> for_each(|s| println(s));\n", """
    std::vector<int64_t> l;
    for (int64_t x : data) l.push_back(x);
    std::printf("%lld\\n", (long long)((int64_t)l.size() * 1000 + l.back()));""")
micro("fold_map", "data -> map(|x| (x * 7919) % 1009) -> fold(empty_map(), |m: Map<i64, i64>, x| insert(m, x, "
      "match get(m, x) { Some(c) => c + 1, None => 1 })) -> flat_map(|m| m)"
      " -> fold(0, |s, (k, c)| s ^ ((k * 1000000 + c) * MIX)) -> for_each(|s| println(s));\n", """
    std::map<int64_t, int64_t> counts;
    for (int64_t x : data) counts[(x * 7919) % 1009] += 1;
    int64_t s = 0;
    for (auto &[k, c] : counts) s ^= mix(k * 1000000 + c);
    std::printf("%lld\\n", (long long)s);""", "#include <map>\n")
for _name in [k for k in SHAPES if k.startswith("micro_")]:
    if not SHAPES[_name]["dfir"].startswith(DFIR_PRELUDE):
        SHAPES[_name]["dfir"] = DFIR_PRELUDE + SHAPES[_name]["dfir"]
        SHAPES[_name]["cpp"] = CPP_PRELUDE + SHAPES[_name]["cpp"]
