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
// Writes <out>/pg_lemma.svg (error vs N, per-trajectory variance vs N) and prints the table. The
// estimators and their comparison are chapter3/3_2_2_pg_lemma.hpp's; the table and the figure are
// drawn by pg_lemma_report.cpp.
#include <chrono>
#include <cstdio>
#include <string>

#include "chapter3/3_2_2_pg_lemma.hpp"
#include "experiment/cli.hpp"
#include "experiment/program.hpp"
#include "pg_lemma_report.hpp"

using namespace pgcpp;
using namespace pgcpp::pg_lemma;

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
    const Exact exact{.J = mdp.J(pi),
                      .grad_J = value_form_gradient(mdp, pi),                // (3.20)
                      .grad_fd = finite_difference_gradient(mdp, theta),  // independent check
                      .V = mdp.V(pi),
                      .b_star = optimal_baseline(pi, mdp.Q(pi))};  // (3.28)

    // The four estimators on the same trajectories, N = 1, 2, 4, ..., --max-trajectories.
    const Setting setting{.seed = cfg.seed, .T = T, .reps = cfg.reps, .max_trajectories = cfg.max_trajectories};
    const EstimatorComparison c =
        compare_estimators(mdp, pi, exact.V, exact.b_star, exact.grad_J, T, cfg.reps, cfg.max_trajectories, rng);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (!cfg.quiet) print_tables(mdp, setting, exact, c);
    const std::string file = draw_figure(cfg.out(), mdp, setting, c);
    if (!cfg.quiet) std::printf("  %.2f s\n", seconds);
    std::printf("%s\n", file.c_str());
    return 0;
  });
}
