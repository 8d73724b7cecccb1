// gd_sgd, Section 3.1.2.1 — Theorems 3.1 and 3.2: GD with exact gradients against the bounds
// (3.4), (3.5), (3.7) and (3.8) of chapter3/3_1_gradient_optimization.hpp. Writes gd_bounds.svg.
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gd_sgd_figures.hpp"
#include "plot/plot.hpp"

namespace pgcpp::gd_sgd {

namespace {

// f(theta_k) - f* and ||theta_k - theta*||^2 at k = 0..steps of a path.
std::vector<double> gaps(const Objective& f, const std::vector<VectorD>& path) {
  std::vector<double> gap;
  for (const VectorD& theta : path) gap.push_back(f.f(theta) - f.f_star);
  return gap;
}
std::vector<double> squared_distances(const Objective& f, const std::vector<VectorD>& path) {
  std::vector<double> dist2;
  for (const VectorD& theta : path) dist2.push_back((theta - f.theta_star).squaredNorm());
  return dist2;
}

// Theorem 3.1 on the convex, not strongly convex function, for several 0 < alpha <= 2/L: GD's
// f(theta_k) - f* under (3.4), and (3.5) for alpha = 1/L.
void theorem_3_1_panel(plot::Axes& ax, const Config& cfg, const FlatBottom& convex) {
  const double L = cfg.L;
  const double gap0 = convex.f(kTheta0) - convex.f_star, D2 = (kTheta0 - convex.theta_star).squaredNorm();
  const std::vector<int> ks = log_spaced(cfg.steps, 160);
  const std::vector<std::pair<double, std::string>> alphas = {{0.25, kBlue}, {1.0, kOrange}, {1.5, kGreen}, {2.0, kPink}};
  for (const auto& [a, color] : alphas) {
    const double alpha = a / L;
    const std::vector<double> gap = gaps(convex, gd(convex, alpha, cfg.steps));
    std::vector<double> bound;
    for (int k = 0; k <= cfg.steps; ++k) bound.push_back(bound_3_4(alpha, L, gap0, D2, k));
    const double worst = worst_ratio(gap, bound, -INFINITY);
    ax.line(as_x(ks), values_at(gap, ks), {.label = "α = " + fmt("%g", a) + "/L", .color = color, .width = 2.2});
    ax.line(as_x(ks), values_at(bound, ks), {.color = color, .width = 1.3, .dash = "6 4"});
    report(cfg, "Theorem 3.1, alpha = " + fmt("%g", a) + "/L: f(theta_K) - f* = " + fmt("%.3g", gap.back()) +
                    ", (3.4) = " + fmt("%.3g", bound.back()) + ", max_{k>=1} gap / (3.4) = " + fmt("%.3f", worst));
  }
  std::vector<double> b35;
  for (int k : ks) b35.push_back(bound_3_5(L, D2, k));
  ax.line(as_x(ks), b35, {.label = "(3.5), α = 1/L", .color = kBlack, .width = 1.3, .dash = "2 3"});
  ax.line({}, {}, {.label = "(3.4) for each α (dashed)", .color = "#777", .width = 1.3, .dash = "6 4"});
  ax.log_x().log_y().xlabel("k").ylabel("f(θₖ) − f*").title("convex, not strongly convex: O(1/k) bounds");
}

// Theorem 3.2 on the strongly convex quadratic: ||theta_k - theta*||^2 under (3.7) for three
// alpha <= 2/(mu + L), k = 0..k_max.
void theorem_3_2_rate_panel(plot::Axes& ax, const Config& cfg, const Quadratic& quad, int k_max) {
  const double L = cfg.L, mu = cfg.mu, D2 = (kTheta0 - quad.theta_star).squaredNorm();
  const std::vector<std::tuple<double, std::string, std::string, std::string>> alphas = {
      {1.0 / L, "α = 1/L", "alpha = 1/L", kBlue},
      {alpha_3_8(mu, L), "α = 2/(μ+L) (attains its bound)", "alpha = 2/(mu+L)", kOrange},
      {0.5 / L, "α = 0.5/L", "alpha = 0.5/L", kGreen}};
  std::vector<double> ks;
  for (int k = 0; k <= k_max; ++k) ks.push_back(k);
  for (const auto& [alpha, name, ascii, color] : alphas) {
    const std::vector<double> dist2 = squared_distances(quad, gd(quad, alpha, k_max));
    std::vector<double> bound;
    for (int k = 0; k <= k_max; ++k) bound.push_back(bound_3_7(alpha, mu, L, D2, k));
    ax.line(ks, above_floor(dist2), {.label = name, .color = color, .width = 2.2});
    ax.line(ks, bound, {.color = color, .width = 1.3, .dash = "6 4"});
    report(cfg, "Theorem 3.2, " + ascii + ": max_{k>=1} ||theta_k - theta*||^2 / (3.7) = " +
                    fmt("%.3f", worst_ratio(dist2, bound, kCheck)));
  }
  ax.line({}, {}, {.label = "(3.7) for each α (dashed)", .color = "#777", .width = 1.3, .dash = "6 4"});
  ax.log_y().ylim(kFloor / 10, 1e6 * D2).xlabel("k").ylabel("‖θₖ − θ*‖²")
      .title("strongly convex quadratic (μ = " + fmt("%g", mu) + ", L = " + fmt("%g", L) + "): linear rate (3.7)");
}

// Theorem 3.2 at alpha = 2/(mu + L): ||theta_k - theta*|| and f(theta_k) - f* under (3.8).
void theorem_3_2_equality_panel(plot::Axes& ax, const Config& cfg, const Quadratic& quad, int k_max) {
  const double L = cfg.L, mu = cfg.mu, D2 = (kTheta0 - quad.theta_star).squaredNorm();
  const std::vector<VectorD> path = gd(quad, alpha_3_8(mu, L), k_max);
  std::vector<double> ks, dist, b_dist, b_gap;
  for (int k = 0; k <= k_max; ++k) {
    ks.push_back(k);
    dist.push_back((path[k] - quad.theta_star).norm());
    b_dist.push_back(bound_3_8_dist(mu, L, std::sqrt(D2), k));
    b_gap.push_back(bound_3_8_gap(mu, L, D2, k));
  }
  const std::vector<double> gap = gaps(quad, path);
  const double worst_dist = worst_ratio(dist, b_dist, std::sqrt(kCheck)), worst_gap = worst_ratio(gap, b_gap, kCheck);
  ax.line(ks, above_floor(dist, std::sqrt(kFloor)), {.label = "‖θₖ − θ*‖", .color = kBlue, .width = 3.2, .opacity = 0.6});
  ax.line(ks, b_dist, {.label = "(3.8) on ‖θₖ − θ*‖", .color = kBlue, .width = 1.3, .dash = "6 4"});
  ax.line(ks, above_floor(gap), {.label = "f(θₖ) − f*", .color = kOrange, .width = 2.2});
  ax.line(ks, b_gap, {.label = "(3.8) on f(θₖ) − f*", .color = kOrange, .width = 1.3, .dash = "6 4"});
  ax.log_y().ylim(kFloor / 10, 1e6 * D2).xlabel("k").ylabel("distance, suboptimality")
      .title("α = 2/(μ+L): (3.8) with Q_{f} = L/μ = " + fmt("%g", condition_number(mu, L)));
  report(cfg, "Theorem 3.2, alpha = 2/(mu+L): max_{k>=1} ||theta_k - theta*|| / (3.8) = " + fmt("%.3f", worst_dist) +
                  ", max_{k>=1} (f(theta_k) - f*) / (3.8) = " + fmt("%.3f", worst_gap));
}

}  // namespace

std::string gd_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad) {
  plot::Figure fig(1, 3, 1560, 500);
  fig.title("GD: Theorem 3.1 (convex, L-smooth) and Theorem 3.2 (μ-strongly convex, L-smooth)");
  theorem_3_1_panel(fig.panel(0, 0), cfg, convex);
  // Show k until the (3.7) bound at alpha = 1/L reaches the rounding floor.
  const double D2 = (kTheta0 - quad.theta_star).squaredNorm();
  int k_max = 1;
  while (k_max < cfg.steps && bound_3_7(1.0 / cfg.L, cfg.mu, cfg.L, D2, k_max) > kFloor) ++k_max;
  theorem_3_2_rate_panel(fig.panel(0, 1), cfg, quad, k_max);
  theorem_3_2_equality_panel(fig.panel(0, 2), cfg, quad, k_max);
  const std::string file = cfg.out() + "/gd_bounds.svg";
  fig.save(file);
  return file;
}

}  // namespace pgcpp::gd_sgd
