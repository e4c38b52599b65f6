// The one translation unit that includes PassBuilder: -O0..-O3 map to
// LLVM's default pipelines.
#include "backend-llvm/Jit.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/PatternMatch.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/Utils/LoopUtils.h"

namespace dfir::backend {

namespace {

/// A counter offset by a constant, `i + c` in a loop that uses `i` for
/// nothing else but counting, becomes a counter of its own that starts at
/// `start + c`. The same values, one add fewer in the vectorized loop: the
/// vectorizer steps a vector of them instead of stepping the counter's
/// vector and adding `c` to it. (A chain of `map(|x| x + 1)` over a range
/// fuses into such a loop; clang gets the same loop from C++ when it
/// rewrites an inner loop's exit value.)
struct OffsetCounters : llvm::PassInfoMixin<OffsetCounters> {
  llvm::PreservedAnalyses run(llvm::Function &f, llvm::FunctionAnalysisManager &fam) {
    bool changed = false;
    for (llvm::Loop *l : fam.getResult<llvm::LoopAnalysis>(f).getLoopsInPreorder()) changed |= rewrite(*l);
    if (!changed) return llvm::PreservedAnalyses::all();
    llvm::PreservedAnalyses kept;
    kept.preserveSet<llvm::CFGAnalyses>();
    return kept;
  }

  static bool rewrite(llvm::Loop &l) {
    using namespace llvm::PatternMatch;
    // The block before the loop (its one way in; the loop need not be in
    // simplified form here) and the one back edge.
    llvm::BasicBlock *header = l.getHeader(), *pre = l.getLoopPredecessor(), *latch = l.getLoopLatch();
    if (!pre || !latch) return false;
    bool changed = false;
    for (llvm::PHINode &phi : llvm::make_early_inc_range(header->phis())) {
      if (!phi.getType()->isIntegerTy() || phi.getNumIncomingValues() != 2) continue;
      auto *inc = llvm::dyn_cast<llvm::BinaryOperator>(phi.getIncomingValueForBlock(latch));
      llvm::ConstantInt *step = nullptr;
      if (!inc || !match(inc, m_Add(m_Specific(&phi), m_ConstantInt(step)))) continue;
      // The counter's one other use: an add of a constant in the loop.
      llvm::BinaryOperator *offset = nullptr;
      llvm::ConstantInt *c = nullptr;
      bool only = true;
      for (llvm::User *u : phi.users()) {
        if (u == inc) continue;
        auto *add = llvm::dyn_cast<llvm::BinaryOperator>(u);
        if (offset || !add || !l.contains(add) || !match(add, m_Add(m_Specific(&phi), m_ConstantInt(c)))) {
          only = false;
          break;
        }
        offset = add;
      }
      if (!only || !offset) continue;
      llvm::IRBuilder<> b(pre->getTerminator());
      llvm::Value *start = b.CreateAdd(phi.getIncomingValueForBlock(pre), c);
      b.SetInsertPoint(&phi);
      llvm::PHINode *moved = b.CreatePHI(phi.getType(), 2, phi.getName() + ".offset");
      b.SetInsertPoint(inc->getNextNode());
      llvm::Value *next = b.CreateAdd(moved, step, moved->getName() + ".next");
      moved->addIncoming(start, pre);
      moved->addIncoming(next, latch);
      offset->replaceAllUsesWith(moved);
      offset->eraseFromParent();
      changed = true;
    }
    return changed;
  }
};

/// Innermost loops start on a 64-byte boundary: a small hot loop then lies
/// in one window of the processor's decoded-instruction cache (at LLVM's
/// 16 bytes, the same loop ran at full or half speed depending on where it
/// landed). Loops dfirc marked plain (not to be unrolled: a hash probe that
/// rarely goes round, a loop run rarely) keep the default, since the
/// padding before a loop entered once per item is executed once per item.
struct AlignLoops : llvm::PassInfoMixin<AlignLoops> {
  llvm::PreservedAnalyses run(llvm::Function &f, llvm::FunctionAnalysisManager &fam) {
    llvm::LLVMContext &c = f.getContext();
    llvm::MDNode *align = llvm::MDNode::get(
        c, {llvm::MDString::get(c, "llvm.loop.align"), llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(
                                                           llvm::Type::getInt32Ty(c), 64))});
    bool changed = false;
    for (llvm::Loop *l : fam.getResult<llvm::LoopAnalysis>(f).getLoopsInPreorder()) {
      if (!l->isInnermost() || llvm::findOptionMDForLoop(l, "llvm.loop.unroll.disable")) continue;
      l->setLoopID(llvm::makePostTransformationMetadata(c, l->getLoopID(), {"llvm.loop.align"}, {align}));
      changed = true;
    }
    return changed ? llvm::PreservedAnalyses::allInSet<llvm::CFGAnalyses>() : llvm::PreservedAnalyses::all();
  }
};

} // namespace

llvm::CodeGenOptLevel codeGenLevel(unsigned level) {
  return level == 0   ? llvm::CodeGenOptLevel::None
         : level == 1 ? llvm::CodeGenOptLevel::Less
         : level == 2 ? llvm::CodeGenOptLevel::Default
                      : llvm::CodeGenOptLevel::Aggressive;
}

void optimizeModule(llvm::Module &m, unsigned level, llvm::TargetMachine *tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // As clang sets them: loop and SLP vectorization from -O2 on.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = level >= 2;
  tuning.SLPVectorization = level >= 2;
  llvm::PassBuilder pb(tm, tuning);
  if (level >= 2)
    pb.registerVectorizerStartEPCallback(
        [](llvm::FunctionPassManager &fpm, llvm::OptimizationLevel) { fpm.addPass(OffsetCounters()); });
  if (level >= 2)
    pb.registerOptimizerLastEPCallback([](llvm::ModulePassManager &mpm, llvm::OptimizationLevel) {
      mpm.addPass(llvm::createModuleToFunctionPassAdaptor(AlignLoops()));
    });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel opt = level == 0   ? llvm::OptimizationLevel::O0
                                : level == 1 ? llvm::OptimizationLevel::O1
                                : level == 2 ? llvm::OptimizationLevel::O2
                                             : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm =
      level == 0 ? pb.buildO0DefaultPipeline(opt) : pb.buildPerModuleDefaultPipeline(opt);
  mpm.run(m, mam);
}

} // namespace dfir::backend
