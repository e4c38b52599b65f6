//===- SourceManager.h - Owns source buffers and maps offsets to lines ----===//
//
// Every piece of text the compiler reads lives in a SourceManager buffer; a
// SourceLoc is (buffer id, byte offset). Buffers cut out of a larger file by
// `--split-input-file` keep the line numbers of the original file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dfir {

struct SourceLoc {
  uint32_t file = 0; // 0 = no location; buffers are numbered from 1
  uint32_t offset = 0;
  bool valid() const { return file != 0; }
};

/// A half-open byte range [begin, end) inside one buffer.
struct SourceRange {
  SourceLoc begin;
  uint32_t end = 0;
  SourceRange() = default;
  SourceRange(SourceLoc b, uint32_t e) : begin(b), end(e < b.offset ? b.offset : e) {}
  bool valid() const { return begin.valid(); }
  static SourceRange join(SourceRange a, SourceRange b) {
    if (!a.valid()) return b;
    if (!b.valid() || a.begin.file != b.begin.file) return a;
    SourceLoc lo = a.begin.offset <= b.begin.offset ? a.begin : b.begin;
    return SourceRange(lo, a.end > b.end ? a.end : b.end);
  }
};

struct LineCol {
  unsigned line = 0;   // 1-based, in the original file's numbering
  unsigned column = 0; // 1-based byte column
};

class SourceManager {
public:
  /// Adds a buffer whose first line is line `firstLine` of file `name`.
  uint32_t addBuffer(std::string name, std::string text, unsigned firstLine = 1);
  /// Reads a file; on failure returns nullopt and sets `error`.
  std::optional<uint32_t> addFile(const std::string &path, std::string &error);

  std::string_view text(uint32_t file) const { return buf(file).text; }
  const std::string &name(uint32_t file) const { return buf(file).name; }
  unsigned firstLine(uint32_t file) const { return buf(file).firstLine; }
  LineCol lineCol(SourceLoc loc) const;
  /// The text of the line containing `loc`, without its newline.
  std::string_view lineText(SourceLoc loc) const;
  /// Offset where the line with the given (original-numbering) line number starts.
  std::optional<uint32_t> lineStart(uint32_t file, unsigned line) const;

private:
  struct Buffer {
    std::string name;
    std::string text;
    unsigned firstLine;
    std::vector<uint32_t> lineStarts;
  };
  const Buffer &buf(uint32_t file) const { return *buffers_[file - 1]; }
  std::vector<std::unique_ptr<Buffer>> buffers_;
};

} // namespace dfir
