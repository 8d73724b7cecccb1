// Steps 1-3 of the on-policy pseudocodes of Section 3.4 (NPG 3.4.4, TRPO 3.4.6, PPO 3.4.7),
// which are the same in all three:
//   1. Collect on-policy data: T steps of N VecEnv copies under pi_theta_k (chapter3/common/
//      segment.hpp); cache log pi_theta_k(a_t|s_t) and pi_theta_k's distribution parameters
//      (the constants of the KL (3.50)).
//   2. GAE advantages A_t (3.35), (3.37) and value targets V_targ_t = A_t + V_phi(s_t) (3.39),
//      computed with chapter3/common/gae.hpp; optionally standardized within the batch.
//   3. (NPG, TRPO) Fit V_phi to V_targ: epochs of shuffled minibatch MSE steps.
// Every per-row vector is in the row order of Segment::obs (row t N + i = step t of copy i).
// The batch's storage is allocated once and reused by every later collect().
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
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
  SegmentCollector segments_;
  int T_, N_;
  OnPolicyBatch batch_;
  GaeResult<Eigen::MatrixXd> gae_;
  Eigen::MatrixXd values_, next_values_;  // T x N
};

// The policies of Section 3.4's demos: softmax over an MLP's logits for a discrete action space
// (3.16), else a Gaussian with an MLP mean and a state-independent log sigma starting at
// log_std_init (3.17). Hidden layers tanh.
std::shared_ptr<Policy> make_mlp_policy(const Env& env, const std::vector<int>& hidden, double log_std_init, Rng& rng);

// The stopping rule of the demos over segments: true once the last `window` episodes finished so
// far average at least `target` (the REINFORCE scripts' rule, SolvedRule, with a window of
// episodes that ended anywhere in the copies); window 0 never stops.
class SegmentSolvedRule {
 public:
  SegmentSolvedRule(double target, int window) : target_(target), window_(window) {}
  bool record(const Segment& segment);

 private:
  double target_;
  int window_;
  std::vector<double> recent_;  // the last `window` returns, oldest first
};

// An exception from update k (counted from 0) rethrown as std::runtime_error "update k+1: what",
// the numbering of RunLog::set_loss's messages, unless its message already names the update: a
// failure deep inside (a CG breakdown, a non-finite action) then says where training stopped.
[[noreturn]] void rethrow_at_update(long k, const std::exception& e);

// A random permutation of 0..n-1 (Fisher-Yates), written into `index` (resized to n).
void shuffle_indices(std::vector<int>& index, int n, Rng& rng);

// Rows index[from .. from + count) of x, into out (resized only if its shape differs).
void gather_rows(const Matrix& x, const std::vector<int>& index, int from, int count, Matrix& out);

// Step 3 of NPG and TRPO: `epochs` passes over the batch in shuffled minibatches of `minibatch`
// rows, one Adam step each on 1/B sum (V_phi(s) - V_targ)^2, gradient norm clipped to max_norm
// (0 = none); the n mod B rows left over by a shuffle wait for the next epoch's. Returns the mean
// minibatch loss of the last epoch.
double fit_value_function(ad::Mlp& value, ad::Optimizer& optimizer, const Matrix& obs, const Matrix& target,
                          int epochs, int minibatch, Scalar max_norm, Rng& rng);

}  // namespace pgcpp
