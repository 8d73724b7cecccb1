// Section 3.3.4's claims, numerically, on small random MDPs solved exactly (envs/tabular_mdp.hpp):
// the exact Q^pi is the fixed point of the expected-SARSA target (3.44); with unclipped ratios
// (3.42) the off-policy estimator (3.43) has the on-policy gradient as its mean; clipping the
// ratios lowers the variance and adds bias.
//
// Code under test: chapter3/3_3_4_off_policy_ac.hpp (expected_sarsa_target, clipped_ratios,
// off_policy_actor_loss, eps_soft); gradients are taken by the autodiff through the actor's
// surrogate, for a tabular softmax policy theta in R^{S x A}. Exact references: Q^pi, A^pi and the
// discounted visitation d_pi (3.21) by linear algebra, grad J by the value form (3.20)
// (chapter3/3_2_2_pg_lemma.hpp, itself tested against finite differences of J in test_3_2).
// Monte-Carlo checks are per coordinate against k standard errors (d = 12 coordinates: k = 4.5,
// Bonferroni, false-fail rate < 1e-4).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/3_2_2_pg_lemma.hpp"
#include "chapter3/3_3_4_off_policy_ac.hpp"
#include "envs/tabular_mdp.hpp"
#include "tests/mean_se.hpp"

using namespace pgcpp;
using test::MeanSe;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using ad::Var;

namespace {

constexpr double kEps = std::numeric_limits<Scalar>::epsilon();

MatrixXd random_theta(int S, int A, Rng& rng, double scale) {
  MatrixXd theta(S, A);
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta(i) = scale * rng.normal();
  return theta;
}

// The expected-SARSA operator applied to a whole table Q (S x A), through the code under test:
// (T Q)(s, a) = sum_s' P(s'|s, a) y(s, a, s'), y from expected_sarsa_target with weights pi(.|s').
MatrixXd expected_sarsa_operator(const TabularMdp& mdp, const MatrixXd& pi, const MatrixXd& Q) {
  const Matrix weights = pi.cast<Scalar>(), q_next = Q.cast<Scalar>();  // row s' for every s'
  MatrixXd out(mdp.S, mdp.A);
  for (int s = 0; s < mdp.S; ++s)
    for (int a = 0; a < mdp.A; ++a) {
      const Matrix r = Matrix::Constant(mdp.S, 1, static_cast<Scalar>(mdp.R(s, a)));
      const Matrix y = expected_sarsa_target(r, Matrix::Zero(mdp.S, 1), weights, q_next, mdp.gamma);
      out(s, a) = mdp.P.row(s * mdp.A + a).dot(y.col(0).cast<double>());
    }
  return out;
}

}  // namespace

// Q^pi(s, a) = R(s, a) + gamma E_{s'}[sum_a' pi(a'|s') Q^pi(s', a')]: Q^pi is a fixed point of (3.44),
// and the only one (the operator is a gamma-contraction in the max norm).
TEST_CASE("(3.44): the exact Q^pi is the fixed point of the expected-SARSA target, and iterating it converges there") {
  const TabularMdp mdp = random_mdp({.states = 5, .actions = 3, .gamma = 0.9, .seed = 341});
  Rng rng(341);
  const MatrixXd pi = softmax_policy(random_theta(5, 3, rng, 1.5));
  const MatrixXd Q = mdp.Q(pi);
  const double scale = 1 + Q.cwiseAbs().maxCoeff();
  CHECK((expected_sarsa_operator(mdp, pi, Q) - Q).cwiseAbs().maxCoeff() < 100 * kEps * scale);

  // Teeth: Q of another policy is not a fixed point of pi's target (the expectation uses pi(.|s')).
  const MatrixXd other = softmax_policy(random_theta(5, 3, rng, 1.5));
  CHECK((expected_sarsa_operator(mdp, pi, mdp.Q(other)) - mdp.Q(other)).cwiseAbs().maxCoeff() > 1e-2);

  // Contraction from Q_0 = 0: ||T^k Q_0 - Q^pi||_inf <= gamma^k ||Q^pi||_inf.
  MatrixXd Qk = MatrixXd::Zero(5, 3);
  for (int k = 1; k <= 60; ++k) {
    Qk = expected_sarsa_operator(mdp, pi, Qk);
    CHECK((Qk - Q).cwiseAbs().maxCoeff() <= std::pow(mdp.gamma, k) * Q.cwiseAbs().maxCoeff() + 1000 * kEps * scale);
  }

  // A terminal s' contributes nothing beyond the reward: y = r.
  const Matrix y = expected_sarsa_target(Matrix::Constant(2, 1, 3), Matrix::Ones(2, 1), Matrix::Constant(2, 3, Scalar(1) / 3),
                                         Matrix::Constant(2, 3, 100), 0.9);
  CHECK(y.isApprox(Matrix::Constant(2, 1, 3)));
}

namespace {

// The setting of (3.43) on an exact MDP: s ~ d_pi (so that the on-policy mean is the policy
// gradient), a ~ b(.|s), the exact advantage A^pi(s, a) as the critic's.
struct OffPolicySetting {
  TabularMdp mdp;
  MatrixXd theta, pi, b, advantage;
  VectorXd d;
  MatrixXd on_policy_mean;  // E_{s~d, a~pi}[grad log pi(a|s) A^pi(s, a)] = (1 - gamma) grad J   (3.20)

  explicit OffPolicySetting(std::uint64_t seed)
      : mdp(random_mdp({.states = 4, .actions = 3, .gamma = 0.9, .seed = seed})) {
    Rng rng(seed);
    theta = random_theta(4, 3, rng, 1.0);
    pi = softmax_policy(theta);
    // A behaviour far from pi: an eps-soft version of another policy, so rho ranges widely.
    b = eps_soft(softmax_policy(random_theta(4, 3, rng, 2.5)).cast<Scalar>(), 0.1).cast<double>();
    advantage = mdp.advantage(pi);
    d = mdp.visitation(pi);
    on_policy_mean = (1 - mdp.gamma) * pg_lemma::value_form_gradient(mdp, pi);
  }
  // The exact mean and total variance (trace of the covariance) of one sample's
  // rho_bar grad log pi(a|s) A(s, a) under s ~ d, a ~ b, by enumeration.
  void exact_moments(double c, MatrixXd& mean, double& variance) const {
    mean = MatrixXd::Zero(4, 3);
    double second = 0;
    for (int s = 0; s < 4; ++s)
      for (int a = 0; a < 3; ++a) {
        const double rho = std::min(pi(s, a) / b(s, a), c);
        const MatrixXd g = rho * pg_lemma::score(pi, s, a) * advantage(s, a);
        mean += d(s) * b(s, a) * g;
        second += d(s) * b(s, a) * g.squaredNorm();
      }
    variance = second - mean.squaredNorm();
  }
};

Eigen::ArrayXd flat(const MatrixXd& m) { return Eigen::Map<const Eigen::ArrayXd>(m.data(), m.size()); }
// M minibatches of B samples s ~ d, a ~ b; for each, minus the autodiff gradient of
// off_policy_actor_loss with respect to theta, i.e. the estimator 1/B sum rho_bar grad log pi A.
// `behaviour_logp` false: pass log pi as log b (the bug of forgetting the ratio: rho = 1).
MeanSe sampled_estimator(const OffPolicySetting& x, double c, int M, int B, bool behaviour_logp, Rng& rng) {
  const Var theta(x.theta.cast<Scalar>(), true);
  MeanSe stats;
  for (int k = 0; k < M; ++k) {
    Matrix onehot = Matrix::Zero(B, 4), log_b(B, 1), advantage(B, 1);
    std::vector<int> actions(static_cast<std::size_t>(B));
    for (int i = 0; i < B; ++i) {
      const int s = rng.categorical(x.d), a = rng.categorical(x.b.row(s));
      onehot(i, s) = 1;
      actions[static_cast<std::size_t>(i)] = a;
      log_b(i, 0) = static_cast<Scalar>(std::log(behaviour_logp ? x.b(s, a) : x.pi(s, a)));
      advantage(i, 0) = static_cast<Scalar>(x.advantage(s, a));
    }
    const Var log_pi = ad::pick(ad::log_softmax(ad::matmul(Var(onehot), theta)), actions);  // (3.16)
    const Var loss = off_policy_actor_loss(log_pi, log_b, advantage, c);
    stats.add(flat(-ad::grad(loss, {theta})[0].value().cast<double>()));
  }
  return stats;
}

}  // namespace

// E_{s, a~b}[rho grad log pi(a|s) A^pi(s, a)] = E_{s, a~pi}[grad log pi(a|s) A^pi(s, a)], rho = pi/b unclipped (3.42)-(3.43).
TEST_CASE("(3.43): with unclipped ratios the off-policy estimator has the on-policy gradient as its mean, within SE") {
  const OffPolicySetting x(351);
  Rng rng(352);
  const double inf = std::numeric_limits<double>::infinity();
  const MeanSe unclipped = sampled_estimator(x, inf, 400, 250, true, rng);
  CHECK(unclipped.max_z(flat(x.on_policy_mean)) < 4.5);
  CHECK(unclipped.se().maxCoeff() < 0.1 * x.on_policy_mean.cwiseAbs().maxCoeff());  // the test has power
  // Teeth: without the ratio (rho = 1) the same samples estimate E_b[grad log pi A], biased.
  const MeanSe no_ratio = sampled_estimator(x, inf, 400, 250, false, rng);
  CHECK(no_ratio.max_z(flat(x.on_policy_mean)) > 10.0);
}

// Clipping, rho_bar = min(rho, c): bias = ||E[rho_bar g] - grad||, variance = E||rho_bar g||^2 - ||E[rho_bar g]||^2.
// Measured on this MDP (exact, by enumeration; largest rho 7.2, ||grad|| = 0.153):
//   c:         inf     4       2       1
//   bias:      6e-17   0.028   0.060   0.077
//   variance:  0.422   0.222   0.076   0.036
// the bias is 0 unclipped and grows as c decreases; the variance falls as c decreases.
// The code's clipped estimator has the exact clipped mean, within SE.
TEST_CASE("(3.42)-(3.43): clipping rho at c trades variance for bias, measured exactly, the code matches within SE") {
  const OffPolicySetting x(351);
  double max_rho = 0;
  for (int s = 0; s < 4; ++s)
    for (int a = 0; a < 3; ++a) max_rho = std::max(max_rho, x.pi(s, a) / x.b(s, a));
  REQUIRE(max_rho > 4.0);  // every clip level below bites

  const std::vector<double> cs = {std::numeric_limits<double>::infinity(), 4.0, 2.0, 1.0};
  std::vector<double> bias, variance;
  std::vector<MatrixXd> means;
  for (double c : cs) {
    MatrixXd mean;
    double var = 0;
    x.exact_moments(c, mean, var);
    means.push_back(mean);
    bias.push_back((mean - x.on_policy_mean).norm());
    variance.push_back(var);
  }
  MESSAGE("max rho " << max_rho << "; c = inf, 4, 2, 1: bias " << bias[0] << ", " << bias[1] << ", " << bias[2] << ", "
                     << bias[3] << "; variance " << variance[0] << ", " << variance[1] << ", " << variance[2] << ", "
                     << variance[3] << "; ||grad|| " << x.on_policy_mean.norm());
  CHECK(bias[0] < 1e-12);  // unclipped: unbiased, exactly
  for (std::size_t k = 1; k < cs.size(); ++k) {
    CHECK(bias[k] > bias[k - 1]);
    CHECK(variance[k] < variance[k - 1]);
  }
  // The code under test: its clipped estimator (c = 2) has the exact clipped mean, not the unclipped one.
  Rng rng(353);
  const MeanSe clipped = sampled_estimator(x, 2.0, 400, 250, true, rng);
  CHECK(clipped.max_z(flat(means[2])) < 4.5);
  CHECK(clipped.max_z(flat(x.on_policy_mean)) > 4.5);
}

TEST_CASE("clipped_ratios (3.42) and eps_soft: values, and rho_bar held constant in the actor loss") {
  const Matrix log_pi = (Matrix(3, 1) << std::log(0.5), std::log(0.9), std::log(0.1)).finished();
  const Matrix log_b = (Matrix(3, 1) << std::log(0.5), std::log(0.1), std::log(0.2)).finished();
  const Matrix rho = clipped_ratios(log_pi, log_b, 4.0);
  CHECK(rho(0, 0) == doctest::Approx(1.0));
  CHECK(rho(1, 0) == doctest::Approx(4.0));  // 9 clipped at c = 4
  CHECK(rho(2, 0) == doctest::Approx(0.5));
  CHECK(clipped_ratios(log_pi, log_b, std::numeric_limits<double>::infinity())(1, 0) == doctest::Approx(9.0));
  const Matrix b = eps_soft((Matrix(1, 2) << 1.0, 0.0).finished(), 0.2);
  CHECK(b(0, 0) == doctest::Approx(0.9));
  CHECK(b(0, 1) == doctest::Approx(0.1));
  // d/dlog pi of the loss is -rho_bar A / B: the weight is not differentiated (else -2 rho A / B
  // for unclipped rho, since d rho / d log pi = rho).
  const Var lp(log_pi, true);
  const Matrix A = Matrix::Constant(3, 1, 2.0);
  const Matrix g = ad::grad(off_policy_actor_loss(lp, log_b, A, 4.0), {lp})[0].value();
  for (int i = 0; i < 3; ++i) CHECK(g(i, 0) == doctest::Approx(-rho(i, 0) * 2.0 / 3.0));
}
