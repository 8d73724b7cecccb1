// Pieces the replay-based methods of Sections 3.4.8-3.5 (SAC, DDPG, MBPO) share, besides the
// replay buffer and target networks of chapter3/common/replay_buffer.hpp and critic.hpp.
//
//   FrozenCopy      a critic seen by the actor's loss: the same function, with parameters that
//                   ask for no gradient, so the actor's backward pass computes dQ/da and nothing
//                   for the critic's weights (SAC's (3.68), DDPG's DPG step (3.72))
//   random_action   the uniform action of the random warm-up
//   check_loss      a non-finite loss stops training, naming the update
#pragma once

#include <string>

#include "autodiff/autodiff.hpp"
#include "envs/env.hpp"

namespace pgcpp {

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

// Throws std::runtime_error "update <k>: <name> is <value>" unless value is finite.
void check_loss(const char* name, double value, long update);

}  // namespace pgcpp
