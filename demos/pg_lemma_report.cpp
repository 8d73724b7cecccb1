// pg_lemma's table and figure (declared in pg_lemma_report.hpp).
#include "pg_lemma_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "plot/plot.hpp"

namespace pgcpp::pg_lemma {

namespace {

const std::vector<std::string> kNames = {"(3.18) full return R(τ)", "(3.19) returns-to-go gₜ",
                                         "(3.25) baseline b = V^{π}", "(3.25) baseline b* of (3.28)"};
const std::vector<std::string> kShort = {"(3.18) R(tau)", "(3.19) g_t", "(3.25) b=V", "(3.25) b=b*"};
const std::vector<std::string> kColors = {"#D55E00", "#0072B2", "#009E73", "#CC79A7"};

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

double quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double at = q * static_cast<double>(x.size() - 1);
  const std::size_t i = static_cast<std::size_t>(at);
  const double frac = at - static_cast<double>(i);
  return i + 1 < x.size() ? (1 - frac) * x[i] + frac * x[i + 1] : x[i];
}

double mean(const std::vector<double>& x) {
  double m = 0;
  for (double v : x) m += v;
  return m / static_cast<double>(x.size());
}

double std_error(const std::vector<double>& x) {
  const double m = mean(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));
}

void print_vector(const VectorD& v) {
  for (Eigen::Index s = 0; s < v.size(); ++s) std::printf("%s%.3f", s ? ", " : "", v(s));
}

}  // namespace

void print_tables(const TabularMdp& mdp, const Setting& setting, const Exact& exact, const EstimatorComparison& c) {
  std::printf("Section 3.2.2: policy gradient lemma on a random MDP, S = %d, A = %d, gamma = %g, seed = %llu\n",
              mdp.S, mdp.A, mdp.gamma, static_cast<unsigned long long>(setting.seed));
  std::printf("  J(theta) = %.6f, ||grad J|| = %.6f; ||(3.20) - central differences of J|| = %.1e\n", exact.J,
              exact.grad_J.norm(), (exact.grad_J - exact.grad_fd).norm());
  std::printf("  horizon T = %d (gamma^T = %.1e), %d reps x %d trajectories\n", setting.T, std::pow(mdp.gamma, setting.T),
              setting.reps, setting.max_trajectories);
  std::printf("  baselines per state:  V^pi = [");
  print_vector(exact.V);
  std::printf("]\n                       b*   = [");
  print_vector(exact.b_star);
  std::printf("]\n\n  mean ||g_N - grad J|| over %d reps\n  %6s", setting.reps, "N");
  for (int e = 0; e < kEstimators; ++e) std::printf("  %14s", kShort[e].c_str());
  std::printf("\n");
  for (std::size_t k = 0; k < c.Ns.size(); ++k) {
    std::printf("  %6d", c.Ns[k]);
    for (int e = 0; e < kEstimators; ++e) std::printf("  %14.4f", mean(c.error[e][k]));
    std::printf("\n");
  }
  std::printf("\n  per-trajectory variance tr Cov (from %.0f trajectories)\n", c.trajectories);
  std::printf("  %-16s %12s %14s %14s %24s\n", "estimator", "tr Cov", "/ tr Cov(3.18)", "/ tr Cov(3.19)",
              "||mean - grad J|| / SE");
  for (int e = 0; e < kEstimators; ++e)
    std::printf("  %-16s %12.4f %14.4f %14.4f %24.2f\n", kShort[e].c_str(), c.tr_cov[e], c.tr_cov[e] / c.tr_cov[0],
                c.tr_cov[e] / c.tr_cov[1], c.bias[e] / std::sqrt(c.tr_cov[e] / c.trajectories));
  std::printf("  (last column: the pooled mean's distance from grad J over its RMS sqrt(tr Cov / n); about 1 for an "
              "unbiased estimator, since E||mean - grad J||^2 = tr Cov / n)\n\n");
}

std::string draw_figure(const std::string& out, const TabularMdp& mdp, const Setting& setting,
                        const EstimatorComparison& c) {
  const std::vector<double> x(c.Ns.begin(), c.Ns.end());
  plot::Figure fig(1, 2, 1200, 540);
  fig.title("Section 3.2.2: Monte-Carlo policy gradients → exact ∇J (3.20); random MDP S = " + std::to_string(mdp.S) +
            ", A = " + std::to_string(mdp.A) + ", γ = " + fmt("%g", mdp.gamma) + ", T = " + std::to_string(setting.T) +
            ", " + std::to_string(setting.reps) + " reps");
  plot::Axes& err = fig.panel(0, 0);
  plot::Axes& var = fig.panel(0, 1);
  for (int e = 0; e < kEstimators; ++e) {
    std::vector<double> m, lo, hi, rms, nmse, nmse_lo, nmse_hi;
    for (std::size_t k = 0; k < c.Ns.size(); ++k) {
      m.push_back(mean(c.error[e][k]));
      lo.push_back(quantile(c.error[e][k], 0.1));
      hi.push_back(quantile(c.error[e][k], 0.9));
      rms.push_back(std::sqrt(c.tr_cov[e] / c.Ns[k]));
      std::vector<double> scaled;  // N ||g_N - grad J||^2
      for (double v : c.error[e][k]) scaled.push_back(c.Ns[k] * v * v);
      nmse.push_back(mean(scaled));
      nmse_lo.push_back(nmse.back() - 2 * std_error(scaled));
      nmse_hi.push_back(nmse.back() + 2 * std_error(scaled));
    }
    err.band(x, lo, hi, {.color = kColors[e], .opacity = 0.15});
    err.line(x, m, {.label = kNames[e], .color = kColors[e], .width = 2.2, .marker_size = 2.5});
    err.line(x, rms, {.color = kColors[e], .width = 1.2, .dash = "5 4", .opacity = 0.8});
    var.band(x, nmse_lo, nmse_hi, {.color = kColors[e], .opacity = 0.15});
    var.line(x, nmse, {.label = kNames[e] + ": tr Cov = " + fmt("%.3g", c.tr_cov[e]), .color = kColors[e],
                       .width = 2.2, .marker_size = 2.5});
    var.hline(c.tr_cov[e], {.color = kColors[e], .width = 1.2, .dash = "5 4"});
  }
  err.log_x().log_y().xlabel("number of trajectories N").ylabel("‖ĝ_{N} − ∇J‖")
      .title("error: mean over reps, band 10–90 %; dashed √(tr Cov / N)");
  var.log_x().log_y().xlabel("number of trajectories N").ylabel("N · ‖ĝ_{N} − ∇J‖²  (mean over reps)")
      .title("per-trajectory variance: N·MSE ± 2 SE; dashed tr Cov, all trajectories");
  const std::string file = out + "/pg_lemma.svg";
  fig.save(file);
  return file;
}

}  // namespace pgcpp::pg_lemma
