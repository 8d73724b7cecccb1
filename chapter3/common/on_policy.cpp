#include "chapter3/common/on_policy.hpp"

#include "chapter3/common/minibatch.hpp"

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
  boundary_.reserve(static_cast<std::size_t>(rows));
}

const OnPolicyBatch& OnPolicyCollector::collect(const Policy& policy, const Mlp& value, double gamma, double lambda_,
                                                bool standardize, Rng& rng) {
  // 1. Collect on-policy data; cache log pi_theta_k(a_t|s_t) and pi_theta_k's parameters.
  const Segment& seg = segments_.collect(policy, rng);
  batch_.segment = &seg;
  {
    // pi_theta_k's parameters as acting computed them; plain forward passes (no graph) for V_phi.
    batch_.old_params = seg.params;
    NoGrad off;
    batch_.old_log_prob = policy.log_prob(Var(batch_.old_params), seg.actions).value();
    value.forward(seg.obs, batch_.values, value_ws_);
    next_state_values(seg, value);
  }
  // 2. delta_t (3.35), A_t = delta_t + gamma lambda (1 - done_t) A_{t+1} (3.37), V_targ = A + V (3.39).
  gae_segment_rows(seg.rewards, batch_.values.col(0), next_values_.col(0), seg.terminated, seg.ended, gamma, lambda_,
                   batch_.advantage.col(0), batch_.target.col(0));
  // (Optionally) standardize A within the batch: (A - mean) / (std + 1e-8).
  if (standardize) batch_.advantage.col(0) = pgcpp::standardize(batch_.advantage.col(0));
  return batch_;
}

// V_phi(s_{t+1}) at the true next states. Row r's next state is row r + N's state, whose value is
// already in batch_.values, except at the segment's last step and where an episode ended there
// (its final observation, not the next episode's first): only those rows take a forward pass.
void OnPolicyCollector::next_state_values(const Segment& seg, const Mlp& value) {
  const Eigen::Index rows = seg.obs.rows(), N = seg.N;
  next_values_.topRows(rows - N) = batch_.values.bottomRows(rows - N);
  boundary_.clear();
  for (int t = 0; t < seg.T; ++t)
    for (int i = 0; i < seg.N; ++i)
      if (t + 1 == seg.T || seg.ended(t, i)) boundary_.push_back(t * seg.N + i);
  const int count = static_cast<int>(boundary_.size());
  gather_rows(seg.next_obs, boundary_, 0, count, boundary_obs_);
  value.forward(boundary_obs_, boundary_values_, boundary_ws_);
  for (int k = 0; k < count; ++k) next_values_(boundary_[static_cast<std::size_t>(k)], 0) = boundary_values_(k, 0);
}

}  // namespace pgcpp
