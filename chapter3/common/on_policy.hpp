// Steps 1-2 of the on-policy pseudocodes of Section 3.4 (NPG 3.4.4, TRPO 3.4.6, PPO 3.4.7),
// which are the same in all three:
//   1. Collect on-policy data: T steps of N VecEnv copies under pi_theta_k (chapter3/common/
//      segment.hpp); cache log pi_theta_k(a_t|s_t) and pi_theta_k's distribution parameters
//      (the constants of the KL (3.50)).
//   2. GAE advantages A_t (3.35), (3.37) and value targets V_targ_t = A_t + V_phi(s_t) (3.39),
//      computed with chapter3/common/gae.hpp; optionally standardized within the batch.
// Step 3 of NPG and TRPO, fitting V_phi to V_targ, is chapter3/common/value_fitting.hpp.
// Every per-row vector is in the row order of Segment::obs (row t N + i = step t of copy i) and
// in pgcpp::Scalar; GAE reads the values and writes A and V_targ in place (gae_segment_rows).
// The batch's storage is allocated once and reused by every later collect().
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "chapter3/common/segment.hpp"

namespace pgcpp {

struct OnPolicyBatch {
  const Segment* segment = nullptr;  // s_t, a_t, r_t, s_{t+1}, done flags, finished episodes
  Matrix old_params;                 // pi_theta_k's distribution parameters at every s_t
  Matrix old_log_prob;               // log pi_theta_k(a_t|s_t), (T N) x 1
  Matrix advantage;                  // A_t (3.37), (T N) x 1, standardized if asked
  Matrix target;                     // V_targ_t = A_t + V_phi(s_t) (3.39), before standardizing
  Matrix values;                     // V_phi(s_t) at collection
  Eigen::Index rows() const { return old_log_prob.rows(); }
};

class OnPolicyCollector {
 public:
  // N = envs.num_envs() copies, T steps each per batch; the copies are reset from env_seed.
  OnPolicyCollector(VecEnv& envs, int T, std::uint64_t env_seed);

  // Steps 1-2. The result refers to storage that the next collect() overwrites.
  const OnPolicyBatch& collect(const Policy& policy, const ad::Mlp& value, double gamma, double lambda_,
                               bool standardize, Rng& rng);

  long env_steps() const { return segments_.env_steps(); }  // all copies, all batches so far
  // A budget of env_steps spent in whole batches: floor(env_steps / (N T)) iterations, at least 1.
  long iterations(long env_steps) const { return std::max(1L, env_steps / (static_cast<long>(N_) * T_)); }
  int T() const { return T_; }
  int N() const { return N_; }

 private:
  // V_phi(s_{t+1}) into next_values_ (collect's step 2 input).
  void next_state_values(const Segment& seg, const ad::Mlp& value);

  SegmentCollector segments_;
  int T_, N_;
  OnPolicyBatch batch_;
  Matrix next_values_;  // V_phi(s_{t+1}) at the true next states, (T N) x 1
  ad::Workspace value_ws_;
  // The rows whose next state is not the next row's state (last step, episode ends), their next
  // states and values: V_phi's second, small forward pass.
  std::vector<int> boundary_;
  Matrix boundary_obs_, boundary_values_;
  ad::Workspace boundary_ws_;
};

}  // namespace pgcpp
