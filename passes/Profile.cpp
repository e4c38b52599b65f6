//===- Profile.cpp - Profiles of runs, read back ---------------------------===//
#include "passes/Profile.h"

#include "support/Json.h"

#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>

namespace dfir::passes {

namespace {

/// Reads the members of one JSON object, remembering the first problem.
class Reader {
public:
  Reader(const llvm::json::Object *o, std::string where, std::string &error)
      : o_(o), where_(std::move(where)), error_(error) {}
  bool ok() const { return error_.empty(); }
  uint64_t number(const char *key) {
    const llvm::json::Value *v = o_ ? o_->get(key) : nullptr;
    std::optional<int64_t> n = v ? v->getAsInteger() : std::nullopt;
    if (!n || *n < 0) fail(key, "a non-negative integer");
    return n && *n >= 0 ? static_cast<uint64_t>(*n) : 0;
  }
  std::string string(const char *key) {
    const llvm::json::Value *v = o_ ? o_->get(key) : nullptr;
    std::optional<llvm::StringRef> s = v ? v->getAsString() : std::nullopt;
    if (!s) fail(key, "a string");
    return s ? s->str() : "";
  }
  const llvm::json::Array *array(const char *key) {
    const llvm::json::Array *a = o_ ? o_->getArray(key) : nullptr;
    if (!a) fail(key, "an array");
    return a;
  }
  void fail(const char *key, const char *expected) {
    if (error_.empty()) error_ = where_ + ": expected `" + key + "` to be " + expected;
  }

private:
  const llvm::json::Object *o_;
  std::string where_;
  std::string &error_;
};


} // namespace

bool parseProfile(const std::string &text, const std::string &name, Profile &out, std::string &error) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed) {
    error = "`" + name + "` is not a profile: " + llvm::toString(parsed.takeError());
    return false;
  }
  const llvm::json::Object *root = parsed->getAsObject();
  std::string problem;
  Reader r(root, "the profile", problem);
  if (!root || r.number("dfir_profile") != 1) {
    error = "`" + name + "` is not a profile of this version of dfirc (no `\"dfir_profile\": 1`)";
    return false;
  }
  Profile p;
  std::string fingerprint = r.string("fingerprint");
  if (r.ok() && (fingerprint.size() != 16 || fingerprint.find_first_not_of("0123456789abcdef") != std::string::npos))
    r.fail("fingerprint", "16 hexadecimal digits");
  if (r.ok()) p.fingerprint = std::stoull(fingerprint, nullptr, 16);
  uint64_t sampleUs = r.number("sample_us");
  if (r.ok() && (sampleUs == 0 || sampleUs > 1000000)) r.fail("sample_us", "from 1 to 1000000");
  p.sampleUs = static_cast<uint32_t>(sampleUs);
  p.wallNs = r.number("wall_ns");
  uint64_t cpuNs = r.number("cpu_ns");
  p.runtimeSamples = r.number("runtime_samples");
  const llvm::json::Value *deployed = root->get("deployed");
  if (!deployed || !deployed->getAsBoolean()) r.fail("deployed", "true or false");
  p.deployed = deployed && deployed->getAsBoolean().value_or(false);
  const llvm::json::Array *instances = r.array("instances");
  for (size_t i = 0; r.ok() && instances && i < instances->size(); ++i) {
    const llvm::json::Object *io = (*instances)[i].getAsObject();
    Reader ir(io, "instance " + std::to_string(i), problem);
    ProfileInstance in;
    in.location = ir.string("location");
    uint64_t member = ir.number("member");
    if (member > UINT32_MAX) ir.fail("member", "a member id");
    in.member = static_cast<uint32_t>(member);
    in.ticks = ir.number("ticks");
    in.busyNs = ir.number("busy_ns");
    in.tickSamples = ir.number("tick_samples");
    const llvm::json::Array *ops = ir.array("operators");
    for (size_t k = 0; ir.ok() && ops && k < ops->size(); ++k) {
      Reader orr((*ops)[k].getAsObject(), "instance " + std::to_string(i) + ", operator " + std::to_string(k), problem);
      ProfileOp op;
      op.name = orr.string("name");
      op.op = orr.string("op");
      op.line = static_cast<unsigned>(std::min<uint64_t>(orr.number("line"), UINT32_MAX));
      op.in = orr.number("in");
      op.out = orr.number("out");
      op.samples = orr.number("samples");
      in.ops.push_back(op);
    }
    const llvm::json::Array *chans = ir.array("channels");
    for (size_t k = 0; ir.ok() && chans && k < chans->size(); ++k) {
      Reader cr((*chans)[k].getAsObject(), "instance " + std::to_string(i) + ", channel " + std::to_string(k), problem);
      ProfileChannel c;
      c.name = cr.string("name");
      c.items = cr.number("items");
      c.bytes = cr.number("bytes");
      c.frames = cr.number("frames");
      in.channels.push_back(c);
    }
    p.instances.push_back(std::move(in));
  }
  if (!problem.empty()) {
    error = "`" + name + "` is not a complete profile: " + problem;
    return false;
  }
  // One instance in its own process: what its process did outside its ticks.
  if (p.deployed && p.instances.size() == 1)
    p.instances[0].outsideNs = cpuNs > p.instances[0].busyNs ? cpuNs - p.instances[0].busyNs : 0;
  if (!out.instances.empty() && out.fingerprint != p.fingerprint) {
    error = "`" + name + "` is a profile of another build than the files read before it (its fingerprint differs)";
    return false;
  }
  out.fingerprint = p.fingerprint;
  out.deployed = p.deployed;
  out.sampleUs = p.sampleUs;
  out.wallNs = std::max(out.wallNs, p.wallNs);
  out.runtimeSamples += p.runtimeSamples;
  for (auto &in : p.instances) out.instances.push_back(std::move(in));
  return true;
}

bool readProfile(const std::string &path, Profile &out, std::string &error) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::vector<std::string> files;
    if (DIR *d = opendir(path.c_str())) {
      while (dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) files.push_back(path + "/" + n);
      }
      closedir(d);
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      error = "`" + path + "` has no profiles (no `*.json` files)";
      return false;
    }
    for (auto &f : files) {
      std::string text;
      if (!readWholeFile(f, text, error) || !parseProfile(text, f, out, error)) return false;
    }
    return true;
  }
  std::string text;
  return readWholeFile(path, text, error) && parseProfile(text, path, out, error);
}

std::vector<LocationProfile> Profile::locations() const {
  std::vector<LocationProfile> out;
  for (const ProfileInstance &in : instances) {
    auto it = std::find_if(out.begin(), out.end(), [&](const LocationProfile &l) { return l.name == in.location; });
    if (it == out.end()) {
      out.push_back({in.location, 0, 0, 0, 0, {}});
      it = out.end() - 1;
    }
    ++it->instances;
    it->ticks += in.ticks;
    it->busyNs += in.busyNs;
    it->samples += in.tickSamples;
    for (const ProfileOp &op : in.ops) {
      it->samples += op.samples;
      auto o = std::find_if(it->ops.begin(), it->ops.end(), [&](const ProfileOp &x) { return x.name == op.name; });
      if (o == it->ops.end()) {
        it->ops.push_back(op);
        continue;
      }
      o->in += op.in;
      o->out += op.out;
      o->samples += op.samples;
    }
  }
  return out;
}

std::vector<ProfileChannel> Profile::channels() const {
  std::vector<ProfileChannel> out;
  for (const ProfileInstance &in : instances)
    for (const ProfileChannel &c : in.channels) {
      auto it = std::find_if(out.begin(), out.end(), [&](const ProfileChannel &x) { return x.name == c.name; });
      if (it == out.end()) {
        out.push_back(c);
        continue;
      }
      it->items += c.items;
      it->bytes += c.bytes;
      it->frames += c.frames;
    }
  return out;
}

} // namespace dfir::passes
