#include "envs/tabular_mdp.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace pgcpp {

namespace {

// A flat Dirichlet draw: normalized standard exponentials.
Eigen::VectorXd dirichlet_ones(int n, Rng& rng) {
  Eigen::VectorXd w(n);
  for (int i = 0; i < n; ++i) w[i] = -std::log(1.0 - rng.uniform());  // 1 - u > 0
  return w / w.sum();
}

}  // namespace

TabularMdp random_mdp(const MdpSpec& spec) {
  if (spec.states < 1 || spec.actions < 1)
    throw std::invalid_argument("random_mdp: states and actions must be >= 1");
  if (!(spec.gamma >= 0.0 && spec.gamma < 1.0))
    throw std::invalid_argument("random_mdp: gamma must be in [0, 1)");
  Rng rng(spec.seed);
  TabularMdp mdp;
  mdp.S = spec.states;
  mdp.A = spec.actions;
  mdp.gamma = spec.gamma;
  mdp.P.resize(mdp.S * mdp.A, mdp.S);
  for (int row = 0; row < mdp.S * mdp.A; ++row) mdp.P.row(row) = dirichlet_ones(mdp.S, rng);
  mdp.R.resize(mdp.S, mdp.A);
  for (int s = 0; s < mdp.S; ++s)
    for (int a = 0; a < mdp.A; ++a) mdp.R(s, a) = rng.uniform(-1.0, 1.0);
  mdp.rho = dirichlet_ones(mdp.S, rng);
  return mdp;
}

Eigen::MatrixXd softmax_policy(const Eigen::MatrixXd& theta) {
  // Subtract each row's max before exp: same result, no overflow.
  Eigen::MatrixXd e = (theta.colwise() - theta.rowwise().maxCoeff()).array().exp();
  return e.array().colwise() / e.rowwise().sum().array();
}

void TabularMdp::check_policy(const Eigen::MatrixXd& pi) const {
  if (pi.rows() != S || pi.cols() != A)
    throw std::invalid_argument("TabularMdp: policy must be " + std::to_string(S) + " x " +
                                std::to_string(A));
  if (!pi.allFinite() || (pi.array() < 0.0).any() ||
      ((pi.rowwise().sum().array() - 1.0).abs() > 1e-9).any())
    throw std::invalid_argument("TabularMdp: policy rows must be probability distributions");
}

Eigen::MatrixXd TabularMdp::policy_transition(const Eigen::MatrixXd& pi) const {
  check_policy(pi);
  // P_pi(s, s') = sum_a pi(a | s) P(s' | s, a)
  Eigen::MatrixXd P_pi = Eigen::MatrixXd::Zero(S, S);
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < A; ++a) P_pi.row(s) += pi(s, a) * P.row(s * A + a);
  return P_pi;
}

Eigen::VectorXd TabularMdp::policy_reward(const Eigen::MatrixXd& pi) const {
  check_policy(pi);
  return (pi.array() * R.array()).rowwise().sum();
}

Eigen::VectorXd TabularMdp::V(const Eigen::MatrixXd& pi) const {
  const Eigen::MatrixXd M = Eigen::MatrixXd::Identity(S, S) - gamma * policy_transition(pi);
  return M.partialPivLu().solve(policy_reward(pi));
}

Eigen::MatrixXd TabularMdp::Q(const Eigen::MatrixXd& pi) const {
  const Eigen::VectorXd v = V(pi);
  const Eigen::VectorXd next_value = P * v;  // row s*A + a: E[V(s') | s, a]
  Eigen::MatrixXd q(S, A);
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < A; ++a) q(s, a) = R(s, a) + gamma * next_value[s * A + a];
  return q;
}

// A^pi(s, a) = Q^pi(s, a) - V^pi(s)                                                        (3.29)
Eigen::MatrixXd TabularMdp::advantage(const Eigen::MatrixXd& pi) const {
  return Q(pi).colwise() - V(pi);
}

Eigen::VectorXd TabularMdp::visitation(const Eigen::MatrixXd& pi) const {
  // d^T (I - gamma P_pi) = (1 - gamma) rho^T, solved in transposed form.
  const Eigen::MatrixXd M = Eigen::MatrixXd::Identity(S, S) - gamma * policy_transition(pi);
  return M.transpose().partialPivLu().solve((1.0 - gamma) * rho);
}

// J(theta) = E_tau[R(tau)] = E_{s_0 ~ rho}[V^pi(s_0)] = rho^T V^pi                              (3.15)
double TabularMdp::J(const Eigen::MatrixXd& pi) const { return rho.dot(V(pi)); }

int TabularMdp::sample_initial(Rng& rng) const { return rng.categorical(rho); }

Transition TabularMdp::step(int s, int a, Rng& rng) const {
  if (s < 0 || s >= S || a < 0 || a >= A)
    throw std::invalid_argument("TabularMdp::step: state or action out of range");
  return {rng.categorical(P.row(s * A + a)), R(s, a)};
}

int TabularMdp::sample_action(const Eigen::MatrixXd& pi, int s, Rng& rng) const {
  return rng.categorical(pi.row(s));
}

}  // namespace pgcpp
