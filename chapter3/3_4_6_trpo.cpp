// Section 3.4.6 — Trust Region Policy Optimization with GAE advantages (Schulman et al. 2015).
// Equations (3.49)-(3.55).
//
// The book's pseudocode, step by step below:
//   1. Collect rollouts with pi_theta_k.
//   2. GAE: delta_t (3.35), A_t (3.37), optionally standardized; V_targ_t = A_t + V_phi(s_t).
//   3. Value function update: fit V_phi to V_targ.
//   4. Policy gradient g = 1/N sum_t grad log pi_theta_k(a_t|s_t) A_t.                       (3.53)
//   5. Fisher-vector product v -> F v, the Hessian-vector product of the empirical KL.       (3.54)
//   6. CG: K_cg iterations on F p = g give p_NPG.                                            (3.55)
//   7. Step size alpha = sqrt(2 delta / p^T F p); candidate theta* = theta_k + alpha p_NPG.  (3.55)
//   8. Backtracking line search: theta* = theta_k + beta^j alpha p_NPG, j = 0..M, until both
//      Dbar_KL(theta_k || theta*) <= delta (3.50) and L_theta_k(theta*) >= L_theta_k(theta_k)
//      (3.49) hold on the batch; accept the first such theta*.
// Steps 4-7 solve the approximation (3.52) of the trust-region problem (3.51); step 8 then enforces
// (3.51)'s own constraint and objective on the batch. Steps 1-7 are NPG's (3_4_4_npg.cpp). The pseudocode does not say what happens when no j
// passes: theta_k is kept (as in Schulman's implementation) and the iteration reports it.
#include "chapter3/3_4_6_trpo.hpp"

#include <algorithm>
#include <cmath>

#include "chapter3/common/segment_solved_rule.hpp"
#include "chapter3/common/update_error.hpp"
#include "chapter3/common/value_fitting.hpp"

namespace pgcpp {

using namespace ad;

LineSearchResult backtracking_line_search(Policy& policy, const OnPolicyBatch& batch, const Vector& full_step,
                                          double delta, double beta, int max_backtracks) {
  ParameterSet theta = policy.parameters();
  const Vector theta_k = theta.flatten();
  const double L_k = surrogate(policy, batch);
  LineSearchResult r;
  double step = 1;
  for (int j = 0; j <= max_backtracks; ++j, step *= beta) {
    // theta* = theta_k + beta^j alpha p_NPG
    theta.unflatten(theta_k + static_cast<Scalar>(step) * full_step);
    double kl;
    {
      NoGrad off;
      kl = static_cast<double>(mean_kl(policy, batch.segment->obs, batch.old_params).item());  // (3.50)
    }
    const double gain = surrogate(policy, batch) - L_k;                                      // (3.49)
    if (j == 0) r.kl_full_step = kl;
    if (kl <= delta && gain >= 0) {
      r.accepted = true;
      r.backtracks = j;
      r.kl = kl;
      r.surrogate_gain = gain;
      r.step = step;
      return r;
    }
  }
  theta.unflatten(theta_k);  // nothing passed: keep theta_k
  r.backtracks = max_backtracks + 1;
  return r;
}

void train_trpo(const TrpoConfig& cfg, VecEnv& envs, Policy& policy, Mlp& value, Rng& rng, std::uint64_t env_seed,
                const TrustRegionCallback& on_iteration) {
  Adam critic(value.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  OnPolicyCollector collector(envs, cfg.steps, env_seed);
  const long iterations = collector.iterations(cfg.env_steps);
  SegmentSolvedRule solved(cfg.solved, cfg.solved_window);
  for (long k = 0; k < iterations; ++k) try {
    // 1.-2. Roll out pi_theta_k (log pi_theta_k cached); GAE advantages and value targets.
    const OnPolicyBatch& batch = collector.collect(policy, value, cfg.gamma, cfg.lambda_, !cfg.no_standardize, rng);
    TrustRegionStats stats;
    // 3. Value function update.
    stats.value_loss =
        fit_value_function(value, critic, batch.segment->obs, batch.target, cfg.critic_epochs, cfg.critic_minibatch, 0, rng);
    // 4.-7. g, F v, p_NPG by CG, alpha = sqrt(2 delta / p^T F p).
    const NaturalDirection d = natural_direction(policy, batch, cfg);
    stats.cg_residual = d.cg.residual;
    // 8. Backtracking line search on the exact KL and the surrogate.
    const LineSearchResult ls =
        backtracking_line_search(policy, batch, static_cast<Scalar>(d.alpha) * d.p, cfg.delta, cfg.beta, cfg.backtracks);
    stats.accepted = ls.accepted;
    stats.backtracks = ls.backtracks;
    stats.kl = ls.kl;
    stats.kl_full_step = ls.kl_full_step;
    stats.surrogate_gain = ls.surrogate_gain;
    stats.alpha = ls.step * d.alpha;
    if (on_iteration) on_iteration(k, batch, collector.env_steps(), stats);
    if (solved.record(*batch.segment)) break;  // (optional) the demos' stopping rule
  } catch (const std::exception& e) {
    rethrow_at_update(k, e);
  }
}

}  // namespace pgcpp
