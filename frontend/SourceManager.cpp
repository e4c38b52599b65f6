#include "frontend/SourceManager.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
