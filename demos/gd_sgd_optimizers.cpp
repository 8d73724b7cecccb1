// gd_sgd, Section 3.1.4 — Beyond vanilla gradient methods, with exact gradients: momentum,
// adaptive step sizes (AdaGrad, RMSProp, Adam) and a second-order method (Newton's, Hessian from
// the autodiff), from the library's optimizers. Writes optimizers.svg.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gd_sgd_figures.hpp"
#include "plot/plot.hpp"

namespace pgcpp::gd_sgd {

namespace {

// At most ~2000 points of a curve of n + 1 values: every k while k is small, then evenly spaced.
std::vector<int> thinned(int n) {
  std::vector<int> ks;
  const int every = std::max(1, n / 2000);
  for (int k = 0; k <= n; k += (k < 200 ? 1 : every)) ks.push_back(k);
  if (ks.back() != n) ks.push_back(n);
  return ks;
}

// Draws f(theta_k) - f* along a path; returns its last value.
double draw_gap(plot::Axes& ax, const Objective& f, const std::vector<VectorD>& path, const std::string& label,
                const std::string& color, double marker) {
  std::vector<double> k, gap;
  for (int j : thinned(static_cast<int>(path.size()) - 1))
    k.push_back(j), gap.push_back(f.f(path[static_cast<std::size_t>(j)]) - f.f_star);
  ax.line(k, above_floor(gap), {.label = label, .color = color, .width = 1.8, .marker_size = marker});
  return gap.back();
}

// A first-order method: its name in the printed summary, its legend label, and how to build it
// over theta.
struct Method {
  std::string name, label, color;
  std::function<std::unique_ptr<ad::Optimizer>(ad::Var&)> make;
};

std::vector<Method> first_order_methods(double L) {
  const Scalar a_gd = static_cast<Scalar>(1.0 / L);
  const auto over = [](ad::Var& t) { return ad::ParameterSet({t}); };
  return {
      {"GD", "GD, α = 1/L", kBlack,
       [=](ad::Var& t) { return std::make_unique<ad::Sgd>(over(t), ad::StepSize::constant(a_gd)); }},
      {"momentum", "momentum, α = 1/L, β = 0.9", kBlue,
       [=](ad::Var& t) { return std::make_unique<ad::Momentum>(over(t), ad::StepSize::constant(a_gd), Scalar(0.9)); }},
      {"AdaGrad", "AdaGrad, α = 1", kGreen,
       [=](ad::Var& t) { return std::make_unique<ad::AdaGrad>(over(t), ad::StepSize::constant(Scalar(1.0))); }},
      {"RMSProp", "RMSProp, α = 0.01, ρ = 0.99", kGold,
       [=](ad::Var& t) { return std::make_unique<ad::RmsProp>(over(t), ad::StepSize::constant(Scalar(0.01))); }},
      {"Adam", "Adam, α = 0.05, β = (0.9, 0.999)", kOrange,
       [=](ad::Var& t) { return std::make_unique<ad::Adam>(over(t), ad::StepSize::constant(Scalar(0.05))); }}};
}

// Every method on f from kTheta0, drawn on ax; returns the summary line's values.
std::string methods_panel(plot::Axes& ax, const Config& cfg, const Objective& f, bool quadratic) {
  std::string summary;
  for (const Method& m : first_order_methods(cfg.L)) {
    ad::Var theta = parameter(kTheta0);
    std::unique_ptr<ad::Optimizer> opt = m.make(theta);
    const auto path = iterate(*opt, theta, cfg.steps, [&](const VectorD& t) { return f.grad(t); });
    summary += (summary.empty() ? " " : ", ") + m.name + " " + fmt("%.2g", draw_gap(ax, f, path, m.label, m.color, 0.0));
  }
  // Newton: theta <- theta - eta H^{-1} grad f with H from the autodiff's second derivatives. It
  // needs few steps (one on a quadratic), so it runs at most 100.
  const int newton_steps = std::min(cfg.steps(), 100);
  const auto pure = newton(f, kTheta0, newton_steps, /*line_search=*/false);
  const auto damped = newton(f, kTheta0, newton_steps, /*line_search=*/true);
  const bool pure_diverges = f.f(pure.back()) - f.f_star > f.f(kTheta0) - f.f_star;
  const std::string pure_label = quadratic ? "Newton, η = 1: θ* in one step (then below rounding)"
                                 : pure_diverges ? "Newton, η = 1: diverges (∇²f → 0 in the linear tails)"
                                                 : "Newton, η = 1";
  const double pure_end = draw_gap(ax, f, pure, pure_label, kSky, 2.5);
  const double damped_end = draw_gap(ax, f, damped, "Newton, backtracking (Armijo) line search", kPink, 0.0);
  return summary + ", Newton " + fmt("%.2g", pure_end) + " (eta = 1), " + fmt("%.2g", damped_end) + " (line search)";
}

}  // namespace

std::string optimizers_figure(const Config& cfg, const FlatBottom& convex, const Quadratic& quad) {
  plot::Figure fig(1, 2, 1300, 520);
  fig.title("Section 3.1.4: GD, momentum, AdaGrad, RMSProp, Adam and Newton's method with exact gradients");
  const Objective* fs[2] = {&convex, &quad};
  const std::string names[2] = {"convex, not strongly convex", "strongly convex quadratic"};
  for (int i = 0; i < 2; ++i) {
    plot::Axes& ax = fig.panel(0, i);
    report(cfg, "Section 3.1.4, " + names[i] + ": f(theta_K) - f* =" + methods_panel(ax, cfg, *fs[i], i == 1));
    const double gap0 = fs[i]->f(kTheta0) - fs[i]->f_star;
    ax.ylim(kFloor / 10, std::max(1e4, 10 * gap0));  // exact-gradient runs reach rounding; diverging ones are cut
    // One legend for both panels (same methods, same colours), where the left panel has room.
    ax.log_y().xlabel("k").ylabel("f(θₖ) − f*").title(i == 0 ? names[i] : names[i] + " (colours as on the left)");
    if (i == 1) ax.legend(plot::Corner::none);
  }
  const std::string file = cfg.out() + "/optimizers.svg";
  fig.save(file);
  return file;
}

}  // namespace pgcpp::gd_sgd
