// Critics of Section 3.3 and their target networks, shared by the actor–critic methods of
// Sections 3.3-3.5:
//   V_phi(s)        value_network:  obs -> 1                       (3.31), (3.39)
//   Q_psi(s, .)     q_network:      obs -> |A|, one output per discrete action (Example 3.5)
//   Q_psi(s, a)     q_network:      [obs, a] -> 1 for continuous actions (Example 3.6; SAC, DDPG)
//   Q_psibar        TargetNetwork:  a slowly moving copy used in the bootstrapped target (3.44),
//                   psibar <- tau psi + (1 - tau) psibar after each update (Polyak averaging).
#pragma once

#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/common/rollout.hpp"

namespace pgcpp {

// {in, hidden..., out}: the layer sizes of an MLP.
std::vector<int> mlp_sizes(int in, const std::vector<int>& hidden, int out);

// V_phi: obs_dim -> hidden... -> 1.
ad::Mlp value_network(int obs_dim, const std::vector<int>& hidden, ad::Activation act, Rng& rng);

// Discrete actions: Q_psi(s, .) with one output per action, obs_dim -> hidden... -> num_actions.
ad::Mlp q_network(int obs_dim, const std::vector<int>& hidden, int num_actions, ad::Activation act, Rng& rng);
// Continuous actions: Q_psi(s, a) on the concatenated input [s, a], obs_dim + act_dim -> ... -> 1.
ad::Mlp q_network_continuous(int obs_dim, int act_dim, const std::vector<int>& hidden, ad::Activation act, Rng& rng);
// The input [s, a] of a continuous Q, one sample per row (a may carry gradients, as in SAC/DDPG).
ad::Var q_input(const ad::Var& obs, const ad::Var& actions);

// V_phi at every step of a batch of episodes, in double, without recording a graph: `values` for
// every row of obs = stack_obs(batch), `final_values` at each trajectory's final_obs (its s_T, the
// bootstrap value where it was truncated). The inputs of gae_episodes (chapter3/common/gae.hpp).
struct EpisodeValues {
  Eigen::VectorXd values, final_values;
};
EpisodeValues episode_values(const ad::Mlp& value, const Matrix& obs, const std::vector<Trajectory>& batch);

// A target network psibar for an online network psi. The online Mlp shares its parameters with
// the caller's (Mlp copies are handles); the target is an independent deep copy.
class TargetNetwork {
 public:
  // psibar <- psi (the pseudocode's "Initialize: psibar <- psi").
  explicit TargetNetwork(const ad::Mlp& online) : online_(online), target_(online.clone()) {}

  // Q_psibar(x). Targets are constants of the critic's loss: evaluate inside ad::NoGrad (or
  // wrap the result in stop_gradient) so nothing flows into psibar.
  ad::Var operator()(const ad::Var& x) const { return target_(x); }

  // psibar <- tau psi + (1 - tau) psibar (step 8); tau in [0, 1], tau = 1 copies.
  void update(Scalar tau) { target_.parameters().polyak_update(online_.parameters(), tau); }
  void sync() { target_.parameters().copy_from(online_.parameters()); }

  const ad::Mlp& online() const { return online_; }
  const ad::Mlp& target() const { return target_; }

 private:
  ad::Mlp online_, target_;
};

}  // namespace pgcpp
