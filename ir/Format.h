//===- Format.h - The format strings of `format` ---------------------------===//
//
// One reading of a format string for the checker (placeholders against
// arguments) and the code generator (what to write): literal text, `{{` and
// `}}` for braces, `{}` for a value as `println` shows it, and `{:.N}` for a
// float with N digits after the point.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace dfir {

/// The most digits after the point `{:.N}` may ask for.
constexpr int kMaxFormatDigits = 30;

struct FormatPiece {
  bool hole = false; // a placeholder; otherwise literal `text`
  int digits = -1;   // `{:.N}`: N; -1 for `{}`
  std::string text;
};

/// Splits `f` into pieces. False for an unmatched brace (`problem` empty) or
/// a placeholder it does not support (`problem` quotes it and says why).
bool parseFormat(const std::string &f, std::vector<FormatPiece> &pieces, std::string &problem);

} // namespace dfir
