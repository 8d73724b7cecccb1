// Section 3.3.3: on-policy actor–critic with generalized advantage estimation. See 3_3_3_gae.cpp.
#pragma once

#include <functional>
#include <vector>

#include "chapter3/common/params.hpp"
#include "chapter3/common/rollout.hpp"

namespace pgcpp {

// Example 3.4's settings are the defaults (see the .cpp header).
struct GaeConfig : Params {
  Param<int> batch{this, "--batch", 20, "B, episodes per update (step 1)", {1, 10'000}};
  Param<long> episodes{this, "--episodes", 3000, "budget in episodes", {1, 10'000'000}};
  Param<double> lambda_{this, "--lambda", 0.95, "lambda of GAE (3.37) and of the lambda-return targets (3.39)", {0, 1}};
  Param<double> lr_actor{this, "--lr-actor", 1e-3, "alpha_theta, Adam step size of pi", Range<double>::open_closed(0, 1)};
  Param<double> lr_critic{this, "--lr-critic", 1e-3, "alpha_phi, Adam step size of V", Range<double>::open_closed(0, 1)};
  Param<double> gamma{this, "--gamma", 0.99, "discount gamma", {0, 1}};
  Param<std::vector<int>> hidden{this, "--hidden", {128, 128}, "hidden layer sizes of pi and V (tanh)"};
  Param<int> critic_steps{this, "--critic-steps", 20, "critic gradient steps per batch (step 5), on fixed targets",
                          {1, 100'000}};
  Param<double> clip{this, "--clip", 1.0, "gradient-norm clip of actor and critic (0 = none)", {0, 1e6}};
  Param<bool> no_normalize{this, "--no-normalize", false, "skip step 3's normalization of the advantages"};
  Param<double> solved{this, "--solved", 475, "stop once the last 100 episodes average this (0 = never)", {0, 1e6}};
};

struct GaeStats {
  double actor_loss = 0, critic_loss = 0;
};

using GaeCallback = std::function<void(long iteration, const std::vector<Trajectory>& batch, const GaeStats&)>;

// Trains `policy` and the critic V_phi (`value`, obs -> 1) in place.
void train_gae(const GaeConfig& cfg, Env& env, Policy& policy, ad::Mlp& value, Rng& rng, const GaeCallback& on_batch);

}  // namespace pgcpp
