// Small random MDPs whose policy values are computed exactly, for the theorem tests of
// Sections 3.2-3.4 (policy gradient lemma, baselines, performance difference lemma, ...).
//
// A policy is an S x A row-stochastic matrix pi(a | s). Every exact quantity comes from the
// linear system of the Bellman equation, V = r_pi + gamma P_pi V.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

#include "core/random.hpp"

namespace pgcpp {

struct MdpSpec {
  int states = 5;
  int actions = 3;
  double gamma = 0.9;
  std::uint64_t seed = 0;
};

struct Transition {
  int next_state;
  double reward;
};

struct TabularMdp {
  int S = 0;
  int A = 0;
  double gamma = 0.9;
  Eigen::MatrixXd P;    // (S*A) x S: row s*A + a is P(. | s, a)
  Eigen::MatrixXd R;    // S x A: reward R(s, a), received on taking a in s
  Eigen::VectorXd rho;  // S: initial-state distribution

  // Exact quantities for a policy pi (S x A, rows sum to 1; checked).
  Eigen::MatrixXd policy_transition(const Eigen::MatrixXd& pi) const;  // P_pi: S x S
  Eigen::VectorXd policy_reward(const Eigen::MatrixXd& pi) const;      // r_pi: S
  Eigen::VectorXd V(const Eigen::MatrixXd& pi) const;          // (I - gamma P_pi) V = r_pi
  Eigen::MatrixXd Q(const Eigen::MatrixXd& pi) const;          // R + gamma P V, as S x A
  Eigen::MatrixXd advantage(const Eigen::MatrixXd& pi) const;  // Q - V
  // d_pi(s) = (1 - gamma) sum_t gamma^t Pr(s_t = s)                                  (3.21)
  //         = (1 - gamma) rho^T (I - gamma P_pi)^{-1}
  Eigen::VectorXd visitation(const Eigen::MatrixXd& pi) const;
  double J(const Eigen::MatrixXd& pi) const;  // rho^T V

  // Sampling, for Monte-Carlo tests.
  int sample_initial(Rng& rng) const;
  Transition step(int s, int a, Rng& rng) const;
  int sample_action(const Eigen::MatrixXd& pi, int s, Rng& rng) const;

  void check_policy(const Eigen::MatrixXd& pi) const;  // throws std::invalid_argument
};

// Transition rows and rho ~ Dirichlet(1, ..., 1); rewards ~ U[-1, 1]; all from spec.seed.
TabularMdp random_mdp(const MdpSpec& spec);

// Tabular softmax policy: pi(a | s) = exp(theta(s, a)) / sum_b exp(theta(s, b)).
Eigen::MatrixXd softmax_policy(const Eigen::MatrixXd& theta);

}  // namespace pgcpp
