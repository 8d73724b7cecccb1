// A tiny deterministic environment where episodes end both ways, for the on-policy loop and
// collector tests (test_3_3_gae.cpp, test_3_3_common.cpp, test_3_4_common.cpp): a walk on
// x in {0, ..., 5}, observation onehot(x); action 1 steps right, 0 steps left. Reaching x = 5 pays
// +2 and terminates, reaching x = 0 pays -1 and terminates; any other step to x' pays
// 0.2 x' - 0.5 (rewards that differ by state, so that gamma and V(s_{t+1}) matter); x_0 uniform in
// {1, 2, 3}; the time limit truncates after 5 steps. Under a near-uniform policy about a third of
// the episodes are truncated, so both ends happen in every batch.
#pragma once

#include <memory>

#include "envs/env.hpp"

namespace pgcpp::test {

class CliffEnv final : public Env {
 public:
  static constexpr int kStates = 6, kLimit = 5;
  CliffEnv() : Env(make_spec()) {}
  Eigen::VectorXd state() const override { return Eigen::VectorXd::Constant(1, x_); }
  std::unique_ptr<Env> clone() const override { return std::make_unique<CliffEnv>(*this); }

  // The model, for tests that check a collector's transitions without trusting its flags.
  static int next_state(int x, int action) { return action == 1 ? x + 1 : x - 1; }
  static bool terminal(int x) { return x == 0 || x == kStates - 1; }
  static double reward(int x_next) { return x_next == kStates - 1 ? 2.0 : x_next == 0 ? -1.0 : 0.2 * x_next - 0.5; }
  // The state whose onehot is `obs` (any vector type with coeff access).
  template <class Row>
  static int decode(const Row& obs) {
    int x = 0;
    for (int i = 1; i < kStates; ++i)
      if (obs(i) > obs(x)) x = i;
    return x;
  }

 protected:
  void sample_initial_state(Rng& rng) override { x_ = 1 + static_cast<int>(rng.uniform_int(3)); }
  void load_state(const Eigen::VectorXd& state) override { x_ = static_cast<int>(state(0)); }
  double advance(const Eigen::VectorXd& action, bool& terminated) override {
    x_ = next_state(x_, static_cast<int>(action(0)));
    terminated = terminal(x_);
    return reward(x_);
  }
  void observe(Eigen::Ref<Eigen::VectorXd> out) const override {
    out.setZero();
    out(x_) = 1.0;
  }

 private:
  static EnvSpec make_spec() {
    EnvSpec spec;
    spec.name = "Cliff6";
    spec.obs_dim = kStates;
    spec.state_dim = 1;
    spec.discrete = true;
    spec.num_actions = 2;
    spec.act_dim = 1;
    spec.action_low = Eigen::VectorXd::Zero(1);
    spec.action_high = Eigen::VectorXd::Ones(1);
    spec.max_episode_steps = kLimit;
    spec.dt = 1;
    return spec;
  }
  int x_ = 1;
};

}  // namespace pgcpp::test
