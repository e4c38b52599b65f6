// The one translation unit that includes PassBuilder: -O0..-O3 map to
// LLVM's default pipelines.
#include "backend-llvm/Jit.h"

#include "llvm/Analysis/AliasAnalysis.h"
#include "llvm/Analysis/BlockFrequencyInfo.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/PatternMatch.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/Utils/LoopUtils.h"
#include "llvm/Transforms/Utils/SSAUpdater.h"

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

/// A field of the state read in a loop whose only writers there are rare
/// calls (a new key's cold function, which may grow the table; a buffer
/// growing) is read once before the loop and again after each such call,
/// and kept in a register in between. LLVM's own loop load PRE does this
/// only for memory that cannot be freed (a global, not the state argument)
/// and for one such call, and LICM not at all while a call in the loop may
/// write: a hash operator's probe then reloads the table's slots, mask and
/// shift for every item. The state lives from init to fini, so reading it
/// before the loop is always safe; fields the loop stores to are left alone.
struct StateInRegisters : llvm::PassInfoMixin<StateInRegisters> {
  llvm::PreservedAnalyses run(llvm::Function &f, llvm::FunctionAnalysisManager &fam) {
    auto &loops = fam.getResult<llvm::LoopAnalysis>(f);
    if (loops.empty()) return llvm::PreservedAnalyses::all();
    // Alias analysis and block frequencies only for a loop that reads the
    // state and has a call or store: most functions have none.
    llvm::AAResults *aa = nullptr;
    llvm::BlockFrequencyInfo *freq = nullptr;
    auto analyses = [&] {
      if (!aa) {
        aa = &fam.getResult<llvm::AAManager>(f);
        freq = &fam.getResult<llvm::BlockFrequencyAnalysis>(f);
      }
    };
    bool changed = false;
    // Inner loops first: a field hoisted to an inner loop's preheader may
    // then leave the outer loop too.
    auto order = loops.getLoopsInPreorder();
    for (auto it = order.rbegin(); it != order.rend(); ++it) changed |= hoist(**it, analyses, aa, freq);
    if (!changed) return llvm::PreservedAnalyses::all();
    llvm::PreservedAnalyses kept;
    kept.preserveSet<llvm::CFGAnalyses>();
    return kept;
  }

  /// Whether `load` reads a field of the state (its alias tag, given by
  /// LocationCodegen::tagMemoryAccesses) at a fixed place in it, which may
  /// be read anywhere in the function.
  static bool readsState(const llvm::LoadInst &load) {
    const llvm::MDNode *tag = load.getMetadata(llvm::LLVMContext::MD_tbaa);
    if (!tag || tag->getNumOperands() < 2 || !load.isSimple()) return false;
    const auto *type = llvm::dyn_cast<llvm::MDNode>(tag->getOperand(1));
    const auto *name = type && type->getNumOperands() ? llvm::dyn_cast<llvm::MDString>(type->getOperand(0)) : nullptr;
    if (!name || name->getString() != "state") return false;
    const llvm::DataLayout &layout = load.getDataLayout();
    llvm::APInt offset(layout.getIndexTypeSizeInBits(load.getPointerOperandType()), 0);
    return llvm::isa<llvm::Argument>(
        load.getPointerOperand()->stripAndAccumulateInBoundsConstantOffsets(layout, offset));
  }

  template <typename Analyses>
  static bool hoist(llvm::Loop &l, Analyses &analyses, llvm::AAResults *&aa, llvm::BlockFrequencyInfo *&freq) {
    llvm::BasicBlock *pre = l.getLoopPreheader();
    if (!pre) return false;
    // The loop's state reads by field (and type), in block order.
    llvm::MapVector<std::pair<llvm::Value *, llvm::Type *>, llvm::SmallVector<llvm::LoadInst *, 4>> fields;
    llvm::SmallVector<llvm::Instruction *, 8> writers;
    for (llvm::BasicBlock *bb : l.blocks())
      for (llvm::Instruction &inst : *bb) {
        if (auto *load = llvm::dyn_cast<llvm::LoadInst>(&inst)) {
          if (readsState(*load) && l.isLoopInvariant(load->getPointerOperand()))
            fields[{load->getPointerOperand(), load->getType()}].push_back(load);
        } else if (inst.mayWriteToMemory()) {
          writers.push_back(&inst);
        }
      }
    if (fields.empty()) return false;
    if (writers.empty()) return false; // LICM's case
    analyses();
    uint64_t header = freq->getBlockFreq(l.getHeader()).getFrequency();
    bool changed = false;
    for (auto &[field, loads] : fields) {
      llvm::MemoryLocation at = llvm::MemoryLocation::get(loads.front());
      // Every writer of the field in the loop: a call off the loop's usual
      // path (at most one iteration in eight), not its last instruction.
      llvm::SmallVector<llvm::CallBase *, 4> calls;
      bool rare = true;
      for (llvm::Instruction *w : writers) {
        if (!llvm::isModSet(aa->getModRefInfo(w, at))) continue;
        auto *call = llvm::dyn_cast<llvm::CallBase>(w);
        if (!call || call->isTerminator() || freq->getBlockFreq(call->getParent()).getFrequency() > header / 8) {
          rare = false;
          break;
        }
        calls.push_back(call);
      }
      if (!rare) continue;
      llvm::SSAUpdater ssa;
      ssa.Initialize(field.second, loads.front()->getName());
      llvm::LoadInst *model = loads.front();
      auto reload = [model](llvm::Instruction *before) {
        auto *copy = llvm::cast<llvm::LoadInst>(model->clone());
        copy->insertBefore(before);
        return copy;
      };
      ssa.AddAvailableValue(pre, reload(pre->getTerminator()));
      // After each call, a read; a block's last one is its value at the end.
      llvm::DenseMap<llvm::CallBase *, llvm::LoadInst *> after;
      for (llvm::CallBase *call : calls) after[call] = reload(call->getNextNode());
      for (llvm::BasicBlock *bb : l.blocks())
        for (llvm::Instruction &inst : llvm::reverse(*bb))
          if (auto *call = llvm::dyn_cast<llvm::CallBase>(&inst); call && after.count(call)) {
            ssa.AddAvailableValue(bb, after[call]);
            break;
          }
      for (llvm::LoadInst *load : loads) {
        // A call earlier in the load's block gives the value; else the
        // block's entry does.
        llvm::Value *value = nullptr;
        for (llvm::Instruction *i = load->getPrevNode(); i && !value; i = i->getPrevNode())
          if (auto *call = llvm::dyn_cast<llvm::CallBase>(i); call && after.count(call)) value = after[call];
        if (!value) value = ssa.GetValueInMiddleOfBlock(load->getParent());
        load->replaceAllUsesWith(value);
        load->eraseFromParent();
      }
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
        [](llvm::FunctionPassManager &fpm, llvm::OptimizationLevel) {
          fpm.addPass(StateInRegisters());
          fpm.addPass(OffsetCounters());
        });
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
