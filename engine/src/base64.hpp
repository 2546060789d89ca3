// Base64 (RFC 4648, standard alphabet, with padding) for tensor bytes in graph files and
// checkpoints. Private to engine/; header-only, so the io and nn libraries can both use it in a
// shared build (where internal symbols are not exported).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dagprop::base64 {

// The length encode() gives for n bytes: a decoder checks it before it allocates anything.
constexpr std::size_t encoded_length(std::size_t n) {
  return (n + 2) / 3 * 4;
}

namespace detail {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_reverse_table() {
  std::array<std::int8_t, 256> table{};
  table.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}
constexpr std::array<std::int8_t, 256> kReverse = make_reverse_table();

}  // namespace detail

inline std::string encode(std::span<const std::byte> bytes) {
  std::string text;
  text.reserve(encoded_length(bytes.size()));
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto v = std::to_integer<std::uint32_t>(bytes[i]) << 16 |
                   std::to_integer<std::uint32_t>(bytes[i + 1]) << 8 |
                   std::to_integer<std::uint32_t>(bytes[i + 2]);
    text += detail::kAlphabet[v >> 18 & 63];
    text += detail::kAlphabet[v >> 12 & 63];
    text += detail::kAlphabet[v >> 6 & 63];
    text += detail::kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::to_integer<std::uint32_t>(bytes[i]) << 16;
    if (rest == 2) v |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
    text += detail::kAlphabet[v >> 18 & 63];
    text += detail::kAlphabet[v >> 12 & 63];
    text += rest == 2 ? detail::kAlphabet[v >> 6 & 63] : '=';
    text += '=';
  }
  return text;
}

inline bool decode(std::string_view text, std::span<std::byte> out) {
  if (text.size() != encoded_length(out.size())) return false;
  std::size_t written = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    int digits = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=') break;
      const std::int8_t d = detail::kReverse[static_cast<unsigned char>(c)];
      if (d < 0) return false;
      v |= static_cast<std::uint32_t>(d) << (18 - 6 * k);
      ++digits;
    }
    const std::size_t nbytes = digits == 4 ? 3 : digits == 3 ? 2 : digits == 2 ? 1 : 0;
    // Padding only at the very end, exactly as much as the length needs, and no stray bits.
    const bool last = i + 4 == text.size();
    if (nbytes == 0 || (!last && nbytes != 3)) return false;
    if (last && written + nbytes != out.size()) return false;
    for (std::size_t k = static_cast<std::size_t>(digits); k < 4; ++k) {
      if (text[i + k] != '=') return false;
    }
    if ((nbytes == 1 && (v & 0xFFFF) != 0) || (nbytes == 2 && (v & 0xFF) != 0)) return false;
    for (std::size_t k = 0; k < nbytes; ++k) {
      out[written++] = static_cast<std::byte>(v >> (16 - 8 * k) & 0xFF);
    }
  }
  return written == out.size();
}

}  // namespace dagprop::base64
