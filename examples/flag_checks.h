#pragma once
// Command-line checks for the examples that say what is wrong in words.
// CLI11's own NonNegativeNumber lets "nan" through, Range prints its bounds
// as 309-digit numbers, and an integer too large for its type wrapped around
// (--steps 18446744073709551617 ran forever). Each of these checks the text
// as typed and fails with e.g. "--lr: nan is not a finite number >= 0";
// CLI11 reports it as a usage error (exit status 2).

#include <CLI/CLI.hpp>

#include <cstdint>
#include <exception>
#include <string>

namespace examples {

// A finite number >= `min` (> `min` when `open`), and <= `max`.
CLI::Validator number_in(double min, double max, bool open = false);
// A finite number >= min (no upper bound).
CLI::Validator finite_at_least(double min);
// A whole number in [min, max], written in decimal digits.
CLI::Validator whole_in(int64_t min, int64_t max);
// A file the program can create or overwrite: not a directory, in an
// existing directory it may write to. Checked before any work starts, so a
// typo in --summary does not cost the whole run.
CLI::Validator writable_file();

// The message of an error, without the C++ backtrace that c10::Error adds.
std::string message_of(const std::exception& e);

}  // namespace examples
