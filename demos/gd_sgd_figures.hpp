// The demo gd_sgd's figures (Section 3.1): what its main() (gd_sgd.cpp) and its figure files share.
// The mathematics (test functions, oracle, bounds, step sizes) is in
// chapter3/3_1_gradient_optimization.hpp; these files only run it and draw it.
//
//   gd_sgd_landscapes.cpp   stationary_points.svg  (3.1.2.1) and gd_vs_sgd_paths.svg (3.1.3)
//   gd_sgd_gd_bounds.cpp    gd_bounds.svg          Theorems 3.1 and 3.2, (3.4)-(3.8)
//   gd_sgd_sgd_bounds.cpp   sgd_bounds.svg         Theorems 3.3 and 3.4, (3.9)-(3.11)
//   gd_sgd_optimizers.cpp   optimizers.svg         (3.1.4) momentum, adaptive steps, Newton
//   gd_sgd_figures.cpp      the helpers below
#pragma once

#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "chapter3/3_1_gradient_optimization.hpp"
#include "experiment/cli.hpp"

namespace pgcpp::gd_sgd {

using namespace pgcpp::section_3_1;

struct Config : Params {
  Param<double> mu{this, "--mu", 1.0, "strong convexity mu of the quadratic (its smallest eigenvalue), (3.6)",
                   Range<double>::open_closed(0, 1e3)};
  Param<double> L{this, "--L", 4.0, "smoothness L of both functions (the quadratic's largest eigenvalue), (3.2)",
                  Range<double>::open_closed(0, 1e3)};
  Param<int> steps{this, "--steps", 1000, "GD iterations", {10, 1'000'000}};
  Param<int> sgd_steps{this, "--sgd-steps", 2000, "SGD iterations K", {10, 1'000'000}};
  // The smallest normal Scalar as the lower end: a smaller step would round to 0 (float) or lose
  // digits in the optimizer, which computes in Scalar.
  Param<double> alpha{this, "--alpha", 0.05, "SGD constant step size alpha of (3.9) and of the path figure",
                      {static_cast<double>(std::numeric_limits<Scalar>::min()), 10}};
  Param<double> sigma{this, "--sigma", 1.0, "gradient noise: E||g - grad f||^2 = sigma^2 (Gaussian)", {0, 1e3}};
  Param<int> runs{this, "--runs", 200, "seeded SGD runs per expectation", {2, 10'000}};
  Param<std::uint64_t> seed{this, "--seed", 0, "random seed (same seed, same figures)", {0, 1'000'000'000}};
  Param<std::string> out{this, "--out", "runs/gd_sgd", "directory for the SVG figures"};
  Param<bool> quiet{this, "--quiet", false, "print only the files written"};
};

// The five figures, in the order main() draws them; each returns the file it wrote.
std::string stationary_points_figure(const Config& cfg);
std::string gd_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad);
std::string sgd_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad);
std::string paths_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad);
std::string optimizers_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad);

// Where both functions are centred and started: theta_0 - theta* has components along both
// principal axes, so every eigen-direction shows in the curves.
inline const VectorD kThetaStar = (VectorD(2) << 1.0, -0.5).finished();
inline const VectorD kTheta0 = (VectorD(2) << -2.2, 2.0).finished();
inline constexpr double kAngle = std::numbers::pi / 6;  // principal axes tilted by 30 degrees

inline const std::string kBlue = "#0072B2", kOrange = "#D55E00", kGreen = "#009E73", kPink = "#CC79A7",
                         kGold = "#E69F00", kSky = "#56B4E9", kBlack = "#000000";

// Below ~(100 eps)^2 a squared distance is rounding (theta* is O(1), so the iterates cannot get
// closer than ~eps): such points are left out of the plots and of the bound ratios.
inline constexpr double kEps = std::numeric_limits<Scalar>::epsilon();
inline constexpr double kFloor = 1e4 * kEps * kEps;
// Where the bounds hold with equality (alpha = 2/(mu+L) on a quadratic), rounding shows in the
// ratio iterate / bound once the iterate is within ~1e-6 relative of the floor: ratios are
// reported only above kCheck.
inline constexpr double kCheck = 1e8 * kFloor;
// v with every value below `floor` replaced by NaN (a gap in the plotted line).
std::vector<double> above_floor(std::vector<double> v, double floor = kFloor);

// k = 1..n, about `count` of them evenly spaced on a log axis (every k while k is small).
std::vector<int> log_spaced(int n, int count);
std::vector<double> as_x(const std::vector<int>& ks);
// v[k] for each k of ks.
std::vector<double> values_at(const std::vector<double>& v, const std::vector<int>& ks);
// max over k >= 1 of value[k] / bound[k], where bound[k] > above: at most 1 is what the theorem says.
double worst_ratio(const std::vector<double>& value, const std::vector<double>& bound, double above);

// printf of one number, as a string.
std::string fmt(const char* format, double v);
// Prints a result line; a line that would show inf or nan is an overflow, never a result.
void report(const Config& cfg, const std::string& line);

// GD theta_{k+1} = theta_k - alpha grad f(theta_k) from kTheta0, through the library's Sgd optimizer.
std::vector<VectorD> gd(const Objective& f, double alpha, int steps);

// A path in the (theta_1, theta_2) plane, as plot::Axes::path wants it.
struct Path2 {
  std::vector<double> x, y;
};
Path2 split(const std::vector<VectorD>& path);

// A grid over [x0, x1] x [y0, y1] and z = f on it, row-major as plot::Axes::contour wants.
struct Grid {
  std::vector<double> x, y, z;
};
template <class F>
Grid sample(F f, double x0, double x1, double y0, double y1, int n) {
  Grid g;
  for (int i = 0; i < n; ++i) g.x.push_back(x0 + (x1 - x0) * i / (n - 1.0));
  for (int j = 0; j < n; ++j) g.y.push_back(y0 + (y1 - y0) * j / (n - 1.0));
  for (double y : g.y)
    for (double x : g.x) g.z.push_back(f(x, y));
  return g;
}
// Levels f* + top / 2^j: level sets of a convex function, tighter towards its minimum.
std::vector<double> halving_levels(double top, int n);

}  // namespace pgcpp::gd_sgd
