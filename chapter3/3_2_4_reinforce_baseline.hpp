// Section 3.2.4.4: minibatch REINFORCE with a learned value baseline. See 3_2_4_reinforce_baseline.cpp.
#pragma once

#include <limits>

#include "chapter3/3_2_3_reinforce.hpp"

namespace pgcpp {

// Example 3.2's settings from the course's example script are the defaults (pi and V 4-128-128
// tanh, Adam 1e-3 each, gamma 0.99, batch 50, advantages standardized, clip 1.0, at most 5000
// episodes), except how step 3 takes its steps: see the .cpp header.
struct BaselineConfig : Params {
  Param<int> batch{this, "--batch", 50, "N, trajectories per update", {1, 10'000}};
  Param<long> episodes{this, "--episodes", 5000, "budget in episodes", {1, 10'000'000}};
  Param<double> lr_actor{this, "--lr-actor", 1e-3, "alpha_theta, Adam step size of pi", Range<double>::open_closed(0, 1)};
  Param<double> lr_critic{this, "--lr-critic", 1e-3, "alpha_phi, Adam step size of V", Range<double>::open_closed(0, 1)};
  Param<double> gamma{this, "--gamma", 0.99, "discount gamma", {0, 1}};
  Param<std::vector<int>> hidden{this, "--hidden", {128, 128}, "hidden layer sizes of pi and V (tanh)"};
  Param<double> clip{this, "--clip", 1.0, "gradient-norm clip of actor and critic (0 = none)", {0, 1e6}};
  // Step 3, the critic's inner loop: epochs (passes over the batch) of shuffled minibatch steps;
  // the book's stopping rule on the batch loss L_V, checked every `check_every` epochs; at most
  // k_max epochs. --critic-minibatch 0 makes every epoch one full-batch step (the script's way).
  Param<int> critic_minibatch{this, "--critic-minibatch", 256,
                              "rows per critic step, in shuffled minibatches (0 = one full-batch step per epoch)",
                              {0, 1'000'000}};
  Param<int> k_max{this, "--k-max", 24, "K_max, most critic epochs per batch (full-batch steps with --critic-minibatch 0)",
                   {1, 1'000'000}};
  Param<int> check_every{this, "--check-every", 1, "critic epochs between two checks of the stopping rule",
                         {1, 1'000'000}};
  Param<int> patience{this, "--patience", 2,
                      "M, consecutive checks with relative decrease of L_V < epsilon that stop the fit", {1, 1'000'000}};
  Param<double> epsilon{this, "--epsilon", 1e-3, "epsilon of the critic's stopping rule", {0, 1}};
  Param<bool> no_standardize{this, "--no-standardize", false, "skip step 4's batch-wise standardization of the advantages"};
  Param<double> solved{this, "--solved", 475, "stop once the last 100 episodes average this (0 = never)", {0, 1e6}};
  Param<bool> no_gradient_variance{this, "--no-gradient-variance", false,
                                   "skip measuring the per-trajectory gradient variances (a diagnostic, not the algorithm; "
                                   "never measured with --batch 1: one trajectory has no spread)"};
};

// tr Cov, across the batch's trajectories, of the per-trajectory gradient estimate
//   xi_i(w) = sum_t gamma^t grad_theta log pi(a_t|s_t) w_t
// (the minibatch estimate is their mean, with covariance tr Cov / N), for three weights w_t:
//   g_t                     no baseline, (3.19)
//   g_t - V_phi(s_t)        the learned baseline, (3.30)
//   (A_t - mu_A)/sigma_A    step 4's standardized advantage; reported times sigma_A^2, which is
//                           the variance of the estimate with weights A_t - mu_A (the learned V
//                           plus the constant baseline mu_A), in the units of the other two.
struct GradientVariance {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double no_baseline = kNaN, learned_value = kNaN, standardized = kNaN;
};

struct BaselineStats {
  double actor_loss = 0;
  double critic_loss = 0;          // L_V(phi*) on this batch, after the fit
  int critic_steps = 0;            // gradient steps of the fit (minibatch or full-batch)
  int critic_epochs = 0;           // passes over the batch
  double explained_variance = 0;   // 1 - Var(g - V_phi*)/Var(g) on this batch (0 if g does not vary)
  GradientVariance variance;       // NaN with --no-gradient-variance or a batch of one trajectory
};

using BaselineCallback = std::function<void(long iteration, const std::vector<Trajectory>& batch, const BaselineStats&)>;

void train_reinforce_baseline(const BaselineConfig& cfg, Env& env, Policy& policy, ad::Mlp& value, Rng& rng,
                              const BaselineCallback& on_batch);

// Step 3: fit V_phi to the returns-to-go g on a fixed batch until the stopping rule holds or
// K_max epochs are done. `rng` shuffles the minibatches (unused for full-batch steps).
struct CriticFit {
  int steps = 0, epochs = 0;
  double loss = 0;  // L_V at the last check (full-batch steps: before the last step, as computed for it)
};
CriticFit fit_value(const BaselineConfig& cfg, ad::Mlp& value, ad::Optimizer& optimizer, const Matrix& obs,
                    const Vector& g, Scalar n_trajectories, Rng& rng);

// 1 - Var(g - v) / Var(g) (population variances); 0 when g does not vary.
double explained_variance(const Vector& g, const Vector& v);

// The diagnostic above, at the policy's current theta. `discount` holds gamma^t, `g`, `advantage`
// (g - V) and `standardized` one entry per row of stack_obs(batch); `advantage_std` is sigma_A.
GradientVariance gradient_variance(const Policy& policy, const std::vector<Trajectory>& batch, const Vector& discount,
                                   const Vector& g, const Vector& advantage, const Vector& standardized,
                                   double advantage_std);

}  // namespace pgcpp
