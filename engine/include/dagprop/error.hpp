// The one exception type dagprop throws: its message names the node, the values involved and the
// fix.
#pragma once

#include <stdexcept>
#include <string>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace dagprop
DAGPROP_API_END
