// Section 3.2.3: REINFORCE, naive (single trajectory) and minibatch. See 3_2_3_reinforce.cpp.
#pragma once

#include <functional>
#include <vector>

#include "chapter3/common/rollout.hpp"

namespace pgcpp {

struct ReinforceConfig {
  int batch = 20;                     // N trajectories per update (1 = naive REINFORCE)
  double lr = 2.5e-3;                 // alpha (Adam)
  double gamma = 0.99;
  std::vector<int> hidden{128, 128};  // pi: obs-128-128-|A| tanh
  double clip = 1.0;                  // gradient-norm clip
  long episodes = 3000;               // budget
  double solved = 475;                // stop once the last 100 episodes average this (<= 0: never)
  std::string estimator = "auto";     // "return" (3.23), "rtg" (3.24); auto: (3.23) if batch == 1
};

// Called after each update with the batch just used and the loss.
using BatchCallback = std::function<void(long iteration, const std::vector<Trajectory>& batch, double loss)>;

// Trains `policy` in place.
void train_reinforce(const ReinforceConfig& cfg, Env& env, Policy& policy, Rng& rng, const BatchCallback& on_batch);

// The score-function surrogate whose gradient is the estimator:
//   (3.23)  sum_t grad log pi(a_t|s_t) R(tau)                           weights w_t = R(tau)
//   (3.24)  1/N sum_i sum_t gamma^t grad log pi(a_t|s_t) g_t            weights w_t = gamma^t g_t
// Returns -(1/N) sum_i sum_t w_t log pi(a_t|s_t) (minimized), with w_t per step stacked.
Vector reinforce_weights(const std::vector<Trajectory>& batch, double gamma, bool full_return);

}  // namespace pgcpp
