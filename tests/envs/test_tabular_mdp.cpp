#include <doctest/doctest.h>

#include <cmath>

#include "envs/tabular_mdp.hpp"
#include "tests/mean_se.hpp"

using pgcpp::random_mdp;
using pgcpp::softmax_policy;
using pgcpp::TabularMdp;

namespace {

TabularMdp test_mdp() { return random_mdp({.states = 5, .actions = 3, .gamma = 0.9, .seed = 7}); }

Eigen::MatrixXd test_policy(const TabularMdp& mdp, std::uint64_t seed) {
  pgcpp::Rng rng(seed);
  Eigen::MatrixXd theta(mdp.S, mdp.A);
  for (int s = 0; s < mdp.S; ++s)
    for (int a = 0; a < mdp.A; ++a) theta(s, a) = rng.normal();
  return softmax_policy(theta);
}

}  // namespace

TEST_CASE("tabular mdp: random_mdp is a valid, seeded MDP") {
  const TabularMdp mdp = test_mdp();
  CHECK(mdp.P.rows() == 15);
  CHECK(mdp.P.cols() == 5);
  CHECK((mdp.P.array() >= 0.0).all());
  CHECK((mdp.P.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
  CHECK(std::abs(mdp.rho.sum() - 1.0) < 1e-12);
  CHECK((mdp.R.array().abs() <= 1.0).all());
  CHECK(test_mdp().P == mdp.P);
  CHECK(random_mdp({.states = 5, .actions = 3, .gamma = 0.9, .seed = 8}).P != mdp.P);
}

TEST_CASE("tabular mdp: softmax_policy gives distributions, shift-invariant, no overflow") {
  Eigen::MatrixXd theta(2, 3);
  theta << 0.0, 1.0, 2.0, 1000.0, 1001.0, 1002.0;
  const Eigen::MatrixXd pi = softmax_policy(theta);
  CHECK(pi.allFinite());
  CHECK((pi.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-15);
  CHECK((pi.row(0) - pi.row(1)).norm() < 1e-15);
  CHECK(pi(0, 2) / pi(0, 1) == doctest::Approx(std::exp(1.0)));
}

TEST_CASE("tabular mdp: V satisfies the Bellman equation V = r_pi + gamma P_pi V") {
  const TabularMdp mdp = test_mdp();
  const Eigen::MatrixXd pi = test_policy(mdp, 1);
  const Eigen::VectorXd V = mdp.V(pi);
  const Eigen::VectorXd backup = mdp.policy_reward(pi) + mdp.gamma * mdp.policy_transition(pi) * V;
  CHECK((V - backup).cwiseAbs().maxCoeff() < 1e-12);
  // V(s) = sum_a pi(a|s) Q(s,a), hence E_{a~pi}[A(s,a)] = 0.
  CHECK((V - (pi.array() * mdp.Q(pi).array()).rowwise().sum().matrix()).cwiseAbs().maxCoeff() <
        1e-12);
  CHECK((pi.array() * mdp.advantage(pi).array()).rowwise().sum().abs().maxCoeff() < 1e-12);
  CHECK(mdp.J(pi) == doctest::Approx(mdp.rho.dot(V)));
}

TEST_CASE("tabular mdp: d_pi (3.21) is a distribution and solves d = (1-g) rho + g P_pi^T d") {
  const TabularMdp mdp = test_mdp();
  const Eigen::MatrixXd pi = test_policy(mdp, 2);
  const Eigen::VectorXd d = mdp.visitation(pi);
  CHECK(std::abs(d.sum() - 1.0) < 1e-12);
  CHECK((d.array() >= 0.0).all());
  const Eigen::VectorXd fixed_point =
      (1.0 - mdp.gamma) * mdp.rho + mdp.gamma * mdp.policy_transition(pi).transpose() * d;
  CHECK((d - fixed_point).cwiseAbs().maxCoeff() < 1e-12);
  // J = E_{s~d_pi}[r_pi(s)] / (1 - gamma): the visitation re-weights one-step rewards.
  CHECK(d.dot(mdp.policy_reward(pi)) / (1.0 - mdp.gamma) == doctest::Approx(mdp.J(pi)));
}

TEST_CASE("tabular mdp: d_pi matches (1-g) sum_t g^t Pr(s_t = s) summed term by term") {
  const TabularMdp mdp = test_mdp();
  const Eigen::MatrixXd pi = test_policy(mdp, 3);
  const Eigen::MatrixXd P_pi_T = mdp.policy_transition(pi).transpose();
  Eigen::VectorXd p_t = mdp.rho, d = Eigen::VectorXd::Zero(mdp.S);
  double discount = 1.0;
  for (int t = 0; t < 400; ++t) {  // 0.9^400 ~ 5e-19: the tail is negligible
    d += (1.0 - mdp.gamma) * discount * p_t;
    p_t = P_pi_T * p_t;
    discount *= mdp.gamma;
  }
  CHECK((d - mdp.visitation(pi)).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("tabular mdp: J(theta) agrees with a Monte-Carlo estimate within 4 standard errors") {
  const TabularMdp mdp = test_mdp();
  const Eigen::MatrixXd pi = test_policy(mdp, 4);
  pgcpp::Rng rng(123);
  const int episodes = 20000;
  const int horizon = 250;  // gamma^250 / (1 - gamma) < 4e-11: truncation bias far below the SE
  pgcpp::test::MeanSe returns;
  for (int n = 0; n < episodes; ++n) {
    int s = mdp.sample_initial(rng);
    double G = 0.0, discount = 1.0;
    for (int t = 0; t < horizon; ++t) {
      const auto tr = mdp.step(s, mdp.sample_action(pi, s, rng), rng);
      G += discount * tr.reward;
      discount *= mdp.gamma;
      s = tr.next_state;
    }
    returns.add(G);
  }
  const double mean = returns.mean()(0), standard_error = returns.se()(0);
  CAPTURE(mean);
  CAPTURE(mdp.J(pi));
  CAPTURE(standard_error);
  CHECK(std::abs(mean - mdp.J(pi)) < 4.0 * standard_error);  // 4 SE: false-fail rate < 1e-4
}

TEST_CASE("tabular mdp: policies that are not S x A distributions are rejected") {
  const TabularMdp mdp = test_mdp();
  CHECK_THROWS_AS(mdp.V(Eigen::MatrixXd::Constant(5, 2, 0.5)), std::invalid_argument);
  CHECK_THROWS_AS(mdp.V(Eigen::MatrixXd::Constant(5, 3, 0.5)), std::invalid_argument);
  Eigen::MatrixXd negative = Eigen::MatrixXd::Constant(5, 3, 1.0 / 3.0);
  negative.row(0) << -0.1, 0.6, 0.5;  // sums to 1, but not a distribution
  CHECK_THROWS_AS(mdp.V(negative), std::invalid_argument);
}
