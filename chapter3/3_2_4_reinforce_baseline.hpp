// Section 3.2.4.4: minibatch REINFORCE with a learned value baseline. See 3_2_4_reinforce_baseline.cpp.
#pragma once

#include "chapter3/3_2_3_reinforce.hpp"

namespace pgcpp {

// Example 3.2's settings are the defaults except K_max (see the .cpp header).
struct BaselineConfig : Params {
  Param<int> batch{this, "--batch", 50, "N, trajectories per update", {1, 10'000}};
  Param<long> episodes{this, "--episodes", 5000, "budget in episodes", {1, 10'000'000}};
  Param<double> lr_actor{this, "--lr-actor", 1e-3, "alpha_theta, Adam step size of pi", Range<double>::open_closed(0, 1)};
  Param<double> lr_critic{this, "--lr-critic", 1e-3, "alpha_phi, Adam step size of V", Range<double>::open_closed(0, 1)};
  Param<double> gamma{this, "--gamma", 0.99, "discount gamma", {0, 1}};
  Param<std::vector<int>> hidden{this, "--hidden", {128, 128}, "hidden layer sizes of pi and V (tanh)"};
  Param<double> clip{this, "--clip", 1.0, "gradient-norm clip of actor and critic (0 = none)", {0, 1e6}};
  // Critic inner loop (step 3): check every `check_every` steps; stop after `patience`
  // consecutive checks whose relative decrease is below epsilon, or after k_max steps.
  Param<int> k_max{this, "--k-max", 10, "K_max, most critic steps per batch (the course's script: 2000; see below)",
                   {1, 1'000'000}};
  Param<int> check_every{this, "--check-every", 10, "critic steps between two checks of the stopping rule",
                         {1, 1'000'000}};
  Param<int> patience{this, "--patience", 10, "M, consecutive checks with relative decrease < epsilon that stop the fit",
                      {1, 1'000'000}};
  Param<double> epsilon{this, "--epsilon", 1e-6, "epsilon of the critic's stopping rule", {0, 1}};
  Param<bool> no_standardize{this, "--no-standardize", false, "skip step 4's batch-wise standardization of the advantages"};
  Param<double> solved{this, "--solved", 475, "stop once the last 100 episodes average this (0 = never)", {0, 1e6}};
};

struct BaselineStats {
  double actor_loss = 0, critic_loss = 0;
  int critic_steps = 0;
};

using BaselineCallback = std::function<void(long iteration, const std::vector<Trajectory>& batch, const BaselineStats&)>;

void train_reinforce_baseline(const BaselineConfig& cfg, Env& env, Policy& policy, ad::Mlp& value, Rng& rng,
                              const BaselineCallback& on_batch);

// Step 3: fit V_phi to the returns-to-go g on a fixed batch until the stopping rule holds.
// Returns the number of gradient steps taken and sets final_loss.
int fit_value(const BaselineConfig& cfg, ad::Mlp& value, ad::Optimizer& optimizer, const Matrix& obs, const Matrix& g,
              Scalar n_trajectories, double& final_loss);

}  // namespace pgcpp
