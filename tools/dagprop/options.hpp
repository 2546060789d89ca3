// Checks for numeric command-line options whose messages say in words what is accepted and what was
// given ("--lr must be a finite number > 0, got nan"), in place of CLI11's range text. They run on
// the text before CLI11 converts it, so a non-number is explained the same way.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace dagprop::cli {

// A finite number > low.
CLI::Validator number_above(double low);
// A finite number >= low.
CLI::Validator number_at_least(double low);
// A finite number in [low, high].
CLI::Validator number_from_to(double low, double high);
// A whole number in [low, high] (decimal digits, an optional leading '-' only when low < 0).
CLI::Validator whole_number_from_to(std::int64_t low, std::int64_t high);
// A seed: a whole number from 0 to 2^64 - 1 (no sign: "-1" would wrap around).
CLI::Validator seed_number();

// CLI11 writes a failed check as "--lr: must be ..."; this makes it "--lr must be ...".
std::string plain_validation_message(const std::string& what);

}  // namespace dagprop::cli
