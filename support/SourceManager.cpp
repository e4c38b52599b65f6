#include "support/SourceManager.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dfir {

size_t utf8CharLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static const uint32_t minCp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < minCp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

ShownLine showLine(std::string_view line, size_t column0, size_t length) {
  // Enough for any written line; a longer one (generated, minified, or a
  // binary file) is shown around the range.
  constexpr size_t kMaxShown = 200, kBefore = 80;
  size_t from = 0, to = line.size();
  if (line.size() > kMaxShown) {
    from = column0 > kBefore ? column0 - kBefore : 0;
    to = std::min(line.size(), from + kMaxShown);
    while (from > 0 && (static_cast<unsigned char>(line[from]) & 0xC0) == 0x80) --from;
    while (to < line.size() && (static_cast<unsigned char>(line[to]) & 0xC0) == 0x80) ++to;
  }
  ShownLine out;
  if (from > 0) {
    out.text += "...";
    out.caret += "   ";
  }
  size_t rangeEnd = column0 + std::max<size_t>(length, 1);
  for (size_t i = from; i < to;) {
    size_t n = utf8CharLength(line, i);
    unsigned char c = static_cast<unsigned char>(line[i]);
    // C0 controls and DEL; C1 controls (U+0080 to U+009F, which some
    // terminals obey too); bytes that are not UTF-8.
    bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(line[i + 1]) < 0xA0;
    bool escaped = n == 0 || c1 || (n == 1 && ((c < 0x20 && c != '\t') || c == 0x7F));
    std::string piece;
    if (escaped) {
      char esc[12];
      if (c1) std::snprintf(esc, sizeof esc, "\\u{%X}", static_cast<unsigned char>(line[i + 1]));
      else std::snprintf(esc, sizeof esc, "\\x%02X", c);
      piece = esc;
      n = c1 ? 2 : 1;
    } else {
      piece = std::string(line.substr(i, n));
    }
    size_t width = escaped ? piece.size() : 1; // columns on a terminal
    out.text += piece;
    if (i < column0) out.caret += piece == "\t" ? std::string("\t") : std::string(width, ' ');
    else if (i < rangeEnd) out.caret += (i == column0 ? "^" : "~") + std::string(width - 1, '~');
    i += n;
  }
  if (column0 >= to) out.caret += '^'; // at the end of the line (a missing `;`)
  if (to < line.size()) out.text += "...";
  return out;
}

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
  auto fail = [&](const std::string &what) {
    error = what + " `" + path + "`: " + std::strerror(errno);
    return std::nullopt;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open");
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return fail("cannot read");
  if (S_ISDIR(st.st_mode)) {
    error = "cannot read `" + path + "`: it is a directory";
    return std::nullopt;
  }
  std::string text;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<uint64_t>(st.st_size) > kMaxSourceBytes) {
      error = tooLarge(path, static_cast<uint64_t>(st.st_size));
      return std::nullopt;
    }
    text.reserve(static_cast<size_t>(st.st_size));
  }
  // Read to the end whatever stat said: pipes and devices have no size.
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read");
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
    if (text.size() > kMaxSourceBytes) {
      error = tooLarge(path, 0); // a stream: its whole size is unknown
      return std::nullopt;
    }
  }
  return addBuffer(path, std::move(text));
}

std::string SourceManager::tooLarge(const std::string &path, uint64_t bytes) {
  char size[64];
  if (bytes) std::snprintf(size, sizeof size, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  else std::snprintf(size, sizeof size, "more than %llu MiB", static_cast<unsigned long long>(kMaxSourceBytes >> 20));
  return "`" + path + "` is too large (" + size + "); dfirc reads source files of at most " +
         std::to_string(kMaxSourceBytes >> 20) + " MiB";
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
