// Section 3.2.4.4 — Minibatch REINFORCE with a learned value baseline.
// Equations (3.14), (3.25)-(3.30); Theorems 3.6 (baseline invariance), 3.7 (optimal baseline);
// Example 3.2.
//
// The book's pseudocode, step by step below:
//   1. Collect N on-policy trajectories.
//   2. Compute returns-to-go g_t.
//   3. Fit V_phi to g_t on this batch to convergence (relative decrease < eps for M checks, or K_max steps).
//   4. Advantages A_t = g_t - V_phi*(s_t), optionally standardized batch-wise.
//   5. One actor step: theta <- theta + alpha_theta 1/N sum_i sum_t gamma^t grad log pi(a_t|s_t) A_t.
//   6. Repeat.
//
// Example 3.2's settings are the defaults (pi and V 4-128-128 tanh, Adam 1e-3 each, batch 50,
// advantages standardized, clip 1.0, at most 5000 episodes) except K_max. The book fits V with
// up to 2000 full-batch steps per batch, and its check rule (every 10 steps, 10 checks in a row)
// never stops before 100: the critic then costs 10-100x the rest of the algorithm (on batches of
// 50 long episodes, 25000 rows, tens of minutes per run). Our default is K_max = 10 (the rule
// cannot fire that early: 10 steps per batch), the nearest setting that keeps every run of seeds
// 1-5 under two minutes on one core (K_max = 20 took up to 113 s of CPU, too close);
// --k-max 2000 gives the book's.
#include "chapter3/3_2_4_reinforce_baseline.hpp"

#include <cmath>

namespace pgcpp {

using namespace ad;

int fit_value(const BaselineConfig& cfg, Mlp& value, Optimizer& optimizer, const Matrix& obs, const Matrix& g,
              Scalar n_trajectories, double& final_loss) {
  const Var s(obs), target(g);
  double previous = 0;
  int quiet_checks = 0, k = 0;
  for (k = 1; k <= cfg.k_max; ++k) {
    // L_V(phi) = 1/N sum_i sum_t (g_t - V_phi(s_t))^2
    const Var loss = sum(square(target - value(s))) / n_trajectories;
    optimizer.minimize(loss, static_cast<Scalar>(cfg.clip));
    final_loss = loss.item();
    if (k % cfg.check_every != 0) continue;
    // Stop when (L^(k-1) - L^(k)) / max(1, |L^(k-1)|) < eps for M consecutive checks.
    if (k > cfg.check_every) {
      const double relative = (previous - final_loss) / std::max(1.0, std::abs(previous));
      quiet_checks = relative < cfg.epsilon ? quiet_checks + 1 : 0;
      if (quiet_checks >= cfg.patience) break;
    }
    previous = final_loss;
  }
  return std::min(k, cfg.k_max());
}

void train_reinforce_baseline(const BaselineConfig& cfg, Env& env, Policy& policy, Mlp& value, Rng& rng,
                              const BaselineCallback& on_batch) {
  Adam actor(policy.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_actor)));
  Adam critic(value.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  SolvedRule solved(cfg.solved);
  long episodes = 0;
  for (long k = 0; episodes < cfg.episodes; ++k) {
    // 1. Collect N on-policy trajectories.
    const int n = static_cast<int>(std::min<long>(cfg.batch, cfg.episodes - episodes));
    const std::vector<Trajectory> batch = collect_episodes(env, policy, n, rng);
    episodes += n;
    const Matrix obs = stack_obs(batch);
    const Scalar N = static_cast<Scalar>(n);

    // 2. Returns-to-go g_t (3.14), and the discount gamma^t of each step.
    Vector g(obs.rows()), discount(obs.rows());
    Eigen::Index row = 0;
    for (const Trajectory& tau : batch) {
      const std::vector<double> rtg = returns_to_go(tau.rewards, cfg.gamma);
      for (int t = 0; t < tau.length(); ++t, ++row) {
        g(row) = static_cast<Scalar>(rtg[t]);
        discount(row) = static_cast<Scalar>(std::pow(cfg.gamma(), t));
      }
    }

    // 3. Fit the value to convergence on this batch (critic inner loop).
    BaselineStats stats;
    stats.critic_steps = fit_value(cfg, value, critic, obs, g, N, stats.critic_loss);

    // 4. Advantages with the converged baseline: A_t = g_t - V_phi*(s_t)                    (3.30)
    Vector advantage;
    {
      NoGrad off;
      advantage = g - value(Var(obs)).value().col(0);
    }
    if (!cfg.no_standardize) advantage = standardize(advantage);  // (A - mu_A) / (sigma_A + delta)

    // 5. A single actor step on -1/N sum_i sum_t gamma^t log pi(a_t|s_t) A_t               (3.25)
    const Var log_pi = policy.log_prob(obs, stack_actions(batch));
    const Var loss = -sum(log_pi * Var(Matrix(discount.cwiseProduct(advantage)))) / N;
    actor.minimize(loss, static_cast<Scalar>(cfg.clip));
    stats.actor_loss = loss.item();

    // 6. Repeat (until the budget, or solved: the last 100 episodes average cfg.solved).
    if (on_batch) on_batch(k, batch, stats);
    if (solved.record(batch)) break;
  }
}

}  // namespace pgcpp
