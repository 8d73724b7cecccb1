// A random finite MDP (envs/tabular_mdp.hpp) behind the Env interface, so that the library's own
// rollout and training code (collect_episodes, train_reinforce, ...) can run on an MDP whose J and
// grad J are known exactly. Observations are one-hot vectors of the state, so that a categorical
// policy with no hidden layer, logits = onehot(s) W + b, is the tabular softmax (3.16) with
// theta(s, a) = W(s, a) + b(a). Episodes are truncated at `horizon` steps (choose gamma^horizon
// negligible); transitions are drawn from a stream split off the reset's Rng.
#pragma once

#include <memory>

#include "envs/env.hpp"
#include "envs/tabular_mdp.hpp"

namespace pgcpp::test {

class TabularEnv final : public Env {
 public:
  TabularEnv(const TabularMdp& mdp, int horizon) : Env(spec_of(mdp, horizon)), mdp_(mdp) {}

  Eigen::VectorXd state() const override { return Eigen::VectorXd::Constant(1, s_); }
  std::unique_ptr<Env> clone() const override { return std::make_unique<TabularEnv>(*this); }

 protected:
  void sample_initial_state(Rng& rng) override {
    s_ = mdp_.sample_initial(rng);
    transitions_ = rng.split();
  }
  void load_state(const Eigen::VectorXd& state) override { s_ = static_cast<int>(state(0)); }
  double advance(const Eigen::VectorXd& action, bool& terminated) override {
    const Transition tr = mdp_.step(s_, static_cast<int>(action(0)), transitions_);
    s_ = tr.next_state;
    terminated = false;  // the discounted MDP never ends; the time limit truncates it
    return tr.reward;
  }
  void observe(Eigen::Ref<Eigen::VectorXd> out) const override {
    out.setZero();
    out(s_) = 1.0;
  }

 private:
  static EnvSpec spec_of(const TabularMdp& mdp, int horizon) {
    EnvSpec spec;
    spec.name = "TabularMdp";
    spec.obs_dim = mdp.S;
    spec.state_dim = 1;
    spec.discrete = true;
    spec.num_actions = mdp.A;
    spec.act_dim = 1;
    spec.action_low = Eigen::VectorXd::Zero(1);
    spec.action_high = Eigen::VectorXd::Constant(1, mdp.A - 1);
    spec.max_episode_steps = horizon;
    spec.dt = 1;
    return spec;
  }

  TabularMdp mdp_;
  int s_ = 0;
  Rng transitions_;
};

}  // namespace pgcpp::test
