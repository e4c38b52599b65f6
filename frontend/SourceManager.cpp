#include "frontend/SourceManager.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace dfir {

uint32_t SourceManager::addBuffer(std::string name, std::string text, unsigned firstLine) {
  auto b = std::make_unique<Buffer>();
  b->name = std::move(name);
  b->text = std::move(text);
  b->firstLine = firstLine;
  b->lineStarts.push_back(0);
  for (uint32_t i = 0; i < b->text.size(); ++i)
    if (b->text[i] == '\n') b->lineStarts.push_back(i + 1);
  buffers_.push_back(std::move(b));
  return static_cast<uint32_t>(buffers_.size());
}

std::optional<uint32_t> SourceManager::addFile(const std::string &path, std::string &error) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    error = "cannot read `" + path + "`: it is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open `" + path + "`";
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = "cannot read `" + path + "`";
    return std::nullopt;
  }
  return addBuffer(path, ss.str());
}

LineCol SourceManager::lineCol(SourceLoc loc) const {
  if (!loc.valid()) return {};
  const Buffer &b = buf(loc.file);
  auto it = std::upper_bound(b.lineStarts.begin(), b.lineStarts.end(), loc.offset);
  unsigned idx = static_cast<unsigned>(it - b.lineStarts.begin()) - 1;
  return {idx + b.firstLine, loc.offset - b.lineStarts[idx] + 1};
}

std::string_view SourceManager::lineText(SourceLoc loc) const {
  const Buffer &b = buf(loc.file);
  auto it = std::upper_bound(b.lineStarts.begin(), b.lineStarts.end(), loc.offset);
  uint32_t start = *(it - 1);
  uint32_t end = start;
  while (end < b.text.size() && b.text[end] != '\n' && b.text[end] != '\r') ++end;
  return std::string_view(b.text).substr(start, end - start);
}

std::optional<uint32_t> SourceManager::lineStart(uint32_t file, unsigned line) const {
  const Buffer &b = buf(file);
  if (line < b.firstLine || line - b.firstLine >= b.lineStarts.size()) return std::nullopt;
  return b.lineStarts[line - b.firstLine];
}

} // namespace dfir
