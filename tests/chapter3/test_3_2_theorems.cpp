// Section 3.2's theorems, numerically: the zero-mean score, the policy gradient lemma (Theorem
// 3.5, (3.18)-(3.21)), baseline invariance (Theorem 3.6, (3.25)-(3.27)), the variance-minimizing
// baseline (Theorem 3.7, (3.28)) and the zero-mean advantage (3.29).
//
// Exact quantities come from random finite MDPs solved by linear algebra (envs/tabular_mdp.hpp)
// and from central differences of the exact J(theta); scores are taken with the autodiff, not the
// closed form the estimators use. Monte-Carlo checks are per coordinate against k standard
// errors, k chosen by a Bonferroni bound over the d coordinates so that the false-fail rate of
// the whole check is below 1e-4 (seeds are fixed, so this is the chance that a new seed fails):
//   P(|Z| > 4.5) = 6.8e-6, so d <= 14 coordinates: k = 4.5;  P(|Z| > 5) = 5.7e-7, d <= 170: k = 5.
// The per-coordinate test is used rather than a chi-square on the whole vector because the
// covariance is singular (each state's score sums to zero over actions).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/common/policy.hpp"
#include "chapter3/common/rollout.hpp"
#include "chapter3/3_2_2_pg_lemma.hpp"
#include "chapter3/3_2_3_reinforce.hpp"
#include "envs/tabular_mdp.hpp"
#include "tests/chapter3/tabular_env.hpp"
#include "tests/mean_se.hpp"
#include "tests/needs_double.hpp"

using namespace pgcpp;
using test::MeanSe;
using namespace pgcpp::pg_lemma;
using ad::Var;

namespace {

// Rounding of the autodiff's Scalar: exact identities hold to a few hundred of these.
constexpr double kEps = std::numeric_limits<Scalar>::epsilon();

MatrixD random_theta(int S, int A, Rng& rng, double scale = 1.0) {
  MatrixD theta(S, A);
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta(i) = scale * rng.normal();
  return theta;
}

// grad_theta log pi(a|s) for the tabular softmax policy, by the autodiff on row s of theta.
MatrixD autodiff_score(const MatrixD& theta, int s, int a) {
  Var row(Matrix(theta.row(s).cast<Scalar>()), true);
  const Var log_pi = ad::pick(ad::log_softmax(row), {a});  // (3.16)
  MatrixD u = MatrixD::Zero(theta.rows(), theta.cols());
  u.row(s) = ad::grad(log_pi, {row})[0].value().cast<double>();
  return u;
}

// Gradient of the 1x1 y with respect to every parameter, as one vector.
Eigen::VectorXd flat_gradient(const Var& y, const ad::ParameterSet& params) {
  const ad::Grads g = ad::grad(y, params.list());
  Eigen::VectorXd flat(params.count());
  Eigen::Index at = 0;
  for (const Var& gi : g) {
    for (Eigen::Index i = 0; i < gi.size(); ++i) flat(at + i) = static_cast<double>(gi.value()(i));
    at += gi.size();
  }
  return flat;
}
Eigen::ArrayXd flat(const MatrixD& m) { return Eigen::Map<const Eigen::ArrayXd>(m.data(), m.size()); }

// Per-trajectory estimates over n trajectories of pi on mdp.
MeanSe monte_carlo(const TabularMdp& mdp, const MatrixD& pi, int n, int T, std::uint64_t seed,
                   const std::function<MatrixD(const Episode&)>& estimate) {
  Rng rng(seed);
  MeanSe stats;
  for (int i = 0; i < n; ++i) stats.add(flat(estimate(sample_episode(mdp, pi, T, rng))));
  return stats;
}

double max_abs(const MatrixD& m) { return m.cwiseAbs().maxCoeff(); }

// Per-sample autodiff scores of a continuous policy at one state, for Monte Carlo.
MeanSe mc_score(const Policy& policy, const Matrix& obs, int n, std::uint64_t seed) {
  Rng rng(seed);
  const Matrix params = policy.params_of(obs);
  const ad::ParameterSet theta = policy.parameters();
  MeanSe stats;
  for (int i = 0; i < n; ++i) {
    const Matrix a = policy.sample(params, rng);
    stats.add(flat_gradient(policy.log_prob(obs, a), theta).array());
  }
  return stats;
}

}  // namespace

// ---------------------------------------------------------------- zero-mean score

// E_{a~pi(.|s)}[grad_theta log pi(a|s)] = sum_a grad pi(a|s) = grad 1 = 0  (Step 1 of Theorem 3.6's proof).
TEST_CASE("zero-mean score: softmax (3.16), exactly, summing autodiff scores over actions") {
  Rng rng(1);
  // Tabular softmax, theta in R^{S x A}.
  const MatrixD theta = random_theta(4, 5, rng, 2.0);
  const MatrixD pi = softmax_policy(theta);
  for (int s = 0; s < 4; ++s) {
    MatrixD sum = MatrixD::Zero(4, 5);
    for (int a = 0; a < 5; ++a) sum += pi(s, a) * autodiff_score(theta, s, a);
    CHECK(max_abs(sum) < 50 * kEps);
  }
  // The same for CategoricalPolicy over an MLP, gradient with respect to all its weights.
  const auto policy = CategoricalPolicy::make(3, {8, 8}, 4, ad::Activation::Tanh, rng);
  for (int k = 0; k < 3; ++k) {
    Matrix obs(1, 3);
    for (int j = 0; j < 3; ++j) obs(0, j) = static_cast<Scalar>(rng.normal());
    const Matrix logits = policy->params_of(obs);
    const Eigen::RowVectorXd p = (logits.array() - logits.maxCoeff()).exp().cast<double>().matrix();
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(policy->parameters().count());
    double scale = 0;
    for (int a = 0; a < 4; ++a) {
      const Eigen::VectorXd u = flat_gradient(policy->log_prob(obs, Matrix::Constant(1, 1, static_cast<Scalar>(a))),
                                              policy->parameters());
      sum += p(a) / p.sum() * u;
      scale = std::max(scale, u.cwiseAbs().maxCoeff());
    }
    CHECK(sum.cwiseAbs().maxCoeff() < 100 * kEps * scale);
  }
}

// E_{a~N(mu, sigma^2)}[grad_theta log pi(a|s)] = 0. The score is a polynomial of degree 2 in
// z = (a - mu)/sigma, so the 3-point Gauss-Hermite rule (exact to degree 5) gives the expectation
// exactly: nodes 0, +-sqrt 3, weights 2/3, 1/6, 1/6.
TEST_CASE("zero-mean score: Gaussian (3.17), exactly by quadrature and by Monte Carlo within its SE") {
  Rng rng(2);
  const int m = 2;
  const Matrix obs = Matrix::Constant(1, 3, Scalar(0.4));
  for (auto kind : {GaussianPolicy::LogStd::StateIndependent, GaussianPolicy::LogStd::StateDependent}) {
    const int out = kind == GaussianPolicy::LogStd::StateIndependent ? m : 2 * m;
    const GaussianPolicy policy(ad::Mlp({3, 8, out}, ad::Activation::Tanh, rng), m, kind, Scalar(-0.3));
    const Matrix params = policy.params_of(obs);
    const ad::ParameterSet theta = policy.parameters();
    const double z[3] = {0.0, std::sqrt(3.0), -std::sqrt(3.0)}, w[3] = {2.0 / 3, 1.0 / 6, 1.0 / 6};
    Eigen::VectorXd expected = Eigen::VectorXd::Zero(theta.count());
    double scale = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        Matrix a(1, m);
        a(0, 0) = params(0, 0) + std::exp(params(0, m)) * static_cast<Scalar>(z[i]);
        a(0, 1) = params(0, 1) + std::exp(params(0, m + 1)) * static_cast<Scalar>(z[j]);
        const Eigen::VectorXd u = flat_gradient(policy.log_prob(obs, a), theta);
        expected += w[i] * w[j] * u;
        scale = std::max(scale, u.cwiseAbs().maxCoeff());
      }
    CHECK(expected.cwiseAbs().maxCoeff() < 100 * kEps * scale);

    // d = 52 (state-independent) / 68 (state-dependent) coordinates: 5 SE keeps the false-fail rate < 1e-4.
    const MeanSe mc = mc_score(policy, obs, 4000, 20);
    CHECK(mc.sum.size() < 170);
    CHECK(mc.max_z(Eigen::ArrayXd::Zero(mc.sum.size())) < 5.0);
  }
}

TEST_CASE("zero-mean score: squashed Gaussian, by Monte Carlo within its SE") {
  Rng rng(3);
  const SquashedGaussianPolicy policy(ad::Mlp({3, 8, 4}, ad::Activation::Tanh, rng),
                                      (Eigen::VectorXd(2) << -2.0, 0.0).finished(),
                                      (Eigen::VectorXd(2) << 2.0, 1.0).finished());
  const Matrix obs = Matrix::Constant(1, 3, Scalar(-0.7));
  const MeanSe mc = mc_score(policy, obs, 4000, 30);
  // d = 68 coordinates: 5 SE keeps the false-fail rate < 1e-4.
  CHECK(mc.sum.size() < 170);
  CHECK(mc.max_z(Eigen::ArrayXd::Zero(mc.sum.size())) < 5.0);
  // Not vacuous: the score itself is far from zero sample by sample.
  CHECK((mc.se() * std::sqrt(4000.0)).maxCoeff() > 0.1);
}

// ---------------------------------------------------------------- Theorem 3.5

// The estimators' closed form e_s (e_a - pi(.|s))^T is the autodiff gradient of log pi(a|s).
TEST_CASE("tabular softmax score: closed form equals the autodiff gradient of log pi(a|s)") {
  Rng rng(4);
  const MatrixD theta = random_theta(3, 4, rng, 1.5);
  const MatrixD pi = softmax_policy(theta);
  for (int s = 0; s < 3; ++s)
    for (int a = 0; a < 4; ++a) {
      CHECK(max_abs(score(pi, s, a) - autodiff_score(theta, s, a)) < 20 * kEps);
      CHECK(std::abs(score_norm2(pi, s, a) - autodiff_score(theta, s, a).squaredNorm()) < 20 * kEps);
    }
}

// grad J = 1/(1 - gamma) E_{s~d_theta, a~pi}[grad log pi(a|s) Q^pi(s, a)]                (3.20)
TEST_CASE("theorem 3.5: the value form (3.20) with exact d_theta (3.21) and Q equals finite differences of J") {
  struct Case {
    int S, A;
    double gamma;
    std::uint64_t seed;
  };
  for (const Case c : {Case{4, 3, 0.8, 11}, Case{6, 2, 0.95, 12}, Case{3, 5, 0.5, 13}, Case{1, 3, 0.9, 14}}) {
    CAPTURE(c.seed);
    const TabularMdp mdp = random_mdp({.states = c.S, .actions = c.A, .gamma = c.gamma, .seed = c.seed});
    Rng rng(c.seed);
    const MatrixD theta = random_theta(c.S, c.A, rng);
    const MatrixD pi = softmax_policy(theta);
    const VectorD d = mdp.visitation(pi);
    CHECK(std::abs(d.sum() - 1.0) < 1e-12);  // (3.21) is a distribution
    CHECK(d.minCoeff() >= 0.0);
    const MatrixD fd = finite_difference_gradient(mdp, theta);  // O(h^2) + O(eps/h) ~ 1e-10
    const MatrixD exact = value_form_gradient(mdp, pi);
    CHECK(max_abs(exact - fd) < 1e-8);
    CHECK(max_abs(fd) > 1e-3);  // not vacuous
  }
}

// grad J = E[sum_t grad log pi(a_t|s_t) R(tau)] = E[sum_t gamma^t grad log pi(a_t|s_t) g_t]  (3.18), (3.19)
TEST_CASE("theorem 3.5: Monte-Carlo estimators (3.18) and (3.19) match finite differences of exact J within SE") {
  struct Case {
    int S, A;
    double gamma;
    std::uint64_t seed;
    int n;
  };
  // d = S * A <= 14 coordinates: 4.5 SE per coordinate, false-fail rate < 1e-4 per estimator.
  for (const Case c : {Case{4, 3, 0.8, 21, 20000}, Case{3, 2, 0.9, 22, 10000}}) {
    CAPTURE(c.seed);
    const TabularMdp mdp = random_mdp({.states = c.S, .actions = c.A, .gamma = c.gamma, .seed = c.seed});
    Rng rng(c.seed);
    const MatrixD theta = random_theta(c.S, c.A, rng);
    const MatrixD pi = softmax_policy(theta);
    const Eigen::ArrayXd exact = flat(finite_difference_gradient(mdp, theta));
    // Truncation at T: |J - J_T| <= gamma^T max|R| / (1 - gamma); with gamma^T <= 1e-10 the
    // bias of the gradient is orders of magnitude below the SE (~1e-2).
    const int T = horizon_for(c.gamma, 1e-10);

    const MeanSe full = monte_carlo(mdp, pi, c.n, T, c.seed + 100,
                                    [&](const Episode& tau) { return full_return_estimate(tau, pi, c.gamma); });
    const MeanSe rtg = monte_carlo(mdp, pi, c.n, T, c.seed + 200,
                                   [&](const Episode& tau) { return returns_to_go_estimate(tau, pi, c.gamma); });
    CHECK(full.max_z(exact) < 4.5);
    CHECK(rtg.max_z(exact) < 4.5);
    // The test has teeth: the SE is small against the gradient, and a classic bug, dropping
    // gamma^t from (3.19), is rejected by the same test with the same sample size.
    CHECK(rtg.se().maxCoeff() < 0.1 * exact.abs().maxCoeff());
    const MeanSe no_discount = monte_carlo(mdp, pi, c.n, T, c.seed + 300, [&](const Episode& tau) {
      MatrixD G = MatrixD::Zero(c.S, c.A);
      const std::vector<double> g = returns_to_go(tau.rewards, c.gamma);
      for (int t = 0; t < tau.length(); ++t) G += score(pi, tau.states[t], tau.actions[t]) * g[t];
      return G;
    });
    CHECK(no_discount.max_z(exact) > 10.0);
  }
}

// Theorem 3.5 through the library's REINFORCE (chapter3/3_2_3_reinforce.cpp): the gradient that
// train_reinforce steps along -- (3.23) with --batch 1, (3.24) with minibatches -- has mean
// grad J (3.20). The MDP runs behind the Env interface (tests/chapter3/tabular_env.hpp), so the
// trajectories come from the library's collect_episodes, and the policy is a categorical policy
// with no hidden layer: the tabular softmax with theta(s, a) = W(s, a) + b(a), whose exact
// gradient is grad_W J = G and grad_b J = sum_s G(s, .) with G the value form (3.20). With
// lr = 1e-12 theta stays put (Adam moves it by ~lr per update) and with the clip off each
// update's gradient, left in the parameters by minimize, is an i.i.d. unbiased estimate;
// d = S A + A = 8 coordinates are checked within 4.5 SE (false fail < 1e-4). Truncation at T
// biases by O(gamma^T / (1 - gamma)) = 1e-5, far below the SE. A wrong sign, a missing gamma^t,
// s_t paired with a_{t+1}, or returns-to-go one step off move the mean by many SE.
TEST_CASE("theorem 3.5 through train_reinforce: the gradient it follows has mean grad J (3.20) within SE") {
  const int S = 3, A = 2, T = 25;  // gamma^T = 2.8e-6
  const double gamma = 0.6;
  const TabularMdp mdp = random_mdp({.states = S, .actions = A, .gamma = gamma, .seed = 45});
  Rng init(45);
  std::unique_ptr<CategoricalPolicy> policy = CategoricalPolicy::make(S, {}, A, ad::Activation::Tanh, init);
  ad::ParameterSet params = policy->parameters();  // W (S x A), b (1 x A)
  REQUIRE(params.size() == 2);
  const MatrixD W = random_theta(S, A, init);
  Eigen::VectorXd theta0(S * A + A);
  theta0 << flat(W), Eigen::VectorXd::Zero(A);
  params.unflatten(theta0.cast<Scalar>());
  const MatrixD G = value_form_gradient(mdp, softmax_policy(W));  // b = 0: theta = W
  Eigen::ArrayXd exact(S * A + A);
  exact << flat(G), flat(MatrixD(G.colwise().sum()));

  struct Case {
    int batch, updates;
    const char* estimator;
  };
  for (const Case c : {Case{1, 12000, "return"}, Case{20, 400, "rtg"}}) {
    CAPTURE(std::string(c.estimator));
    ReinforceConfig cfg;
    cfg.batch = c.batch;
    cfg.episodes = static_cast<long>(c.batch) * c.updates;
    cfg.lr = 1e-12;
    cfg.gamma = gamma;
    cfg.clip = 0;
    cfg.estimator = c.estimator;
    cfg.solved = 0;
    test::TabularEnv env(mdp, T);
    Rng rng(42);
    MeanSe estimate;
    long steps = 0;
    train_reinforce(cfg, env, *policy, rng, [&](long, const std::vector<Trajectory>& batch, double) {
      for (const Trajectory& tau : batch) steps += tau.length();
      // minimize leaves the gradient of the loss -(1/N) sum w_t log pi in the parameters: -g_k.
      estimate.add(-params.flat_grad().cast<double>().array());
    });
    CHECK(estimate.n == c.updates);
    CHECK(steps == static_cast<long>(c.batch) * c.updates * T);
    CHECK((policy->parameters().flatten().cast<double>().head(S * A) - flat(W).matrix()).cwiseAbs().maxCoeff() < 1e-6);
    CHECK(estimate.max_z(exact) < 4.5);
    // The check has teeth: a wrong sign moves the largest coordinate by 2 |grad J| > 20 SE.
    CHECK(estimate.se().maxCoeff() < 0.1 * exact.abs().maxCoeff());
  }
}

// ---------------------------------------------------------------- Theorem 3.6

// E[sum_t gamma^t grad log pi(a_t|s_t) b(s_t)] = 0 for any b(s); so (3.25) is unbiased   (3.26), (3.27)
TEST_CASE("theorem 3.6: a state-only baseline does not change the expected gradient") {
  const double gamma = 0.8;
  const TabularMdp mdp = random_mdp({.states = 4, .actions = 3, .gamma = gamma, .seed = 31});
  Rng rng(31);
  const MatrixD theta = random_theta(4, 3, rng);
  const MatrixD pi = softmax_policy(theta);
  VectorD b(4);
  for (int s = 0; s < 4; ++s) b(s) = rng.uniform(-10.0, 10.0);  // arbitrary, far from V
  const MatrixD fd = finite_difference_gradient(mdp, theta);

  // Exact, per state: sum_a pi(a|s) grad log pi(a|s) b(s) = 0 (autodiff scores).
  for (int s = 0; s < 4; ++s) {
    MatrixD sum = MatrixD::Zero(4, 3);
    for (int a = 0; a < 3; ++a) sum += pi(s, a) * autodiff_score(theta, s, a) * b(s);
    CHECK(max_abs(sum) < 200 * kEps);
  }
  // Exact, value form (3.27) with any b equals grad J.
  CHECK(max_abs(value_form_gradient(mdp, pi, b) - fd) < 1e-8);
  CHECK(max_abs(value_form_gradient(mdp, pi, mdp.V(pi)) - fd) < 1e-8);

  // Monte Carlo, on the same trajectories: the baseline term has mean 0 and (3.25) has the mean
  // of (3.19), i.e. grad J. d = 12 coordinates: 4.5 SE, false-fail rate < 1e-4 per check.
  const int T = horizon_for(gamma, 1e-10), n = 20000;
  Rng sampler(32);
  MeanSe term, with_b, without_b;
  for (int i = 0; i < n; ++i) {
    const Episode tau = sample_episode(mdp, pi, T, sampler);
    term.add(flat(baseline_term(tau, pi, gamma, b)));
    with_b.add(flat(baseline_estimate(tau, pi, gamma, b)));
    without_b.add(flat(returns_to_go_estimate(tau, pi, gamma)));
  }
  CHECK(term.max_z(Eigen::ArrayXd::Zero(12)) < 4.5);
  CHECK(with_b.max_z(flat(fd)) < 4.5);
  CHECK(without_b.max_z(flat(fd)) < 4.5);
  // The estimator itself, trajectory by trajectory, against its definition (3.25) written out
  // here with autodiff scores and returns-to-go summed forwards: sum_t gamma^t score_t (g_t - b(s_t)).
  // (Comparing (3.25) - (3.19) with the baseline term instead would only restate the linearity
  // of the same code.)
  Rng again(33);
  for (int i = 0; i < 20; ++i) {
    const Episode tau = sample_episode(mdp, pi, T, again);
    MatrixD expected = MatrixD::Zero(4, 3);
    for (int t = 0; t < tau.length(); ++t) {
      double g_t = 0;
      for (int u = t; u < tau.length(); ++u) g_t += std::pow(gamma, u - t) * tau.rewards[static_cast<std::size_t>(u)];
      expected += std::pow(gamma, t) * (g_t - b(tau.states[t])) * autodiff_score(theta, tau.states[t], tau.actions[t]);
    }
    const double tol = test::kFloatBuild ? 1e-4 : 1e-9;  // the autodiff scores round in Scalar
    CHECK(max_abs(baseline_estimate(tau, pi, gamma, b) - expected) < tol * std::max(1.0, max_abs(expected)));
  }
}

// ---------------------------------------------------------------- Theorem 3.7

namespace {

// Var[g | s] = E||g||^2 - ||E g||^2 for g = grad log pi(a|s) (Q(s, a) - b), by enumerating
// actions, with autodiff scores.
double exact_variance(const MatrixD& theta, const MatrixD& pi, const MatrixD& Q, int s, double b) {
  double second = 0;
  MatrixD first = MatrixD::Zero(theta.rows(), theta.cols());
  for (Eigen::Index a = 0; a < theta.cols(); ++a) {
    const MatrixD g = autodiff_score(theta, s, static_cast<int>(a)) * (Q(s, a) - b);
    second += pi(s, a) * g.squaredNorm();
    first += pi(s, a) * g;
  }
  return second - first.squaredNorm();
}

}  // namespace

// b*(s) = E[||grad log pi||^2 Q] / E[||grad log pi||^2] minimizes Var[g | s]               (3.28)
// The exact variance is evaluated to ~1e-15 here, which needs double autodiff scores.
TEST_CASE("theorem 3.7: b* of (3.28) minimizes the exact per-state variance, and beats V^pi" *
          NEEDS_DOUBLE("the exact variance, from autodiff scores, compared to 1e-12")) {
  const TabularMdp mdp = random_mdp({.states = 5, .actions = 4, .gamma = 0.9, .seed = 41});
  Rng rng(41);
  const MatrixD theta = random_theta(5, 4, rng, 1.5);
  const MatrixD pi = softmax_policy(theta);
  const MatrixD Q = mdp.Q(pi);
  const VectorD V = mdp.V(pi);
  const VectorD b_star = optimal_baseline(pi, Q);
  double largest_gap = 0;
  for (int s = 0; s < 5; ++s) {
    CAPTURE(s);
    const auto var = [&](double b) { return exact_variance(theta, pi, Q, s, b); };
    // A fine scan: the best grid point is within one step of b*, and no grid point beats b*.
    const double lo = Q.row(s).minCoeff() - 1, hi = Q.row(s).maxCoeff() + 1, step = (hi - lo) / 4000;
    double best_b = lo, best = var(lo);
    for (int i = 1; i <= 4000; ++i) {
      const double v = var(lo + i * step);
      if (v < best) best = v, best_b = lo + i * step;
    }
    CHECK(std::abs(best_b - b_star(s)) <= step);
    CHECK(var(b_star(s)) <= best + 1e-12);
    // The exact quadratic's derivative vanishes at b* (central differences are exact for a quadratic).
    const double h = 1e-3;
    CHECK(std::abs(var(b_star(s) + h) - var(b_star(s) - h)) / (2 * h) < 1e-8);
    CHECK(var(b_star(s)) <= var(V(s)) + 1e-12);
    largest_gap = std::max(largest_gap, std::abs(b_star(s) - V(s)));
  }
  CHECK(largest_gap > 1e-2);  // here ||grad log pi||^2 depends on a, and b* is not V
}

// If ||grad log pi(a|s)||^2 is the same for every a, (3.28) is E[Q] = V^pi(s).
TEST_CASE("theorem 3.7: b* = V^pi when ||grad log pi(a|s)||^2 does not depend on a (uniform pi)") {
  for (int A : {2, 3, 5}) {
    CAPTURE(A);
    const TabularMdp mdp = random_mdp({.states = 4, .actions = A, .gamma = 0.9, .seed = 42});
    // Constant rows of theta: pi(.|s) uniform, ||e_a - pi||^2 = 1 - 1/A for every a.
    MatrixD theta(4, A);
    for (int s = 0; s < 4; ++s) theta.row(s).setConstant(0.3 * s - 0.5);
    const MatrixD pi = softmax_policy(theta);
    for (int s = 0; s < 4; ++s)
      for (int a = 0; a < A; ++a)
        CHECK(std::abs(autodiff_score(theta, s, a).squaredNorm() - (1.0 - 1.0 / A)) < 20 * kEps);
    CHECK(max_abs(optimal_baseline(pi, mdp.Q(pi)) - mdp.V(pi)) < 1e-12);
  }
}

// ---------------------------------------------------------------- advantage

// E_{a~pi}[A^pi(s, a)] = E[Q^pi(s, a)] - V^pi(s) = 0                                        (3.29)
TEST_CASE("advantage (3.29) has zero mean under pi, exactly") {
  for (std::uint64_t seed : {51, 52, 53}) {
    const TabularMdp mdp = random_mdp({.states = 6, .actions = 3, .gamma = 0.95, .seed = seed});
    Rng rng(seed);
    const MatrixD pi = softmax_policy(random_theta(6, 3, rng, 2.0));
    const MatrixD advantage = mdp.advantage(pi);
    CHECK((pi.array() * advantage.array()).rowwise().sum().abs().maxCoeff() < 1e-12);
    CHECK(max_abs(advantage) > 1e-2);  // not vacuous
  }
}

// ---------------------------------------------------------------- trajectories, exactly

namespace {

// Every trajectory tau = (s_0, a_0, ..., s_{T-1}, a_{T-1}, s_T) of a small MDP, with its density
// p_theta(tau) = rho(s_0) prod_t pi(a_t|s_t) P(s_{t+1}|s_t, a_t)                            (3.12)
struct Enumerated {
  std::vector<int> s, a;  // s_0..s_T, a_0..a_{T-1}
  double p;
};
std::vector<Enumerated> enumerate_trajectories(const TabularMdp& mdp, const MatrixD& pi, int T) {
  std::vector<Enumerated> all;
  long count = 1;
  for (int i = 0; i < 2 * T + 1; ++i) count *= (i % 2 == 0 ? mdp.S : mdp.A);
  for (long code = 0; code < count; ++code) {
    Enumerated e;
    long rest = code;
    for (int i = 0; i < 2 * T + 1; ++i) {
      const int base = i % 2 == 0 ? mdp.S : mdp.A;
      (i % 2 == 0 ? e.s : e.a).push_back(static_cast<int>(rest % base));
      rest /= base;
    }
    e.p = mdp.rho(e.s[0]);
    for (int t = 0; t < T; ++t) e.p *= pi(e.s[t], e.a[t]) * mdp.P(e.s[t] * mdp.A + e.a[t], e.s[t + 1]);
    all.push_back(std::move(e));
  }
  return all;
}

// J_T(theta) = sum_{t<T} gamma^t rho^T P_pi^t r_pi, by propagating the state distribution.
double horizon_J(const TabularMdp& mdp, const MatrixD& pi, int T) {
  const MatrixD P = mdp.policy_transition(pi);
  const VectorD r = mdp.policy_reward(pi);
  Eigen::RowVectorXd d = mdp.rho.transpose();
  double J = 0, discount = 1;
  for (int t = 0; t < T; ++t, discount *= mdp.gamma) {
    J += discount * d.dot(r);
    d = d * P;
  }
  return J;
}

}  // namespace

// (3.12) is a probability law that sample_episode draws from; (3.15) is its expected return; and
// the log-derivative trick (3.22) grad p_theta(tau) = p_theta(tau) grad log p_theta(tau), with
// grad log p_theta(tau) = sum_t grad log pi(a_t|s_t) (rho and P do not depend on theta), makes
// sum_tau p R(tau) grad log p the exact gradient of J: (3.18) with no Monte-Carlo error.
// All by enumerating the 2^4 * 3^3 = 432 trajectories of T = 3 steps on 2 states, 3 actions.
TEST_CASE("(3.12), (3.15), (3.22): trajectory densities by enumeration, the exact gradient of J_T") {
  const int T = 3;
  const TabularMdp mdp = random_mdp({.states = 2, .actions = 3, .gamma = 0.7, .seed = 61});
  Rng rng(61);
  const MatrixD theta = random_theta(2, 3, rng);
  const MatrixD pi = softmax_policy(theta);
  const std::vector<Enumerated> all = enumerate_trajectories(mdp, pi, T);
  REQUIRE(all.size() == 432);

  // (3.12) sums to 1 over all trajectories.
  double total = 0;
  for (const Enumerated& e : all) total += e.p;
  CHECK(std::abs(total - 1) < 1e-14);

  // (3.15): E_tau[R(tau)] with R(tau) = sum_t gamma^t R(s_t, a_t) (3.13) equals J_T from the
  // state-distribution recursion. A missing gamma^t or an extra step breaks the equality.
  double J = 0;
  for (const Enumerated& e : all) {
    std::vector<double> rewards;
    for (int t = 0; t < T; ++t) rewards.push_back(mdp.R(e.s[t], e.a[t]));
    J += e.p * discounted_return(rewards, mdp.gamma);
  }
  CHECK(std::abs(J - horizon_J(mdp, pi, T)) < 1e-14);

  // (3.22) for every trajectory, against central differences of (3.12) in theta (error ~h^2 = 1e-10).
  const double h = 1e-5;
  double worst = 0;
  std::vector<std::vector<double>> up(theta.size()), down(theta.size());
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    MatrixD t = theta;
    t(i) += h;
    for (const Enumerated& e : enumerate_trajectories(mdp, softmax_policy(t), T)) up[i].push_back(e.p);
    t(i) -= 2 * h;
    for (const Enumerated& e : enumerate_trajectories(mdp, softmax_policy(t), T)) down[i].push_back(e.p);
  }
  MatrixD exact_18 = MatrixD::Zero(2, 3), exact_19 = MatrixD::Zero(2, 3);
  for (std::size_t k = 0; k < all.size(); ++k) {
    const Enumerated& e = all[k];
    MatrixD grad_log_p = MatrixD::Zero(2, 3);
    for (int t = 0; t < T; ++t) grad_log_p += score(pi, e.s[t], e.a[t]);  // = autodiff's, tested above
    for (Eigen::Index i = 0; i < theta.size(); ++i) {
      const double fd = (up[i][k] - down[i][k]) / (2 * h);
      worst = std::max(worst, std::abs(fd - e.p * grad_log_p(i)));
    }
    Episode tau{{e.s.begin(), e.s.end() - 1}, e.a, {}};
    for (int t = 0; t < T; ++t) tau.rewards.push_back(mdp.R(e.s[t], e.a[t]));
    exact_18 += e.p * full_return_estimate(tau, pi, mdp.gamma);
    exact_19 += e.p * returns_to_go_estimate(tau, pi, mdp.gamma);
  }
  CHECK(worst < 1e-9);
  // Theorem 3.5 with no sampling: both estimators' exact expectations are grad J_T.
  MatrixD fd_J(2, 3);
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    MatrixD t = theta;
    t(i) += h;
    const double j_up = horizon_J(mdp, softmax_policy(t), T);
    t(i) -= 2 * h;
    fd_J(i) = (j_up - horizon_J(mdp, softmax_policy(t), T)) / (2 * h);
  }
  CHECK(max_abs(exact_18 - fd_J) < 1e-9);
  CHECK(max_abs(exact_19 - fd_J) < 1e-9);
  CHECK(max_abs(fd_J) > 1e-2);  // not vacuous

  // sample_episode draws from (3.12): the frequency of each (s_0, a_0, ..., s_2, a_2) over n
  // episodes is its probability (summed over s_3) within 5.3 SE. Cells expecting fewer than 30
  // episodes are pooled into one (where the normal approximation holds); Bonferroni over at most
  // 217 cells: false-fail rate <= 217 * 1.2e-7 = 2.5e-5.
  const int n = 40000;
  std::vector<double> p_cell(217, 0.0);
  std::vector<int> hits(217, 0);
  auto cell = [](const std::vector<int>& s, const std::vector<int>& a) {
    int c = 0;
    for (int t = 0; t < 3; ++t) c = (c * 2 + s[t]) * 3 + a[t];
    return c;
  };
  for (const Enumerated& e : all) p_cell[cell(e.s, e.a)] += e.p;
  std::vector<int> pooled(216);
  for (int c = 0; c < 216; ++c) pooled[c] = n * p_cell[c] >= 30 ? c : 216;
  for (int c = 0; c < 216; ++c)
    if (pooled[c] == 216) p_cell[216] += p_cell[c];
  Rng sampler(62);
  for (int i = 0; i < n; ++i) {
    const Episode tau = sample_episode(mdp, pi, T, sampler);
    ++hits[pooled[cell(tau.states, tau.actions)]];
  }
  double max_z = 0;
  int cells = 0;
  for (int c = 0; c < 217; ++c) {
    if ((c < 216 && pooled[c] == 216) || p_cell[c] == 0) continue;
    ++cells;
    const double se = std::sqrt(p_cell[c] * (1 - p_cell[c]) / n);
    max_z = std::max(max_z, std::abs(hits[c] / static_cast<double>(n) - p_cell[c]) / se);
  }
  CHECK(cells > 50);  // most of the law is checked cell by cell
  CHECK(max_z < 5.3);
}
