// The receiving side of a deployed instance must never read outside a frame,
// whatever bytes a peer sends. The input is one frame body: byte 0 picks the
// channel's element type (strings, lists, enums, options and a recursive
// struct among them), bytes 1..4 the item count, the rest the items, each a
// u32 length then its encoding (docs/runtime.md). The frame check of the
// runtime decides; every frame it accepts is then read again by an
// independent decoder written from the encoding's description, which traps
// on any read past an item's end and checks that each item is consumed
// exactly. Built as a libFuzzer target with clang (-DDFIR_BUILD_FUZZER=ON)
// and always as `dfir-frame-fuzz-replay` (the lit suite replays mutants).
#include "backend-llvm/WireSchema.h"
#include "ir/Type.h"

extern "C" {
#include "rt_internal.h"
}

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

using dfir::EnumInfo;
using dfir::StructInfo;
using dfir::Type;
using dfir::TypeContext;

struct Types {
  TypeContext ctx;
  std::vector<const Type *> all;
  std::vector<std::vector<uint32_t>> schemas;

  Types() {
    const Type *str = ctx.strType(), *i64 = ctx.i64(), *u8 = ctx.intType(8, false);
    // struct Tree { label: str, kids: [Tree] }
    unsigned tree = ctx.addStruct(StructInfo{"Tree", {}});
    const Type *treeType = ctx.structType(tree);
    ctx.structInfo(tree).fields = {{"label", str}, {"kids", ctx.list(treeType)}};
    // enum Msg { Text(str), Nums([i64]), Node(Tree), Flag(bool), Maybe(Option<str>), Empty }
    unsigned msg = ctx.addEnum(EnumInfo{"Msg",
                                        {{"Text", {str}},
                                         {"Nums", {ctx.list(i64)}},
                                         {"Node", {treeType}},
                                         {"Flag", {ctx.boolType()}},
                                         {"Maybe", {ctx.option(str)}},
                                         {"Empty", {}}}});
    all = {ctx.enumType(msg),
           ctx.tuple({str, ctx.list(ctx.tuple({u8, ctx.option(ctx.f64())}))}),
           ctx.list(ctx.list(ctx.unitType())),
           ctx.tuple({i64, ctx.f64()}),
           treeType};
    for (const Type *t : all) schemas.push_back(dfir::backend::wireSchema(t, ctx));
  }
};

/// Reads a value of `t` from [at, end), trapping on any read past `end`.
struct Reader {
  const TypeContext &ctx;
  const unsigned char *p;
  uint64_t end;
  int depth = 0;

  void need(uint64_t at, uint64_t n) {
    if (n > end || at > end - n) __builtin_trap();
  }
  uint64_t u64(uint64_t at) {
    need(at, 8);
    uint64_t v;
    std::memcpy(&v, p + at, 8);
    return v;
  }
  uint64_t read(const Type *t, uint64_t at) {
    if (++depth > DFIR_WIRE_MAX_DEPTH + 1) __builtin_trap();
    uint64_t next = at;
    switch (t->kind) {
    case Type::Unit: break;
    case Type::Bool: need(at, 1); next = at + 1; break;
    case Type::Int:
    case Type::Float: need(at, t->bits / 8); next = at + t->bits / 8; break;
    case Type::Str: {
      uint64_t n = u64(at);
      need(at + 8, n);
      next = at + 8 + n;
      break;
    }
    case Type::Option: need(at, 1); next = read(t->elems[0], at + 1); break;
    case Type::List: {
      uint64_t n = u64(at);
      next = at + 8;
      for (uint64_t i = 0; i < n; ++i) next = read(t->elems[0], next);
      break;
    }
    case Type::Tuple:
      for (const Type *f : t->elems) next = read(f, next);
      break;
    case Type::Struct:
      for (auto &[name, f] : ctx.structInfo(t->id).fields) next = read(f, next);
      break;
    case Type::Enum: {
      need(at, 4);
      uint32_t tag;
      std::memcpy(&tag, p + at, 4);
      const EnumInfo &info = ctx.enumInfo(t->id);
      if (tag >= info.variants.size()) __builtin_trap();
      next = at + 4;
      for (const Type *f : info.variants[tag].fields) next = read(f, next);
      break;
    }
    default: __builtin_trap();
    }
    --depth;
    return next;
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Types types;
  if (size < 5) return 0;
  size_t which = data[0] % types.all.size();
  uint32_t count;
  std::memcpy(&count, data + 1, 4);
  // A copy of exactly the body, so that any read past it is a read past
  // the allocation (AddressSanitizer) as well as past the frame.
  std::vector<char> body(data + 5, data + size);
  const char *why = dfir_rt_frame_check(types.schemas[which].data(), body.data(), body.size(), count);
  if (why) return 0;
  // Accepted: every item must read back exactly within its length.
  uint64_t at = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (at + 4 > body.size()) __builtin_trap();
    uint32_t len;
    std::memcpy(&len, body.data() + at, 4);
    Reader reader{types.ctx, reinterpret_cast<const unsigned char *>(body.data()) + at + 4, len};
    if (reader.read(types.all[which], 0) != len) __builtin_trap();
    at += 4 + static_cast<uint64_t>(len);
  }
  if (at != body.size()) __builtin_trap();
  return 0;
}
