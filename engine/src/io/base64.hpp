// Base64 (RFC 4648, standard alphabet, with padding) for tensor bytes in graph files. Private to
// engine/.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dagprop::base64 {

std::string encode(std::span<const std::byte> bytes);
// The length encode() gives for n bytes: a decoder checks it before it allocates anything.
constexpr std::size_t encoded_length(std::size_t n) {
  return (n + 2) / 3 * 4;
}
// Decodes exactly out.size() bytes into out; false if text is not their canonical encoding.
bool decode(std::string_view text, std::span<std::byte> out);

}  // namespace dagprop::base64
