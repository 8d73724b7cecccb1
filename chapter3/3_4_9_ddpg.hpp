// Section 3.4.9: the deterministic policy gradient and DDPG. See 3_4_9_ddpg.cpp.
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "chapter3/common/critic.hpp"
#include "chapter3/common/off_policy.hpp"
#include "chapter3/common/params.hpp"
#include "chapter3/common/replay_buffer.hpp"
#include "envs/env.hpp"

namespace pgcpp {

// ---- the section's formulas (tested in tests/chapter3/test_3_4_9_ddpg.cpp)

// DDPG's critic target y = r + gamma (1 - d) Qbar(s', mu_thetabar(s')); all B x 1.
Matrix dpg_critic_target(const Matrix& rewards, const Matrix& terminated, const Matrix& q_next, double gamma);

// The actor's objective, to minimize: -1/B sum_i w_i Q(s_i, mu_theta(s_i)) for q_of_mu = Q(s,
// mu_theta(s)) (B x 1, differentiable through mu_theta(s)) and constant state weights w (B x 1,
// empty = all 1). Its negative gradient is the sample mean of (3.73)'s
// g(s; theta) = grad_theta mu_theta(s) grad_a Q(s, a)|_{a = mu_theta(s)}: the off-policy DPG (3.72)
// for states drawn from a behaviour's visitation rho^beta, the on-policy DPG (3.71) for states
// weighted gamma^t along trajectories of mu_theta.
ad::Var dpg_actor_loss(const ad::Var& q_of_mu, const Matrix& weights = Matrix());

// A deterministic actor a = mu_theta(s) = a_bias + a_scale tanh(f_theta(s)), f an MLP (ReLU
// hidden layers), so that every action lies in the box [low, high] (Example 3.9: tanh x 2).
class DeterministicActor {
 public:
  DeterministicActor(ad::Mlp net, const Eigen::VectorXd& action_low, const Eigen::VectorXd& action_high);
  // obs_dim -> hidden... -> act_dim, ReLU, tanh output.
  static DeterministicActor make(const EnvSpec& env, const std::vector<int>& hidden, Rng& rng);

  ad::Var operator()(const ad::Var& obs) const { return to_box(net_(obs)); }
  // a_bias + a_scale y for y = tanh(f(s)) in [-1, 1]^m (e.g. a target network's output).
  ad::Var to_box(const ad::Var& y) const;
  Eigen::VectorXd act(const Eigen::VectorXd& obs) const;  // mu_theta(s), without recording
  // The same action by the plain forward pass (no tape), into `action`; allocates nothing once
  // ws has been used.
  void act(const Eigen::VectorXd& obs, Eigen::VectorXd& action, ActWorkspace& ws) const;

  const ad::Mlp& net() const { return net_; }
  ad::ParameterSet parameters() const { return net_.parameters(); }
  // "deterministic-tanh 3-128-128-1 relu"; experiment/demo.hpp's restore_policy reads it back.
  std::string describe() const { return "deterministic-tanh " + net_.describe(); }

 private:
  ad::Mlp net_;
  RowVector scale_, shift_;
};

// Exploration noise eps_t, one value per action coordinate.
//   Ornstein–Uhlenbeck (dt = 1): x_{t+1} = x_t + theta (0 - x_t) + sigma N(0, I), reset to 0 each
//     episode; stationary variance sigma^2 / (theta (2 - theta)), lag-one correlation 1 - theta.
//   Gaussian: eps_t ~ N(0, sigma^2 I), independent over t.
class ExplorationNoise {
 public:
  enum class Kind { ornstein_uhlenbeck, gaussian };
  ExplorationNoise(Kind kind, int dim, double sigma, double theta);
  void reset();                        // x <- 0 (start of an episode)
  const Eigen::VectorXd& sample(Rng& rng);  // the next eps_t

 private:
  Kind kind_;
  double sigma_, theta_;
  Eigen::VectorXd x_;
};

// Step 1's action: clip(mu + clip(eps, -c, c), low, high) coordinate-wise, into `action`.
void explore(const Eigen::VectorXd& mu, const Eigen::VectorXd& eps, double noise_clip, const Eigen::VectorXd& low,
             const Eigen::VectorXd& high, Eigen::VectorXd& action);

// ---- DDPG (Example 3.9)

// Example 3.9's settings are the defaults except the budget and the width (said in --help).
struct DdpgConfig : ReplayConfig {
  DdpgConfig()
      : ReplayConfig({.budget_help = "budget in env steps (the book: 50000; 20000 keeps a default run within minutes "
                                     "of one core)",
                      .tau_help = "Polyak rate tau of both target networks (step 6)"}) {}
  Param<double> lr_actor{this, "--lr-actor", 1e-3, "alpha_theta, Adam step size of mu", Range<double>::open_closed(0, 1)};
  Param<double> lr_critic{this, "--lr-critic", 1e-3, "alpha_psi, Adam step size of Q", Range<double>::open_closed(0, 1)};
  Param<std::vector<int>> hidden{this, "--hidden", {128, 128},
                                 "hidden layer sizes of mu and Q (ReLU) (the book: 256,256; 128 keeps a default run "
                                 "within minutes of one core)"};
  Param<int> gradient_steps{this, "--gradient-steps", 50, "updates (steps 2-6) per round", {1, 1'000'000}};
  Param<int> actor_every{this, "--actor-every", 1,
                         "d: steps 5-6 after every d-th critic step (the book: 1; CleanRL's DDPG: 2)", {1, 1'000'000}};
  Param<std::string> noise{this, "--noise", "ou", "exploration noise: Ornstein-Uhlenbeck or Gaussian", {"ou", "gaussian"}};
  Param<double> noise_sigma{this, "--noise-sigma", 0.2, "sigma of the exploration noise", {0, 1e6}};
  Param<double> ou_theta{this, "--ou-theta", 0.15, "theta of the Ornstein-Uhlenbeck noise (mean reversion)", {0, 1}};
  Param<double> noise_clip{this, "--noise-clip", 0.5, "c: the noise is clipped to [-c, c] before adding", {0, 1e6}};
};

struct DdpgStats {
  double critic_loss = std::numeric_limits<double>::quiet_NaN();  // NaN before the first update
  double actor_loss = std::numeric_limits<double>::quiet_NaN();   // -1/B sum Q(s, mu(s)); NaN before the first actor step
  long updates = 0;        // critic steps so far
  long actor_updates = 0;  // actor steps so far (fewer with --actor-every d > 1)
};

using DdpgCallback = std::function<void(long env_steps, double episode_return, int length, const DdpgStats& stats)>;

// mu_theta and Q_psi with their targets mu_thetabar, Q_psibar (Initialize: thetabar <- theta,
// psibar <- psi) and their optimizers. Throws std::invalid_argument for a discrete action space.
class DdpgAgent {
 public:
  DdpgAgent(const DdpgConfig& cfg, const EnvSpec& env, Rng& rng);
  // Steps 3-6 on the minibatch D. Throws std::runtime_error for a non-finite loss.
  void update(const ReplayBatch& D);
  std::shared_ptr<const DeterministicActor> actor() const { return actor_; }
  const ad::Mlp& critic() const { return q_; }
  const DdpgStats& stats() const { return stats_; }

 private:
  DdpgConfig cfg_;  // its own copy
  std::shared_ptr<DeterministicActor> actor_;
  ad::Mlp q_;
  TargetNetwork actor_target_, q_target_;
  FrozenCopy q_frozen_;
  ad::Adam actor_opt_, critic_opt_;
  DdpgStats stats_;
};

// Trains agent on env for cfg.steps env steps: the random warm-up, then exploration around
// mu_theta; every update_every steps after the warm-up, gradient_steps updates, each on a fresh
// minibatch.
void train_ddpg(const DdpgConfig& cfg, Env& env, DdpgAgent& agent, Rng& rng, const DdpgCallback& on_episode);

}  // namespace pgcpp
