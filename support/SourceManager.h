//===- SourceManager.h - Owns source buffers and maps offsets to lines ----===//
//
// Every piece of text the compiler reads lives in a SourceManager buffer; a
// SourceLoc is (buffer id, byte offset). Buffers cut out of a larger file by
// `--split-input-file` keep the line numbers of the original file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceLoc.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dfir {

struct LineCol {
  unsigned line = 0;   // 1-based, in the original file's numbering
  unsigned column = 0; // 1-based byte column
};

/// The length of the UTF-8 character that starts at byte `i` of `s`, or 0
/// when the bytes there are not one (bad lead byte, truncated sequence,
/// overlong encoding, surrogate, above U+10FFFF).
size_t utf8CharLength(std::string_view s, size_t i);

/// A line of source as a terminal can show it: control characters and
/// bytes that are not UTF-8 become `\xNN`, and a line longer than a screen
/// is cut to the part around the diagnostic's range (`...` marks a cut).
/// `caret` is the matching `^~~` line; tabs are mirrored so both line up.
struct ShownLine {
  std::string text, caret;
};
ShownLine showLine(std::string_view line, size_t column0, size_t length);

class SourceManager {
public:
  /// Adds a buffer whose first line is line `firstLine` of file `name`.
  uint32_t addBuffer(std::string name, std::string text, unsigned firstLine = 1);
  /// The largest source file dfirc reads (docs/cli.md). Checking takes
  /// about 1 s and 200 MB of memory per MB of source; a larger file is
  /// refused before it is read rather than exhausting the machine.
  static constexpr uint64_t kMaxSourceBytes = uint64_t(8) << 20;

  /// Reads a file; on failure returns nullopt and sets `error` (which says
  /// why: the system's reason, a directory, or a file over kMaxSourceBytes).
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
  static std::string tooLarge(const std::string &path, uint64_t bytes);
  std::vector<std::unique_ptr<Buffer>> buffers_;
};

} // namespace dfir
