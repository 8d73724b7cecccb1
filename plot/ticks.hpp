// Axis scales (data -> pixels, linear or log10) and tick values with their labels.
#pragma once

#include <string>
#include <vector>

namespace pgcpp::plot {

// Maps the data interval [lo, hi] onto the pixel interval [p0, p1]. For a y axis p1 < p0,
// because SVG's y points down.
struct Scale {
  double lo = 0.0, hi = 1.0;  // data limits: lo < hi, and both > 0 on a log scale
  double p0 = 0.0, p1 = 1.0;  // pixel positions of lo and hi
  bool log = false;
  // NaN when v cannot be drawn (not finite, or not positive on a log scale), so callers treat
  // every undrawable point the same way: as a break in the line.
  double operator()(double v) const;
  double inverse(double pixel) const;
};

struct Ticks {
  std::vector<double> major;
  std::vector<std::string> labels;  // one per major tick
  std::vector<double> minor;        // log axes only: the 2..9 x 10^k between decades
};

// A step of 1, 2 or 5 x 10^k that cuts `span` into about `target` intervals.
double nice_step(double span, int target);

// Multiples of nice_step(hi - lo, target) inside [lo, hi]. Throws std::invalid_argument unless
// lo < hi, both finite.
Ticks linear_ticks(double lo, double hi, int target = 6);

// Decades 10^k inside [lo, hi] (every 2nd, 3rd, ... decade if there are more than `target`;
// the skipped ones become minor ticks). A range too narrow for two decades falls back to
// 1-2-5 x 10^k, then to linear ticks. Throws std::invalid_argument unless 0 < lo < hi.
Ticks log_ticks(double lo, double hi, int target = 6);

// Labels for ticks spaced `step` apart, all with the same number of decimals; a typographic
// minus; "2×10⁶" style when the values are very large or very small.
std::vector<std::string> format_ticks(const std::vector<double>& values, double step);

// "10⁻³", "10⁰", "10⁴"
std::string format_decade(int k);

}  // namespace pgcpp::plot
