// The MLP policy pi of the on-policy demos (REINFORCE with a baseline 3.2.4, actor-critic 3.3,
// NPG 3.4.4, TRPO 3.4.6, PPO 3.4.7; experiment/demo.hpp's policy_and_value), chosen by the
// environment's action space among chapter3/common/policy.hpp's models (Section 3.2.1.1).
#pragma once

#include <memory>
#include <vector>

#include "chapter3/common/policy.hpp"
#include "envs/env.hpp"

namespace pgcpp {

// Softmax over an MLP's logits for a discrete action space (3.16), else a Gaussian with an MLP
// mean and a state-independent log sigma starting at log_std_init (3.17). Hidden layers tanh unless
// `activation` says otherwise (PPO's --activation relu, RLtools' Pendulum configuration).
std::shared_ptr<Policy> make_mlp_policy(const Env& env, const std::vector<int>& hidden, double log_std_init, Rng& rng,
                                        ad::Activation activation = ad::Activation::Tanh);

}  // namespace pgcpp
