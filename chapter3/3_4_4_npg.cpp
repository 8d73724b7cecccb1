// Section 3.4.4 — Natural Policy Gradient with GAE advantages (Kakade 2001).
// Equations (3.49)-(3.55); the Fisher information as the KL's Hessian is Section 3.4.5.
//
// The book's pseudocode, step by step below:
//   1. Collect rollouts with pi_theta_k; cache log pi_theta_k(a_t|s_t).
//   2. GAE: delta_t (3.35), A_t (3.37), optionally standardized; V_targ_t = A_t + V_phi(s_t).
//   3. Value update: fit V_phi to V_targ (one or several epochs).
//   4. Surrogate gradient g = 1/N sum_t grad log pi_theta_k(a_t|s_t) A_t.                     (3.53)
//   5. Fisher-vector product v -> F v as the Hessian-vector product of Dbar_KL at theta_k,
//      optionally damped, F + xi I.                                                    (3.50), (3.54)
//   6. Conjugate gradient: p_NPG ~ F^{-1} g.                                                  (3.55)
//   7. Step: theta_k+1 = theta_k + alpha p_NPG with the trust-region scaling
//      alpha = sqrt(2 delta / p^T F p) (3.55), or a fixed natural step eta p_NPG.
// The update solves the QP (3.52), the linearized surrogate under the quadratic KL; the KL it
// actually moves is measured after each update and reported against delta (npg's kl.svg).
//
// Where the pseudocode is silent: the batch is a fixed-length segment of N copies x T steps
// (chapter3/common/on_policy.hpp); step 3 runs epochs of shuffled minibatch Adam steps
// (chapter3/common/value_fitting.hpp); alpha
// uses the damped F (the matrix CG inverted), as common implementations do.
#include "chapter3/3_4_4_npg.hpp"

#include <algorithm>

#include "chapter3/common/segment_solved_rule.hpp"
#include "chapter3/common/update_error.hpp"
#include "chapter3/common/value_fitting.hpp"

namespace pgcpp {

using namespace ad;

// L_theta_k(theta) = 1/N sum_t exp(log pi_theta(a_t|s_t) - log pi_theta_k(a_t|s_t)) A_t        (3.49)
double surrogate(const Policy& policy, const OnPolicyBatch& batch) {
  NoGrad off;
  const Var log_pi = policy.log_prob(batch.segment->obs, batch.segment->actions);
  return static_cast<double>(mean(exp(log_pi - Var(batch.old_log_prob)) * Var(batch.advantage)).item());
}

NaturalDirection natural_direction(const Policy& policy, const OnPolicyBatch& batch, const TrustRegionConfig& cfg) {
  const ParameterSet theta = policy.parameters();
  const Matrix& obs = batch.segment->obs;
  NaturalDirection d;
  // 4. g = 1/N sum_t grad log pi_theta_k(a_t|s_t) A_t                                          (3.53)
  //    (the policy gradient (3.46) at theta_k, up to its constant 1/(1 - gamma))
  d.g = flat_gradient(mean(policy.log_prob(obs, batch.segment->actions) * Var(batch.advantage)), theta);
  // 5. v -> (F + xi I) v, F = grad^2 Dbar_KL(theta_k || theta) at theta_k                (3.50), (3.54)
  const FisherVectorProduct F(policy, obs, cfg.damping);
  // 6. CG: (F + xi I) p = g with K_cg iterations
  d.cg = conjugate_gradient(F, d.g, cfg.cg_iters);
  d.p = d.cg.x;
  // 7. alpha = sqrt(2 delta / p^T F p)                                                         (3.55)
  d.Fp = F(d.p);
  d.alpha = trust_region_step(d.p, d.Fp, cfg.delta);
  return d;
}

void train_npg(const NpgConfig& cfg, VecEnv& envs, Policy& policy, Mlp& value, Rng& rng, std::uint64_t env_seed,
               const TrustRegionCallback& on_iteration) {
  ParameterSet theta = policy.parameters();
  Adam critic(value.parameters(), StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  OnPolicyCollector collector(envs, cfg.steps, env_seed);
  const long iterations = collector.iterations(cfg.env_steps);
  SegmentSolvedRule solved(cfg.solved, cfg.solved_window);
  for (long k = 0; k < iterations; ++k) try {
    // 1.-2. Roll out pi_theta_k (log pi_theta_k cached); GAE advantages and value targets.
    const OnPolicyBatch& batch = collector.collect(policy, value, cfg.gamma, cfg.lambda_, !cfg.no_standardize, rng);
    TrustRegionStats stats;
    // 3. Value update.
    stats.value_loss =
        fit_value_function(value, critic, batch.segment->obs, batch.target, cfg.critic_epochs, cfg.critic_minibatch, 0, rng);
    // 4.-7. g, F v, p_NPG = F^{-1} g by CG, alpha.
    const double L_k = surrogate(policy, batch);
    const NaturalDirection d = natural_direction(policy, batch, cfg);
    stats.alpha = cfg.step() == "trust-region" ? d.alpha : cfg.eta();
    stats.cg_residual = d.cg.residual;
    // 7. theta_k+1 = theta_k + alpha p_NPG (trust-region scaling), or theta_k + eta p_NPG.
    theta.unflatten(theta.flatten() + static_cast<Scalar>(stats.alpha) * d.p);
    {
      NoGrad off;
      stats.kl = mean_kl(policy, batch.segment->obs, batch.old_params).item();  // vs delta: kl.svg
    }
    stats.surrogate_gain = surrogate(policy, batch) - L_k;
    if (on_iteration) on_iteration(k, batch, collector.env_steps(), stats);
    if (solved.record(*batch.segment)) break;  // (optional) the demos' stopping rule
  } catch (const std::exception& e) {
    rethrow_at_update(k, e);
  }
}

}  // namespace pgcpp
