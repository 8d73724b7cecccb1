#include "plot/ticks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace pgcpp::plot {

double Scale::operator()(double v) const {
  if (!std::isfinite(v) || (log && v <= 0.0)) return std::numeric_limits<double>::quiet_NaN();
  double t =
      log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  return p0 + t * (p1 - p0);
}

double Scale::inverse(double pixel) const {
  double t = (pixel - p0) / (p1 - p0);
  return log ? std::pow(10.0, std::log10(lo) + t * (std::log10(hi) - std::log10(lo))) : lo + t * (hi - lo);
}

double nice_step(double span, int target) {
  double raw = span / std::max(target, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;  // in [1, 10)
  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

namespace {

// Tolerance for "a tick sits on a limit": limits often are tick values up to rounding.
constexpr double kEdge = 1e-9;

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string superscript(int k) {
  static const char* digits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string s = k < 0 ? "⁻" : "";
  for (char c : std::to_string(std::abs(k))) s += digits[c - '0'];
  return s;
}

// Typographic minus: a hyphen looks too short next to digits.
std::string with_minus(std::string s) {
  if (!s.empty() && s[0] == '-') s = "−" + s.substr(1);
  return s;
}

int decimals_for(double step) { return std::max(0, static_cast<int>(std::ceil(-std::log10(step) - kEdge))); }

}  // namespace

std::string format_decade(int k) { return "10" + superscript(k); }

std::vector<std::string> format_ticks(const std::vector<double>& values, double step) {
  double biggest = 0.0;
  for (double v : values) biggest = std::max(biggest, std::abs(v));
  bool scientific = biggest >= 1e6 || (biggest > 0.0 && biggest < 1e-3);
  std::vector<std::string> labels;
  for (double v : values) {
    if (std::abs(v) < step * kEdge) v = 0.0;  // rounding residue: no "−0.0"
    if (!scientific) {
      labels.push_back(with_minus(fixed(v, decimals_for(step))));
      continue;
    }
    if (v == 0.0) {
      labels.push_back("0");
      continue;
    }
    int e = static_cast<int>(std::floor(std::log10(std::abs(v)) + kEdge));
    double scale = std::pow(10.0, e);
    std::string m = fixed(v / scale, decimals_for(step / scale));
    if (m.find('.') != std::string::npos) {
      m.erase(m.find_last_not_of('0') + 1);
      if (m.back() == '.') m.pop_back();
    }
    std::string power = format_decade(e);
    labels.push_back(m == "1" ? power : m == "-1" ? "−" + power : with_minus(m) + "×" + power);
  }
  return labels;
}

Ticks linear_ticks(double lo, double hi, int target) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw std::invalid_argument("pgcpp::plot::linear_ticks: need finite lo < hi");
  double step = nice_step(hi - lo, target);
  Ticks t;
  // Ticks are k * step, never an accumulated sum, so 0.1-steps do not drift to 0.30000000000000004.
  for (double k = std::ceil(lo / step - kEdge); k <= std::floor(hi / step + kEdge); k += 1.0)
    t.major.push_back(k * step);
  t.labels = format_ticks(t.major, step);
  return t;
}

Ticks log_ticks(double lo, double hi, int target) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && 0.0 < lo && lo < hi))
    throw std::invalid_argument("pgcpp::plot::log_ticks: need finite 0 < lo < hi");
  auto inside = [&](double v) { return v >= lo * (1 - kEdge) && v <= hi * (1 + kEdge); };
  int kmin = static_cast<int>(std::ceil(std::log10(lo) - kEdge));
  int kmax = static_cast<int>(std::floor(std::log10(hi) + kEdge));
  Ticks t;
  if (kmax - kmin + 1 >= 2) {
    int n = kmax - kmin + 1;
    int stride = (n + target - 1) / std::max(target, 1);
    for (int k = kmin; k <= kmax; ++k) {
      // Strided decades stay aligned to 10^0, so 1 is a tick whenever it is in range.
      if (((k % stride) + stride) % stride == 0) {
        t.major.push_back(std::pow(10.0, k));
        t.labels.push_back(format_decade(k));
      } else {
        t.minor.push_back(std::pow(10.0, k));
      }
    }
    if (stride == 1)
      for (int k = kmin - 1; k <= kmax; ++k)
        for (int m = 2; m <= 9; ++m)
          if (inside(m * std::pow(10.0, k))) t.minor.push_back(m * std::pow(10.0, k));
    return t;
  }
  // Less than two decades in view: 1-2-5 x 10^k still reads as a log axis.
  for (int k = kmin - 1; k <= kmax; ++k)
    for (int m : {1, 2, 3, 4, 5, 6, 7, 8, 9}) {
      double v = m * std::pow(10.0, k);
      if (!inside(v)) continue;
      bool major = m == 1 || m == 2 || m == 5;
      (major ? t.major : t.minor).push_back(v);
      if (major) t.labels.push_back(format_ticks({v}, std::pow(10.0, k))[0]);
    }
  if (t.major.size() >= 2) return t;
  return linear_ticks(lo, hi, target);
}

}  // namespace pgcpp::plot
