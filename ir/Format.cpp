#include "ir/Format.h"

namespace dfir {

bool parseFormat(const std::string &f, std::vector<FormatPiece> &pieces, std::string &problem) {
  pieces.clear();
  problem.clear();
  std::string text;
  auto flush = [&] {
    if (!text.empty()) pieces.push_back({false, -1, text});
    text.clear();
  };
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i], next = i + 1 < f.size() ? f[i + 1] : '\0';
    if ((c == '{' || c == '}') && next == c) {
      text += c;
      ++i;
    } else if (c == '{' && next == '}') {
      flush();
      pieces.push_back({true, -1, ""});
      ++i;
    } else if (c == '{' && next == ':') {
      size_t close = f.find('}', i);
      if (close == std::string::npos) return false;
      std::string spec = f.substr(i, close - i + 1);
      std::string digits = spec.size() > 4 && spec[2] == '.' ? spec.substr(3, spec.size() - 4) : "";
      bool numeric = !digits.empty() && digits.size() <= 2 &&
                     digits.find_first_not_of("0123456789") == std::string::npos;
      if (!numeric) {
        problem = "`" + spec + "`";
        return false;
      }
      int n = std::stoi(digits);
      if (n > kMaxFormatDigits) {
        problem = "`" + spec + "` (at most " + std::to_string(kMaxFormatDigits) + " digits)";
        return false;
      }
      flush();
      pieces.push_back({true, n, ""});
      i = close;
    } else if (c == '{' || c == '}') {
      return false;
    } else {
      text += c;
    }
  }
  flush();
  return true;
}

} // namespace dfir
