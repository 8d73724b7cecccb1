// Pieces the replay-based methods of Sections 3.3.4-3.5 (off-policy actor-critic, SAC, DDPG, MBPO)
// share, besides the replay buffer and target networks of chapter3/common/replay_buffer.hpp and
// critic.hpp.
//
//   ReplayConfig    the hyperparameters of the replay schedule (budget, gamma, |D|, B, warm-up,
//                   update period, tau), declared once, as TrustRegionConfig is on-policy
//   FrozenCopy      a critic seen by the actor's loss: the same function, with parameters that
//                   ask for no gradient, so the actor's backward pass computes dQ/da and nothing
//                   for the critic's weights (SAC's (3.68), DDPG's DPG step (3.72))
//   random_action   the uniform action of the random warm-up
//   Interaction     the real environment's side of the loop: s_t, the transition pushed to D,
//                   the return and length of the episode under way
//   check_loss      a non-finite loss stops training, naming the update
#pragma once

#include <string>

#include "autodiff/autodiff.hpp"
#include "chapter3/common/params.hpp"
#include "chapter3/common/replay_buffer.hpp"
#include "envs/env.hpp"

namespace pgcpp {

// What differs between the sections' replay schedules: the budget's flag and default, and the
// words naming their own steps. Every other default is the examples' common one.
struct ReplayDefaults {
  const char* budget_flag = "--steps";
  long budget = 20'000;
  std::string budget_help = "budget in env steps";
  long budget_min = 1;  // 0 where another budget (episodes) may be the only one
  long buffer = 200'000;
  EnvDefaults<long> buffer_per_env = {};
  int batch_size = 256;
  std::string batch_help = "B, transitions per minibatch";
  long warmup = 1000;
  std::string warmup_help = "uniformly random env steps before the first update";
  int update_every = 50;
  std::string update_every_help = "env steps between two rounds of updates";
  std::string tau_help = "Polyak rate tau of the target networks";
};

// The replay schedule of every off-policy section: interact, store in D, and after the warm-up,
// every update_every env steps, update on minibatches of B from D; targets move by tau.
struct ReplayConfig : Params {
  Param<long> steps;  // the budget in env steps (flag: ReplayDefaults::budget_flag)
  Param<double> gamma{this, "--gamma", 0.99, "discount gamma", {0, 1}};
  Param<long> buffer;
  Param<int> batch_size;
  Param<long> warmup;
  Param<int> update_every;
  Param<double> tau;

 protected:
  explicit ReplayConfig(const ReplayDefaults& d)
      : steps{this, d.budget_flag, d.budget, d.budget_help, {d.budget_min, 1'000'000'000}},
        buffer{this, "--buffer", d.buffer, "replay capacity |D| in transitions", {1, 10'000'000}, d.buffer_per_env},
        batch_size{this, "--batch-size", d.batch_size, d.batch_help, {1, 100'000}},
        warmup{this, "--warmup", d.warmup, d.warmup_help, {0, 100'000'000}},
        update_every{this, "--update-every", d.update_every, d.update_every_help, {1, 1'000'000}},
        tau{this, "--tau", 0.005, d.tau_help, {0, 1}} {}
};

// An Mlp with the architecture and values of `online` whose parameters do not require gradients.
// The actor's loss goes through the critic, but only the path to the action is wanted: with the
// online critic, backpropagation would also form the critic's weight gradients (a third of the
// critic's backward work, discarded). refresh() copies the current values (no allocation).
class FrozenCopy {
 public:
  explicit FrozenCopy(const ad::Mlp& online);
  void refresh();  // theta_frozen <- theta_online
  ad::Var operator()(const ad::Var& x) const { return frozen_(x); }
  const ad::Mlp& network() const { return frozen_; }

 private:
  ad::Mlp online_, frozen_;
};

// A uniform random action of env's action space into `action` (resized once): an index in
// [0, num_actions) for a discrete space, uniform in [low, high] per coordinate for a box.
void random_action(const EnvSpec& env, Rng& rng, Eigen::VectorXd& action);

// Step 1 of every replay-based loop, once the action a_t is chosen: r_t, s_{t+1} = env.step(a_t),
// (s_t, a_t, r_t, s_{t+1}, terminated) pushed to D, s_{t+1} becomes s_t. s_{t+1} is the true s',
// also where time ran out (only `terminated` stops the bootstrap).
class Interaction {
 public:
  Interaction(Env& env, Rng& rng);  // s_0 = env.reset(rng)
  const Eigen::VectorXd& s() const { return s_; }
  // True when the episode ended (terminated or cut by the time limit): call reset() next.
  bool step(const Eigen::VectorXd& a, ReplayBuffer& D);
  // The next episode: s_0 = env.reset(rng), its return and length back to 0.
  void reset(Rng& rng);
  double episode_return() const { return episode_return_; }  // undiscounted, so far
  int length() const { return length_; }

 private:
  Env& env_;
  Eigen::VectorXd s_, s_next_;
  double episode_return_ = 0;
  int length_ = 0;
};

// Throws std::runtime_error "update <k>: <name> is <value>" unless value is finite.
void check_loss(const char* name, double value, long update);

}  // namespace pgcpp
