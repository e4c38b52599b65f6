//===- Json.h - JSON text -------------------------------------------------===//
#pragma once

#include <string>
#include <string_view>

namespace dfir {

/// `s` with JSON string escapes (without the quotes).
std::string jsonEscape(std::string_view s);

} // namespace dfir
