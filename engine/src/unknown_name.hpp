// The one error for a name that is not among the valid choices (an activation, an optimizer, a
// dataset): it lists every valid name, so the fix is in the message. Private to engine/.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <dagprop/error.hpp>

namespace dagprop {

inline std::string join_names(std::span<const std::string_view> names) {
  std::string joined;
  for (const std::string_view name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

// "no activation is called 'rleu'; valid names: step_ste, sigmoid, ..."
[[noreturn]] inline void throw_unknown_name(std::string_view what, std::string_view given,
                                            std::span<const std::string_view> valid) {
  throw Error("no " + std::string(what) + " is called '" + std::string(given) +
              "'; valid names: " + join_names(valid));
}

}  // namespace dagprop
