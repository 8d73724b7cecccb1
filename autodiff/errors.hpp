// Errors of the autodiff: every invalid argument names the op and the shapes involved.
#pragma once

#include <stdexcept>
#include <string>

#include "core/scalar.hpp"

namespace pgcpp::ad {

class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

[[noreturn]] inline void fail(const char* op, const std::string& what) {
  throw ShapeError(std::string("pgcpp::ad::") + op + ": " + what);
}

inline std::string shape_of(const Matrix& m) {
  return std::to_string(m.rows()) + "x" + std::to_string(m.cols());
}

}  // namespace pgcpp::ad
