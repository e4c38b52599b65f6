#include "ir/Operators.h"

namespace dfir {

static std::vector<ArgShape> parseArgs(const char *spec) {
  std::vector<ArgShape> out;
  std::string s(spec);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    std::string a = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    ArgShape shape;
    if (a == "v") shape.kind = ArgShape::Value;
    else if (a == "c") shape.kind = ArgShape::Channel;
    else if (a == "i") shape.kind = ArgShape::Init;
    else {
      shape.kind = ArgShape::Closure;
      shape.params = static_cast<unsigned>(std::stoul(a.substr(1)));
    }
    out.push_back(shape);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

const std::vector<OpInfo> &allOperators() {
  static const std::vector<OpInfo> table = {
#define OP(ID, NAME, IN, OUT, ARGS, LIFETIMES, TYPES, BLOCKING, FLOW, PART, DECOUPLING, TICKS, EMPTY)          \
  {OpKind::ID, NAME, InputShape::IN, OutputShape::OUT, parseArgs(ARGS), LIFETIMES, TYPES, BLOCKING,    \
   Flow::FLOW, Partitioning::PART, Decoupling::DECOUPLING, Ticks::TICKS, EmptyTick::EMPTY},
#include "ir/Operators.def"
  };
  return table;
}

StateRead stateRead(OpKind kind) {
  switch (kind) {
  case OpKind::Fold:
  case OpKind::LatticeFold: return StateRead::Value;
  case OpKind::Reduce:
  case OpKind::LatticeReduce:
  case OpKind::Singleton: return StateRead::Optional;
  default: return StateRead::None;
  }
}

const OpInfo &opInfo(OpKind kind) { return allOperators()[static_cast<size_t>(kind)]; }

const OpInfo *lookupOperator(const std::string &name) {
  for (const OpInfo &info : allOperators())
    if (name == info.name) return &info;
  return nullptr;
}

std::vector<std::string> OpInfo::inputPortNames() const {
  switch (inputs) {
  case InputShape::Ports01: return {"0", "1"};
  case InputShape::PosNeg: return {"pos", "neg"};
  case InputShape::InputSingle: return {"input", "single"};
  case InputShape::InputSignal: return {"input", "signal"};
  case InputShape::None:
  case InputShape::One:
  case InputShape::Many:
  case InputShape::Optional: return {};
  }
  return {};
}

} // namespace dfir
