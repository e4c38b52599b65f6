//===- SourceLoc.h - Positions in source buffers --------------------------===//
//
// A SourceLoc is (buffer id, byte offset); buffers belong to the
// frontend's SourceManager. The IR keeps ranges so that every later stage
// can point at the user's text.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

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

} // namespace dfir
