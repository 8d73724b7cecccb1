// gd_sgd: the two graphs the book leaves as TODOs. Section 3.1.2.1, the kinds of first-order
// stationary points (stationary_points.svg); Section 3.1.3, GD vs SGD paths over a convex function
// at the same step size (gd_vs_sgd_paths.svg).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gd_sgd_figures.hpp"
#include "plot/plot.hpp"

namespace pgcpp::gd_sgd {

namespace {

// grad f = 0 at (+-1, +-1) of cubic_f; the Hessian from autodiff's second derivatives says which
// kind each one is. Printed as well as returned.
std::vector<StationaryPoint> cubic_stationary_points(const Config& cfg) {
  std::vector<StationaryPoint> points;
  for (double x : {1.0, -1.0})
    for (double y : {-1.0, 1.0})
      points.push_back(classify([](const ad::Var& t) { return cubic_f(t); }, (VectorD(2) << x, y).finished()));
  for (const auto& p : points)
    report(cfg, "  stationary point (" + fmt("%+.0f", p.theta(0)) + ", " + fmt("%+.0f", p.theta(1)) +
                    "): f = " + fmt("%+.0f", p.value) + ", |grad f| = " + fmt("%.1e", p.grad.norm()) +
                    ", Hessian eigenvalues " + fmt("%+.0f", p.hessian_eigenvalues(0)) + ", " +
                    fmt("%+.0f", p.hessian_eigenvalues(1)) + " -> " + p.kind);
  return points;
}

// Contours of cubic_f, its stationary points, and GD (alpha = 0.03) from three starts. One starts
// exactly on the saddle's stable line theta_2 = 1, where grad_2 f = 0 for ever, and converges to
// the saddle point: a first-order stationary point that is not a minimum. One starts 0.01 off that
// line: GD is first drawn to the saddle, then repelled, and reaches the minimum. From near the
// maximum it leaves at once.
void contour_panel(plot::Axes& ax, const std::vector<StationaryPoint>& points) {
  Grid g = sample([](double x, double y) { return cubic_f(x, y); }, -2.1, 2.1, -2.1, 2.1, 121);
  ax.contour(g.x, g.y, g.z, {-7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7},
             {.filled = true, .colorbar = true, .colorbar_label = "f(θ)"});
  const std::vector<std::pair<VectorD, std::string>> starts = {
      {(VectorD(2) << -0.4, 1.0).finished(), "GD from (−0.4, 1): converges to the saddle"},
      {(VectorD(2) << 1.9, 0.99).finished(), "GD from (1.9, 0.99): escapes to the minimum"},
      {(VectorD(2) << -0.8, 0.85).finished(), "GD from (−0.8, 0.85), near the maximum"}};
  const std::vector<std::string> colors = {"#000000", "#ff7f50", "#ff00ff"};
  for (std::size_t i = 0; i < starts.size(); ++i) {
    ad::Var theta = parameter(starts[i].first);
    ad::Sgd opt(ad::ParameterSet({theta}), ad::StepSize::constant(static_cast<Scalar>(0.03)));
    Path2 p = split(iterate(opt, theta, 120, [](const VectorD& t) {
      return VectorD((VectorD(2) << 3 * t(0) * t(0) - 3, 3 - 3 * t(1) * t(1)).finished());  // grad cubic_f
    }));
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
}

// 1-D slices through the saddle (1, 1): a minimum along theta_1, a maximum along theta_2.
void slices_panel(plot::Axes& sl) {
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
  sl.ylim(-7.5, 4.6).xlabel("t").ylabel("f").title("1-D slices: ∇f = 0 at all three, the Hessian tells them apart");
}

// theta_bar_k = (theta_0 + ... + theta_k) / (k + 1) along a path.
std::vector<VectorD> running_average(const std::vector<VectorD>& path) {
  std::vector<VectorD> averaged;
  VectorD sum = VectorD::Zero(2);
  for (std::size_t k = 0; k < path.size(); ++k) averaged.push_back((sum += path[k]) / double(k + 1));
  return averaged;
}

// GD, SGD (noise seeded by `seed`) and SGD's averaged iterate from kTheta0 at one alpha, over f's contours.
void paths_panel(plot::Axes& ax, const Objective& f, double alpha, double sigma, std::uint64_t seed,
                 const std::string& title, const std::string& alpha_name) {
  const int steps = 300;
  Grid g = sample([&](double x, double y) { return f.f((VectorD(2) << x, y).finished()); }, -2.6, 2.2, -1.6, 2.5, 131);
  ax.contour(g.x, g.y, g.z, halving_levels(f.f(kTheta0) * 2.0, 11), {.width = 1.0});
  Path2 gd_path = split(gd(f, alpha, steps));
  Rng rng(seed);
  NoisyOracle oracle(f, sigma, rng);
  ad::Var theta = parameter(kTheta0);
  ad::Sgd opt(ad::ParameterSet({theta}), ad::StepSize::constant(static_cast<Scalar>(alpha)));
  const std::vector<VectorD> sgd_path = iterate(opt, theta, steps, [&](const VectorD& t) { return oracle(t); });
  Path2 sp = split(sgd_path), ap = split(running_average(sgd_path));
  ax.path(sp.x, sp.y, {.label = "SGD, " + alpha_name, .color = kOrange, .width = 1.0, .marker_size = 1.5});
  ax.path(gd_path.x, gd_path.y, {.label = "GD, " + alpha_name, .color = kBlue, .width = 2.0, .marker_size = 2.0});
  ax.path(ap.x, ap.y, {.label = "SGD averaged iterate θ̄ₖ", .color = kPink, .width = 2.0, .marker_size = 1.2});
  ax.markers({f.theta_star(0)}, {f.theta_star(1)}, {.label = "θ*", .color = kBlack, .size = 4.5});
  ax.xlabel("θ₁").ylabel("θ₂").title(title + ", " + alpha_name + ", " + std::to_string(steps) + " steps");
}

}  // namespace

std::string stationary_points_figure(const Config& cfg) {
  const std::vector<StationaryPoint> points = cubic_stationary_points(cfg);
  plot::Figure fig(1, 2, 1200, 520);
  fig.title("Section 3.1.2.1: first-order stationary points of f(θ) = θ₁³ − 3θ₁ + 3θ₂ − θ₂³");
  contour_panel(fig.panel(0, 0), points);
  slices_panel(fig.panel(0, 1));
  const std::string file = cfg.out() + "/stationary_points.svg";
  fig.save(file);
  return file;
}

// Each row runs GD and SGD at one and the same step size, so that what differs is only the noise
// of the gradient: top row alpha = --alpha, bottom row alpha = 1/L (GD's own choice, (3.5)).
std::string paths_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad) {
  plot::Figure fig(2, 2, 1200, 1000);
  fig.title("GD vs SGD from the same θ₀ at the same α (σ = " + fmt("%g", cfg.sigma) +
            "): exact steps glide in, noisy ones wander; the average θ̄ₖ is smooth but remembers θ₀");
  const Objective* fs[2] = {&quad, &convex};
  const std::string names[2] = {"strongly convex quadratic", "convex, not strongly convex (flat bottom)"};
  const double alphas[2] = {cfg.alpha, 1.0 / cfg.L};
  const std::string alpha_names[2] = {"α = " + fmt("%g", cfg.alpha), "α = 1/L = " + fmt("%g", 1.0 / cfg.L)};
  for (int row = 0; row < 2; ++row)
    for (int i = 0; i < 2; ++i)  // the same noise in both rows
      paths_panel(fig.panel(row, i), *fs[i], alphas[row], cfg.sigma, cfg.seed + 10 + static_cast<std::uint64_t>(i),
                  names[i], alpha_names[row]);
  const std::string file = cfg.out() + "/gd_vs_sgd_paths.svg";
  fig.save(file);
  return file;
}

}  // namespace pgcpp::gd_sgd
