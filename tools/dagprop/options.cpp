// The option checks: parse the text exactly (all of it, nothing left over), then compare.
#include "options.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <system_error>

namespace dagprop::cli {
namespace {

std::string number_text(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

// How a rejected value is quoted: an empty one would otherwise vanish from the message.
std::string given(const std::string& text) {
  return text.empty() ? std::string("an empty value") : "'" + text + "'";
}

// The whole text as a double (nan and inf included: from_chars reads them), or false.
bool parse_number(const std::string& text, double& value) {
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  return !text.empty() && error == std::errc() && stop == end;
}

CLI::Validator number_check(const std::string& requirement, double low, bool low_inclusive,
                            double high) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0.0;
        if (!parse_number(text, value)) {
          return "must be " + requirement + ", got " + given(text) + ", which is not a number";
        }
        const bool ok =
            std::isfinite(value) && (low_inclusive ? value >= low : value > low) && value <= high;
        return ok ? std::string() : "must be " + requirement + ", got " + text;
      },
      requirement);
}

}  // namespace

CLI::Validator number_above(double low) {
  return number_check("a finite number > " + number_text(low), low, false,
                      std::numeric_limits<double>::max());
}

CLI::Validator number_at_least(double low) {
  return number_check("a finite number >= " + number_text(low), low, true,
                      std::numeric_limits<double>::max());
}

CLI::Validator number_from_to(double low, double high) {
  return number_check("a number from " + number_text(low) + " to " + number_text(high), low, true,
                      high);
}

CLI::Validator whole_number_from_to(std::int64_t low, std::int64_t high) {
  const std::string requirement =
      "a whole number from " + std::to_string(low) + " to " + std::to_string(high);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        std::int64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        if (text.empty() || stop != end) {
          return "must be " + requirement + ", got " + given(text) +
                 ", which is not a whole number";
        }
        if (error != std::errc() || value < low || value > high) {
          return "must be " + requirement + ", got " + text;
        }
        return {};
      },
      requirement);
}

CLI::Validator seed_number() {
  const std::string requirement =
      "a whole number from 0 to " + std::to_string(std::numeric_limits<std::uint64_t>::max());
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        if (!text.empty() && text[0] == '-') return "must be " + requirement + ", got " + text;
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        // from_chars for an unsigned type refuses a sign, so "-1" cannot wrap to 2^64 - 1.
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        if (text.empty() || stop != end) {
          return "must be " + requirement + ", got " + given(text) +
                 ", which is not a whole number";
        }
        if (error != std::errc()) return "must be " + requirement + ", got " + text;
        return {};
      },
      requirement);
}

std::string plain_validation_message(const std::string& what) {
  const std::size_t colon = what.find(": must be ");
  if (colon == std::string::npos) return what;
  return what.substr(0, colon) + what.substr(colon + 1);
}

}  // namespace dagprop::cli
