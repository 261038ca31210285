// core/errors.h — the exception types for bad user input, shared by every layer.
#pragma once

#include <stdexcept>
#include <string>

namespace vrf {

// A flag, option value or combination of options is invalid. The message names the option, the
// value found, what was expected and how to fix it.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& message) : std::runtime_error(message) {}
};

// An input file (store, checkpoint, JSONL) is malformed. The message names the file, the dataset or
// line, the row, what was expected and what was found.
class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace vrf
