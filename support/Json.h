//===- Json.h - JSON text, through llvm::json ------------------------------===//
//
// The compiler reads and writes JSON with llvm::json only. What it writes
// for people to read too (deploy.json, `dfirc graph --format=json`) has one
// record per line; `JsonRecord` keeps the fields in the order given and
// lets llvm::json print (and escape) every value.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/Support/JSON.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dfir {

/// A JSON string of `s`; bytes that are not UTF-8 become U+FFFD.
llvm::json::Value jsonString(std::string_view s);

/// A value as compact JSON text.
std::string jsonText(const llvm::json::Value &v);

/// The whole file at `path`, or false with `error` saying why it cannot be
/// read.
bool readWholeFile(const std::string &path, std::string &text, std::string &error);

/// One JSON object on one line, its fields in the order they are added:
/// `{"name": "leader", "size": 1}`.
class JsonRecord {
public:
  JsonRecord &add(std::string_view key, const llvm::json::Value &v);
  JsonRecord &add(std::string_view key, const JsonRecord &nested);
  /// A field whose value is a list of records, all on this line.
  JsonRecord &add(std::string_view key, const std::vector<JsonRecord> &records);
  std::string str() const;

private:
  std::vector<std::pair<std::string, std::string>> fields_; // key, value as JSON text
};

/// A JSON object of one field per line; a field that is a list of records
/// has one record per line.
class JsonDocument {
public:
  JsonDocument &add(std::string_view key, const llvm::json::Value &v);
  JsonDocument &add(std::string_view key, const std::vector<JsonRecord> &records);
  std::string str() const;

private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

} // namespace dfir
