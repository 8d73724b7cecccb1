// Section 3.2.3: REINFORCE, naive (single trajectory) and minibatch. See 3_2_3_reinforce.cpp.
#pragma once

#include <functional>
#include <vector>

#include "chapter3/common/params.hpp"
#include "chapter3/common/rollout.hpp"

namespace pgcpp {

// Example 3.1's settings are the defaults (the course's example script; see the .cpp header).
struct ReinforceConfig : Params {
  Param<int> batch{this, "--batch", 20, "N, trajectories per update (1 = naive REINFORCE, Fig. 3.2)", {1, 10'000}};
  Param<long> episodes{this, "--episodes", 3000,
                       "budget in episodes (with --batch 1 and no --episodes: 2000, Example 3.1's naive run)",
                       {1, 10'000'000}};
  Param<double> lr{this, "--lr", 2.5e-3, "alpha, Adam step size", Range<double>::open_closed(0, 1)};
  Param<double> gamma{this, "--gamma", 0.99, "discount gamma", {0, 1}};
  Param<std::vector<int>> hidden{this, "--hidden", {128, 128}, "hidden layer sizes of pi (tanh)"};
  Param<double> clip{this, "--clip", 1.0, "gradient-norm clip (0 = none)", {0, 1e6}};
  Param<std::string> estimator{this, "--estimator", "auto",
                               "return (3.23) | rtg (3.24); auto: (3.23) when --batch 1, else (3.24)",
                               {"auto", "return", "rtg"}};
  Param<double> solved{this, "--solved", 475, "stop once the last 100 episodes average this (0 = never)", {0, 1e6}};
};

// Called after each update with the batch just used and the loss.
using BatchCallback = std::function<void(long iteration, const std::vector<Trajectory>& batch, double loss)>;

// Trains `policy` in place.
void train_reinforce(const ReinforceConfig& cfg, Env& env, Policy& policy, Rng& rng, const BatchCallback& on_batch);

// The score-function surrogate whose gradient is the estimator:
//   (3.23)  sum_t grad log pi(a_t|s_t) R(tau)                           weights w_t = R(tau)
//   (3.24)  1/N sum_i sum_t gamma^t grad log pi(a_t|s_t) g_t            weights w_t = gamma^t g_t
// Returns the weights w_t, one per step of the batch, stacked in order; the loss minimized is
// -(1/N) sum_i sum_t w_t log pi(a_t|s_t).
Vector reinforce_weights(const std::vector<Trajectory>& batch, double gamma, bool full_return);

}  // namespace pgcpp
