// Section 3.2.3-3.2.4's machinery: returns (3.13), returns-to-go (3.14), the REINFORCE weights of
// (3.23) and (3.24), the surrogate whose gradient is the estimator, and the critic's stopping
// rule of Section 3.2.4.4 step 3. Expected values are computed by hand or term by term.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "chapter3/experiment/demo.hpp"
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

TEST_CASE("(3.13) and (3.14): R(tau) and g_t by hand; g_0 = R(tau)") {
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

TEST_CASE("the REINFORCE surrogate's gradient is (3.24) summed term by term") {
  // -(1/N) sum_i sum_t w_t log pi(a_t|s_t), differentiated once as a whole, equals
  // (1/N) sum_i sum_t w_t grad log pi(a_t|s_t) with each score taken separately (negated).
  Rng rng(5);
  auto policy = CategoricalPolicy::make(3, {8}, 2, ad::Activation::Tanh, rng);
  const std::vector<Trajectory> batch{make_trajectory({1, 0, 2}, 3, rng), make_trajectory({0.5, 1}, 3, rng)};
  const double gamma = 0.95;
  const Vector w = reinforce_weights(batch, gamma, false);
  const Matrix obs = stack_obs(batch), actions = stack_actions(batch);
  const ad::ParameterSet theta = policy->parameters();

  const Var loss = -ad::sum(policy->log_prob(obs, actions) * Var(Matrix(w))) / Scalar(2);
  const ad::Grads whole = ad::grad(loss, theta.list());

  for (std::size_t p = 0; p < theta.size(); ++p) {
    Matrix term_sum = Matrix::Zero(whole[p].rows(), whole[p].cols());
    for (Eigen::Index t = 0; t < obs.rows(); ++t) {
      const Var log_pi_t = policy->log_prob(Matrix(obs.row(t)), Matrix(actions.row(t)));
      term_sum -= w(t) / Scalar(2) * ad::grad(log_pi_t, {theta.list()[p]})[0].value();
    }
    CHECK((whole[p].value() - term_sum).norm() <= 100 * kEps * (1 + term_sum.norm()));
  }
}

TEST_CASE("Section 3.2.4.4 step 3: the critic's stopping rule counts checks as the book says") {
  Rng rng(7);
  const Matrix obs = Matrix::Random(40, 4);
  const Matrix g = Matrix::Constant(40, 1, 10);
  BaselineConfig cfg;
  cfg.check_every = 5;
  cfg.patience = 3;
  cfg.k_max = 1000;
  double final_loss = 0;

  SUBCASE("epsilon = 1: every check after the first is 'quiet', so the fit stops at the (M+1)-th check") {
    // The first check has no predecessor; checks 2..M+1 each have relative decrease < 1 (the
    // loss stays positive, so (L_prev - L) / max(1, |L_prev|) < 1).
    cfg.epsilon = 1;
    ad::Mlp value({4, 8, 1}, ad::Activation::Tanh, rng);
    ad::Adam opt(value.parameters(), ad::StepSize::constant(Scalar(1e-3)));
    CHECK(fit_value(cfg, value, opt, obs, g, Scalar(4), final_loss) == cfg.check_every * (cfg.patience + 1));
  }
  SUBCASE("epsilon = -inf: no check is quiet, the fit runs K_max steps and reduces the loss") {
    cfg.epsilon = -std::numeric_limits<double>::infinity();
    cfg.k_max = 200;
    ad::Mlp value({4, 8, 1}, ad::Activation::Tanh, rng);
    const double before = ad::sum(ad::square(Var(g) - value(Var(obs)))).item() / 4;
    ad::Adam opt(value.parameters(), ad::StepSize::constant(Scalar(1e-2)));
    CHECK(fit_value(cfg, value, opt, obs, g, Scalar(4), final_loss) == 200);
    CHECK(final_loss < 0.5 * before);
  }
}

// (3.30): the actor step of REINFORCE with a learned baseline follows the minibatch estimator
//   1/N sum_i sum_t gamma^t grad log pi(a_t|s_t) A_t,   A_t = g_t - V_phi(s_t),
// with V_phi the critic as fitted on this batch (step 3 before step 4). Computed here on its own:
// returns-to-go by a backward loop, V_phi evaluated after the run (the critic is not touched after
// its fit), scores by autodiff at theta_0. Adam's first step is alpha c g / (|c g| + eps) per
// coordinate (m_hat = c g, v_hat = (c g)^2; c = the norm clip's factor), so the step gives the
// estimator's direction coordinate by coordinate. It fails for a wrong sign, a missing gamma^t,
// the baseline before the fit or none at all; a constant factor such as 1/N is invisible to
// Adam's first step (the surrogate test above checks it).
TEST_CASE("(3.30): one actor step of REINFORCE with a baseline follows the baseline-subtracted estimator") {
  BaselineConfig cfg;
  cfg.batch = 4;
  cfg.episodes = 4;  // one iteration
  cfg.gamma = 0.6;  // far from 1, so that a missing gamma^t changes the direction
  cfg.k_max = 300;  // with lr_critic 0.02, V_phi comes near the returns: A_t changes sign within episodes
  cfg.lr_critic = 0.02;
  cfg.no_standardize = true;
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

  Rng unused(0);
  std::unique_ptr<CategoricalPolicy> before = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, unused);
  ad::ParameterSet params = before->parameters();
  params.unflatten(theta0);
  Var surrogate(Matrix::Zero(1, 1));
  for (const Trajectory& tau : batch) {
    const Matrix v = value(Var(tau.obs)).value();
    Matrix w(tau.length(), 1);
    double g = 0;
    for (int t = tau.length() - 1; t >= 0; --t) {
      g = tau.rewards[static_cast<std::size_t>(t)] + cfg.gamma * g;
      w(t, 0) = static_cast<Scalar>(std::pow(cfg.gamma(), t) * (g - static_cast<double>(v(t, 0))));
    }
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
