//===- SemaContext.h - State shared by the semantic checks ----------------===//
//
// Private to frontend/. Holds the resolved declarations (types, externs,
// consts, locations, channels) and the operator graph that Sema builds from
// the pipelines, so the checks in Decls.cpp, GraphBuilder.cpp,
// ExprChecker.cpp, GraphTypes.cpp and CycleCheck.cpp can share them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "support/Diagnostics.h"
#include "frontend/TypeInference.h"
#include "ir/IR.h"
#include "ir/Operators.h"
#include "ir/Type.h"

#include <map>
#include <unordered_map>
#include <set>
#include <string>
#include <vector>

namespace dfir {

struct LocationInfo {
  std::string name;
  bool isCluster = false;
  uint64_t size = 1;
  SourceRange range;
};

struct ChannelInfo {
  ast::ChannelDecl *decl = nullptr;
  int from = -1, to = -1;     // location indexes
  int sendNode = -1, recvNode = -1;
  const Type *elem = nullptr; // T
};

struct ExternSig {
  std::vector<const Type *> params;
  const Type *result = nullptr;
  SourceRange range;
};

/// A port reference as the user wrote it on an edge end.
struct PortRef {
  const ast::Port *port = nullptr; // null: no port written
};

struct GraphEdge {
  int from = -1, to = -1;
  PortRef fromPort, toPort;
  unsigned outIndex = 0, inIndex = 0; // normalized port numbers
  SourceRange range;                  // the `->` arrow
  SourceRange fromRange, toRange;     // the elements the edge leaves and enters
  const Type *type = nullptr;
};

struct GraphNode {
  const OpInfo *info = nullptr;
  ast::OperatorCall *call = nullptr;
  int location = 0;
  int loop = -1;                    // the innermost loop block (ast::Program::loops), -1: none
  std::string userName;             // the statement name, when it names this operator
  std::vector<int> inEdges, outEdges;
  std::vector<std::string> lifetimes; // resolved, per input (empty: none given)
  const Type *typeGeneric = nullptr;
  int channel = -1;                   // send/recv
  std::vector<const Type *> inTypes;  // one per normalized input port
  std::vector<const Type *> outTypes; // one per normalized output port
  unsigned numInPorts = 0, numOutPorts = 0;
  // An edge touches an element that was already reported (an unknown
  // operator or name): arity checks on that side would only cascade.
  bool brokenIn = false, brokenOut = false;
  SourceRange range() const { return call->nameRange; }
};

struct SemaContext {
  SemaContext(const SourceManager &sm, DiagnosticEngine &diags)
      : sm(sm), diags(diags), ownedTypes(std::make_unique<TypeContext>()), types(*ownedTypes),
        infer(types, diags) {}

  const SourceManager &sm;
  DiagnosticEngine &diags;
  std::unique_ptr<TypeContext> ownedTypes; // handed to the IR by lowering
  TypeContext &types;
  Inference infer;

  // Declarations.
  std::map<std::string, const Type *> typeNames; // structs, enums, resolved aliases
  std::map<std::string, const ast::TypeDef *> aliasDefs;
  std::vector<std::string> aliasStack; // aliases being resolved (cycle detection)
  std::map<std::string, const ast::StructDef *> structDefs;
  std::map<std::string, const ast::EnumDef *> enumDefs;
  std::map<std::string, const ast::ConstDef *> constDefs;
  std::map<std::string, SourceRange> itemRanges; // every item name, for duplicates
  std::map<std::string, ExternSig> externs;
  std::map<std::string, ExternSig> functions; // `fn` items: their signatures
  std::map<std::string, const Type *> consts;
  std::vector<LocationInfo> locations;
  std::map<std::string, int> locationIndex;
  std::vector<ChannelInfo> channels;
  std::map<std::string, int> channelIndex;
  bool implicitMain = false;
  /// Undeclared location names already reported (each is one mistake,
  /// however many channels and blocks use it).
  std::set<std::string> unknownLocations;

  // The operator graph.
  std::vector<GraphNode> nodes;
  std::vector<GraphEdge> edges;
  /// `#name` in the closures of operator `reader`: the state of `target`,
  /// read once `target` has finished the tick (CycleCheck, Stratify).
  struct StateRef {
    int reader = -1, target = -1;
    SourceRange range;
  };
  std::vector<StateRef> stateRefs;
  /// Statement names per location, to tell "unknown" from "wrong location".
  std::map<std::string, std::vector<int>> pipelineNameLocations;

  const Type *resolveType(const ast::TypeExpr &t);
  int findLocation(const std::string &name) const {
    auto it = locationIndex.find(name);
    return it == locationIndex.end() ? -1 : it->second;
  }
};

// The checks, in the order Sema runs them. Each reports through ctx.diags.
void checkDeclarations(ast::Program &program, SemaContext &ctx);
void checkConstValues(ast::Program &program, SemaContext &ctx);
void buildGraph(ast::Program &program, SemaContext &ctx);
void checkGraphTypes(ast::Program &program, SemaContext &ctx);
void checkCycles(SemaContext &ctx);
/// The rules of loop blocks (LoopCheck.cpp): what may be inside one, and
/// how items enter and leave it; after the types, that what leaves a loop
/// does not come back into it within one run.
void checkLoops(const ast::Program &program, SemaContext &ctx);
void checkLoopCycles(const ast::Program &program, SemaContext &ctx);
/// After the types (which find the `#name`s): reads of state that form a
/// cycle within a tick.
void checkStateRefCycles(SemaContext &ctx);
/// After the checks passed: builds the IR (Lower.cpp), moving the AST's
/// expressions into it.
std::unique_ptr<ir::Program> lowerToIR(ast::Program &program, SemaContext &ctx);

/// Type-checks closures and constant expressions (ExprChecker.cpp).
class ExprChecker {
public:
  /// `loop`: the loop block of the operator whose arguments are checked.
  ExprChecker(SemaContext &ctx, int location, int loop = -1) : ctx_(ctx), location_(location), loop_(loop) {}
  /// Checks the body of `fn name`: pure, and bound to no location.
  void inFunction(const std::string &name) { function_ = name; }
  /// Checks an argument of operator `node`, whose closures may read the
  /// state of other operators (`#name`).
  void inOperator(int node) { reader_ = node; }
  /// Infers `e`; the result may contain inference variables.
  const Type *check(ast::Expr &e);
  /// Checks a closure against parameter types; returns its body's type.
  /// `what` names the closure's role for messages (e.g. "`map`").
  const Type *checkClosure(ast::Expr &lambda, const std::vector<const Type *> &params);
  /// After solving: writes final types into the AST, checks literal ranges
  /// and match exhaustiveness.
  static void finalize(ast::Expr &e, SemaContext &ctx);

private:
  const Type *checkImpl(ast::Expr &e);
  const Type *checkCall(ast::Expr &e);
  const Type *checkBuiltin(ast::Expr &e, const std::string &name);
  const Type *checkBinary(ast::Expr &e);
  const Type *checkMatch(ast::Expr &e);
  const Type *checkBlock(ast::Expr &e);
  const Type *lookupName(ast::Expr &e);
  const Type *checkStateRef(ast::Expr &e);
  void bindPattern(ast::Pattern &p, const Type *t, bool refutableOk);
  const Type *structField(ast::Expr &e, const Type *base);

  /// Scopes of closure parameters, `let`s and match arms, innermost last.
  void openScope() { scopes_.emplace_back(); }
  /// Closes scopes until `depth` are left.
  void closeScopes(size_t depth);
  void bind(const std::string &name, const Type *t);

  SemaContext &ctx_;
  int location_;
  int loop_;
  int reader_ = -1;      // the operator whose argument this is, if any
  std::string function_; // inside `fn function_`: effects are errors
  // Each scope's names (so one pattern binds a name once) and, per name, its
  // bindings innermost last: a lookup costs the same however many scopes
  // are open (a block opens one per `let`: 50,000 of them took 7 s).
  std::vector<std::map<std::string, const Type *>> scopes_;
  std::unordered_map<std::string, std::vector<const Type *>> visible_;
};

} // namespace dfir
