// What bench's consistency checks and the unit tests that run them share: the fixed minibatches of
// the SAC and PPO comparisons, and the largest difference between the autodiff's parameters and a
// hand-written network's.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/common/policy.hpp"
#include "chapter3/common/replay_buffer.hpp"

namespace pgcpp::bench {

// max |a - h| over every layer's W and b (ad::Mlp::parameters() order: W, b per layer).
template <class HandNetwork>
double max_difference(const ad::ParameterSet& a, const HandNetwork& h) {
  double d = 0;
  for (std::size_t l = 0; l < h.layers(); ++l) {
    d = std::max(d, static_cast<double>((a.list()[2 * l].value() - h.W[l]).cwiseAbs().maxCoeff()));
    d = std::max(d, static_cast<double>((a.list()[2 * l + 1].value() - h.b[l]).cwiseAbs().maxCoeff()));
  }
  return d;
}

// A fixed minibatch of B transitions with Pendulum's shapes and ranges; with terminal_every = k > 0
// every k-th transition (from the first) is terminal, else none.
inline ReplayBatch pendulum_minibatch(int B, Rng& rng, int terminal_every = 0) {
  ReplayBatch D;
  D.obs.resize(B, 3);
  D.actions.resize(B, 1);
  D.rewards.resize(B, 1);
  D.next_obs.resize(B, 3);
  D.terminated = Matrix::Zero(B, 1);
  D.log_behaviour = Matrix::Zero(B, 1);
  for (int i = 0; i < B; ++i) {
    const double th = rng.uniform(-3.14159, 3.14159), th2 = th + rng.uniform(-0.3, 0.3);
    D.obs.row(i) << Scalar(std::cos(th)), Scalar(std::sin(th)), Scalar(rng.uniform(-8, 8));
    D.next_obs.row(i) << Scalar(std::cos(th2)), Scalar(std::sin(th2)), Scalar(rng.uniform(-8, 8));
    D.actions(i, 0) = Scalar(rng.uniform(-2, 2));
    D.rewards(i, 0) = Scalar(rng.uniform(-16, 0));
    if (terminal_every > 0 && i % terminal_every == 0) D.terminated(i, 0) = 1;
  }
  return D;
}

// A fixed PPO minibatch on CartPole-like states: actions, A, V_targ, and log pi_k of a policy near
// `policy` (log pi + U(-0.3, 0.3)), so that some ratios lie outside the clip range.
struct PpoMinibatch {
  Matrix s, a, log_pi_k, A, v_targ;
  std::vector<int> actions;
};
inline PpoMinibatch ppo_minibatch(const Policy& policy, int B, Rng& rng) {
  PpoMinibatch m{Matrix(B, 4), Matrix(B, 1), Matrix(B, 1), Matrix(B, 1), Matrix(B, 1),
                 std::vector<int>(static_cast<std::size_t>(B))};
  for (int i = 0; i < B; ++i) {
    for (int j = 0; j < 4; ++j) m.s(i, j) = static_cast<Scalar>(rng.uniform(-1, 1));
    m.actions[static_cast<std::size_t>(i)] = static_cast<int>(rng.uniform_int(2));
    m.a(i, 0) = static_cast<Scalar>(m.actions[static_cast<std::size_t>(i)]);
    m.A(i, 0) = static_cast<Scalar>(rng.normal());
    m.v_targ(i, 0) = static_cast<Scalar>(rng.uniform(0, 50));
  }
  m.log_pi_k = policy.log_prob(m.s, m.a).value();
  for (int i = 0; i < B; ++i) m.log_pi_k(i, 0) += static_cast<Scalar>(rng.uniform(-0.3, 0.3));
  return m;
}

}  // namespace pgcpp::bench
