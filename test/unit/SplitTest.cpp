// ObjectEmitter::compile: a module compiled in parts gives one object per
// part, and a module with an alias (which splitting cannot place with
// what it names) stays whole.
#include "backend-llvm/ObjectEmitter.h"

#include "llvm/IR/IRBuilder.h"

#include <gtest/gtest.h>

namespace {

/// Two exported functions, each returning its argument plus a constant,
/// and, with `alias`, an alias of the first.
std::unique_ptr<llvm::Module> twoFunctions(llvm::LLVMContext &ctx, const llvm::DataLayout &layout, bool alias) {
  auto m = std::make_unique<llvm::Module>("split", ctx);
  m->setDataLayout(layout);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *type = llvm::FunctionType::get(i64, {i64}, false);
  llvm::Function *first = nullptr;
  for (const char *name : {"first", "second"}) {
    auto *f = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, *m);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
    b.CreateRet(b.CreateAdd(f->getArg(0), b.getInt64(name[0])));
    if (!first) first = f;
  }
  if (alias) llvm::GlobalAlias::create("first_again", first);
  return m;
}

TEST(Split, APartPerObjectAndAModuleWithAnAliasWhole) {
  auto emitter = dfir::backend::ObjectEmitter::create(2);
  ASSERT_TRUE(static_cast<bool>(emitter)) << llvm::toString(emitter.takeError());
  auto &e = **emitter;
  auto parts = e.compile(twoFunctions(e.context(), e.dataLayout(), false), 2, "test");
  ASSERT_TRUE(static_cast<bool>(parts)) << llvm::toString(parts.takeError());
  EXPECT_EQ(parts->size(), 2u);
  for (const std::string &object : *parts) EXPECT_EQ(object.substr(0, 4), "\x7f" "ELF");
  auto whole = e.compile(twoFunctions(e.context(), e.dataLayout(), true), 2, "test");
  ASSERT_TRUE(static_cast<bool>(whole)) << llvm::toString(whole.takeError());
  EXPECT_EQ(whole->size(), 1u);
}

TEST(Split, PartsGoBySizeInPowersOfTwo) {
  using dfir::backend::ObjectEmitter;
  EXPECT_EQ(ObjectEmitter::unitsFor(999), 1u);
  EXPECT_EQ(ObjectEmitter::unitsFor(1000), 2u);
  EXPECT_EQ(ObjectEmitter::unitsFor(3999), 4u);
  EXPECT_EQ(ObjectEmitter::unitsFor(4000), 8u);
  EXPECT_EQ(ObjectEmitter::unitsFor(1000000), 8u);
}

} // namespace
