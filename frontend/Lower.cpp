//===- Lower.cpp - Checked AST + graph -> IR ------------------------------===//
//
// Runs only on a program that passed every check. Copies locations,
// channels, operators (with their normalized ports and types) and edges into
// an ir::Program, moves the closure expressions out of the AST, and gives
// every operator a name unique in its location: the user's statement name
// when it has one, otherwise `<operator>_<n>`.
//
//===----------------------------------------------------------------------===//
#include "frontend/LowerExpr.h"
#include "frontend/SemaContext.h"

#include <set>

namespace dfir {

std::unique_ptr<ir::Program> lowerToIR(ast::Program &program, SemaContext &ctx) {
  auto p = std::make_unique<ir::Program>();
  p->types = std::move(ctx.ownedTypes);

  // Parameters by name, with their checked types.
  auto params = [](const std::vector<ast::FieldDecl> &decls, const ExternSig &sig) {
    std::vector<std::pair<std::string, const Type *>> out;
    for (size_t i = 0; i < decls.size(); ++i) out.emplace_back(decls[i].name, sig.params[i]);
    return out;
  };
  for (auto &e : program.externs) {
    ir::ExternDecl d;
    d.name = e.name;
    const ExternSig &sig = ctx.externs[e.name];
    d.params = params(e.params, sig);
    d.result = sig.result;
    d.range = e.nameRange;
    p->externs.push_back(std::move(d));
  }
  for (auto &l : ctx.locations) p->locations.push_back({l.name, l.isCluster, l.size, ctx.implicitMain, l.range});

  // Closures refer to constants, externs and locations by index.
  ClosureNames names;
  for (size_t i = 0; i < program.consts.size(); ++i) names.consts[program.consts[i].name] = static_cast<int>(i);
  for (size_t i = 0; i < p->externs.size(); ++i) names.externs[p->externs[i].name] = static_cast<int>(i);
  for (size_t i = 0; i < program.functions.size(); ++i) names.functions[program.functions[i].name] = static_cast<int>(i);
  for (size_t i = 0; i < p->locations.size(); ++i) names.locations[p->locations[i].name] = static_cast<int>(i);
  for (size_t i = 0; i < ctx.channels.size(); ++i) names.channels[ctx.channels[i].decl->name] = static_cast<int>(i);
  auto lower = [&](const ExprPtr &e) { return e ? lowerClosure(*e, names, *p->types) : nullptr; };
  for (auto &c : program.consts) p->consts.push_back({c.name, ctx.consts[c.name], lower(c.value)});
  for (auto &f : program.functions) {
    ir::FunctionDecl d;
    d.name = f.name;
    const ExternSig &sig = ctx.functions[f.name];
    d.params = params(f.params, sig);
    d.result = sig.result;
    d.body = lower(f.body);
    d.range = f.nameRange;
    p->functions.push_back(std::move(d));
  }

  for (auto &c : ctx.channels) {
    ir::Channel ch;
    ch.name = c.decl->name;
    ch.from = ir::LocId(c.from);
    ch.to = ir::LocId(c.to);
    ch.mode = c.decl->mode == ast::ChannelDecl::Broadcast ? ir::ChannelMode::Broadcast
              : c.decl->mode == ast::ChannelDecl::Hash    ? ir::ChannelMode::Hash
                                                          : ir::ChannelMode::Direct;
    ch.hashFn = lower(c.decl->hashFn);
    ch.elem = c.elem;
    ch.batch = {static_cast<uint32_t>(c.decl->batchCount), static_cast<uint32_t>(c.decl->batchMicros)};
    ch.sendOp = ir::OpId(c.sendNode);
    ch.recvOp = ir::OpId(c.recvNode);
    ch.range = c.decl->nameRange;
    p->channels.push_back(std::move(ch));
  }

  // Names: the user's where given (unique per location by construction),
  // generated ones avoid every user name of the location.
  std::vector<std::set<std::string>> taken(ctx.locations.size());
  for (auto &n : ctx.nodes)
    if (!n.userName.empty()) taken[n.location].insert(n.userName);
  std::vector<std::map<std::string, unsigned>> counters(ctx.locations.size());

  for (auto &n : ctx.nodes) {
    ir::Operator op;
    op.kind = n.info->kind;
    op.location = ir::LocId(n.location);
    op.name = n.userName;
    if (op.name.empty()) {
      std::string base = n.info->name;
      do {
        op.name = base + "_" + std::to_string(counters[n.location][base]++);
      } while (taken[n.location].count(op.name));
      taken[n.location].insert(op.name);
    }
    for (size_t i = 0; i < n.call->args.size(); ++i)
      op.args.push_back(n.info->args[i].kind == ArgShape::Channel ? lowerChannelName(*n.call->args[i], names)
                                                                  : lower(n.call->args[i]));
    for (auto &l : n.lifetimes)
      op.persistence.push_back(l == "static" ? ir::Persistence::Static
                               : l == "none" ? ir::Persistence::None
                               : l == "loop" ? ir::Persistence::Loop
                                             : ir::Persistence::Tick);
    op.loop = n.loop;
    op.typeArg = n.typeGeneric ? ctx.infer.zonk(n.typeGeneric) : nullptr;
    op.channel = ir::ChanId(n.channel);
    op.inputs.assign(n.numInPorts, ir::EdgeId());
    op.outputs.assign(n.numOutPorts, ir::EdgeId());
    op.inTypes = n.inTypes;
    op.outTypes = n.outTypes;
    op.range = n.call->nameRange;
    p->ops.push_back(std::move(op));
  }
  // Loop blocks, each in the location of its operators (one without any
  // is left at the first location: nothing runs in it).
  for (auto &l : program.loops) p->loops.push_back({ir::LocId(0), l.parent, l.range});
  for (auto &n : ctx.nodes)
    for (int l = n.loop; l >= 0; l = p->loops[l].parent) p->loops[l].location = ir::LocId(n.location);
  for (auto &e : ctx.edges)
    p->edges[p->connect(ir::OpId(e.from), e.outIndex, ir::OpId(e.to), e.inIndex, e.type)].range = e.range;
  return p;
}

} // namespace dfir
