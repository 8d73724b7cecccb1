// Section 3.4.7 — Proximal Policy Optimization (PPO-Clip, and PPO-KL with --objective kl).
// Equations (3.56)-(3.58).
//
// The book's pseudocode (PPO-Clip), step by step below:
//   1. Collect on-policy data with pi_theta_k; cache log pi_theta_k(a_t|s_t).
//   2. GAE advantages and value targets: delta_t (3.35), A_t (3.37), V_targ_t = A_t + V_phi(s_t)
//      (3.39); optionally standardize A within the batch.
//   3. For e = 1..K_epoch: split the batch into shuffled minibatches of B; for each,
//        rho = exp(log pi_theta(a|s) - log pi_theta_k(a|s)),
//        J_B = -l^CLIP_B(theta) + c_v l^VAL_B(phi) - c_e H_B(theta)                         (3.58)
//      and take one Adam step on J_B.
//   4. (Optional) early stopping: stop the epochs once the batch's KL exceeds a threshold.
// PPO-KL replaces l^CLIP by the penalized l_k of (3.56), whose gradient is (3.57), and adapts
// lambda after each epoch from the KL measured on the whole batch. The autodiff differentiates
// (3.56) itself, whose gradient is E[grad log pi_theta (rho A + lambda)]: (3.57) as printed has
// "rho A - lambda", a sign slip (grad log(pi_k / pi_theta) = -grad log pi_theta enters with the
// penalty's minus sign); tests/chapter3/test_3_4_theorems.cpp checks the corrected form.
//
// Where the pseudocode is silent (common practice, as in CleanRL's ppo.py):
//   - pi and V are separate networks trained by one Adam on J_B, the gradient norm of both
//     together clipped to --max-grad-norm; alpha decays linearly to 0 over the iterations.
//   - The KL of steps 3-4 is the exact mean KL (3.50) of the policies' distributions at the
//     batch's states (chapter3/common/natural_gradient.hpp), not a sample estimate.
//   - The budget is spent in whole batches: floor(env_steps / (N T)) iterations (at least 1);
//     training stops earlier once the last --solved-window episodes average --solved.
//   - Episodes cut by the time limit bootstrap from V_phi (chapter3/common/gae.hpp).
#include "chapter3/3_4_7_ppo.hpp"

#include <algorithm>
#include <cmath>

#include "chapter3/common/minibatch.hpp"
#include "chapter3/common/natural_gradient.hpp"
#include "chapter3/common/segment_solved_rule.hpp"
#include "chapter3/common/update_error.hpp"

namespace pgcpp {

using namespace ad;

// min(rho A, clip(rho, 1 - eps, 1 + eps) A)                                                    (3.58)
Var clipped_surrogate(const Var& ratio, const Matrix& advantage, Scalar epsilon) {
  const Var A(advantage);
  return minimum(ratio * A, clamp(ratio, 1 - epsilon, 1 + epsilon) * A);
}

// rho A - lambda (log pi_theta_k - log pi_theta)                                               (3.56)
Var kl_penalized_surrogate(const Var& log_pi, const Matrix& old_log_pi, const Matrix& advantage, Scalar lambda_) {
  const Var log_pi_k(old_log_pi);
  return exp(log_pi - log_pi_k) * Var(advantage) - lambda_ * (log_pi_k - log_pi);
}

double adapt_kl_coef(double lambda_, double kl, double target) {
  if (kl > 1.5 * target) return lambda_ * 2;  // too far from pi_theta_k: tighten the region
  if (kl < target / 1.5) return lambda_ / 2;  // too close: loosen it
  return lambda_;
}

PpoLoss ppo_minibatch_loss(const PpoConfig& cfg, const Policy& policy, const Mlp& value, const Matrix& s,
                           const Matrix& a, const Matrix& log_pi_k, const Matrix& A, const Matrix& v_targ,
                           double lambda_kl) {
  PpoLoss out;
  const Var params = policy.dist_params(Var(s));
  const Var log_pi = policy.log_prob(params, a);
  // rho = exp(log pi_theta(a|s) - log pi_theta_k(a|s))
  out.rho = exp(log_pi - Var(log_pi_k));
  // l^CLIP_B = 1/B sum min(rho A, clip(rho, 1-eps, 1+eps) A)  (3.58),  or l_k of (3.56)
  out.l_pg = cfg.objective() == "clip"
                 ? mean(clipped_surrogate(out.rho, A, static_cast<Scalar>(cfg.epsilon)))
                 : mean(kl_penalized_surrogate(log_pi, log_pi_k, A, static_cast<Scalar>(lambda_kl)));
  // l^VAL_B = 1/B sum (V_phi(s) - V_targ)^2
  out.l_val = mean(square(value(Var(s)) - Var(v_targ)));
  // J_B = -l^PG_B + c_v l^VAL_B - c_e H_B,  H_B = 1/B sum H(pi_theta(.|s))
  out.J = -out.l_pg + static_cast<Scalar>(cfg.c_v) * out.l_val;
  if (cfg.c_e > 0) out.J = out.J - static_cast<Scalar>(cfg.c_e) * mean(policy.entropy(params));
  return out;
}

PolicyChange policy_change(const Policy& policy, const OnPolicyBatch& batch) {
  NoGrad off;
  const Var params = policy.dist_params(Var(batch.segment->obs));
  return {mean_kl(policy, params, batch.old_params).item(), mean(policy.entropy(params)).item()};
}

// The book's pseudocode loop, kept whole (longer than 60 lines) so that it reads step by step like the book.
void train_ppo(const PpoConfig& cfg, VecEnv& envs, Policy& policy, Mlp& value, Rng& rng, std::uint64_t env_seed,
               const PpoCallback& on_iteration) {
  ParameterSet theta_phi = policy.parameters();
  theta_phi.add(value.parameters());
  Adam optimizer(theta_phi, StepSize::constant(static_cast<Scalar>(cfg.lr)));
  OnPolicyCollector collector(envs, cfg.steps, env_seed);
  const long batch_rows = static_cast<long>(cfg.envs) * cfg.steps;
  const long iterations = collector.iterations(cfg.env_steps);
  const int B = static_cast<int>(std::min<long>(cfg.minibatch, batch_rows));
  const auto eps = static_cast<Scalar>(cfg.epsilon), max_norm = static_cast<Scalar>(cfg.max_grad_norm);
  const bool clip_objective = cfg.objective() == "clip";
  double lambda_kl = cfg.kl_coef;
  SegmentSolvedRule solved(cfg.solved, cfg.solved_window);
  PpoStats stats;
  std::vector<int> index;
  Matrix s, a, log_pi_k, A, v_targ;  // one minibatch, reused
  for (long k = 0; k < iterations; ++k) try {
    if (!cfg.constant_lr)
      optimizer.set_step_size(StepSize::constant(static_cast<Scalar>(cfg.lr * (1.0 - double(k) / iterations))));

    // 1.-2. Roll out pi_theta_k, cache log pi_theta_k(a_t|s_t); GAE advantages and targets.
    const OnPolicyBatch& batch = collector.collect(policy, value, cfg.gamma, cfg.lambda_, !cfg.no_standardize, rng);
    const Matrix& obs = batch.segment->obs;
    const Matrix& actions = batch.segment->actions;

    // 3. Policy/value optimization, K_epoch passes over shuffled minibatches.
    stats.epochs = 0;
    for (int e = 0; e < cfg.epochs; ++e) {
      shuffle_indices(index, static_cast<int>(batch_rows), rng);
      long clipped = 0, seen = 0;
      for (int from = 0; from + B <= batch_rows; from += B) {
        gather_rows(obs, index, from, B, s);
        gather_rows(actions, index, from, B, a);
        gather_rows(batch.old_log_prob, index, from, B, log_pi_k);
        gather_rows(batch.advantage, index, from, B, A);
        gather_rows(batch.target, index, from, B, v_targ);
        // J_B = -l^PG_B + c_v l^VAL_B - c_e H_B; one Adam step.
        const PpoLoss loss = ppo_minibatch_loss(cfg, policy, value, s, a, log_pi_k, A, v_targ, lambda_kl);
        optimizer.minimize(loss.J, max_norm);
        ++stats.gradient_steps;
        stats.policy_loss = -loss.l_pg.item();
        stats.value_loss = loss.l_val.item();
        clipped += ((loss.rho.value().array() - 1).abs() > eps).count();
        seen += B;
      }
      ++stats.epochs;
      stats.clip_fraction = seen ? double(clipped) / double(seen) : 0.0;
      // After each epoch: the batch's KL; PPO-KL adapts lambda, step 4 may stop the epochs.
      if (!clip_objective || cfg.target_kl > 0) {
        NoGrad off;
        const double kl = mean_kl(policy, obs, batch.old_params).item();
        if (!clip_objective) lambda_kl = adapt_kl_coef(lambda_kl, kl, cfg.kl_target);
        // 4. (Optional) early stopping by KL.
        if (cfg.target_kl > 0 && kl > cfg.target_kl) break;
      }
    }
    stats.kl_coef = clip_objective ? 0.0 : lambda_kl;
    if (on_iteration) on_iteration(k, batch, collector.env_steps(), stats);
    if (solved.record(*batch.segment)) break;  // (optional) the demos' stopping rule
  } catch (const std::exception& e) {
    rethrow_at_update(k, e);
  }
}

}  // namespace pgcpp
