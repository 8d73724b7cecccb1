// Section 3.1 — Gradient-based optimization.  Equations (3.1)-(3.11), Theorems 3.1-3.4.
//
// GD and SGD, run with the library's optimizers (autodiff/optim.hpp), on two functions whose
// L, mu, minimizer theta* and minimum f* are known exactly (chapter3/3_1_gradient_optimization.hpp):
//   (a) a smooth convex function that is NOT strongly convex (flat bottom, linear tails),
//         f(theta) = sum_i w_i psi(u_i^T (theta - theta*)),  psi(x) = 4/3 (log cosh x - tanh(x)^2/2),
//       L = max w_i, f* = 0, and ||grad f|| bounded, so G^2 of Theorem 3.3 holds on all of R^2;
//   (b) a strongly convex quadratic f(theta) = 1/2 (theta - theta*)^T A (theta - theta*) with the
//       eigenvalues of A equal to mu and L (flags).
// Each iterate curve is drawn next to the bound the book states for it; the SGD expectations are
// estimated over --runs seeded runs. Then Section 3.1.4's three refinements on the same functions:
// momentum, adaptive step sizes (AdaGrad, RMSProp, Adam) and a second-order method (Newton's,
// with the Hessian from the autodiff's second derivatives, pure and with a backtracking line
// search); and the two graphs the book leaves as TODOs: the kinds of stationary points (Section
// 3.1.2.1) and GD vs SGD paths over a convex function at the same step size (Section 3.1.3).
//
//   gd_sgd [--mu 1] [--L 4] [--steps 1000] [--sgd-steps 2000] [--alpha 0.05] [--sigma 1]
//          [--runs 200] [--seed 0] [--out runs/gd_sgd] [--quiet]
//
// Writes five SVG figures to --out (see the list at the end of main) and prints each theorem's
// worst ratio of iterate to bound, which Theorems 3.1-3.4 say is at most 1. Sizes are bounded at
// parse time (--runs x (--sgd-steps + 1) <= 4e6 keeps the SGD runs' matrices under 130 MB); a
// result that overflows (e.g. SGD with alpha_0 = 1/mu far above 2/L) stops the program with exit
// status 1 and one line, rather than a figure or a line showing inf or nan.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/3_1_gradient_optimization.hpp"
#include "experiment/cli.hpp"
#include "experiment/program.hpp"
#include "plot/plot.hpp"

using namespace pgcpp;
using namespace pgcpp::section_3_1;
namespace plot = pgcpp::plot;

namespace {

struct Config : Params {
  Param<double> mu{this, "--mu", 1.0, "strong convexity mu of the quadratic (its smallest eigenvalue), (3.6)",
                   Range<double>::open_closed(0, 1e3)};
  Param<double> L{this, "--L", 4.0, "smoothness L of both functions (the quadratic's largest eigenvalue), (3.2)",
                  Range<double>::open_closed(0, 1e3)};
  Param<int> steps{this, "--steps", 1000, "GD iterations", {10, 1'000'000}};
  Param<int> sgd_steps{this, "--sgd-steps", 2000, "SGD iterations K", {10, 1'000'000}};
  Param<double> alpha{this, "--alpha", 0.05, "SGD constant step size alpha of (3.9) and of the path figure",
                      Range<double>::open_closed(0, 10)};
  Param<double> sigma{this, "--sigma", 1.0, "gradient noise: E||g - grad f||^2 = sigma^2 (Gaussian)", {0, 1e3}};
  Param<int> runs{this, "--runs", 200, "seeded SGD runs per expectation", {2, 10'000}};
  Param<std::uint64_t> seed{this, "--seed", 0, "random seed (same seed, same figures)", {0, 1'000'000'000}};
  Param<std::string> out{this, "--out", "runs/gd_sgd", "directory for the SVG figures"};
  Param<bool> quiet{this, "--quiet", false, "print only the files written"};
};

// Where both functions are centred and started: theta_0 - theta* has components along both
// principal axes, so every eigen-direction shows in the curves.
const VectorD kThetaStar = (VectorD(2) << 1.0, -0.5).finished();
const VectorD kTheta0 = (VectorD(2) << -2.2, 2.0).finished();
constexpr double kAngle = std::numbers::pi / 6;  // principal axes tilted by 30 degrees

const std::string kBlue = "#0072B2", kOrange = "#D55E00", kGreen = "#009E73", kPink = "#CC79A7",
                  kGold = "#E69F00", kSky = "#56B4E9", kBlack = "#000000";

// k = 1..n, about `count` of them evenly spaced on a log axis (every k while k is small).
std::vector<int> log_spaced(int n, int count) {
  std::vector<int> ks;
  for (int i = 0; i < count; ++i) {
    int k = static_cast<int>(std::lround(std::pow(static_cast<double>(n), i / (count - 1.0))));
    if (ks.empty() || k > ks.back()) ks.push_back(k);
  }
  return ks;
}

std::vector<double> as_x(const std::vector<int>& ks) { return {ks.begin(), ks.end()}; }

// Below ~(100 eps)^2 a squared distance is rounding (theta* is O(1), so the iterates cannot get
// closer than ~eps): such points are left out of the plots and of the bound ratios.
constexpr double kEps = std::numeric_limits<Scalar>::epsilon();
constexpr double kFloor = 1e4 * kEps * kEps;
// Where the bounds hold with equality (alpha = 2/(mu+L) on a quadratic), rounding shows in the
// ratio iterate / bound once the iterate is within ~1e-6 relative of the floor: ratios are
// reported only above kCheck.
constexpr double kCheck = 1e8 * kFloor;
std::vector<double> above_floor(std::vector<double> v, double floor = kFloor) {
  for (double& x : v)
    if (x < floor) x = std::nan("");
  return v;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

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
std::vector<double> halving_levels(double top, int n) {
  std::vector<double> levels;
  for (int j = n - 1; j >= 0; --j) levels.push_back(top * std::pow(0.5, j));
  return levels;
}

struct Path2 {
  std::vector<double> x, y;
};
Path2 split(const std::vector<VectorD>& path) {
  Path2 p;
  for (const VectorD& t : path) p.x.push_back(t(0)), p.y.push_back(t(1));
  return p;
}

// GD theta_{k+1} = theta_k - alpha grad f(theta_k) through the library's Sgd optimizer.
std::vector<VectorD> gd(const Objective& f, double alpha, int steps) {
  ad::Var theta = parameter(kTheta0);
  ad::Sgd opt(ad::ParameterSet({theta}), ad::StepSize::constant(static_cast<Scalar>(alpha)));
  return iterate(opt, theta, steps, [&](const VectorD& t) { return f.grad(t); });
}

// Prints a result line; a line that would show inf or nan is an overflow, never a result.
void report(const Config& cfg, const std::string& line) {
  if (plot::shows_non_finite(line))
    throw std::runtime_error("the iterates overflow for --mu " + cfg.mu.text() + " --L " + cfg.L.text() + " --alpha " +
                             cfg.alpha.text() + " --sigma " + cfg.sigma.text() + ": " + line);
  if (!cfg.quiet) std::printf("%s\n", line.c_str());
}

// ---------------------------------------------------------------------------------------------
// 3.1.2.1 — Kinds of first-order stationary points (the book's "TODO: graph different
// stationary points").

std::string stationary_points_figure(const Config& cfg) {
  // grad f = 0 at (+-1, +-1); the Hessian from autodiff's second derivatives says which kind.
  std::vector<StationaryPoint> points;
  for (double x : {1.0, -1.0})
    for (double y : {-1.0, 1.0})
      points.push_back(classify([](const ad::Var& t) { return cubic_f(t); }, (VectorD(2) << x, y).finished()));
  for (const auto& p : points)
    report(cfg, "  stationary point (" + fmt("%+.0f", p.theta(0)) + ", " + fmt("%+.0f", p.theta(1)) +
                    "): f = " + fmt("%+.0f", p.value) + ", |grad f| = " + fmt("%.1e", p.grad.norm()) +
                    ", Hessian eigenvalues " + fmt("%+.0f", p.hessian_eigenvalues(0)) + ", " +
                    fmt("%+.0f", p.hessian_eigenvalues(1)) + " -> " + p.kind);

  plot::Figure fig(1, 2, 1200, 520);
  fig.title("Section 3.1.2.1: first-order stationary points of f(θ) = θ₁³ − 3θ₁ + 3θ₂ − θ₂³");
  Grid g = sample([](double x, double y) { return cubic_f(x, y); }, -2.1, 2.1, -2.1, 2.1, 121);
  plot::Axes& ax = fig.panel(0, 0);
  ax.contour(g.x, g.y, g.z, {-7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7},
             {.filled = true, .colorbar = true, .colorbar_label = "f(θ)"});
  // GD (alpha = 0.03) from three starts. One starts exactly on the saddle's stable line
  // theta_2 = 1, where grad_2 f = 0 for ever, and converges to the saddle point: a first-order
  // stationary point that is not a minimum. One starts 0.01 off that line: GD is first drawn to
  // the saddle, then repelled, and reaches the minimum. From near the maximum it leaves at once.
  const double alpha = 0.03;
  const std::vector<std::pair<VectorD, std::string>> starts = {
      {(VectorD(2) << -0.4, 1.0).finished(), "GD from (−0.4, 1): converges to the saddle"},
      {(VectorD(2) << 1.9, 0.99).finished(), "GD from (1.9, 0.99): escapes to the minimum"},
      {(VectorD(2) << -0.8, 0.85).finished(), "GD from (−0.8, 0.85), near the maximum"}};
  const std::vector<std::string> colors = {"#000000", "#ff7f50", "#ff00ff"};
  for (std::size_t i = 0; i < starts.size(); ++i) {
    ad::Var theta = parameter(starts[i].first);
    ad::Sgd opt(ad::ParameterSet({theta}), ad::StepSize::constant(static_cast<Scalar>(alpha)));
    auto path = iterate(opt, theta, 120, [](const VectorD& t) {
      return VectorD((VectorD(2) << 3 * t(0) * t(0) - 3, 3 - 3 * t(1) * t(1)).finished());
    });
    Path2 p = split(path);
    ax.path(p.x, p.y, {.label = starts[i].second, .color = colors[i], .width = 1.6, .marker_size = 1.6});
  }
  for (const auto& p : points) {
    const bool min = p.kind == "minimum", max = p.kind == "maximum";
    ax.markers({p.theta(0)}, {p.theta(1)}, {.color = min ? "#ffffff" : max ? "#000000" : "#ff3030", .size = 6});
    const std::string name = p.kind + " (f = " + (p.value < 0 ? "−" : "") + fmt("%.0f", std::abs(p.value)) + ")";
    const bool top = p.theta(1) > 0;  // label above the upper points, below the lower ones
    ax.text(p.theta(0), p.theta(1) + (top ? 0.17 : -0.3), name, {.size = 12.5, .anchor = "middle", .color = "#000000"});
  }
  ax.xlabel("θ₁").ylabel("θ₂").title("contours, stationary points, GD paths (α = 0.03)");

  // 1-D slices through the saddle (1, 1): a minimum along theta_1, a maximum along theta_2.
  plot::Axes& sl = fig.panel(0, 1);
  std::vector<double> t, along1, along2;
  for (int i = 0; i <= 200; ++i) {
    t.push_back(-2.0 + 4.0 * i / 200.0);
    along1.push_back(cubic_f(t.back(), 1.0));
    along2.push_back(cubic_f(1.0, t.back()));
  }
  sl.line(t, along1, {.label = "f(t, 1): along θ₁ through the saddle", .color = kBlue, .width = 2.2});
  sl.line(t, along2, {.label = "f(1, t): along θ₂ through the saddle", .color = kOrange, .width = 2.2});
  sl.markers({1.0}, {0.0}, {.label = "saddle (1, 1): min along θ₁, max along θ₂", .color = "#ff3030", .size = 6});
  sl.markers({-1.0}, {cubic_f(-1.0, 1.0)}, {.label = "maximum (−1, 1) on the θ₁ slice", .color = kBlack, .size = 5});
  sl.markers({-1.0}, {cubic_f(1.0, -1.0)}, {.label = "minimum (1, −1) on the θ₂ slice", .color = kGreen, .size = 5});
  sl.hline(0.0, {.color = "#999"});
  sl.ylim(-7.5, 4.6).xlabel("t").ylabel("f").title("1-D slices: ∇f = 0 at all three, the Hessian tells them apart")
      ;
  const std::string file = cfg.out() + "/stationary_points.svg";
  fig.save(file);
  return file;
}

// ---------------------------------------------------------------------------------------------
// 3.1.2.1 — Theorems 3.1 and 3.2: GD with exact gradients.

std::string gd_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad) {
  const double L = cfg.L, mu = cfg.mu;
  plot::Figure fig(1, 3, 1560, 500);
  fig.title("GD: Theorem 3.1 (convex, L-smooth) and Theorem 3.2 (μ-strongly convex, L-smooth)");

  // Theorem 3.1 on the convex, not strongly convex function, for several 0 < alpha <= 2/L.
  {
    plot::Axes& ax = fig.panel(0, 0);
    const double gap0 = convex.f(kTheta0) - convex.f_star, D2 = (kTheta0 - convex.theta_star).squaredNorm();
    const std::vector<int> ks = log_spaced(cfg.steps, 160);
    const std::vector<std::pair<double, std::string>> alphas = {{0.25, kBlue}, {1.0, kOrange}, {1.5, kGreen}, {2.0, kPink}};
    for (const auto& [a, color] : alphas) {
      const double alpha = a / L;
      auto path = gd(convex, alpha, cfg.steps);
      std::vector<double> gap, bound;
      double worst = 0.0;
      for (int k = 1; k <= cfg.steps; ++k) {  // k = 0 holds with equality
        // f(theta_k) - f* <= 2 gap0 D^2 / (2 D^2 + k alpha (2 - L alpha) gap0)           (3.4)
        const double b = bound_3_4(alpha, L, gap0, D2, k);
        worst = std::max(worst, (convex.f(path[k]) - convex.f_star) / b);
      }
      for (int k : ks) {
        gap.push_back(convex.f(path[k]) - convex.f_star);
        bound.push_back(bound_3_4(alpha, L, gap0, D2, k));
      }
      ax.line(as_x(ks), gap, {.label = "α = " + fmt("%g", a) + "/L", .color = color, .width = 2.2});
      ax.line(as_x(ks), bound, {.color = color, .width = 1.3, .dash = "6 4"});
      report(cfg, "Theorem 3.1, alpha = " + fmt("%g", a) + "/L: f(theta_K) - f* = " +
                      fmt("%.3g", gap.back()) + ", (3.4) = " + fmt("%.3g", bound.back()) +
                      ", max_{k>=1} gap / (3.4) = " + fmt("%.3f", worst));
    }
    // alpha = 1/L:  f(theta_k) - f* <= 2 L ||theta_0 - theta*||^2 / (k + 4)                (3.5)
    std::vector<double> b35;
    for (int k : ks) b35.push_back(bound_3_5(L, D2, k));
    ax.line(as_x(ks), b35, {.label = "(3.5), α = 1/L", .color = kBlack, .width = 1.3, .dash = "2 3"});
    ax.line({}, {}, {.label = "(3.4) for each α (dashed)", .color = "#777", .width = 1.3, .dash = "6 4"});
    ax.log_x().log_y().xlabel("k").ylabel("f(θₖ) − f*").title("convex, not strongly convex: O(1/k) bounds")
        ;
  }

  // Theorem 3.2 on the strongly convex quadratic: (3.7) for alpha <= 2/(mu + L), (3.8) at equality.
  const double D2 = (kTheta0 - quad.theta_star).squaredNorm();
  int k_max = 1;  // show k until the (3.7) bound at alpha = 1/L reaches the rounding floor
  while (k_max < cfg.steps && bound_3_7(1.0 / L, mu, L, D2, k_max) > kFloor) ++k_max;
  std::vector<double> ks(static_cast<std::size_t>(k_max) + 1);
  for (int k = 0; k <= k_max; ++k) ks[static_cast<std::size_t>(k)] = k;
  const double alpha_star = 2.0 / (mu + L);
  {
    plot::Axes& ax = fig.panel(0, 1);
    const std::vector<std::tuple<double, std::string, std::string, std::string>> alphas = {
        {1.0 / L, "α = 1/L", "alpha = 1/L", kBlue},
        {alpha_star, "α = 2/(μ+L) (attains its bound)", "alpha = 2/(mu+L)", kOrange},
        {0.5 / L, "α = 0.5/L", "alpha = 0.5/L", kGreen}};
    for (const auto& [alpha, name, ascii, color] : alphas) {
      auto path = gd(quad, alpha, k_max);
      std::vector<double> dist2, bound;
      double worst = 0.0;
      for (int k = 0; k <= k_max; ++k) {
        dist2.push_back((path[k] - quad.theta_star).squaredNorm());
        // ||theta_k - theta*||^2 <= (1 - 2 alpha mu L / (mu + L))^k ||theta_0 - theta*||^2   (3.7)
        bound.push_back(bound_3_7(alpha, mu, L, D2, k));
        if (k > 0 && bound.back() > kCheck) worst = std::max(worst, dist2.back() / bound.back());
      }
      ax.line(ks, above_floor(dist2), {.label = name, .color = color, .width = 2.2});
      ax.line(ks, bound, {.color = color, .width = 1.3, .dash = "6 4"});
      report(cfg, "Theorem 3.2, " + ascii + ": max_{k>=1} ||theta_k - theta*||^2 / (3.7) = " + fmt("%.3f", worst));
    }
    ax.line({}, {}, {.label = "(3.7) for each α (dashed)", .color = "#777", .width = 1.3, .dash = "6 4"});
    ax.log_y().ylim(kFloor / 10, 1e6 * D2).xlabel("k").ylabel("‖θₖ − θ*‖²")
        .title("strongly convex quadratic (μ = " + fmt("%g", mu) + ", L = " + fmt("%g", L) + "): linear rate (3.7)")
        ;
  }
  {
    plot::Axes& ax = fig.panel(0, 2);
    auto path = gd(quad, alpha_star, k_max);
    std::vector<double> dist, gap, b_dist, b_gap;
    double worst_dist = 0.0, worst_gap = 0.0;
    for (int k = 0; k <= k_max; ++k) {
      dist.push_back((path[k] - quad.theta_star).norm());
      gap.push_back(quad.f(path[k]) - quad.f_star);
      // ||theta_k - theta*|| <= ((Q_f - 1)/(Q_f + 1))^k ||theta_0 - theta*||                 (3.8)
      // f(theta_k) - f*      <= L/2 ((Q_f - 1)/(Q_f + 1))^{2k} ||theta_0 - theta*||^2
      b_dist.push_back(bound_3_8_dist(mu, L, std::sqrt(D2), k));
      b_gap.push_back(bound_3_8_gap(mu, L, D2, k));
      if (k > 0 && b_dist.back() > std::sqrt(kCheck)) worst_dist = std::max(worst_dist, dist.back() / b_dist.back());
      if (k > 0 && b_gap.back() > kCheck) worst_gap = std::max(worst_gap, gap.back() / b_gap.back());
    }
    ax.line(ks, above_floor(dist, std::sqrt(kFloor)), {.label = "‖θₖ − θ*‖", .color = kBlue, .width = 3.2, .opacity = 0.6});
    ax.line(ks, b_dist, {.label = "(3.8) on ‖θₖ − θ*‖", .color = kBlue, .width = 1.3, .dash = "6 4"});
    ax.line(ks, above_floor(gap), {.label = "f(θₖ) − f*", .color = kOrange, .width = 2.2});
    ax.line(ks, b_gap, {.label = "(3.8) on f(θₖ) − f*", .color = kOrange, .width = 1.3, .dash = "6 4"});
    ax.log_y().ylim(kFloor / 10, 1e6 * D2).xlabel("k").ylabel("distance, suboptimality")
        .title("α = 2/(μ+L): (3.8) with Q_{f} = L/μ = " + fmt("%g", L / mu));
    report(cfg, "Theorem 3.2, alpha = 2/(mu+L): max_{k>=1} ||theta_k - theta*|| / (3.8) = " + fmt("%.3f", worst_dist) +
                    ", max_{k>=1} (f(theta_k) - f*) / (3.8) = " + fmt("%.3f", worst_gap));
  }
  const std::string file = cfg.out() + "/gd_bounds.svg";
  fig.save(file);
  return file;
}

// ---------------------------------------------------------------------------------------------
// 3.1.3.1 — Theorems 3.3 and 3.4: SGD, averaged iterate, expectations over seeded runs.

// Mean over runs (line) and 10-90 % of runs (band) at the given K; returns the worst ratio of
// the mean, less 3 standard errors, to `bound` (<= 1 is what the theorem says).
double expectation_curve(plot::Axes& ax, const MatrixD& runs, const std::vector<int>& ks, const std::string& label,
                         const std::string& color, const std::function<double(long)>& bound, const std::string& bound_label) {
  std::vector<double> mean, lo, hi, b;
  double worst = 0.0;
  for (int K = 1; K < runs.cols(); ++K) {
    MeanSe m = mean_se(runs, K);
    worst = std::max(worst, (m.mean - 3.0 * m.se) / bound(K));
  }
  for (int K : ks) {
    mean.push_back(mean_se(runs, K).mean);
    lo.push_back(quantile(runs, K, 0.1));
    hi.push_back(quantile(runs, K, 0.9));
    b.push_back(bound(K));
  }
  ax.band(as_x(ks), lo, hi, {.color = color, .opacity = 0.18});
  ax.line(as_x(ks), mean, {.label = label, .color = color, .width = 2.2});
  ax.line(as_x(ks), b, {.label = bound_label, .color = color, .width = 1.4, .dash = "6 4"});
  return worst;
}

std::string sgd_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad) {
  const int K = cfg.sgd_steps;
  const std::vector<int> ks = log_spaced(K, 120);
  plot::Figure fig(1, 3, 1560, 500);
  fig.title("SGD, averaged iterate θ̄_{K}: Theorems 3.3 and 3.4 (mean of " + std::to_string(cfg.runs) +
            " seeded runs; band: 10–90 % of runs)");

  // Theorem 3.3. G^2 = sup ||grad f||^2 + sigma^2 >= E||g_k||^2 for every k, since
  // E||g||^2 = ||grad f||^2 + E||xi||^2 and ||grad f||^2 < 16/9 sum w_i^2 everywhere.
  {
    plot::Axes& ax = fig.panel(0, 0);
    const double G2 = convex.grad_sup2() + cfg.sigma * cfg.sigma;
    const double D2 = (kTheta0 - convex.theta_star).squaredNorm();
    SgdRuns constant = sgd_runs(convex, kTheta0, cfg.sigma, ad::StepSize::constant(static_cast<Scalar>(cfg.alpha)),
                                K, cfg.runs, cfg.seed);
    // E f(theta_bar_K) - f* <= ||theta_0 - theta*||^2 / (2 alpha (K + 1)) + alpha G^2 / 2     (3.9)
    double w39 = expectation_curve(ax, constant.avg_gap, ks, "α = " + fmt("%g", cfg.alpha), kBlue,
                                   [&](long k) { return bound_3_9(cfg.alpha, G2, D2, k); }, "(3.9)");
    std::vector<double> last;
    for (int k : ks) last.push_back(mean_se(constant.last_gap, k).mean);
    ax.line(as_x(ks), last, {.label = "α = " + fmt("%g", cfg.alpha) + ", last iterate θ_{K}", .color = kSky, .width = 1.2});
    // alpha_k = ||theta_0 - theta*|| / (G sqrt(k + 1)):
    // E f(theta_bar_K) - f* <= ||theta_0 - theta*|| G / sqrt(K + 1)                            (3.10)
    const double a0 = std::sqrt(D2 / G2);
    SgdRuns diminishing = sgd_runs(convex, kTheta0, cfg.sigma, ad::StepSize::inv_sqrt(static_cast<Scalar>(a0)), K,
                                   cfg.runs, cfg.seed + 1);
    double w310 = expectation_curve(ax, diminishing.avg_gap, ks, "αₖ = ‖θ₀ − θ*‖ / (G√(k+1))", kOrange,
                                    [&](long k) { return bound_3_10(G2, D2, k); }, "(3.10)");
    ax.log_x().log_y().xlabel("K").ylabel("E f(θ̄_{K}) − f*")
        .title("convex, not strongly convex: G² = " + fmt("%.3g", G2) + ", σ = " + fmt("%g", cfg.sigma))
        ;
    report(cfg, "Theorem 3.3: G^2 = " + fmt("%.4g", G2) + "; max_K (mean - 3 SE) / (3.9) = " + fmt("%.3g", w39) +
                    ", / (3.10) = " + fmt("%.3g", w310) + "; E f(theta_bar_K) - f* at K = " + std::to_string(K) +
                    ": " + fmt("%.3g", mean_se(constant.avg_gap, K).mean) + " (constant), " +
                    fmt("%.3g", mean_se(diminishing.avg_gap, K).mean) + " (diminishing)");
  }

  // Theorem 3.4 with alpha_k = 1/(mu (k + 1)). On a quadratic E||g_k||^2 follows a known
  // recursion, so G^2 = max_{k <= K} E||g_k||^2 exactly; the big early steps (alpha_0 = 1/mu >
  // 2/L) make it several times E||g_0||^2.
  {
    const ad::StepSize step = ad::StepSize::inv(static_cast<Scalar>(1.0 / cfg.mu));
    QuadraticSgdMoments exact = sgd_moments(quad, kTheta0, cfg.sigma, step, K);
    const double G2 = exact.G2(), D2 = (kTheta0 - quad.theta_star).squaredNorm();
    SgdRuns runs = sgd_runs(quad, kTheta0, cfg.sigma, step, K, cfg.runs, cfg.seed + 2);
    plot::Axes& ax = fig.panel(0, 1);
    // E f(theta_bar_K) - f* <= G^2 / (2 mu (K + 1)) (1 + log(K + 1))                          (3.11)
    double w_gap = expectation_curve(ax, runs.avg_gap, ks, "αₖ = 1/(μ(k+1)), Monte Carlo", kBlue,
                                     [&](long k) { return bound_3_11_gap(cfg.mu, G2, k); }, "(3.11), first line");
    std::vector<double> e_gap, e_dist;
    for (int k : ks) e_gap.push_back(exact.avg_gap[static_cast<std::size_t>(k)]);
    for (int k : ks) e_dist.push_back(exact.avg_dist2[static_cast<std::size_t>(k)]);
    ax.line(as_x(ks), e_gap, {.label = "exact expectation", .color = kBlack, .width = 1.2, .dash = "2 3"});
    ax.log_x().log_y().xlabel("K").ylabel("E f(θ̄_{K}) − f*")
        .title("strongly convex quadratic, G² = max E‖gₖ‖² = " + fmt("%.3g", G2));
    plot::Axes& bx = fig.panel(0, 2);
    // E||theta_bar_K - theta*||^2 <= max(G^2/mu^2, ||theta_0 - theta*||^2) / (K + 1)           (3.11)
    double w_dist = expectation_curve(bx, runs.avg_dist2, ks, "αₖ = 1/(μ(k+1)), Monte Carlo", kOrange,
                                      [&](long k) { return bound_3_11_dist(cfg.mu, G2, D2, k); }, "(3.11), second line");
    bx.line(as_x(ks), e_dist, {.label = "exact expectation", .color = kBlack, .width = 1.2, .dash = "2 3"});
    bx.log_x().log_y().xlabel("K").ylabel("E‖θ̄_{K} − θ*‖²")
        .title("strongly convex quadratic (μ = " + fmt("%g", cfg.mu) + ", L = " + fmt("%g", cfg.L) + ")")
        ;
    report(cfg, "Theorem 3.4: G^2 = " + fmt("%.4g", G2) + " (E||g_0||^2 = " + fmt("%.4g", exact.grad2[0]) +
                    "); max_K (mean - 3 SE) / (3.11) = " + fmt("%.3g", w_gap) + " (f), " + fmt("%.3g", w_dist) +
                    " (distance)");
  }
  const std::string file = cfg.out() + "/sgd_bounds.svg";
  fig.save(file);
  return file;
}

// ---------------------------------------------------------------------------------------------
// 3.1.3 — GD vs SGD paths over a convex function (the book's second TODO graph).
//
// Each row runs GD and SGD at one and the same step size, so that what differs is only the noise
// of the gradient: top row alpha = --alpha, bottom row alpha = 1/L (GD's own choice, (3.5)).

std::string paths_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad) {
  plot::Figure fig(2, 2, 1200, 1000);
  fig.title("GD vs SGD from the same θ₀ at the same α (σ = " + fmt("%g", cfg.sigma) +
            "): exact steps glide in, noisy ones wander; the average θ̄ₖ is smooth but remembers θ₀");
  const int steps = 300;
  const Objective* fs[2] = {&quad, &convex};
  const std::string names[2] = {"strongly convex quadratic", "convex, not strongly convex (flat bottom)"};
  const double alphas[2] = {cfg.alpha, 1.0 / cfg.L};
  const std::string alpha_names[2] = {"α = " + fmt("%g", cfg.alpha), "α = 1/L = " + fmt("%g", 1.0 / cfg.L)};
  for (int row = 0; row < 2; ++row)
    for (int i = 0; i < 2; ++i) {
      const Objective& f = *fs[i];
      const double alpha = alphas[row];
      plot::Axes& ax = fig.panel(row, i);
      Grid g = sample([&](double x, double y) { return f.f((VectorD(2) << x, y).finished()); }, -2.6, 2.2, -1.6, 2.5, 131);
      ax.contour(g.x, g.y, g.z, halving_levels(f.f(kTheta0) * 2.0, 11), {.width = 1.0});
      Path2 gd_path = split(gd(f, alpha, steps));
      Rng rng(cfg.seed + 10 + static_cast<std::uint64_t>(i));  // the same noise in both rows
      NoisyOracle oracle(f, cfg.sigma, rng);
      ad::Var theta = parameter(kTheta0);
      ad::Sgd opt(ad::ParameterSet({theta}), ad::StepSize::constant(static_cast<Scalar>(alpha)));
      auto sgd_path = iterate(opt, theta, steps, [&](const VectorD& t) { return oracle(t); });
      std::vector<VectorD> averaged;  // theta_bar_k = (theta_0 + ... + theta_k) / (k + 1)
      VectorD sum = VectorD::Zero(2);
      for (std::size_t k = 0; k < sgd_path.size(); ++k) averaged.push_back((sum += sgd_path[k]) / double(k + 1));
      Path2 sp = split(sgd_path), ap = split(averaged);
      ax.path(sp.x, sp.y, {.label = "SGD, " + alpha_names[row], .color = kOrange, .width = 1.0, .marker_size = 1.5});
      ax.path(gd_path.x, gd_path.y, {.label = "GD, " + alpha_names[row], .color = kBlue, .width = 2.0, .marker_size = 2.0});
      ax.path(ap.x, ap.y, {.label = "SGD averaged iterate θ̄ₖ", .color = kPink, .width = 2.0, .marker_size = 1.2});
      ax.markers({f.theta_star(0)}, {f.theta_star(1)}, {.label = "θ*", .color = kBlack, .size = 4.5});
      ax.xlabel("θ₁").ylabel("θ₂").title(names[i] + ", " + alpha_names[row] + ", " + std::to_string(steps) + " steps");
    }
  const std::string file = cfg.out() + "/gd_vs_sgd_paths.svg";
  fig.save(file);
  return file;
}

// ---------------------------------------------------------------------------------------------
// 3.1.4 — Beyond vanilla gradient methods, exact gradients: momentum, adaptive step sizes
// (AdaGrad, RMSProp, Adam) and a second-order method (Newton's, Hessian from the autodiff).

// At most ~2000 points of a curve of n + 1 values: every k while k is small, then evenly spaced.
std::vector<int> thinned(int n) {
  std::vector<int> ks;
  const int every = std::max(1, n / 2000);
  for (int k = 0; k <= n; k += (k < 200 ? 1 : every)) ks.push_back(k);
  if (ks.back() != n) ks.push_back(n);
  return ks;
}

std::string optimizers_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad) {
  plot::Figure fig(1, 2, 1300, 520);
  fig.title("Section 3.1.4: GD, momentum, AdaGrad, RMSProp, Adam and Newton's method with exact gradients");
  const Objective* fs[2] = {&convex, &quad};
  const std::string names[2] = {"convex, not strongly convex", "strongly convex quadratic"};
  const Scalar a_gd = static_cast<Scalar>(1.0 / cfg.L);
  for (int i = 0; i < 2; ++i) {
    const Objective& f = *fs[i];
    plot::Axes& ax = fig.panel(0, i);
    const double gap0 = f.f(kTheta0) - f.f_star;
    auto draw = [&](const std::vector<VectorD>& path, const std::string& label, const std::string& color, double marker) {
      std::vector<double> k, gap;
      for (int j : thinned(static_cast<int>(path.size()) - 1))
        k.push_back(j), gap.push_back(f.f(path[static_cast<std::size_t>(j)]) - f.f_star);
      ax.line(k, above_floor(gap), {.label = label, .color = color, .width = 1.8, .marker_size = marker});
      return gap.back();
    };
    auto run = [&](ad::Optimizer& opt, ad::Var& theta, const std::string& label, const std::string& color) {
      return draw(iterate(opt, theta, cfg.steps, [&](const VectorD& t) { return f.grad(t); }), label, color, 0.0);
    };
    std::string summary = "Section 3.1.4, " + names[i] + ": f(theta_K) - f* =";
    {
      ad::Var t = parameter(kTheta0);
      ad::Sgd opt(ad::ParameterSet({t}), ad::StepSize::constant(a_gd));
      summary += " GD " + fmt("%.2g", run(opt, t, "GD, α = 1/L", kBlack));
    }
    {
      ad::Var t = parameter(kTheta0);
      ad::Momentum opt(ad::ParameterSet({t}), ad::StepSize::constant(a_gd), Scalar(0.9));
      summary += ", momentum " + fmt("%.2g", run(opt, t, "momentum, α = 1/L, β = 0.9", kBlue));
    }
    {
      ad::Var t = parameter(kTheta0);
      ad::AdaGrad opt(ad::ParameterSet({t}), ad::StepSize::constant(Scalar(1.0)));
      summary += ", AdaGrad " + fmt("%.2g", run(opt, t, "AdaGrad, α = 1", kGreen));
    }
    {
      ad::Var t = parameter(kTheta0);
      ad::RmsProp opt(ad::ParameterSet({t}), ad::StepSize::constant(Scalar(0.01)));
      summary += ", RMSProp " + fmt("%.2g", run(opt, t, "RMSProp, α = 0.01, ρ = 0.99", kGold));
    }
    {
      ad::Var t = parameter(kTheta0);
      ad::Adam opt(ad::ParameterSet({t}), ad::StepSize::constant(Scalar(0.05)));
      summary += ", Adam " + fmt("%.2g", run(opt, t, "Adam, α = 0.05, β = (0.9, 0.999)", kOrange));
    }
    // Newton: theta <- theta - eta H^{-1} grad f with H from the autodiff's second derivatives. It
    // needs few steps (one on a quadratic), so it runs at most 100.
    const int newton_steps = std::min(cfg.steps(), 100);
    const auto pure = newton(f, kTheta0, newton_steps, /*line_search=*/false);
    const auto damped = newton(f, kTheta0, newton_steps, /*line_search=*/true);
    const bool pure_diverges = f.f(pure.back()) - f.f_star > gap0;
    const std::string pure_label = i == 1 ? "Newton, η = 1: θ* in one step (then below rounding)"
                                   : pure_diverges ? "Newton, η = 1: diverges (∇²f → 0 in the linear tails)"
                                                   : "Newton, η = 1";
    const double pure_end = draw(pure, pure_label, kSky, 2.5);
    const double damped_end = draw(damped, "Newton, backtracking (Armijo) line search", kPink, 0.0);
    summary += ", Newton " + fmt("%.2g", pure_end) + " (eta = 1), " + fmt("%.2g", damped_end) + " (line search)";
    report(cfg, summary);
    ax.ylim(kFloor / 10, std::max(1e4, 10 * gap0));  // exact-gradient runs reach rounding; diverging ones are cut
    // One legend for both panels (same methods, same colours), where the left panel has room.
    ax.log_y().xlabel("k").ylabel("f(θₖ) − f*").title(i == 0 ? names[i] : names[i] + " (colours as on the left)");
    if (i == 1) ax.legend(plot::Corner::none);
  }
  const std::string file = cfg.out() + "/optimizers.svg";
  fig.save(file);
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  Cli cli("gd_sgd", "Section 3.1: GD and SGD against the bounds of Theorems 3.1-3.4, Section 3.1.4's optimizers, "
                    "stationary points and GD vs SGD paths. Writes SVG figures.");
  cli.add(cfg);
  cli.note("GD step sizes are the theorems' own (fractions of 1/L, 2/(mu+L)); SGD uses --alpha for (3.9), "
           "||theta_0 - theta*|| / (G sqrt(k+1)) for (3.10) and 1/(mu (k+1)) for (3.11).");
  cli.parse(argc, argv);
  cli.require(cfg.L >= cfg.mu, "need --mu <= --L, got --mu " + cfg.mu.text() + " and --L " + cfg.L.text());
  // Four runs x (K + 1) matrices of doubles per SGD experiment.
  cli.require(static_cast<double>(cfg.runs) * (cfg.sgd_steps + 1.0) <= 4e6,
              "need --runs x (--sgd-steps + 1) <= 4000000, got --runs " + cfg.runs.text() + " and --sgd-steps " +
                  cfg.sgd_steps.text());
  return run_program(cli, [&] {
    make_output_dir(cfg.out(), "--out");

    // (a) convex, L-smooth, not strongly convex: weights L and L/4 along axes tilted by 30 degrees.
    const FlatBottom convex((VectorD(2) << cfg.L, cfg.L / 4).finished(), kAngle, kThetaStar);
    // (b) mu-strongly convex and L-smooth: eigenvalues L and mu.
    const Quadratic quad((VectorD(2) << cfg.L, cfg.mu).finished(), kAngle, kThetaStar);

    std::vector<std::string> written;
    written.push_back(stationary_points_figure(cfg));
    written.push_back(gd_figure(cfg, convex, quad));
    written.push_back(sgd_figure(cfg, convex, quad));
    written.push_back(paths_figure(cfg, convex, quad));
    written.push_back(optimizers_figure(cfg, convex, quad));
    for (const auto& f : written) std::printf("wrote %s\n", f.c_str());
    return 0;
  });
}
