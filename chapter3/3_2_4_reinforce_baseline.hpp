// Section 3.2.4.4: minibatch REINFORCE with a learned value baseline. See 3_2_4_reinforce_baseline.cpp.
#pragma once

#include "chapter3/3_2_3_reinforce.hpp"

namespace pgcpp {

struct BaselineConfig {
  int batch = 50;                     // N trajectories per update
  double lr_actor = 1e-3;             // alpha_theta (Adam)
  double lr_critic = 1e-3;            // alpha_phi (Adam)
  double gamma = 0.99;
  std::vector<int> hidden{128, 128};  // pi and V: obs-128-128 tanh
  double clip = 1.0;                  // gradient-norm clip (actor and critic)
  // Critic inner loop (step 3): check every `check_every` steps; stop after `patience`
  // consecutive checks whose relative decrease is below epsilon, or after k_max steps.
  int k_max = 10;                     // the book: 2000 (see 3_2_4_reinforce_baseline.cpp's header)
  int check_every = 10;
  int patience = 10;
  double epsilon = 1e-6;
  bool standardize = true;            // step 4's optional batch-wise standardization
  long episodes = 5000;
  double solved = 475;
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
