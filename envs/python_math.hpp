// Python's arithmetic where it differs from the obvious C++, so that environment steps round
// exactly like Gymnasium's code (which runs on CPython floats and numpy float64 scalars).
#pragma once

namespace pgcpp::python {

// Python's x**2. CPython and numpy evaluate it with the C library's pow(), which on glibc 2.36
// differs from the correctly rounded x*x in the last bit for about 0.1% of inputs. The compiler
// would turn pow(x, 2.0) into x*x, so the exponent is hidden from it (see python_math.cpp).
double square(double x);

// Python's a % b: floored modulo, the result has the sign of b (C's fmod truncates instead).
double mod(double a, double b);

// numpy's clip(x, lo, hi) for a scalar.
inline double clip(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

}  // namespace pgcpp::python
