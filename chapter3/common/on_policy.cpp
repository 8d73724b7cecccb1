#include "chapter3/common/on_policy.hpp"

namespace pgcpp {

using namespace ad;

OnPolicyCollector::OnPolicyCollector(VecEnv& envs, int T, std::uint64_t env_seed)
    : segments_(envs, T, env_seed), T_(T), N_(envs.num_envs()) {
  const Eigen::Index rows = static_cast<Eigen::Index>(T) * N_;
  batch_.old_log_prob.resize(rows, 1);
  batch_.advantage.resize(rows, 1);
  batch_.target.resize(rows, 1);
  batch_.values.resize(rows, 1);
  next_values_.resize(rows, 1);
}

const OnPolicyBatch& OnPolicyCollector::collect(const Policy& policy, const Mlp& value, double gamma, double lambda_,
                                                bool standardize, Rng& rng) {
  // 1. Collect on-policy data; cache log pi_theta_k(a_t|s_t) and pi_theta_k's parameters.
  const Segment& seg = segments_.collect(policy, rng);
  batch_.segment = &seg;
  {
    // Plain forward passes (no graph) into the batch's storage.
    policy.dist_params(seg.obs, act_);
    batch_.old_params = act_.params;
    NoGrad off;
    batch_.old_log_prob = policy.log_prob(Var(batch_.old_params), seg.actions).value();
    value.forward(seg.obs, batch_.values, value_ws_);
    value.forward(seg.next_obs, next_values_, value_ws_);  // V_phi(s_{t+1}) at the true next state
  }
  // 2. delta_t (3.35), A_t = delta_t + gamma lambda (1 - done_t) A_{t+1} (3.37), V_targ = A + V (3.39).
  gae_segment_rows(seg.rewards, batch_.values.col(0), next_values_.col(0), seg.terminated, seg.ended, gamma, lambda_,
                   batch_.advantage.col(0), batch_.target.col(0));
  // (Optionally) standardize A within the batch: (A - mean) / (std + 1e-8).
  if (standardize) batch_.advantage.col(0) = pgcpp::standardize(batch_.advantage.col(0));
  return batch_;
}

}  // namespace pgcpp
