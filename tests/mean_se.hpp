// The mean and its standard error over i.i.d. samples, per coordinate: the yardstick of every
// statistical test (a Monte Carlo estimate is checked against an exact value in units of its SE).
//
//   MeanSe stats;
//   for (...) stats.add(sample);            // an Eigen::ArrayXd per sample, or a double
//   CHECK(stats.max_z(exact) < 4.5);        // every coordinate within 4.5 standard errors
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

namespace pgcpp::test {

struct MeanSe {
  Eigen::ArrayXd sum, sum_sq;
  long n = 0;

  void add(const Eigen::ArrayXd& x) {
    if (n == 0) sum = sum_sq = Eigen::ArrayXd::Zero(x.size());
    sum += x;
    sum_sq += x.square();
    ++n;
  }
  void add(double x) { add(Eigen::ArrayXd::Constant(1, x)); }

  Eigen::ArrayXd mean() const { return sum / static_cast<double>(n); }
  // sqrt(s^2 / n) with the unbiased sample variance s^2 (n >= 2).
  Eigen::ArrayXd se() const {
    const double m = static_cast<double>(n);
    return ((sum_sq - sum.square() / m) / (m - 1) / m).max(0.0).sqrt();
  }
  // max_i |mean_i - target_i| / se_i (a coordinate with se = 0 must match exactly).
  double max_z(const Eigen::ArrayXd& target) const {
    const Eigen::ArrayXd diff = (mean() - target).abs(), s = se();
    double z = 0;
    for (Eigen::Index i = 0; i < diff.size(); ++i)
      z = std::max(z, s(i) > 0 ? diff(i) / s(i) : (diff(i) > 0 ? std::numeric_limits<double>::infinity() : 0.0));
    return z;
  }
};

}  // namespace pgcpp::test
