#include "envs/python_math.hpp"

#include <cmath>

namespace pgcpp::python {

namespace {
// volatile: the compiler must read the exponent at run time and so keeps the call to pow().
volatile double exponent_two = 2.0;
}  // namespace

double square(double x) { return std::pow(x, exponent_two); }

double mod(double a, double b) {
  // CPython's float remainder: fmod is exact; move it into b's sign, and give a zero b's sign.
  double r = std::fmod(a, b);
  if (r == 0.0) return std::copysign(0.0, b);
  if ((b < 0.0) != (r < 0.0)) r += b;
  return r;
}

}  // namespace pgcpp::python
