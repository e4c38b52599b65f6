// Unit tests of the C runtime, built with AddressSanitizer and
// UndefinedBehaviorSanitizer (a separately compiled copy of the runtime;
// the archive users link is never instrumented).
#include "dfir_rt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {
std::string str(const char *p, uint64_t n) { return std::string(p, n); }
std::string str(dfir_str s) { return std::string(s.ptr, s.len); }
} // namespace

// Generated code's push into a full buffer: the memory moves to room for
// DFIR_RT_VEC_GROWN(cap) items, keeping the items there; a buffer so large
// its room would overflow is an error, not a wrapped size.
TEST(Runtime, VecGrowKeepsItemsAndRefusesOverflow) {
  EXPECT_EQ(DFIR_RT_VEC_GROWN(0), static_cast<uint64_t>(DFIR_RT_VEC_FIRST_CAP));
  EXPECT_EQ(DFIR_RT_VEC_GROWN(16), 32u);
  void *data = dfir_rt_vec_grow(nullptr, 0, sizeof(int64_t));
  uint64_t cap = DFIR_RT_VEC_GROWN(0);
  for (int64_t i = 0; i < 1000; ++i) {
    if (static_cast<uint64_t>(i) == cap) {
      data = dfir_rt_vec_grow(data, cap, sizeof(int64_t));
      cap = DFIR_RT_VEC_GROWN(cap);
    }
    static_cast<int64_t *>(data)[i] = i;
  }
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(static_cast<int64_t *>(data)[i], i);
  free(data);
  EXPECT_DEATH(dfir_rt_vec_grow(nullptr, uint64_t(1) << 62, 8), "a buffer grew past the memory of this machine");
}

TEST(Runtime, VecGrowsAndSwaps) {
  dfir_vec a{}, b{};
  for (int64_t i = 0; i < 1000; ++i) dfir_rt_vec_push(&a, &i, sizeof i);
  ASSERT_EQ(a.len, 1000u);
  EXPECT_EQ(static_cast<int64_t *>(a.data)[999], 999);
  dfir_rt_vec_swap(&b, &a);
  EXPECT_EQ(b.len, 1000u);
  EXPECT_EQ(a.len, 0u);
  dfir_rt_vec_free(&a);
  dfir_rt_vec_free(&b);
}

namespace {
// What generated code does (ops/FixedSet.h): a one-word key's tag and its
// slot, probed linearly from the tag's top bits.
uint64_t fsetTag(uint64_t key) { return key * 0x9E3779B97F4A7C15ull | 1; }
const uint64_t *fsetFind(const dfir_fset &s, uint64_t key, uint64_t words, unsigned *probes = nullptr) {
  uint64_t i = fsetTag(key) >> s.shift;
  for (unsigned n = 1;; ++n, i = (i + 1) & s.mask) {
    const uint64_t *slot = s.slots + i * (words + 1);
    if (probes) *probes = n;
    if (slot[0] == 0) return nullptr;
    if (slot[1] == key) return slot;
  }
}
} // namespace

TEST(Runtime, FixedSetsAddKeysGrowingAtHalfAndFindThemFromTheTopBits) {
  dfir_fset s{};
  dfir_rt_fset_grow(&s, 2); // a key word and a payload word
  ASSERT_EQ(s.mask, 15u);
  EXPECT_EQ(s.shift, 60u);
  EXPECT_EQ(s.limit, 8u);
  auto add = [&](uint64_t from, uint64_t to) {
    for (uint64_t k = from; k < to; ++k) {
      uint64_t *slot = dfir_rt_fset_add(&s, 2, 1, fsetTag(k), k, 0);
      slot[2] = k * 7;
      EXPECT_LE(s.count, s.limit);
    }
  };
  auto findAll = [&](uint64_t to) {
    unsigned worst = 0;
    for (uint64_t k = 0; k < to; ++k) {
      unsigned probes = 0;
      const uint64_t *slot = fsetFind(s, k, 2, &probes);
      EXPECT_NE(slot, nullptr) << k;
      if (slot) {
        EXPECT_EQ(slot[2], k * 7);
      }
      worst = std::max(worst, probes);
    }
    return worst;
  };
  add(0, 100);
  EXPECT_EQ(s.mask, 255u);
  EXPECT_EQ(s.shift, 56u);
  // Consecutive keys go to distinct slots: each is found at the first.
  EXPECT_EQ(findAll(100), 1u);
  add(100, 1000);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_EQ(s.mask, 2047u);
  EXPECT_EQ(s.shift, 53u);
  EXPECT_LE(findAll(1000), 3u);
  EXPECT_EQ(fsetFind(s, 1000, 2), nullptr);
  dfir_rt_fset_clear(&s, 2);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(fsetFind(s, 5, 2), nullptr);
  dfir_rt_fset_free(&s);
  EXPECT_EQ(s.slots, nullptr);
}

TEST(Runtime, FixedSetsKeepTwoWordKeys) {
  dfir_fset s{};
  dfir_rt_fset_grow(&s, 2);
  // Keys that differ only in their second word, and only in high bits.
  for (uint64_t k = 0; k < 100; ++k) dfir_rt_fset_add(&s, 2, 2, (k << 40) * 0x9E3779B97F4A7C15ull | 1, 42, k << 40);
  EXPECT_EQ(s.count, 100u);
  std::vector<uint64_t> seen;
  for (uint64_t i = 0; i <= s.mask; ++i)
    if (s.slots[i * 3]) {
      EXPECT_EQ(s.slots[i * 3 + 1], 42u);
      seen.push_back(s.slots[i * 3 + 2] >> 40);
    }
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), 100u);
  for (uint64_t k = 0; k < 100; ++k) EXPECT_EQ(seen[k], k);
  dfir_rt_fset_free(&s);
}

TEST(Runtime, VecTradeEmptyExchangesOnlyTwoEmptyVectors) {
  dfir_vec a{}, b{};
  int64_t x = 7;
  dfir_rt_vec_push(&a, &x, sizeof x);
  dfir_rt_vec_push(&b, &x, sizeof x);
  void *aData = a.data, *bData = b.data;
  dfir_rt_vec_trade_empty(&a, &b); // both hold an item: nothing
  EXPECT_EQ(a.data, aData);
  EXPECT_EQ(a.len, 1u);
  a.len = 0;
  dfir_rt_vec_trade_empty(&a, &b); // b still holds one: nothing
  EXPECT_EQ(a.data, aData);
  EXPECT_EQ(b.len, 1u);
  b.len = 0;
  dfir_rt_vec_trade_empty(&a, &b); // both empty: their memory trades places
  EXPECT_EQ(a.data, bData);
  EXPECT_EQ(b.data, aData);
  EXPECT_EQ(a.len + b.len, 0u);
  dfir_rt_vec_free(&a);
  dfir_rt_vec_free(&b);
}

TEST(Runtime, VecMoveSwapsIntoAnEmptyVectorAndAppendsOtherwise) {
  dfir_vec from{}, to{};
  for (int64_t i = 0; i < 3; ++i) dfir_rt_vec_push(&from, &i, sizeof i);
  void *buffer = from.data;
  dfir_rt_vec_move(&to, &from, sizeof(int64_t));
  EXPECT_EQ(to.data, buffer); // exchanged, not copied
  EXPECT_EQ(to.len, 3u);
  EXPECT_EQ(from.len, 0u);
  for (int64_t i = 10; i < 12; ++i) dfir_rt_vec_push(&from, &i, sizeof i);
  dfir_rt_vec_move(&to, &from, sizeof(int64_t));
  ASSERT_EQ(to.len, 5u);
  EXPECT_EQ(from.len, 0u);
  int64_t expect[] = {0, 1, 2, 10, 11};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(static_cast<int64_t *>(to.data)[i], expect[i]);
  dfir_rt_vec_free(&from);
  dfir_rt_vec_free(&to);
}

TEST(Runtime, ByteVectorsReserveRoomAndKeepTheirBytes) {
  dfir_vec v{};
  dfir_rt_vec_reserve(&v, 10);
  ASSERT_GE(v.cap, 10u);
  std::memcpy(v.data, "0123456789", 10);
  v.len = 10;
  uint64_t cap = v.cap;
  dfir_rt_vec_reserve(&v, cap - 10); // fits: nothing moves
  EXPECT_EQ(v.cap, cap);
  dfir_rt_vec_reserve(&v, cap * 3); // grows past a doubling
  EXPECT_GE(v.cap, 10 + cap * 3);
  EXPECT_EQ(std::memcmp(v.data, "0123456789", 10), 0);
  dfir_rt_vec_free(&v);
}

TEST(Runtime, SortsSixtyFourBitIntegersSignedAndUnsigned) {
  // Lengths around the merge widths, negative and huge values, duplicates.
  for (uint64_t n : {0u, 1u, 2u, 3u, 7u, 8u, 9u, 100u, 1000u}) {
    for (int is_signed : {1, 0}) {
      dfir_vec v{};
      std::vector<uint64_t> expect;
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t x = (i * 0x9E3779B97F4A7C15ull) ^ (i % 3 == 0 ? 0 : 1ull << 63);
        dfir_rt_vec_push(&v, &x, sizeof x);
        expect.push_back(x);
      }
      if (is_signed)
        std::stable_sort(expect.begin(), expect.end(),
                         [](uint64_t a, uint64_t b) { return static_cast<int64_t>(a) < static_cast<int64_t>(b); });
      else
        std::stable_sort(expect.begin(), expect.end());
      dfir_rt_sort_i64(&v, is_signed);
      ASSERT_EQ(v.len, n);
      for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(static_cast<uint64_t *>(v.data)[i], expect[i]) << n << " " << i;
      dfir_rt_vec_free(&v);
    }
  }
}

TEST(Runtime, SetsDeduplicateByBytes) {
  dfir_table *set = nullptr;
  EXPECT_EQ(dfir_rt_set_insert(&set, "abc", 3), 1);
  EXPECT_EQ(dfir_rt_set_insert(&set, "abc", 3), 0);
  EXPECT_EQ(dfir_rt_set_insert(&set, "ab", 2), 1);
  for (int i = 0; i < 10000; ++i) dfir_rt_set_insert(&set, &i, sizeof i); // forces growth
  EXPECT_TRUE(dfir_rt_set_contains(set, "ab", 2));
  int probe = 9999;
  EXPECT_TRUE(dfir_rt_set_contains(set, &probe, sizeof probe));
  dfir_rt_table_clear(set);
  EXPECT_FALSE(dfir_rt_set_contains(set, "ab", 2));
  dfir_rt_table_free(&set);
  EXPECT_EQ(set, nullptr);
}

// Short keys index by their own bits; keys sharing all their low bits (here
// multiples of 2^20, and the same bits at different lengths) must still be
// told apart, found, and iterated once each in insertion order.
TEST(Runtime, SetsOfPatternedShortKeys) {
  dfir_table *set = nullptr;
  const uint64_t n = 20000;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t k = i << 20;
    EXPECT_EQ(dfir_rt_set_insert(&set, &k, 8), 1);
  }
  uint32_t zero = 0;
  EXPECT_EQ(dfir_rt_set_insert(&set, &zero, 4), 1); // same bits as key 0, other length
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t k = i << 20;
    ASSERT_TRUE(dfir_rt_set_contains(set, &k, 8)) << i;
    EXPECT_EQ(dfir_rt_set_insert(&set, &k, 8), 0);
  }
  uint64_t missing = (n << 20) + 1;
  EXPECT_FALSE(dfir_rt_set_contains(set, &missing, 8));
  uint64_t cursor = 0, seen = 0, klen = 0;
  while (const void *e = dfir_rt_table_next(set, &cursor)) {
    const void *key = dfir_rt_entry_key(e, &klen);
    if (seen < n) {
      uint64_t k = 0;
      std::memcpy(&k, key, 8);
      EXPECT_EQ(k, seen << 20);
    } else {
      EXPECT_EQ(klen, 4u);
    }
    ++seen;
  }
  EXPECT_EQ(seen, n + 1);
  dfir_rt_table_free(&set);
}

// An index slot holds only a 32-bit check of its key's hash. Two keys with
// the same check that start probing at the same slot must still be told
// apart by their entries. The pair is found by search among scattered keys
// (consecutive ones never share a check), so the test follows the hash.
TEST(Runtime, SetsTellApartKeysWithTheSameSlotCheck) {
  const uint64_t mul = 0x9E3779B97F4A7C15ull;
  std::unordered_map<uint64_t, uint64_t> byCheck;
  uint64_t a = 0, b = 0;
  for (uint64_t i = 1; !b; ++i) {
    uint64_t k = i * 0xD1B54A32D192ED03ull;
    k = (k ^ (k >> 29)) << 4; // not a multiple of one number; the same low bits: the same first slot
    auto [it, fresh] = byCheck.emplace((k * mul) >> 32, k);
    if (!fresh) a = it->second, b = k;
  }
  dfir_table *map = nullptr;
  EXPECT_EQ(dfir_rt_map_insert(&map, &a, 8, "a", 1, 0), 1);
  EXPECT_FALSE(dfir_rt_set_contains(map, &b, 8));
  EXPECT_EQ(dfir_rt_map_insert(&map, &b, 8, "b", 1, 0), 1);
  for (uint64_t i = 1; i < 5000; ++i) dfir_rt_map_insert(&map, &i, 8, "", 0, 0); // grows the index
  uint64_t len = 0;
  for (auto [key, want] : {std::pair{a, 'a'}, std::pair{b, 'b'}}) {
    const void *e = dfir_rt_map_find(map, &key, 8);
    ASSERT_EQ(dfir_rt_entry_count(e), 1u) << key;
    EXPECT_EQ(*static_cast<const char *>(dfir_rt_entry_value(e, 0, &len)), want);
  }
  dfir_rt_table_free(&map);
}

// The index grows by placing every entry again from its stored hash:
// long and short keys, removed keys (which can come back) and each value's
// length all survive many growths.
TEST(Runtime, TablesKeepKeysValuesAndRemovalsAcrossGrowth) {
  dfir_table *map = nullptr;
  auto longKey = [](int i) { return "a key longer than a word #" + std::to_string(i); };
  for (int i = 0; i < 3000; ++i) {
    std::string k = longKey(i);
    dfir_rt_map_insert(&map, k.data(), k.size(), k.data(), static_cast<uint64_t>(i % 7), 1);
    if (i % 3 == 0) dfir_rt_map_insert(&map, &i, sizeof i, "xyz", static_cast<uint64_t>(i % 4), 1);
    if (i % 100 == 0) {
      int gone = i / 2;
      dfir_rt_table_remove(map, &gone, sizeof gone);
    }
  }
  for (int i = 0; i < 3000; ++i) {
    std::string k = longKey(i);
    const void *e = dfir_rt_map_find(map, k.data(), k.size());
    ASSERT_EQ(dfir_rt_entry_count(e), 1u) << i;
    uint64_t len = 99;
    const char *value = static_cast<const char *>(dfir_rt_entry_value(e, 0, &len));
    EXPECT_EQ(str(value, len), k.substr(0, i % 7));
    bool removed = i % 3 == 0 && i % 50 == 0 && i < 1500;
    EXPECT_EQ(dfir_rt_entry_count(dfir_rt_map_find(map, &i, sizeof i)), i % 3 == 0 && !removed ? 1u : 0u) << i;
  }
  int back = 0; // removed at i == 0: comes back with a new value
  EXPECT_EQ(dfir_rt_map_insert(&map, &back, sizeof back, "q", 1, 1), 1);
  EXPECT_EQ(dfir_rt_entry_count(dfir_rt_map_find(map, &back, sizeof back)), 1u);
  // Many values under one key: their array grows, lengths kept per value.
  for (uint64_t v = 0; v < 100; ++v) dfir_rt_map_insert(&map, "many", 4, "0123456789", v % 11, 1);
  const void *e = dfir_rt_map_find(map, "many", 4);
  ASSERT_EQ(dfir_rt_entry_count(e), 100u);
  for (uint64_t v = 0; v < 100; ++v) {
    uint64_t len = 99;
    dfir_rt_entry_value(e, v, &len);
    EXPECT_EQ(len, v % 11);
  }
  dfir_rt_table_free(&map);
}

// map_put keeps one value per key, whether the new value is longer (room is
// regrown) or shorter (the old room is reused) than the last.
TEST(Runtime, MapPutReplacesGrowingAndShrinkingValues) {
  dfir_table *map = nullptr;
  std::string acc;
  for (int i = 0; i < 200; ++i) {
    acc += static_cast<char>('a' + i % 26);
    dfir_rt_map_put(&map, "k", 1, acc.data(), acc.size());
    dfir_rt_map_put(&map, "other", 5, &i, sizeof i);
  }
  const void *e = dfir_rt_map_find(map, "k", 1);
  ASSERT_EQ(dfir_rt_entry_count(e), 1u);
  uint64_t len = 0;
  const char *v = static_cast<const char *>(dfir_rt_entry_value(e, 0, &len));
  EXPECT_EQ(str(v, len), acc);
  dfir_rt_map_put(&map, "k", 1, "xy", 2);
  v = static_cast<const char *>(dfir_rt_entry_value(dfir_rt_map_find(map, "k", 1), 0, &len));
  EXPECT_EQ(str(v, len), "xy");
  int last = 0;
  std::memcpy(&last, dfir_rt_entry_value(dfir_rt_map_find(map, "other", 5), 0, &len), sizeof last);
  EXPECT_EQ(last, 199);
  dfir_rt_table_free(&map);
}

// persist_mut's `Delete`: removed keys disappear from lookups and iteration,
// come back where they were when inserted again, and once they outnumber
// the live keys the table is rebuilt without them, values intact.
TEST(Runtime, RemovedKeysLeaveLookupsAndIteration) {
  dfir_table *map = nullptr;
  auto keys = [&] {
    std::vector<int> out;
    uint64_t cursor = 0;
    while (const void *e = dfir_rt_table_next(map, &cursor)) {
      uint64_t len = 0;
      int k = 0;
      std::memcpy(&k, dfir_rt_entry_key(e, &len), sizeof k);
      out.push_back(k);
    }
    return out;
  };
  for (int i = 0; i < 4; ++i) dfir_rt_map_insert(&map, &i, sizeof i, "v", 1, 1);
  int two = 2, nine = 9;
  EXPECT_EQ(dfir_rt_table_remove(map, &two, sizeof two), 1);
  EXPECT_EQ(dfir_rt_table_remove(map, &two, sizeof two), 0);
  EXPECT_EQ(dfir_rt_table_remove(map, &nine, sizeof nine), 0);
  EXPECT_EQ(dfir_rt_entry_count(dfir_rt_map_find(map, &two, sizeof two)), 0u);
  EXPECT_EQ(keys(), (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(dfir_rt_map_insert(&map, &two, sizeof two, "w", 1, 1), 1);
  EXPECT_EQ(keys(), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(dfir_rt_entry_count(dfir_rt_map_find(map, &two, sizeof two)), 1u);
  // Many removals: the table compacts; what is left keeps its values.
  for (int i = 4; i < 1000; ++i) dfir_rt_map_insert(&map, &i, sizeof i, &i, sizeof i, 1);
  for (int i = 0; i < 1000; ++i)
    if (i % 10 != 7) dfir_rt_table_remove(map, &i, sizeof i);
  std::vector<int> left = keys();
  ASSERT_EQ(left.size(), 100u);
  for (size_t j = 0; j < left.size(); ++j) {
    EXPECT_EQ(left[j], static_cast<int>(j * 10 + 7));
    uint64_t len = 0;
    int v = 0;
    const void *e = dfir_rt_map_find(map, &left[j], sizeof left[j]);
    ASSERT_EQ(dfir_rt_entry_count(e), 1u);
    std::memcpy(&v, dfir_rt_entry_value(e, 0, &len), sizeof v);
    EXPECT_EQ(v, left[j]);
  }
  dfir_rt_table_free(&map);
}

TEST(Runtime, MultimapsKeepDistinctOrAllValues) {
  dfir_table *map = nullptr;
  EXPECT_EQ(dfir_rt_map_insert(&map, "k", 1, "x", 1, 0), 1);
  EXPECT_EQ(dfir_rt_map_insert(&map, "k", 1, "x", 1, 0), 0);
  EXPECT_EQ(dfir_rt_map_insert(&map, "k", 1, "x", 1, 1), 1);
  EXPECT_EQ(dfir_rt_map_insert(&map, "k", 1, "yy", 2, 0), 1);
  const void *e = dfir_rt_map_find(map, "k", 1);
  ASSERT_EQ(dfir_rt_entry_count(e), 3u);
  uint64_t len = 0;
  const char *v = static_cast<const char *>(dfir_rt_entry_value(e, 2, &len));
  EXPECT_EQ(str(v, len), "yy");
  EXPECT_EQ(dfir_rt_entry_count(dfir_rt_map_find(map, "q", 1)), 0u);
  dfir_rt_map_put(&map, "k", 1, "z", 1);
  e = dfir_rt_map_find(map, "k", 1);
  ASSERT_EQ(dfir_rt_entry_count(e), 1u);
  uint64_t cursor = 0, seen = 0;
  while (dfir_rt_table_next(map, &cursor)) ++seen;
  EXPECT_EQ(seen, 1u);
  dfir_rt_table_free(&map);
}

TEST(Runtime, HashIsStable) {
  // The value is part of the language (hash() is stable across runs).
  EXPECT_EQ(dfir_rt_hash_bytes("", 0), dfir_rt_hash_bytes("", 0));
  EXPECT_NE(dfir_rt_hash_bytes("a", 1), dfir_rt_hash_bytes("b", 1));
}

TEST(Runtime, SplitLikeTheLanguage) {
  dfir_str *items = nullptr;
  uint64_t n = 0;
  dfir_rt_str_split("a,,b", 4, ",", 1, &items, &n);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(str(items[0]), "a");
  EXPECT_EQ(str(items[1]), "");
  EXPECT_EQ(str(items[2]), "b");
  dfir_rt_str_split("", 0, ",", 1, &items, &n);
  EXPECT_EQ(n, 1u);
  dfir_rt_str_split("ab", 2, "", 0, &items, &n);
  EXPECT_EQ(n, 4u);
  // An empty separator splits between characters, not bytes.
  dfir_rt_str_split("\xc3\xa9x", 3, "", 0, &items, &n);
  ASSERT_EQ(n, 4u);
  EXPECT_EQ(str(items[1]), "\xc3\xa9");
  EXPECT_EQ(str(items[2]), "x");
  dfir_rt_tick_done();
  dfir_rt_tick_done();
}

TEST(Runtime, ParsesNumbersLikeRust) {
  int64_t i = 0;
  double d = 0;
  EXPECT_TRUE(dfir_rt_parse_i64("-9223372036854775808", 20, &i));
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_FALSE(dfir_rt_parse_i64("9223372036854775808", 19, &i));
  EXPECT_FALSE(dfir_rt_parse_i64(" 1", 2, &i));
  EXPECT_FALSE(dfir_rt_parse_i64("", 0, &i));
  EXPECT_TRUE(dfir_rt_parse_f64("-Infinity", 9, &d));
  EXPECT_TRUE(d < 0 && d * 0 != d * 0);
  EXPECT_TRUE(dfir_rt_parse_f64("nan", 3, &d));
  EXPECT_TRUE(dfir_rt_parse_f64("1.5e3", 5, &d));
  EXPECT_EQ(d, 1500.0);
  EXPECT_FALSE(dfir_rt_parse_f64("0x10", 4, &d));
  EXPECT_FALSE(dfir_rt_parse_f64("1.5 ", 4, &d));
  // A NUL inside is not part of a number; long spellings still parse.
  EXPECT_FALSE(dfir_rt_parse_f64("2\0", 2, &d));
  EXPECT_FALSE(dfir_rt_parse_f64("1.5\0x", 5, &d));
  std::string tiny = "0." + std::string(600, '0') + "1e601";
  EXPECT_TRUE(dfir_rt_parse_f64(tiny.data(), tiny.size(), &d));
  EXPECT_EQ(d, 1.0);
}

TEST(Runtime, StringPredicatesAndOrder) {
  const char *out;
  uint64_t len;
  dfir_rt_str_trim(" \tx y\n", 6, &out, &len);
  EXPECT_EQ(str(out, len), "x y");
  dfir_rt_str_upper("aZ1", 3, &out, &len);
  EXPECT_EQ(str(out, len), "AZ1");
  EXPECT_TRUE(dfir_rt_str_contains("hello", 5, "ll", 2));
  EXPECT_FALSE(dfir_rt_str_starts_with("he", 2, "hello", 5));
  EXPECT_TRUE(dfir_rt_str_ends_with("hello", 5, "lo", 2));
  EXPECT_LT(dfir_rt_str_compare("ab", 2, "abc", 3), 0);
  EXPECT_GT(dfir_rt_str_compare("b", 1, "abc", 3), 0);
  EXPECT_EQ(dfir_rt_str_compare("", 0, "", 0), 0);
  dfir_rt_tick_done();
  dfir_rt_tick_done();
}

TEST(Runtime, TickMemorySurvivesOneTick) {
  char *p = static_cast<char *>(dfir_rt_alloc(100));
  std::memset(p, 'x', 100);
  dfir_rt_tick_done(); // still valid in the next tick
  EXPECT_EQ(p[99], 'x');
  dfir_rt_tick_done();
  // Large allocations get their own chunk.
  char *big = static_cast<char *>(dfir_rt_alloc(1 << 20));
  big[(1 << 20) - 1] = 1;
  dfir_rt_tick_done();
  dfir_rt_tick_done();
}

TEST(Runtime, TickMemoryReleasedToAMarkIsReused) {
  char *kept = static_cast<char *>(dfir_rt_alloc(32));
  std::memset(kept, 'k', 32);
  void *mark = dfir_rt_mark();
  char *first = static_cast<char *>(dfir_rt_alloc(48));
  dfir_rt_release(mark);
  // The same place again, and what came before the mark is untouched.
  EXPECT_EQ(static_cast<char *>(dfir_rt_alloc(48)), first);
  dfir_rt_release(mark);
  // Across chunks: many items after the mark, then back to it.
  for (int i = 0; i < 5000; ++i) std::memset(dfir_rt_alloc(100), 'z', 100);
  char *big = static_cast<char *>(dfir_rt_alloc(1 << 20));
  big[(1 << 20) - 1] = 1;
  dfir_rt_release(mark);
  EXPECT_EQ(static_cast<char *>(dfir_rt_alloc(48)), first);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(kept[i], 'k');
  dfir_rt_tick_done();
  dfir_rt_tick_done();
  // A mark taken before anything was allocated gives everything back.
  void *empty = dfir_rt_mark();
  EXPECT_EQ(empty, nullptr);
  for (int i = 0; i < 2000; ++i) std::memset(dfir_rt_alloc(100), 'z', 100);
  dfir_rt_release(empty);
  EXPECT_EQ(dfir_rt_mark(), nullptr);
  dfir_rt_tick_done();
  dfir_rt_tick_done();
}

TEST(Runtime, StringBuilderCollectsStream3) {
  dfir_rt_write(3, "ab", 2);
  dfir_rt_write_i64(3, -42);
  dfir_rt_write_f64(3, 2.0);
  dfir_rt_write_quoted_parts(3, "q\"", 2);
  const char *p;
  uint64_t n;
  dfir_rt_take_string(&p, &n);
  EXPECT_EQ(str(p, n), "ab-422.0\"q\\\"\"");
  dfir_rt_write_f64(3, 0.1);
  dfir_rt_write(3, " ", 1);
  dfir_rt_write_f64(3, 1e20);
  dfir_rt_take_string(&p, &n);
  EXPECT_EQ(str(p, n), "0.1 100000000000000000000.0");
  dfir_rt_tick_done();
  dfir_rt_tick_done();
}
