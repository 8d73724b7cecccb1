// Section 3.2.2 — The policy gradient lemma (Theorem 3.5), and the baselines of Section 3.2.4
// (Theorems 3.6, 3.7).  Equations (3.16), (3.18)-(3.21), (3.25), (3.28).
//
// On a random finite MDP that is solved exactly (envs/tabular_mdp.hpp) with a tabular softmax
// policy pi_theta(a|s) ∝ exp theta(s, a) (3.16), the exact gradient grad J(theta) is the value
// form (3.20), checked against central differences of the exact J. Four Monte-Carlo estimators
// of it, each the mean of N per-trajectory estimates on the SAME trajectories:
//   (3.18)  sum_t grad log pi(a_t|s_t) R(tau)                      full return
//   (3.19)  sum_t gamma^t grad log pi(a_t|s_t) g_t                  returns-to-go
//   (3.25)  sum_t gamma^t grad log pi(a_t|s_t) (g_t - V^pi(s_t))    value baseline
//   (3.25)  the same with b*(s) of (3.28)                           Theorem 3.7's baseline
// All four are unbiased (up to the truncation at horizon T, gamma^T <= 1e-8), so the error
// ||g_N - grad J|| falls like sqrt(tr Cov / N) and what sets them apart is tr Cov, the
// per-trajectory variance. (3.18)'s grows with T (sum_t grad log pi has T terms, each multiplied
// by the whole return); the others' do not.
//
//   pg_lemma [--states 5] [--actions 3] [--gamma 0.9] [--seed 0] [--reps 30]
//            [--max-trajectories 4096] [--horizon 0] [--out runs/pg_lemma] [--quiet]
//
// Writes <out>/pg_lemma.svg (error vs N, per-trajectory variance vs N) and prints the table.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "chapter3/3_2_2_pg_lemma.hpp"
#include "experiment/cli.hpp"
#include "experiment/program.hpp"
#include "plot/plot.hpp"

using namespace pgcpp;
using namespace pgcpp::pg_lemma;
namespace plot = pgcpp::plot;

namespace {

struct Config : Params {
  Param<int> states{this, "--states", 5, "number of states S", {1, 1000}};
  Param<int> actions{this, "--actions", 3, "number of actions A", {2, 100}};
  Param<double> gamma{this, "--gamma", 0.9, "discount factor gamma", Range<double>::open_closed(0, 0.999)};
  Param<std::uint64_t> seed{this, "--seed", 0,
                            "random seed: the MDP, theta and the trajectories (same seed, same output)",
                            {0, 1'000'000'000}};
  Param<int> reps{this, "--reps", 30, "independent repetitions of the N-trajectory estimate", {2, 1000}};
  Param<int> max_trajectories{this, "--max-trajectories", 4096, "largest N (N = 1, 2, 4, ..., this)", {2, 1 << 16}};
  Param<int> horizon{this, "--horizon", 0, "trajectory length T (0: the smallest T with gamma^T <= 1e-8)",
                     {0, 100'000}};
  Param<std::string> out{this, "--out", "runs/pg_lemma", "directory for the SVG figure"};
  Param<bool> quiet{this, "--quiet", false, "print only the file written"};
};

const std::vector<std::string> kNames = {"(3.18) full return R(τ)", "(3.19) returns-to-go gₜ",
                                         "(3.25) baseline b = V^{π}", "(3.25) baseline b* of (3.28)"};
const std::vector<std::string> kShort = {"(3.18) R(tau)", "(3.19) g_t", "(3.25) b=V", "(3.25) b=b*"};
const std::vector<std::string> kColors = {"#D55E00", "#0072B2", "#009E73", "#CC79A7"};
constexpr int kEstimators = 4;

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

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  Cli cli("pg_lemma", "Section 3.2.2: the policy gradient lemma on an exactly solvable random MDP. Monte-Carlo "
                      "estimators (3.18), (3.19) and (3.25) with b = V and b* (3.28) converge to the exact grad J "
                      "(3.20) as the number of trajectories N grows; their per-trajectory variances differ.");
  cli.add(cfg);
  cli.note("Within one repetition the estimate for N is the mean of the first N of the same max-trajectories "
           "trajectories, and all four estimators use the same trajectories, so their differences are not noise "
           "between samples.");
  cli.note("Work is bounded at parse time: the central-difference check of grad J solves the MDP 2 S A times, "
           "S A (S^3/3 + S^2 A) <= 1e10; the sampling, --reps x --max-trajectories x (T + S A) <= 1e9, "
           "with T = --horizon or the smallest T with gamma^T <= 1e-8 (at most 18412 for gamma <= 0.999).");
  cli.parse(argc, argv);
  const double S = cfg.states, A = cfg.actions;
  cli.require(S * A * (S * S * S / 3 + S * S * A) <= 1e10,
              "--states " + cfg.states.text() + " with --actions " + cfg.actions.text() +
                  ": the exact gradient check would take too long; need S A (S^3/3 + S^2 A) <= 1e10");
  const int T = cfg.horizon > 0 ? cfg.horizon() : horizon_for(cfg.gamma, 1e-8);
  cli.require(static_cast<double>(cfg.reps) * cfg.max_trajectories * (T + S * A) <= 1e9,
              "--reps " + cfg.reps.text() + " x --max-trajectories " + cfg.max_trajectories.text() + " x (T " +
                  std::to_string(T) + " + S A) exceeds 1e9 sampling steps; lower one of them");
  const auto start = std::chrono::steady_clock::now();
  return run_program(cli, [&] {
    make_output_dir(cfg.out(), "--out");

    // The MDP, a random tabular softmax policy (3.16), and everything exact about it.
    const TabularMdp mdp = random_mdp({.states = cfg.states, .actions = cfg.actions, .gamma = cfg.gamma, .seed = cfg.seed});
    Rng rng(cfg.seed ^ 0x5eed'3220ull);
    MatrixD theta(mdp.S, mdp.A);
    for (Eigen::Index i = 0; i < theta.size(); ++i) theta(i) = rng.normal();
    const MatrixD pi = softmax_policy(theta);
    const VectorD V = mdp.V(pi);
    const MatrixD Q = mdp.Q(pi);
    const VectorD b_star = optimal_baseline(pi, Q);                   // (3.28)
    const MatrixD grad_J = value_form_gradient(mdp, pi);              // (3.20)
    const MatrixD grad_fd = finite_difference_gradient(mdp, theta);  // independent check

    // N = 1, 2, 4, ..., max.
    std::vector<int> Ns;
    for (int n = 1; n < cfg.max_trajectories; n *= 2) Ns.push_back(n);
    Ns.push_back(cfg.max_trajectories);
    const std::size_t K = Ns.size();

    // error[e][k][rep] = ||g_N - grad J|| for N = Ns[k]; pooled first and second moments of the
    // per-trajectory estimates for tr Cov.
    std::vector<std::vector<std::vector<double>>> error(kEstimators, std::vector<std::vector<double>>(K));
    std::vector<MatrixD> pooled_sum(kEstimators, MatrixD::Zero(mdp.S, mdp.A));
    std::vector<double> pooled_sq(kEstimators, 0.0);
    for (int rep = 0; rep < cfg.reps; ++rep) {
      Rng r = rng.split();
      std::vector<MatrixD> running(kEstimators, MatrixD::Zero(mdp.S, mdp.A));
      std::vector<double> running_sq(kEstimators, 0.0);
      std::size_t k = 0;
      for (int n = 1; n <= cfg.max_trajectories; ++n) {
        const Episode tau = sample_episode(mdp, pi, T, r);
        const MatrixD g[kEstimators] = {full_return_estimate(tau, pi, cfg.gamma),         // (3.18)
                                        returns_to_go_estimate(tau, pi, cfg.gamma),       // (3.19)
                                        baseline_estimate(tau, pi, cfg.gamma, V),         // (3.25), b = V
                                        baseline_estimate(tau, pi, cfg.gamma, b_star)};  // (3.25), b = b*
        for (int e = 0; e < kEstimators; ++e) {
          running[e] += g[e];
          running_sq[e] += g[e].squaredNorm();
        }
        if (n == Ns[k]) {
          for (int e = 0; e < kEstimators; ++e) error[e][k].push_back((running[e] / n - grad_J).norm());
          ++k;
        }
      }
      for (int e = 0; e < kEstimators; ++e) {
        pooled_sum[e] += running[e];
        pooled_sq[e] += running_sq[e];
      }
    }
    // tr Cov of one trajectory's estimate: (sum ||x||^2 - n ||mean||^2) / (n - 1), over all trajectories.
    const double n_all = static_cast<double>(cfg.reps) * cfg.max_trajectories;
    std::vector<double> tr_cov(kEstimators), bias(kEstimators);
    for (int e = 0; e < kEstimators; ++e) {
      tr_cov[e] = (pooled_sq[e] - pooled_sum[e].squaredNorm() / n_all) / (n_all - 1);
      bias[e] = (pooled_sum[e] / n_all - grad_J).norm();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (!cfg.quiet) {
      std::printf("Section 3.2.2: policy gradient lemma on a random MDP, S = %d, A = %d, gamma = %g, seed = %llu\n",
                  mdp.S, mdp.A, mdp.gamma, static_cast<unsigned long long>(cfg.seed));
      std::printf("  J(theta) = %.6f, ||grad J|| = %.6f; ||(3.20) - central differences of J|| = %.1e\n",
                  mdp.J(pi), grad_J.norm(), (grad_J - grad_fd).norm());
      std::printf("  horizon T = %d (gamma^T = %.1e), %d reps x %d trajectories\n", T, std::pow(cfg.gamma(), T), cfg.reps(),
                  cfg.max_trajectories());
      std::printf("  baselines per state:  V^pi = [");
      for (int s = 0; s < mdp.S; ++s) std::printf("%s%.3f", s ? ", " : "", V(s));
      std::printf("]\n                       b*   = [");
      for (int s = 0; s < mdp.S; ++s) std::printf("%s%.3f", s ? ", " : "", b_star(s));
      std::printf("]\n\n  mean ||g_N - grad J|| over %d reps\n  %6s", cfg.reps(), "N");
      for (int e = 0; e < kEstimators; ++e) std::printf("  %14s", kShort[e].c_str());
      std::printf("\n");
      for (std::size_t k = 0; k < K; ++k) {
        std::printf("  %6d", Ns[k]);
        for (int e = 0; e < kEstimators; ++e) std::printf("  %14.4f", mean(error[e][k]));
        std::printf("\n");
      }
      std::printf("\n  per-trajectory variance tr Cov (from %.0f trajectories)\n", n_all);
      std::printf("  %-16s %12s %14s %14s %24s\n", "estimator", "tr Cov", "/ tr Cov(3.18)", "/ tr Cov(3.19)",
                  "||mean - grad J|| / SE");
      for (int e = 0; e < kEstimators; ++e)
        std::printf("  %-16s %12.4f %14.4f %14.4f %24.2f\n", kShort[e].c_str(), tr_cov[e], tr_cov[e] / tr_cov[0],
                    tr_cov[e] / tr_cov[1], bias[e] / std::sqrt(tr_cov[e] / n_all));
      std::printf("  (last column: the pooled mean's distance from grad J over its RMS sqrt(tr Cov / n); about 1 for an "
                  "unbiased estimator, since E||mean - grad J||^2 = tr Cov / n)\n\n");
    }

    // Figure: error vs N, and N * mean squared error (= tr Cov for an unbiased estimator) vs N.
    const std::vector<double> x(Ns.begin(), Ns.end());
    plot::Figure fig(1, 2, 1200, 540);
    fig.title("Section 3.2.2: Monte-Carlo policy gradients → exact ∇J (3.20); random MDP S = " +
              std::to_string(mdp.S) + ", A = " + std::to_string(mdp.A) + ", γ = " + fmt("%g", mdp.gamma) +
              ", T = " + std::to_string(T) + ", " + std::to_string(cfg.reps) + " reps");
    plot::Axes& err = fig.panel(0, 0);
    plot::Axes& var = fig.panel(0, 1);
    for (int e = 0; e < kEstimators; ++e) {
      std::vector<double> m, lo, hi, rms, nmse, nmse_lo, nmse_hi;
      for (std::size_t k = 0; k < K; ++k) {
        m.push_back(mean(error[e][k]));
        lo.push_back(quantile(error[e][k], 0.1));
        hi.push_back(quantile(error[e][k], 0.9));
        rms.push_back(std::sqrt(tr_cov[e] / Ns[k]));
        std::vector<double> scaled;  // N ||g_N - grad J||^2
        for (double v : error[e][k]) scaled.push_back(Ns[k] * v * v);
        nmse.push_back(mean(scaled));
        nmse_lo.push_back(nmse.back() - 2 * std_error(scaled));
        nmse_hi.push_back(nmse.back() + 2 * std_error(scaled));
      }
      err.band(x, lo, hi, {.color = kColors[e], .opacity = 0.15});
      err.line(x, m, {.label = kNames[e], .color = kColors[e], .width = 2.2, .marker_size = 2.5});
      err.line(x, rms, {.color = kColors[e], .width = 1.2, .dash = "5 4", .opacity = 0.8});
      var.band(x, nmse_lo, nmse_hi, {.color = kColors[e], .opacity = 0.15});
      var.line(x, nmse, {.label = kNames[e] + ": tr Cov = " + fmt("%.3g", tr_cov[e]), .color = kColors[e], .width = 2.2,
                         .marker_size = 2.5});
      var.hline(tr_cov[e], {.color = kColors[e], .width = 1.2, .dash = "5 4"});
    }
    err.log_x().log_y().xlabel("number of trajectories N").ylabel("‖ĝ_{N} − ∇J‖")
        .title("error: mean over reps, band 10–90 %; dashed √(tr Cov / N)");
    var.log_x().log_y().xlabel("number of trajectories N").ylabel("N · ‖ĝ_{N} − ∇J‖²  (mean over reps)")
        .title("per-trajectory variance: N·MSE ± 2 SE; dashed tr Cov, all trajectories")
        ;
    const std::string file = cfg.out() + "/pg_lemma.svg";
    fig.save(file);
    if (!cfg.quiet) std::printf("  %.2f s\n", seconds);
    std::printf("%s\n", file.c_str());
    return 0;
  });
}
