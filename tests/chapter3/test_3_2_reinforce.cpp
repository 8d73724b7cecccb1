// Section 3.2.3-3.2.4's machinery: returns (3.13), returns-to-go (3.14), the REINFORCE weights of
// (3.23) and (3.24), the critic's fit and stopping rule of Section 3.2.4.4 step 3, the explained
// variance and gradient-variance diagnostics, and the actor step (3.30) of REINFORCE with a
// baseline. Expected values are computed by hand or term by term. (The gradient train_reinforce
// follows is checked against the exact grad J in test_3_2_theorems.cpp.)
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "experiment/demo.hpp"
#include "chapter3/3_2_3_reinforce.hpp"
#include "chapter3/3_2_4_reinforce_baseline.hpp"

using namespace pgcpp;
using ad::Var;

namespace {

constexpr double kEps = std::numeric_limits<Scalar>::epsilon();

Trajectory make_trajectory(std::vector<double> rewards, int obs_dim, Rng& rng) {
  Trajectory tau;
  tau.rewards = std::move(rewards);
  tau.obs = Matrix::Random(tau.length(), obs_dim);
  tau.actions.resize(tau.length(), 1);
  for (int t = 0; t < tau.length(); ++t) tau.actions(t, 0) = static_cast<Scalar>(rng.uniform_int(2));
  tau.terminated = true;
  return tau;
}

}  // namespace

TEST_CASE("(3.13) and (3.14): R(tau) and g_t by hand, g_0 = R(tau)") {
  const std::vector<double> r{1, 2, 3};
  const double gamma = 0.5;
  // R = 1 + 0.5*2 + 0.25*3 = 2.75; g = (2.75, 2 + 0.5*3, 3) = (2.75, 3.5, 3)
  CHECK(discounted_return(r, gamma) == doctest::Approx(2.75).epsilon(1e-15));
  const std::vector<double> g = returns_to_go(r, gamma);
  REQUIRE(g.size() == 3);
  CHECK(g[0] == doctest::Approx(2.75).epsilon(1e-15));
  CHECK(g[1] == doctest::Approx(3.5).epsilon(1e-15));
  CHECK(g[2] == doctest::Approx(3.0).epsilon(1e-15));
  CHECK(returns_to_go({}, gamma).empty());
  CHECK(discounted_return({}, gamma) == 0.0);
}

TEST_CASE("REINFORCE weights: (3.23) puts R(tau) on every step, (3.24) puts gamma^t g_t") {
  Rng rng(3);
  const std::vector<Trajectory> batch{make_trajectory({1, 1}, 2, rng), make_trajectory({2, 0, 4}, 2, rng)};
  const double gamma = 0.9;
  // Full return (3.23): tau1 R = 1 + 0.9 = 1.9 (two steps); tau2 R = 2 + 0.81*4 = 5.24 (three).
  const Vector full = reinforce_weights(batch, gamma, true);
  const std::vector<double> expect_full{1.9, 1.9, 5.24, 5.24, 5.24};
  // Returns-to-go (3.24): tau1 g = (1.9, 1) -> (1.9, 0.9*1); tau2 g = (5.24, 3.6, 4) -> (5.24, 0.9*3.6, 0.81*4).
  const Vector rtg = reinforce_weights(batch, gamma, false);
  const std::vector<double> expect_rtg{1.9, 0.9, 5.24, 3.24, 3.24};
  REQUIRE(full.size() == 5);
  REQUIRE(rtg.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(static_cast<double>(full(i)) == doctest::Approx(expect_full[i]).epsilon(10 * kEps));
    CHECK(static_cast<double>(rtg(i)) == doctest::Approx(expect_rtg[i]).epsilon(10 * kEps));
  }
}

// Section 3.2.4.4 step 3's stopping rule: stop once (L^(k-1) - L^(k)) / max(1, |L^(k-1)|) < epsilon
// at M consecutive checks (the first check has no predecessor), or after K_max epochs; with
// full-batch steps (--critic-minibatch 0) an epoch is one step, with minibatches one pass of
// ceil(R / B) steps. A rule off by one check, or counting steps for epochs, fails the counts.
TEST_CASE("Section 3.2.4.4 step 3: the critic's stopping rule counts checks as the book says") {
  Rng rng(7);
  const Matrix obs = Matrix::Random(40, 4);
  const Vector g = Vector::Constant(40, 10);
  BaselineConfig cfg;
  cfg.check_every = 5;
  cfg.patience = 3;
  cfg.k_max = 1000;
  for (int minibatch : {0, 16}) {
    CAPTURE(minibatch);
    cfg.critic_minibatch = minibatch;
    const int steps_per_epoch = minibatch == 0 ? 1 : 3;  // ceil(40 / 16)
    SUBCASE("epsilon = 1: every check after the first is 'quiet', so the fit stops at the (M+1)-th check") {
      // The loss stays positive, so (L_prev - L) / max(1, |L_prev|) < 1 at every check.
      cfg.epsilon = 1;
      ad::Mlp value({4, 8, 1}, ad::Activation::Tanh, rng);
      ad::Adam opt(value.parameters(), ad::StepSize::constant(Scalar(1e-3)));
      const CriticFit fit = fit_value(cfg, value, opt, obs, g, Scalar(4), rng);
      CHECK(fit.epochs == cfg.check_every * (cfg.patience + 1));
      CHECK(fit.steps == fit.epochs * steps_per_epoch);
    }
    SUBCASE("epsilon = -inf: no check is quiet, the fit runs K_max epochs and reduces the loss") {
      cfg.epsilon = -std::numeric_limits<double>::infinity();
      cfg.k_max = 200;
      ad::Mlp value({4, 8, 1}, ad::Activation::Tanh, rng);
      const double before = ad::sum(ad::square(Var(Matrix(g)) - value(Var(obs)))).item() / 4;
      ad::Adam opt(value.parameters(), ad::StepSize::constant(Scalar(1e-2)));
      const CriticFit fit = fit_value(cfg, value, opt, obs, g, Scalar(4), rng);
      CHECK(fit.epochs == 200);
      CHECK(fit.steps == 200 * steps_per_epoch);
      CHECK(fit.loss < 0.5 * before);
    }
  }
}

// Step 3 fits V: minibatch epochs on a smooth target (a function of s the network can represent)
// leave V explaining nearly all of g's variance, and the loss fit_value reports is L_V on the whole
// batch, 1/N sum (g - V)^2, recomputed here. A critic loss with the wrong sign, or minibatches that
// pair rows of s with other rows of g, leave the explained variance near or below 0.
TEST_CASE("Section 3.2.4.4 step 3: minibatch epochs fit V to g, the reported loss is L_V of the whole batch") {
  Rng rng(8);
  const Matrix obs = Matrix::Random(600, 4);
  Vector g(600);
  for (int i = 0; i < 600; ++i) g(i) = Scalar(20) + Scalar(10) * std::sin(obs(i, 0)) - Scalar(6) * obs(i, 1) * obs(i, 2);
  BaselineConfig cfg;  // defaults: minibatches of 256, a check per epoch
  cfg.k_max = 300;
  cfg.lr_critic = 1e-2;
  ad::Mlp value({4, 32, 32, 1}, ad::Activation::Tanh, rng);
  ad::Adam opt(value.parameters(), ad::StepSize::constant(static_cast<Scalar>(cfg.lr_critic)));
  const CriticFit fit = fit_value(cfg, value, opt, obs, g, Scalar(6), rng);
  Vector v;
  {
    ad::NoGrad off;
    v = value(Var(obs)).value().col(0);
  }
  CHECK(fit.epochs >= 2);
  CHECK(fit.steps == fit.epochs * 3);  // ceil(600 / 256)
  CHECK(fit.loss == doctest::Approx(static_cast<double>((g - v).squaredNorm()) / 6).epsilon(1e-6));
  CHECK(explained_variance(g, v) > 0.95);
}

// explained variance 1 - Var(g - v)/Var(g), by hand: g = (1, 2, 3, 4), v = (1, 2, 3, 5): the
// residual (0, 0, 0, -1) has variance 3/16, g has 5/4, so 1 - 0.15 = 0.85; v = g gives 1, v = 0
// gives 0, and a g that does not vary gives 0 by convention.
TEST_CASE("explained variance by hand") {
  const Vector g{{1, 2, 3, 4}};
  CHECK(explained_variance(g, Vector{{1, 2, 3, 5}}) == doctest::Approx(0.85).epsilon(10 * kEps));
  CHECK(explained_variance(g, g) == doctest::Approx(1.0));
  CHECK(explained_variance(g, Vector::Zero(4)) == doctest::Approx(0.0));
  CHECK(explained_variance(Vector::Constant(3, 2), Vector::Zero(3)) == 0.0);
}

// The diagnostic gradient_variance: tr Cov across trajectories of xi_i(w) = sum_t gamma^t
// grad log pi(a_t|s_t) w_t, against the same quantity computed here term by term (one autodiff
// score per step, summed) with the two-pass sample covariance.
TEST_CASE("gradient_variance: the trace of the per-trajectory estimates' covariance, term by term") {
  Rng rng(9);
  auto policy = CategoricalPolicy::make(3, {8}, 2, ad::Activation::Tanh, rng);
  std::vector<Trajectory> batch;
  for (int i = 0; i < 5; ++i) {
    std::vector<double> r(static_cast<std::size_t>(2 + i), 1.0);
    batch.push_back(make_trajectory(r, 3, rng));
  }
  const Eigen::Index R = total_steps(batch);
  Vector discount(R), g(R), A(R), Z(R);
  for (Eigen::Index i = 0; i < R; ++i) {
    discount(i) = static_cast<Scalar>(rng.uniform(0.5, 1.0));
    g(i) = static_cast<Scalar>(rng.uniform(0, 10));
    A(i) = static_cast<Scalar>(rng.uniform(-3, 3));
    Z(i) = static_cast<Scalar>(rng.uniform(-1, 1));
  }
  const double sigma = 2.5;
  const GradientVariance got = gradient_variance(*policy, batch, discount, g, A, Z, sigma);
  const ad::ParameterSet theta = policy->parameters();
  auto expected = [&](const Vector& w) {
    std::vector<Eigen::VectorXd> xi;
    Eigen::Index row = 0;
    for (const Trajectory& tau : batch) {
      Eigen::VectorXd x = Eigen::VectorXd::Zero(theta.count());
      for (int t = 0; t < tau.length(); ++t, ++row) {
        const Var log_pi = policy->log_prob(Matrix(tau.obs.row(t)), Matrix(tau.actions.row(t)));
        const ad::Grads gr = ad::grad(log_pi, theta.list());
        Eigen::Index at = 0;
        for (const Var& p : gr) {
          for (Eigen::Index j = 0; j < p.size(); ++j)
            x(at + j) += static_cast<double>(discount(row) * w(row) * p.value()(j));
          at += p.size();
        }
      }
      xi.push_back(x);
    }
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(theta.count());
    for (const auto& x : xi) mean += x / static_cast<double>(xi.size());
    double tr = 0;
    for (const auto& x : xi) tr += (x - mean).squaredNorm() / static_cast<double>(xi.size() - 1);
    return tr;
  };
  const double tol = 1000 * kEps;
  CHECK(got.no_baseline == doctest::Approx(expected(g)).epsilon(tol));
  CHECK(got.learned_value == doctest::Approx(expected(A)).epsilon(tol));
  CHECK(got.standardized == doctest::Approx(expected(Z) * sigma * sigma).epsilon(tol));
  CHECK(got.no_baseline > 0);
}

// (3.30): the actor step of REINFORCE with a learned baseline follows the minibatch estimator
//   1/N sum_i sum_t gamma^t grad log pi(a_t|s_t) A_t,   A_t = g_t - V_phi(s_t),
// with V_phi the critic as fitted on this batch (step 3 before step 4), and with step 4's
// standardization A <- (A - mu_A) / (sigma_A + 1e-8) over the whole batch when it is on.
// Computed here on its own: returns-to-go by a backward loop, V_phi evaluated after the run (the
// critic is not touched after its fit), mean and std over all the batch's steps, scores by
// autodiff at theta_0. Adam's first step is alpha c g / (|c g| + eps) per coordinate (m_hat =
// c g, v_hat = (c g)^2; c = the norm clip's factor), so the step gives the estimator's direction
// coordinate by coordinate. It fails for a wrong sign, a missing gamma^t, the baseline before the
// fit or none at all, standardization per trajectory or without centring; a constant factor such
// as 1/N is invisible to Adam's first step (the exact-gradient test of train_reinforce checks it).
TEST_CASE("(3.30): one actor step of REINFORCE with a baseline follows the (standardized) baseline-subtracted estimator") {
  for (bool standardized : {false, true}) {
    CAPTURE(standardized);
    BaselineConfig cfg;
    cfg.batch = 4;
    cfg.episodes = 4;  // one iteration
    cfg.gamma = 0.6;   // far from 1, so that a missing gamma^t changes the direction
    cfg.k_max = 300;   // with lr_critic 0.02, V_phi comes near the returns: A_t changes sign within episodes
    cfg.patience = 1000000;  // all 300 epochs (the rule does not stop it first)
    cfg.lr_critic = 0.02;
    cfg.no_standardize = !standardized;
    cfg.solved = 0;
    Rng rng(7);
    const std::unique_ptr<Env> env = make_env("CartPole-v1");
    std::unique_ptr<CategoricalPolicy> policy = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, rng);
    ad::Mlp value({4, 8, 1}, ad::Activation::Tanh, rng);
    const Vector theta0 = policy->parameters().flatten();
    const Vector phi0 = value.parameters().flatten();
    std::vector<Trajectory> batch;
    train_reinforce_baseline(cfg, *env, *policy, value, rng,
                             [&](long, const std::vector<Trajectory>& b, const BaselineStats&) { batch = b; });
    REQUIRE(batch.size() == 4);
    CHECK(value.parameters().flatten() != phi0);  // the critic was fitted
    const Vector step = policy->parameters().flatten() - theta0;

    // A_t = g_t - V_phi(s_t) for every step of the batch, in order; then mu_A, sigma_A.
    std::vector<double> advantage, discount;
    for (const Trajectory& tau : batch) {
      const Matrix v = value(Var(tau.obs)).value();
      std::vector<double> a(static_cast<std::size_t>(tau.length()));
      double g = 0;
      for (int t = tau.length() - 1; t >= 0; --t) {
        g = tau.rewards[static_cast<std::size_t>(t)] + cfg.gamma * g;
        a[static_cast<std::size_t>(t)] = g - static_cast<double>(v(t, 0));
      }
      for (int t = 0; t < tau.length(); ++t) {
        advantage.push_back(a[static_cast<std::size_t>(t)]);
        discount.push_back(std::pow(cfg.gamma(), t));
      }
    }
    double mu = 0, var = 0;
    for (double a : advantage) mu += a / static_cast<double>(advantage.size());
    for (double a : advantage) var += (a - mu) * (a - mu) / static_cast<double>(advantage.size());
    if (standardized)
      for (double& a : advantage) a = (a - mu) / (std::sqrt(var) + 1e-8);

    Rng unused(0);
    std::unique_ptr<CategoricalPolicy> before = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, unused);
    ad::ParameterSet params = before->parameters();
    params.unflatten(theta0);
    Var surrogate(Matrix::Zero(1, 1));
    std::size_t row = 0;
    for (const Trajectory& tau : batch) {
      Matrix w(tau.length(), 1);
      for (int t = 0; t < tau.length(); ++t, ++row) w(t, 0) = static_cast<Scalar>(discount[row] * advantage[row]);
      surrogate = surrogate + ad::sum(before->log_prob(tau.obs, tau.actions) * Var(w));
    }
    surrogate = surrogate / Scalar(4);
    const ad::Grads grads = ad::grad(surrogate, params.list());
    Vector ascent(theta0.size());
    Eigen::Index at = 0;
    for (const Var& gi : grads) {
      ascent.segment(at, gi.size()) = gi.value().reshaped();
      at += gi.size();
    }
    // The loss minimized is -surrogate; the clip scales its gradient by c (torch's rule).
    const double norm = static_cast<double>(ascent.norm());
    const double c = norm > cfg.clip ? cfg.clip / (norm + 1e-6) : 1.0;
    const double lr = cfg.lr_actor, adam_eps = 1e-8;
    const double tol = (std::is_same_v<Scalar, float> ? 1e-2 : 1e-6) * lr;
    double worst = 0;
    int moved = 0;
    // In float, a coordinate whose gradient is within rounding (~1e-6) of zero may take either sign.
    const double resolvable = std::is_same_v<Scalar, float> ? 1e-4 : 0.0;
    for (Eigen::Index j = 0; j < theta0.size(); ++j) {
      const double gj = c * static_cast<double>(ascent(j));
      if (std::abs(gj) < resolvable) continue;
      const double expected = lr * gj / (std::abs(gj) + adam_eps);
      worst = std::max(worst, std::abs(static_cast<double>(step(j)) - expected));
      moved += std::abs(expected) > 0.5 * lr;
    }
    CHECK(worst < tol);
    CHECK(moved > theta0.size() / 2);  // most coordinates take a full-size step: the check has teeth
  }
}
