// Unit tests of the policy models of Section 3.2.1.1 (chapter3/common/policy.hpp): the softmax
// policy (3.16), the Gaussian policy (3.17) and the tanh-squashed Gaussian.
//
// Every density, entropy and KL is checked against a formula computed here independently (a
// different but equivalent form where one exists), or against Monte Carlo within k standard
// errors: k = 4.5 per check with at most 14 checks per estimate (Bonferroni), so the false-fail
// rate of a test is below 1e-4. Distribution parameters are set directly (params = logits, or
// [mu, log sigma]) so that each case is a known distribution; the networks are exercised
// through dist_params.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/common/policy.hpp"
#include "tests/needs_double.hpp"

using namespace pgcpp;
using ad::Var;

namespace {

constexpr double kEps = std::numeric_limits<Scalar>::epsilon();
constexpr double kPi = std::numbers::pi;
constexpr double kSe = 4.5;  // standard errors, see the header

// |x - y| <= tol (1 + |y|): relative for large values, absolute near zero.
bool close(double x, double y, double tol) { return std::abs(x - y) <= tol * (1 + std::abs(y)); }

Matrix col(std::initializer_list<double> v) {
  Matrix m(static_cast<Eigen::Index>(v.size()), 1);
  Eigen::Index i = 0;
  for (double x : v) m(i++, 0) = static_cast<Scalar>(x);
  return m;
}

double value(const Var& v, Eigen::Index i = 0) { return static_cast<double>(v.value()(i, 0)); }

// Mean and the standard error of the mean of a sample.
struct Stats {
  double mean = 0, se = 0;
};
Stats stats(const std::vector<double>& x) {
  double m = 0, ss = 0;
  for (double v : x) m += v;
  m /= static_cast<double>(x.size());
  for (double v : x) ss += (v - m) * (v - m);
  const double n = static_cast<double>(x.size());
  return {m, std::sqrt(ss / (n - 1) / n)};
}

// E[f(u)], u ~ N(mu, sigma^2), by the trapezoid rule over mu +- 12 sigma (error << 1e-12 for the
// smooth, bounded f used here).
template <class F>
double normal_expectation(double mu, double sigma, F f, int n = 20000) {
  const double lo = mu - 12 * sigma, h = 24 * sigma / n;
  double total = 0;
  for (int i = 0; i <= n; ++i) {
    const double u = lo + i * h;
    const double w = (i == 0 || i == n) ? 0.5 : 1.0;
    total += w * f(u) * std::exp(-0.5 * std::pow((u - mu) / sigma, 2)) / (sigma * std::sqrt(2 * kPi));
  }
  return total * h;
}

// Sample mean / variance of column j vs the exact moments: 4.5 SE each. The SE of the sample
// variance is estimated from the sample's fourth central moment, sqrt((m4 - s^4) / n).
void check_moments(const Matrix& a, Eigen::Index j, double mean, double var) {
  const double n = static_cast<double>(a.rows());
  const Eigen::ArrayXd x = a.col(j).cast<double>().array();
  const double m = x.mean();
  const Eigen::ArrayXd c = x - m;
  const double s2 = c.square().sum() / (n - 1), m4 = c.square().square().mean();
  CAPTURE(j);
  CHECK(std::abs(m - mean) < kSe * std::sqrt(s2 / n));
  CHECK(std::abs(s2 - var) < kSe * std::sqrt((m4 - s2 * s2) / n));
}

std::unique_ptr<GaussianPolicy> gaussian(GaussianPolicy::LogStd kind, int m, Rng& rng, double log_std_init = 0) {
  const int out = kind == GaussianPolicy::LogStd::StateIndependent ? m : 2 * m;
  return std::make_unique<GaussianPolicy>(ad::Mlp({3, 8, out}, ad::Activation::Tanh, rng), m, kind,
                                          static_cast<Scalar>(log_std_init));
}

// [mu, log sigma] rows.
Matrix gaussian_params(std::initializer_list<std::initializer_list<double>> rows) {
  Matrix p(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
  Eigen::Index i = 0;
  for (const auto& r : rows) {
    Eigen::Index j = 0;
    for (double x : r) p(i, j++) = static_cast<Scalar>(x);
    ++i;
  }
  return p;
}

}  // namespace

// ------------------------------------------------------------------ Categorical (3.16)

TEST_CASE("categorical policy (3.16): log_prob, entropy, KL against closed forms") {
  Rng rng(1);
  const auto policy = CategoricalPolicy::make(3, {8}, 4, ad::Activation::Tanh, rng);
  Matrix obs(3, 3);
  for (Eigen::Index i = 0; i < obs.size(); ++i) obs(i) = static_cast<Scalar>(rng.normal());
  const Matrix logits = policy->params_of(obs);
  CHECK(logits.rows() == 3);
  CHECK(logits.cols() == 4);
  Matrix other = logits;
  for (Eigen::Index i = 0; i < other.size(); ++i) other(i) += static_cast<Scalar>(rng.normal());

  // pi(a|s) = exp f(s, a) / sum_b exp f(s, b), directly.
  auto prob = [](const Matrix& l, Eigen::Index i, Eigen::Index a) {
    double z = 0;
    for (Eigen::Index b = 0; b < l.cols(); ++b) z += std::exp(static_cast<double>(l(i, b)));
    return std::exp(static_cast<double>(l(i, a))) / z;
  };
  const Matrix actions = col({2, 0, 3});
  const Var logp = policy->log_prob(Var(logits), actions);
  const Var H = policy->entropy(Var(logits));
  const Var kl = policy->kl(logits, Var(other));
  for (Eigen::Index i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(close(value(logp, i), std::log(prob(logits, i, static_cast<Eigen::Index>(actions(i, 0)))), 20 * kEps));
    double h = 0, d = 0;
    for (Eigen::Index a = 0; a < 4; ++a) {
      const double p = prob(logits, i, a), q = prob(other, i, a);
      h -= p * std::log(p);
      d += p * std::log(p / q);
    }
    CHECK(close(value(H, i), h, 20 * kEps));
    CHECK(close(value(kl, i), d, 50 * kEps));
    CHECK(value(kl, i) > 0);
  }
  // The convenience log_prob(obs, actions) goes through the network.
  const Var via_obs = policy->log_prob(obs, actions);
  for (Eigen::Index i = 0; i < 3; ++i) CHECK(close(value(via_obs, i), value(logp, i), 20 * kEps));
  // KL(p || p) = 0.
  CHECK(policy->kl(logits, Var(logits)).value().cwiseAbs().maxCoeff() < 20 * kEps);
}

TEST_CASE("categorical policy: sample frequencies within SE, mode is the argmax") {
  Rng rng(2);
  const auto policy = CategoricalPolicy::make(2, {4}, 4, ad::Activation::Tanh, rng);
  const Matrix logits = gaussian_params({{0.5, -1.0, 1.2, 0.0}});
  const int n = 20000;
  const Matrix many = logits.replicate(n, 1);
  const Matrix a = policy->sample(many, rng);
  std::vector<double> count(4, 0.0);
  for (Eigen::Index i = 0; i < n; ++i) count[static_cast<std::size_t>(a(i, 0))] += 1;
  double z = 0;
  for (int k = 0; k < 4; ++k) z += std::exp(static_cast<double>(logits(0, k)));
  for (int k = 0; k < 4; ++k) {
    const double p = std::exp(static_cast<double>(logits(0, k))) / z;
    CHECK(std::abs(count[static_cast<std::size_t>(k)] / n - p) < kSe * std::sqrt(p * (1 - p) / n));
  }
  CHECK(policy->mode(logits)(0, 0) == 2);
  CHECK(policy->act_dim() == 1);
}

TEST_CASE("categorical policy: bad action shapes and values throw") {
  Rng rng(3);
  const auto policy = CategoricalPolicy::make(2, {4}, 3, ad::Activation::Tanh, rng);
  const Var logits(gaussian_params({{0.1, 0.2, 0.3}, {0.0, 0.0, 0.0}}));
  CHECK_NOTHROW(policy->log_prob(logits, col({0, 2})));
  CHECK_THROWS_AS(policy->log_prob(logits, col({0})), std::invalid_argument);          // rows
  CHECK_THROWS_AS(policy->log_prob(logits, Matrix::Zero(2, 2)), std::invalid_argument);  // columns
  CHECK_THROWS_AS(policy->log_prob(logits, col({0, 3})), std::invalid_argument);       // out of range
  CHECK_THROWS_AS(policy->log_prob(logits, col({-1, 0})), std::invalid_argument);
  CHECK_THROWS_AS(policy->log_prob(logits, col({0.5, 0})), std::invalid_argument);     // not an index
  CHECK_THROWS_AS(policy->log_prob(logits, col({std::nan(""), 0})), std::invalid_argument);
  CHECK_THROWS_AS(policy->log_prob(logits, col({0, std::numeric_limits<double>::infinity()})), std::invalid_argument);
  CHECK_THROWS_AS(policy->log_prob(logits, col({1e10, 0})), std::invalid_argument);  // no int overflow
}

// ------------------------------------------------------------------ Gaussian (3.17)

TEST_CASE("Gaussian policy (3.17): log_prob, entropy, KL against closed forms") {
  Rng rng(4);
  for (auto kind : {GaussianPolicy::LogStd::StateIndependent, GaussianPolicy::LogStd::StateDependent}) {
    const auto policy = gaussian(kind, 2, rng);
    const Matrix params = gaussian_params({{0.3, -1.2, -0.4, 0.5}, {2.0, 0.1, 0.7, -1.5}});
    const Matrix other = gaussian_params({{-0.2, -1.0, 0.1, 0.3}, {1.0, 0.4, -0.2, -1.0}});
    const Matrix actions = gaussian_params({{0.9, -2.5}, {1.1, 0.12}});
    const Var logp = policy->log_prob(Var(params), actions);
    const Var H = policy->entropy(Var(params));
    const Var kl = policy->kl(params, Var(other));
    for (Eigen::Index i = 0; i < 2; ++i) {
      CAPTURE(i);
      // The density as a product of 1-D normal densities.
      double density = 1, h = 0;
      for (int j = 0; j < 2; ++j) {
        const double mu = params(i, j), sigma = std::exp(static_cast<double>(params(i, 2 + j)));
        const double a = actions(i, j);
        density *= std::exp(-(a - mu) * (a - mu) / (2 * sigma * sigma)) / (sigma * std::sqrt(2 * kPi));
        h += 0.5 * std::log(2 * kPi * std::numbers::e * sigma * sigma);
      }
      CHECK(close(value(logp, i), std::log(density), 50 * kEps));
      CHECK(close(value(H, i), h, 20 * kEps));
      // KL between multivariate normals in matrix form:
      //   1/2 [tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - m + log(det S1 / det S0)]
      Eigen::Vector2d m0, m1;
      Eigen::Matrix2d S0 = Eigen::Matrix2d::Zero(), S1 = Eigen::Matrix2d::Zero();
      for (int j = 0; j < 2; ++j) {
        m0(j) = params(i, j), m1(j) = other(i, j);
        S0(j, j) = std::exp(2.0 * params(i, 2 + j)), S1(j, j) = std::exp(2.0 * other(i, 2 + j));
      }
      const Eigen::Matrix2d S1inv = S1.inverse();
      const double d = 0.5 * ((S1inv * S0).trace() + (m1 - m0).dot(S1inv * (m1 - m0)) - 2 +
                              std::log(S1.determinant() / S0.determinant()));
      CHECK(close(value(kl, i), d, 50 * kEps));
    }
    CHECK((policy->mode(params) == params.leftCols(2)));
    CHECK(policy->act_dim() == 2);
  }
}

TEST_CASE("Gaussian policy: KL by Monte Carlo, sample moments within SE") {
  Rng rng(5);
  const auto policy = gaussian(GaussianPolicy::LogStd::StateIndependent, 2, rng);
  const Matrix old_p = gaussian_params({{0.3, -1.2, -0.4, 0.5}});
  const Matrix new_p = gaussian_params({{0.1, -0.8, -0.1, 0.2}});
  const int n = 20000;
  const Matrix a = policy->sample(old_p.replicate(n, 1), rng);
  for (Eigen::Index j = 0; j < 2; ++j)
    check_moments(a, j, old_p(0, j), std::exp(2.0 * old_p(0, 2 + j)));
  // KL(old || new) = E_old[log pi_old(a) - log pi_new(a)].
  const Matrix diff =
      policy->log_prob(Var(old_p.replicate(n, 1)), a).value() - policy->log_prob(Var(new_p.replicate(n, 1)), a).value();
  const Stats mc = stats(std::vector<double>(diff.data(), diff.data() + n));
  CHECK(std::abs(mc.mean - value(policy->kl(old_p, Var(new_p)))) < kSe * mc.se);
}

TEST_CASE("Gaussian policy: dist_params, log-std handling, bad shapes throw") {
  Rng rng(6);
  const Matrix obs = gaussian_params({{0.1, 0.2, 0.3}, {-1.0, 0.5, 2.0}});
  // State-independent: log sigma is the parameter, the same for every state.
  const auto fixed = gaussian(GaussianPolicy::LogStd::StateIndependent, 2, rng, -0.7);
  const Matrix p = fixed->params_of(obs);
  CHECK(p.cols() == 4);
  CHECK((p.rightCols(2).array() == static_cast<Scalar>(-0.7)).all());
  CHECK(fixed->parameters().count() == 3 * 8 + 8 + 8 * 2 + 2 + 2);
  // State-dependent: the second head, clamped to [log_std_min, log_std_max].
  auto learned = std::make_unique<GaussianPolicy>(ad::Mlp({3, 8, 4}, ad::Activation::Tanh, rng), 2,
                                                  GaussianPolicy::LogStd::StateDependent, Scalar(0), Scalar(-3),
                                                  Scalar(1));
  ad::ParameterSet theta = learned->parameters();
  theta.unflatten(theta.flatten() * Scalar(200));  // huge outputs
  const Matrix q = learned->params_of(obs);
  CHECK(q.rightCols(2).maxCoeff() <= Scalar(1));
  CHECK(q.rightCols(2).minCoeff() >= Scalar(-3));
  CHECK(((q.rightCols(2).array() == Scalar(1)) || (q.rightCols(2).array() == Scalar(-3))).any());

  CHECK_THROWS_AS(GaussianPolicy(ad::Mlp({3, 8, 3}, ad::Activation::Tanh, rng), 2,
                                 GaussianPolicy::LogStd::StateDependent),
                  std::invalid_argument);
  const Var params(p);
  CHECK_THROWS_AS(fixed->log_prob(params, Matrix::Zero(2, 3)), std::invalid_argument);
  CHECK_THROWS_AS(fixed->log_prob(params, Matrix::Zero(3, 2)), std::invalid_argument);
  CHECK_THROWS_AS(fixed->log_prob(params, Matrix::Zero(2, 1)), std::invalid_argument);
  // A NaN or infinite action (a missing one, an overflow) would make the log-density NaN or -inf.
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(fixed->log_prob(params, gaussian_params({{0.1, 0.2}, {nan, 0.0}})),
                       doctest::Contains("not a finite number"), std::invalid_argument);
  CHECK_THROWS_AS(fixed->log_prob(params, gaussian_params({{0.1, -inf}, {0.0, 0.0}})), std::invalid_argument);
  CHECK_THROWS_AS(learned->log_prob(learned->dist_params(Var(obs)), gaussian_params({{inf, 0.2}, {0.0, 0.0}})),
                  std::invalid_argument);
  CHECK(fixed->log_prob(params, gaussian_params({{1e6, 0.2}, {0.0, 0.0}})).value().allFinite());
}

// ------------------------------------------------------------------ Squashed Gaussian

namespace {

// a = shift + scale tanh(u), u ~ N(mu, sigma^2): by the change of variables,
//   p(a) = N(u; mu, sigma) / (scale (1 - y^2)),  y = (a - shift) / scale,  u = atanh y.
double squashed_density(double a, double mu, double sigma, double low, double high) {
  const double scale = 0.5 * (high - low), shift = 0.5 * (high + low);
  const double y = (a - shift) / scale, u = std::atanh(y);
  return std::exp(-0.5 * std::pow((u - mu) / sigma, 2)) / (sigma * std::sqrt(2 * kPi)) / (scale * (1 - y * y));
}

SquashedGaussianPolicy squashed_1d(Rng& rng, double low, double high) {
  return SquashedGaussianPolicy(ad::Mlp({2, 8, 2}, ad::Activation::Tanh, rng), Eigen::VectorXd::Constant(1, low),
                                Eigen::VectorXd::Constant(1, high));
}

}  // namespace

TEST_CASE("squashed Gaussian: log_prob against the change-of-variables density") {
  Rng rng(7);
  const SquashedGaussianPolicy policy(ad::Mlp({3, 8, 4}, ad::Activation::Tanh, rng),
                                      (Eigen::VectorXd(2) << -2.0, 0.0).finished(),
                                      (Eigen::VectorXd(2) << 1.0, 0.5).finished());
  const Matrix params = gaussian_params({{0.3, -1.2, -0.4, 0.5}, {2.0, 0.1, 0.7, -1.5}});
  const Matrix actions = gaussian_params({{0.5, 0.05}, {-1.9, 0.3}});
  const Var logp = policy.log_prob(Var(params), actions);
  for (Eigen::Index i = 0; i < 2; ++i) {
    const double expected =
        std::log(squashed_density(actions(i, 0), params(i, 0), std::exp(static_cast<double>(params(i, 2))), -2, 1)) +
        std::log(squashed_density(actions(i, 1), params(i, 1), std::exp(static_cast<double>(params(i, 3))), 0, 0.5));
    CHECK(close(value(logp, i), expected, 1e3 * kEps));
  }
  CHECK(policy.mode(params)(0, 0) == doctest::Approx(-0.5 + 1.5 * std::tanh(0.3)));
  CHECK(policy.mode(params)(1, 1) == doctest::Approx(0.25 + 0.25 * std::tanh(0.1)));
  CHECK(policy.act_dim() == 2);
}

// Numerical integrals over the action box (the density's atanh near the edges needs double).
TEST_CASE("squashed Gaussian, 1-D: pi integrates to 1, entropy equals -integral of p log p" *
          NEEDS_DOUBLE("a midpoint rule over the action box to 1e-5: in float, atanh near the edges has no digits")) {
  Rng rng(8);
  const double low = -2, high = 1;
  const SquashedGaussianPolicy policy = squashed_1d(rng, low, high);
  // Midpoint rule on the box; the density vanishes at both edges faster than any power.
  const int n = 100000;
  Matrix actions(n, 1);
  for (int i = 0; i < n; ++i) actions(i, 0) = low + (high - low) * (i + 0.5) / n;
  for (const auto& [mu, log_sigma] : {std::pair{0.3, -0.4}, std::pair{-1.0, 0.0}, std::pair{0.5, 0.2}}) {
    CAPTURE(mu);
    CAPTURE(log_sigma);
    const Matrix params = gaussian_params({{mu, log_sigma}});
    const Matrix logp = policy.log_prob(Var(params.replicate(n, 1)), actions).value();
    const double h = (high - low) / n;
    double mass = 0, neg_entropy = 0;
    for (int i = 0; i < n; ++i) {
      const double p = std::exp(logp(i, 0));
      mass += p * h;
      neg_entropy += p * logp(i, 0) * h;
    }
    // The midpoint rule drops half a cell (3e-5) at each edge, where the density of a piles up:
    // mass P(|u| > 6), about 1e-6 at sigma = 1.22.
    CHECK(std::abs(mass - 1) < 1e-5);
    // The same dropped cells bound the entropy's agreement; larger sigma, where a grid over a
    // cannot work in double, is the next test's, integrating over u.
    CHECK(std::abs(value(policy.entropy(Var(params))) + neg_entropy) < 5e-5);
  }
}

namespace {

// H[pi] = -integral over the box of p(a) log p(a) da for a = shift + scale tanh(u), u ~ N(mu,
// sigma^2), computed independently of policy.cpp: by brute force, with the change of variables
// da = scale sech^2(u) du, p(a) = N(u; mu, sigma) / (scale sech^2 u), i.e.
//   H = -integral N(u) [log N(u) - log scale + 2 log cosh u] du,
// by a fine trapezoid rule over u in mu +- 12 sigma (step <= min(sigma / 50, 0.02); the integrand
// is analytic in |Im u| < pi/2, so the rule's error is below 1e-15 and rounding, ~1e-13, rules;
// the nodes are u_i = mu + sigma z_i, so that z_i is exact even where sigma << ulp(mu)).
// A grid over a itself cannot do this in double: at sigma = e^2 1.2% of the mass lies closer to
// the box's edges than 1e-16, where a's next representable value is the edge.
double squashed_entropy_reference(double mu, double sigma, double scale) {
  const int n = static_cast<int>(std::ceil(24 * sigma / std::min(sigma / 50, 0.02)));
  const double dz = 24.0 / n;
  double total = 0;
  for (int i = 0; i <= n; ++i) {
    const double z = -12 + i * dz, u = mu + sigma * z;
    const double log_normal = -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2 * kPi);
    const double log_cosh = std::abs(u) + std::log1p(std::exp(-2 * std::abs(u))) - std::log(2.0);
    const double log_p = log_normal - std::log(scale) + 2 * log_cosh;
    total += (i == 0 || i == n ? 0.5 : 1.0) * std::exp(log_normal) * -log_p;
  }
  return total * sigma * dz;
}

}  // namespace

// 20-point Gauss-Hermite over u, as entropy() once used, was 0.16 nats off at sigma = e^2 (the
// default log_std_max), 7.5e-3 at e, 6e-4 at 2: log cosh u bends within |u| < ~1, a feature
// 1/sigma narrow in the standard normal variable of the rule.
TEST_CASE("squashed Gaussian: entropy (and its gradient) against a brute-force integral, sigma = e^-20 .. e^4") {
  Rng rng(12);
  const double low = -2, high = 1, scale = 1.5;
  const SquashedGaussianPolicy policy = squashed_1d(rng, low, high);
  std::vector<std::pair<double, double>> cases;  // (mu, log sigma)
  for (double mu : {0.0, 0.7, -2.5, 15.0})
    for (double log_sigma : {-20.0, -3.0, -0.5, 0.0, 0.2, 1.0, 1.5, 2.0, 3.0, 4.0}) cases.emplace_back(mu, log_sigma);
  Matrix params(static_cast<Eigen::Index>(cases.size()), 2);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    params(static_cast<Eigen::Index>(i), 0) = static_cast<Scalar>(cases[i].first);
    params(static_cast<Eigen::Index>(i), 1) = static_cast<Scalar>(cases[i].second);
  }
  const Var p(params, true);
  const Var H = policy.entropy(p);
  const ad::Grads g = ad::grad(ad::sum(H), {p});
  // The value to ~1e-9 (double); in float, to the rounding of mu + sigma z and of the sum.
  const double tol = std::max(1e-8, 20 * kEps);
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const auto i = static_cast<Eigen::Index>(k);
    const double mu = params(i, 0), sigma = std::exp(static_cast<double>(params(i, 1)));
    CAPTURE(mu);
    CAPTURE(std::log(sigma));
    CHECK(close(value(H, i), squashed_entropy_reference(mu, sigma, scale), tol));
    // dH/dmu = E[d/du log(1 - tanh^2 u)] = E[-2 tanh u];  dH/dlog sigma = 1 + E[(u - mu) (-2 tanh u)].
    const double dmu = normal_expectation(mu, sigma, [](double u) { return -2 * std::tanh(u); });
    const double dlog_sigma =
        1 + normal_expectation(mu, sigma, [mu](double u) { return (u - mu) * -2 * std::tanh(u); });
    CHECK(close(g[0].value()(i, 0), dmu, tol));
    CHECK(close(g[0].value()(i, 1), dlog_sigma, tol));
  }
  // Each row's entropy is its own rule's: the same in a batch of one (to summation order).
  const Var alone = policy.entropy(Var(Matrix(params.row(3))));
  CHECK(close(value(alone), value(H, 3), 20 * kEps));
}

TEST_CASE("squashed Gaussian: entropy and KL by Monte Carlo, sample moments within SE") {
  Rng rng(9);
  const SquashedGaussianPolicy policy(ad::Mlp({3, 8, 4}, ad::Activation::Tanh, rng),
                                      (Eigen::VectorXd(2) << -2.0, 0.0).finished(),
                                      (Eigen::VectorXd(2) << 1.0, 0.5).finished());
  const Matrix old_p = gaussian_params({{0.3, -1.2, -0.4, 0.5}});
  const Matrix new_p = gaussian_params({{0.1, -0.8, 0.0, 0.2}});
  const int n = 20000;
  const Matrix a = policy.sample(old_p.replicate(n, 1), rng);
  CHECK(a.col(0).minCoeff() >= -2);
  CHECK(a.col(0).maxCoeff() <= 1);
  CHECK(a.col(1).minCoeff() >= 0);
  CHECK(a.col(1).maxCoeff() <= 0.5);

  // Moments of a_j = shift_j + scale_j tanh(u_j), by quadrature over u_j.
  const double scale[2] = {1.5, 0.25}, shift[2] = {-0.5, 0.25};
  for (Eigen::Index j = 0; j < 2; ++j) {
    const double mu = old_p(0, j), sigma = std::exp(static_cast<double>(old_p(0, 2 + j)));
    const double m1 = normal_expectation(mu, sigma, [](double u) { return std::tanh(u); });
    const double m2 = normal_expectation(mu, sigma, [](double u) { return std::tanh(u) * std::tanh(u); });
    check_moments(a, j, shift[j] + scale[j] * m1, scale[j] * scale[j] * (m2 - m1 * m1));
  }

  // H = -E[log pi(a)], KL(old || new) = E_old[log pi_old(a) - log pi_new(a)].
  const Matrix logp_old = policy.log_prob(Var(old_p.replicate(n, 1)), a).value();
  const Matrix logp_new = policy.log_prob(Var(new_p.replicate(n, 1)), a).value();
  std::vector<double> neg_logp(n), log_ratio(n);
  for (int i = 0; i < n; ++i) {
    neg_logp[static_cast<std::size_t>(i)] = -logp_old(i, 0);
    log_ratio[static_cast<std::size_t>(i)] = logp_old(i, 0) - logp_new(i, 0);
  }
  const Stats H = stats(neg_logp), KL = stats(log_ratio);
  CHECK(std::abs(H.mean - value(policy.entropy(Var(old_p)))) < kSe * H.se);
  CHECK(std::abs(KL.mean - value(policy.kl(old_p, Var(new_p)))) < kSe * KL.se);
  // KL is invariant under the squashing: it is the KL of the Gaussians over u.
  const auto plain = gaussian(GaussianPolicy::LogStd::StateDependent, 2, rng);
  CHECK(close(value(policy.kl(old_p, Var(new_p))), value(plain->kl(old_p, Var(new_p))), 20 * kEps));
}

TEST_CASE("squashed Gaussian: rsample's action and log-density agree with log_prob of that action") {
  Rng rng(10);
  const SquashedGaussianPolicy policy(ad::Mlp({3, 8, 4}, ad::Activation::Tanh, rng),
                                      (Eigen::VectorXd(2) << -2.0, 0.0).finished(),
                                      (Eigen::VectorXd(2) << 1.0, 0.5).finished());
  const Matrix params = gaussian_params({{0.3, -1.2, -0.4, 0.5}, {2.0, 0.1, 0.7, -1.5}, {-0.5, 0.4, 0.0, 0.0}});
  Matrix eps(3, 2);
  for (Eigen::Index i = 0; i < eps.size(); ++i) eps(i) = static_cast<Scalar>(rng.normal());
  const Var p(params, true);
  const SquashedGaussianPolicy::Sample s = policy.rsample(p, eps);
  const double scale[2] = {1.5, 0.25}, shift[2] = {-0.5, 0.25};
  for (Eigen::Index i = 0; i < 3; ++i)
    for (Eigen::Index j = 0; j < 2; ++j) {
      const double u = params(i, j) + std::exp(static_cast<double>(params(i, 2 + j))) * eps(i, j);
      CHECK(close(s.action.value()(i, j), shift[j] + scale[j] * std::tanh(u), 20 * kEps));
    }
  // log_prob recovers u by atanh: agreement to the rounding that inversion costs.
  const Var again = policy.log_prob(Var(params), s.action.value());
  for (Eigen::Index i = 0; i < 3; ++i) CHECK(close(value(s.log_prob, i), value(again, i), 1e4 * kEps));
  // Both are differentiable in params: the reparameterized sample passes a gradient.
  const ad::Grads g = ad::grad(ad::sum(s.log_prob + ad::sum(s.action, 1)), {p});
  CHECK(g[0].value().allFinite());
  CHECK(g[0].value().cwiseAbs().maxCoeff() > 0);
}

TEST_CASE("squashed Gaussian: bad boxes and action shapes throw") {
  Rng rng(11);
  CHECK_THROWS_AS(SquashedGaussianPolicy(ad::Mlp({2, 4, 2}, ad::Activation::Tanh, rng),
                                         Eigen::VectorXd::Constant(1, 1.0), Eigen::VectorXd::Constant(1, 1.0)),
                  std::invalid_argument);
  CHECK_THROWS_AS(SquashedGaussianPolicy(ad::Mlp({2, 4, 4}, ad::Activation::Tanh, rng),
                                         Eigen::VectorXd::Constant(2, -1.0), Eigen::VectorXd::Constant(1, 1.0)),
                  std::invalid_argument);
  const SquashedGaussianPolicy policy = squashed_1d(rng, -1, 1);
  const Var params(gaussian_params({{0.0, 0.0}, {0.1, -0.2}}));
  CHECK_THROWS_AS(policy.log_prob(params, Matrix::Zero(2, 2)), std::invalid_argument);
  CHECK_THROWS_AS(policy.log_prob(params, Matrix::Zero(1, 1)), std::invalid_argument);
  CHECK_THROWS_AS(policy.rsample(params, Matrix::Zero(2, 2)), std::invalid_argument);
  // Actions on the box's edges are pulled inside: finite log-densities.
  CHECK(policy.log_prob(params, col({-1, 1})).value().allFinite());
}

TEST_CASE("squashed Gaussian: log_prob rejects NaN and out-of-box actions, reads the edges as 1 - eps") {
  Rng rng(13);
  const double low = -2, high = 1, scale = 1.5;
  const SquashedGaussianPolicy policy = squashed_1d(rng, low, high);
  const Matrix p = gaussian_params({{0.3, 0.5}, {-0.2, -1.0}});
  const Var params(p);
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(policy.log_prob(params, col({0.0, nan})), doctest::Contains("not a finite number"),
                       std::invalid_argument);
  CHECK_THROWS_AS(policy.log_prob(params, col({inf, 0.0})), std::invalid_argument);
  CHECK_THROWS_AS(policy.log_prob(params, col({-inf, 0.0})), std::invalid_argument);
  CHECK_THROWS_WITH_AS(policy.log_prob(params, col({0.0, 1.001})), doctest::Contains("outside the action box"),
                       std::invalid_argument);
  CHECK_THROWS_AS(policy.log_prob(params, col({-2.5, 0.0})), std::invalid_argument);
  CHECK_THROWS_AS(policy.log_prob(params, col({-2 - 1e-4, 0.0})), std::invalid_argument);

  // On an edge, and a rounding error past it: y = +-(1 - eps), where
  //   log p = log N(u; mu, sigma) - log(scale (1 - y^2)),  u = +-atanh(1 - eps),  1 - y^2 = eps (2 - eps).
  const double eps = std::numeric_limits<Scalar>::epsilon();
  const double u_edge = 0.5 * std::log((2 - eps) / eps);
  auto edge_log_density = [&](Eigen::Index i, double side) {
    const double mu = p(i, 0), sigma = std::exp(static_cast<double>(p(i, 1))), z = (side * u_edge - mu) / sigma;
    return -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2 * kPi) - std::log(scale * eps * (2 - eps));
  };
  Matrix edges = col({low, high});
  const Var at_edges = policy.log_prob(params, edges);
  CHECK(close(value(at_edges, 0), edge_log_density(0, -1), 1e3 * kEps));
  CHECK(close(value(at_edges, 1), edge_log_density(1, 1), 1e3 * kEps));
  edges(0, 0) = std::nextafter(edges(0, 0), Scalar(-3));
  edges(1, 0) = std::nextafter(edges(1, 0), Scalar(2));
  const Var past = policy.log_prob(params, edges);
  CHECK(value(past, 0) == value(at_edges, 0));
  CHECK(value(past, 1) == value(at_edges, 1));

  // Saturated samples (tanh u rounds to +-1) land on the edges, give or take rounding of
  // shift + scale, also in a box whose ends are not exact in binary: never rejected.
  for (const auto& [lo, hi] : {std::pair{low, high}, std::pair{0.1, 0.7}, std::pair{-0.3, 1e3 + 0.1}}) {
    CAPTURE(lo);
    CAPTURE(hi);
    const SquashedGaussianPolicy box = squashed_1d(rng, lo, hi);
    const Matrix saturated = gaussian_params({{40.0, -3.0}, {-40.0, -3.0}}).replicate(50, 1);
    const Matrix a = box.sample(saturated, rng);
    Matrix logp;
    REQUIRE_NOTHROW(logp = box.log_prob(Var(saturated), a).value());
    CHECK(logp.allFinite());
  }
}
