// gd_sgd's helpers shared by its figures (declared in gd_sgd_figures.hpp).
#include "gd_sgd_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "plot/plot.hpp"

namespace pgcpp::gd_sgd {

std::vector<double> above_floor(std::vector<double> v, double floor) {
  for (double& x : v)
    if (x < floor) x = std::nan("");
  return v;
}

std::vector<int> log_spaced(int n, int count) {
  std::vector<int> ks;
  for (int i = 0; i < count; ++i) {
    int k = static_cast<int>(std::lround(std::pow(static_cast<double>(n), i / (count - 1.0))));
    if (ks.empty() || k > ks.back()) ks.push_back(k);
  }
  return ks;
}

std::vector<double> as_x(const std::vector<int>& ks) { return {ks.begin(), ks.end()}; }

std::vector<double> values_at(const std::vector<double>& v, const std::vector<int>& ks) {
  std::vector<double> out;
  for (int k : ks) out.push_back(v[static_cast<std::size_t>(k)]);
  return out;
}

double worst_ratio(const std::vector<double>& value, const std::vector<double>& bound, double above) {
  double worst = 0.0;
  for (std::size_t k = 1; k < value.size(); ++k)  // k = 0 holds with equality
    if (bound[k] > above) worst = std::max(worst, value[k] / bound[k]);
  return worst;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

void report(const Config& cfg, const std::string& line) {
  if (plot::shows_non_finite(line))
    throw std::runtime_error("the iterates overflow for --mu " + cfg.mu.text() + " --L " + cfg.L.text() + " --alpha " +
                             cfg.alpha.text() + " --sigma " + cfg.sigma.text() + ": " + line);
  if (!cfg.quiet) std::printf("%s\n", line.c_str());
}

std::vector<VectorD> gd(const Objective& f, double alpha, int steps) {
  ad::Var theta = parameter(kTheta0);
  ad::Sgd opt(ad::ParameterSet({theta}), ad::StepSize::constant(static_cast<Scalar>(alpha)));
  return iterate(opt, theta, steps, [&](const VectorD& t) { return f.grad(t); });
}

Path2 split(const std::vector<VectorD>& path) {
  Path2 p;
  for (const VectorD& t : path) p.x.push_back(t(0)), p.y.push_back(t(1));
  return p;
}

std::vector<double> halving_levels(double top, int n) {
  std::vector<double> levels;
  for (int j = n - 1; j >= 0; --j) levels.push_back(top * std::pow(0.5, j));
  return levels;
}

}  // namespace pgcpp::gd_sgd
