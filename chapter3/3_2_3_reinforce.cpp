// Section 3.2.3 — REINFORCE.  Equations (3.13), (3.14), (3.23), (3.24); Example 3.1.
//
// Single-trajectory (naive) REINFORCE                 Minibatch REINFORCE
//   1. Initialize theta_0                               1. Initialize theta_0
//   2. For k = 0, 1, ...:                               2. For k = 0, 1, ...:
//      - obtain a trajectory tau ~ p_theta_k               - obtain N trajectories ~ p_theta_k
//      - compute g_k as in (3.23)                          - compute g_k as in (3.24)
//      - theta_{k+1} = theta_k + alpha_k g_k               - theta_{k+1} = theta_k + alpha_k g_k
//
// Example 3.1's settings (those of the course's example script) are the defaults: pi 4-128-128-2
// tanh, Adam 2.5e-3, gamma 0.99, gradient-norm clip 1.0, returns-to-go not normalized, loss
// summed over steps and divided by the number of episodes; naive: 2000 episodes, minibatch: 20
// episodes per update, at most 3000 episodes, stopping once the last 100 average 475.
//
// Truncation: CartPole-v1 cuts episodes at 500 steps (Trajectory::truncated). REINFORCE treats
// the cut like any other end: R(tau) and g_t sum the rewards received, nothing beyond, because the
// objective they estimate is the return of the task as it is defined, time limit included (the
// learning curves and the 475 criterion measure exactly that). Bootstrapping at the cut would need
// a value estimate, which plain REINFORCE does not have.
#include "chapter3/3_2_3_reinforce.hpp"


namespace pgcpp {

using namespace ad;

Vector reinforce_weights(const std::vector<Trajectory>& batch, double gamma, bool full_return) {
  Vector w(total_steps(batch));
  Eigen::Index row = 0;
  for (const Trajectory& tau : batch) {
    if (full_return) {
      const double R = discounted_return(tau.rewards, gamma);  // R(tau)                       (3.13)
      for (int t = 0; t < tau.length(); ++t) w(row++) = static_cast<Scalar>(R);
    } else {
      const std::vector<double> g = returns_to_go(tau.rewards, gamma);  // g_t                (3.14)
      double discount = 1;
      for (int t = 0; t < tau.length(); ++t, discount *= gamma) w(row++) = static_cast<Scalar>(discount * g[t]);
    }
  }
  return w;
}

void train_reinforce(const ReinforceConfig& cfg, Env& env, Policy& policy, Rng& rng, const BatchCallback& on_batch) {
  const bool full_return = cfg.estimator() == "return" || (cfg.estimator() == "auto" && cfg.batch == 1);
  Adam optimizer(policy.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr)));
  SolvedRule solved(cfg.solved);
  EpisodeBudget budget(cfg.episodes);
  // 1. theta_0: the policy as the caller initialized it.
  // 2. For k = 0, 1, ...:
  for (long k = 0; budget.left(); ++k) {
    //  - Obtain N trajectories tau^(i) ~ p_theta_k (N = 1: naive REINFORCE).
    const std::vector<Trajectory> batch = budget.collect(env, policy, cfg.batch, rng);

    //  - Compute the stochastic gradient g_k: (3.23) or (3.24), as the gradient of the surrogate
    // -(1/N) sum_i sum_t w_t log pi(a_t|s_t).
    const Vector w = reinforce_weights(batch, cfg.gamma, full_return);
    const Var log_pi = policy.log_prob(stack_obs(batch), stack_actions(batch));
    const Var loss = -sum(log_pi * Var(Matrix(w))) / static_cast<Scalar>(batch.size());

    //  - Update theta_{k+1} = theta_k + alpha g_k (Adam; the gradient norm clipped first).
    optimizer.minimize(loss, static_cast<Scalar>(cfg.clip));

    if (on_batch) on_batch(k, batch, loss.item());
    if (solved.record(batch)) break;
  }
}

}  // namespace pgcpp
