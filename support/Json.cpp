#include "support/Json.h"

#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dfir {

llvm::json::Value jsonString(std::string_view s) {
  llvm::StringRef text(s.data(), s.size());
  return llvm::json::isUTF8(text) ? llvm::json::Value(text.str()) : llvm::json::Value(llvm::json::fixUTF8(text));
}

std::string jsonText(const llvm::json::Value &v) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << v;
  return out;
}

JsonRecord &JsonRecord::add(std::string_view key, const llvm::json::Value &v) {
  fields_.emplace_back(jsonText(jsonString(key)), jsonText(v));
  return *this;
}

JsonRecord &JsonRecord::add(std::string_view key, const JsonRecord &nested) {
  fields_.emplace_back(jsonText(jsonString(key)), nested.str());
  return *this;
}

JsonRecord &JsonRecord::add(std::string_view key, const std::vector<JsonRecord> &records) {
  std::string list = "[";
  for (size_t i = 0; i < records.size(); ++i) list += (i ? ", " : "") + records[i].str();
  fields_.emplace_back(jsonText(jsonString(key)), list + "]");
  return *this;
}

std::string JsonRecord::str() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) out += (i ? ", " : "") + fields_[i].first + ": " + fields_[i].second;
  return out + "}";
}

JsonDocument &JsonDocument::add(std::string_view key, const llvm::json::Value &v) {
  fields_.emplace_back(jsonText(jsonString(key)), jsonText(v));
  return *this;
}

JsonDocument &JsonDocument::add(std::string_view key, const std::vector<JsonRecord> &records) {
  std::string list = "[";
  for (size_t i = 0; i < records.size(); ++i) list += (i ? ",\n    " : "\n    ") + records[i].str();
  fields_.emplace_back(jsonText(jsonString(key)), list + "\n  ]");
  return *this;
}

std::string JsonDocument::str() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) out += (i ? ",\n  " : "\n  ") + fields_[i].first + ": " + fields_[i].second;
  return out + "\n}\n";
}

bool readWholeFile(const std::string &path, std::string &text, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read `" + path + "`: " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

} // namespace dfir
