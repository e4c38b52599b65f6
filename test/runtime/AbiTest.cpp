// The runtime ABI, declared twice on purpose (the C header the runtime is
// compiled from, and backend-llvm/RuntimeCalls.def that code generation
// declares calls from), checked to agree type by type: every row's result
// and parameters against the C prototype of its symbol.
#include "dfir_rt.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <type_traits>

namespace {

/// The LLVM type the code generator uses for a C type, spelled as in
/// RuntimeCalls.def.
template <class T> std::string spell() {
  if constexpr (std::is_void_v<T>) return "Void";
  else if constexpr (std::is_pointer_v<T>) return "Ptr";
  else if constexpr (std::is_same_v<T, float>) return "F32";
  else if constexpr (std::is_same_v<T, double>) return "F64";
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4) return "I32";
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 8) return "I64";
  else return "?";
}

template <class R, class... A> std::string signature(R (*)(A...)) {
  std::string out = spell<R>() + "(";
  std::string sep;
  ((out += sep + spell<A>(), sep = ", "), ...);
  return out + ")";
}

struct Row {
  const char *symbol;
  std::string fromHeader, fromTable;
};

const Row kRows[] = {
#define DFIR_RT_FN(NAME, SYMBOL, RESULT, ...) {#SYMBOL, signature(&SYMBOL), #RESULT "(" #__VA_ARGS__ ")"},
#include "backend-llvm/RuntimeCalls.def"
};

} // namespace

TEST(Abi, EveryCallMatchesItsCPrototype) {
  EXPECT_GT(sizeof kRows / sizeof kRows[0], 40u);
  for (const Row &r : kRows) EXPECT_EQ(r.fromHeader, r.fromTable) << r.symbol;
}

TEST(Abi, SpellingCatchesAMismatch) {
  // The check above would see a wrong row: an i32 where the header has a
  // 64-bit integer, a missing parameter.
  EXPECT_EQ(signature(&dfir_rt_hash_bytes), "I64(Ptr, I64)");
  EXPECT_NE(signature(&dfir_rt_hash_bytes), "I64(Ptr, I32)");
  EXPECT_NE(signature(&dfir_rt_vec_swap), "Void(Ptr)");
}
