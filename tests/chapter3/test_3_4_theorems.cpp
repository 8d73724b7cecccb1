// Section 3.4.1-3.4.7's theorems and identities, numerically: the performance difference lemma
// (Theorem 3.8, (3.47)) and its local surrogate; the KL divergence (3.48) and the closed forms
// the policies use; the Fisher information (3.54) as the Hessian of the mean KL (3.50) at
// theta_k (Section 3.4.5); the NPG step (3.55) as the solution of the QP (3.52) and CG against a
// dense solve; PPO's gradient (3.57) and the case analysis of the clipped objective (3.58); and
// the loops through their entry points, update by update: train_npg's step (3.53)-(3.55),
// train_trpo's line search (both of its checks), PPO's entropy bonus, train_ppo (PPO-Clip and
// PPO-KL with its adaptive lambda) in lockstep with a reference written from the pseudocode.
//
// Independent quantities: exact values of random finite MDPs (linear solves, envs/tabular_mdp.hpp),
// Fisher matrices assembled from per-sample score vectors (autodiff gradients of log pi, one
// sample at a time) with exact expectations over the actions (a sum for the categorical policy,
// 3-point Gauss-Hermite quadrature for the Gaussian one, exact because the integrand is a
// polynomial of degree <= 4 in each standardized coordinate), dense Cholesky solves, and Monte
// Carlo estimates checked against their standard error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/3_4_6_trpo.hpp"
#include "chapter3/3_4_7_ppo.hpp"
#include "chapter3/common/critic.hpp"
#include "chapter3/common/minibatch.hpp"
#include "chapter3/common/natural_gradient.hpp"
#include "chapter3/common/policy.hpp"
#include "envs/tabular_mdp.hpp"
#include "envs/vec_env.hpp"
#include "tests/mean_se.hpp"
#include "tests/needs_double.hpp"
#include "tools/bench/fixtures.hpp"
#include "tools/bench/ppo_npg_hand.hpp"

using namespace pgcpp;
using test::MeanSe;
using ad::Var;
using MatrixD = Eigen::MatrixXd;
using VectorD = Eigen::VectorXd;

namespace {

constexpr double kEps = std::numeric_limits<Scalar>::epsilon();

MatrixD random_theta(int S, int A, Rng& rng, double scale) {
  MatrixD theta(S, A);
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta(i) = scale * rng.normal();
  return theta;
}

Matrix random_obs(int n, int d, Rng& rng) {
  Matrix obs(n, d);
  for (Eigen::Index i = 0; i < obs.size(); ++i) obs(i) = static_cast<Scalar>(rng.normal());
  return obs;
}

VectorD to_double(const Vector& v) { return v.cast<double>(); }

// Per-sample score grad_theta log pi(a|s) of one state (a 1-row obs) and one action (1 x act_dim).
VectorD score(const Policy& policy, const Matrix& obs_row, const Matrix& action) {
  return to_double(flat_gradient(policy.log_prob(obs_row, action), policy.parameters()));
}

// F = 1/N sum_i E_{a~pi(.|s_i)}[u u^T], u = grad log pi(a|s_i): the Fisher information (3.54).
// Categorical: the expectation is the exact sum over the actions.
MatrixD categorical_fisher(const Policy& policy, const Matrix& obs, int num_actions) {
  const Eigen::Index d = policy.parameters().count();
  MatrixD F = MatrixD::Zero(d, d);
  const Matrix logits = policy.params_of(obs);
  for (Eigen::Index i = 0; i < obs.rows(); ++i) {
    const Eigen::RowVectorXd z = logits.row(i).cast<double>();
    Eigen::RowVectorXd p = (z.array() - z.maxCoeff()).exp().matrix();
    p /= p.sum();
    for (int a = 0; a < num_actions; ++a) {
      const VectorD u = score(policy, obs.row(i), Matrix::Constant(1, 1, static_cast<Scalar>(a)));
      F += p(a) * u * u.transpose();
    }
  }
  return F / static_cast<double>(obs.rows());
}

// Gaussian with m = 2 action dimensions: E over a = mu + sigma z by the tensor 3-point
// Gauss-Hermite rule (nodes 0, +-sqrt 3; weights 2/3, 1/6, 1/6), exact to degree 5 per coordinate.
MatrixD gaussian_fisher(const GaussianPolicy& policy, const Matrix& obs) {
  const Eigen::Index d = policy.parameters().count();
  MatrixD F = MatrixD::Zero(d, d);
  const Matrix params = policy.params_of(obs);
  const double z[3] = {0.0, std::sqrt(3.0), -std::sqrt(3.0)}, w[3] = {2.0 / 3, 1.0 / 6, 1.0 / 6};
  for (Eigen::Index n = 0; n < obs.rows(); ++n)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        Matrix a(1, 2);
        a(0, 0) = params(n, 0) + std::exp(params(n, 2)) * static_cast<Scalar>(z[i]);
        a(0, 1) = params(n, 1) + std::exp(params(n, 3)) * static_cast<Scalar>(z[j]);
        const VectorD u = score(policy, obs.row(n), a);
        F += w[i] * w[j] * u * u.transpose();
      }
  return F / static_cast<double>(obs.rows());
}

// The matrix of a linear map, column by column: M e_j.
MatrixD matrix_of(const LinearMap& A, Eigen::Index d) {
  MatrixD M(d, d);
  for (Eigen::Index j = 0; j < d; ++j) M.col(j) = to_double(A(Vector::Unit(d, j)));
  return M;
}

double relative_error(const MatrixD& a, const MatrixD& b) { return (a - b).norm() / b.norm(); }
// log P(x) - log Q(x) for n draws x ~ P, P and Q given by their parameters (one row each).
MeanSe monte_carlo_kl(const Policy& policy, const Matrix& p, const Matrix& q, int n, Rng& rng) {
  const Matrix pn = p.replicate(n, 1), qn = q.replicate(n, 1);
  const Matrix x = policy.sample(pn, rng);
  const Matrix log_ratio = policy.log_prob(Var(pn), x).value() - policy.log_prob(Var(qn), x).value();
  MeanSe mc;
  for (int i = 0; i < n; ++i) mc.add(static_cast<double>(log_ratio(i, 0)));
  return mc;
}

// A policy object only used for its distribution functions (log_prob, kl, sample) of given params.
std::unique_ptr<CategoricalPolicy> categorical_of(int num_actions, Rng& rng) {
  return CategoricalPolicy::make(1, {2}, num_actions, ad::Activation::Tanh, rng);
}

}  // namespace

// ------------------------------------------------------------------ Theorem 3.8 (PDL)

// Theorem 3.8: J(pi') - J(pi) = 1/(1 - gamma) E_{s~d^pi', a~pi'}[A^pi(s, a)]                 (3.47)
TEST_CASE("theorem 3.8 (performance difference lemma): both sides exactly, on random MDPs, to 1e-10") {
  const MdpSpec specs[] = {{5, 3, 0.9, 1}, {8, 4, 0.5, 2}, {6, 2, 0.99, 3}, {12, 5, 0.95, 4}, {3, 3, 0.7, 5}};
  for (const MdpSpec& spec : specs) {
    CAPTURE(spec.seed);
    const TabularMdp mdp = random_mdp(spec);
    Rng rng(100 + spec.seed);
    const MatrixD pi = softmax_policy(random_theta(spec.states, spec.actions, rng, 1.5));
    const MatrixD pi2 = softmax_policy(random_theta(spec.states, spec.actions, rng, 1.5));
    const double lhs = mdp.J(pi2) - mdp.J(pi);
    // E_{s~d^pi', a~pi'}[A^pi(s, a)] = sum_s d^pi'(s) sum_a pi'(a|s) A^pi(s, a)
    const MatrixD A = mdp.advantage(pi);
    const VectorD d2 = mdp.visitation(pi2);
    const double rhs = (d2.asDiagonal() * pi2.cwiseProduct(A)).sum() / (1 - spec.gamma);
    CHECK(std::abs(lhs - rhs) <= 1e-10 * std::max(1.0, std::abs(mdp.J(pi))));
    CHECK(std::abs(lhs) > 1e-3);  // two different policies: the identity is not 0 = 0
    // The distribution shift matters: under d^pi (the surrogate L_pi(pi')) the equality fails.
    const double surrogate = (mdp.visitation(pi).asDiagonal() * pi2.cwiseProduct(A)).sum() / (1 - spec.gamma);
    CHECK(std::abs(lhs - surrogate) > 1e-4);
  }
}

// Section 3.4.2: L_pi(pi') = 1/(1 - gamma) E_{s~d^pi, a~pi'}[A^pi] agrees with J(pi') - J(pi) to
// first order: along pi_t = softmax(theta + t Delta) the gap is O(t^2) ("stay local"). So the
// surrogate's gradient at pi is grad J, the policy gradient (3.46) with A^pi_k.
TEST_CASE("section 3.4.2: the surrogate L_pi(pi') matches J(pi') - J(pi) up to O(||pi' - pi||^2)") {
  const TabularMdp mdp = random_mdp({6, 3, 0.9, 11});
  Rng rng(12);
  const MatrixD theta = random_theta(6, 3, rng, 1.0), Delta = random_theta(6, 3, rng, 1.0);
  const MatrixD pi = softmax_policy(theta), A = mdp.advantage(pi);
  const VectorD d = mdp.visitation(pi);
  auto gap = [&](double t) {
    const MatrixD pt = softmax_policy(theta + t * Delta);
    const double L = (d.asDiagonal() * pt.cwiseProduct(A)).sum() / (1 - mdp.gamma);
    return std::abs(mdp.J(pt) - mdp.J(pi) - L);
  };
  // Halving t divides an O(t^2) gap by ~4 (an O(t) gap, e.g. d^pi' in place of d^pi, by 2).
  for (double t : {0.02, 0.01}) {
    CAPTURE(t);
    const double ratio = gap(t) / gap(t / 2);
    CHECK(ratio > 3.6);
    CHECK(ratio < 4.4);
  }
  CHECK(gap(0.5) > 1e-3);  // far from pi the surrogate is off
}

// ------------------------------------------------------------------ KL (3.48)

// D_KL(P || Q) >= 0, with equality iff P = Q (3.48): for the closed forms of the policies.
TEST_CASE("KL (3.48): the categorical and Gaussian closed forms are >= 0 and 0 exactly for equal distributions") {
  Rng rng(21);
  const auto cat = categorical_of(4, rng);
  const Matrix p = random_obs(50, 4, rng), q = random_obs(50, 4, rng);
  const Matrix kl_pq = cat->kl(p, Var(q)).value();
  CHECK(kl_pq.minCoeff() > 0);
  // Equal distributions: the same logits, and logits shifted by a constant (the same softmax).
  CHECK(cat->kl(p, Var(p)).value().cwiseAbs().maxCoeff() <= 16 * kEps);
  const Matrix shifted = p.array().colwise() + q.col(0).array();
  CHECK(cat->kl(p, Var(shifted)).value().cwiseAbs().maxCoeff() <= 64 * kEps);

  const GaussianPolicy gauss(ad::Mlp({1, 2}, ad::Activation::Tanh, rng), 2, GaussianPolicy::LogStd::StateIndependent);
  const Matrix g1 = random_obs(50, 4, rng), g2 = random_obs(50, 4, rng);
  CHECK(gauss.kl(g1, Var(g2)).value().minCoeff() > 0);
  CHECK(gauss.kl(g1, Var(g1)).value().cwiseAbs().maxCoeff() <= 16 * kEps);
  // Not symmetric in general: KL(P || Q) != KL(Q || P).
  CHECK((gauss.kl(g1, Var(g2)).value() - gauss.kl(g2, Var(g1)).value()).cwiseAbs().maxCoeff() > 0.1);
}

// D_KL(P || Q) = E_{x~P}[log P(x) - log Q(x)] (3.48): the closed forms against Monte Carlo. Six
// comparisons, each within 4.5 SE: P(|Z| > 4.5) = 6.8e-6, so the whole case fails by chance
// with probability < 5e-5.
TEST_CASE("KL (3.48): categorical, Gaussian and squashed-Gaussian closed forms match Monte Carlo within 4.5 SE") {
  Rng rng(22);
  const int n = 20000;
  // Categorical, 5 actions, two random pairs.
  const auto cat = categorical_of(5, rng);
  for (int pair = 0; pair < 2; ++pair) {
    const Matrix p = random_obs(1, 5, rng), q = random_obs(1, 5, rng);
    const double closed = cat->kl(p, Var(q)).item();
    const MeanSe mc = monte_carlo_kl(*cat, p, q, n, rng);
    CAPTURE(pair);
    CHECK(std::abs(mc.mean()(0) - closed) < 4.5 * mc.se()(0));
    CHECK(closed > 10 * mc.se()(0));  // a KL of 0 would fail
  }
  // Diagonal Gaussian, 2 dimensions, [mu, log sigma] per row.
  const GaussianPolicy gauss(ad::Mlp({1, 2}, ad::Activation::Tanh, rng), 2, GaussianPolicy::LogStd::StateIndependent);
  for (int pair = 0; pair < 2; ++pair) {
    Matrix p = random_obs(1, 4, rng), q = random_obs(1, 4, rng);
    p.rightCols(2) *= Scalar(0.5);
    q.rightCols(2) *= Scalar(0.5);
    const double closed = gauss.kl(p, Var(q)).item();
    const MeanSe mc = monte_carlo_kl(gauss, p, q, n, rng);
    CAPTURE(pair);
    CHECK(std::abs(mc.mean()(0) - closed) < 4.5 * mc.se()(0));
    CHECK(closed > 10 * mc.se()(0));
  }
  // Squashed Gaussian: the KL of the squashed actions equals the Gaussians' (invertible map).
  const SquashedGaussianPolicy squashed(ad::Mlp({1, 2}, ad::Activation::Tanh, rng), VectorD::Constant(1, -2.0),
                                        VectorD::Constant(1, 2.0));
  for (int pair = 0; pair < 2; ++pair) {
    Matrix p(1, 2), q(1, 2);
    p << static_cast<Scalar>(rng.uniform(-0.5, 0.5)), static_cast<Scalar>(rng.uniform(-1.0, -0.3));
    q << static_cast<Scalar>(rng.uniform(-0.5, 0.5)), static_cast<Scalar>(rng.uniform(-1.0, -0.3));
    const double closed = squashed.kl(p, Var(q)).item();
    const MeanSe mc = monte_carlo_kl(squashed, p, q, n, rng);
    CAPTURE(pair);
    CHECK(std::abs(mc.mean()(0) - closed) < 4.5 * mc.se()(0));
    CHECK(closed > 10 * mc.se()(0));
  }
}

// ------------------------------------------------------------------ Section 3.4.5: Fisher = KL Hessian

namespace {
constexpr const char* kFisherHessian = "the Hessian and the Fisher matrix are compared to 1e-8 relative";

// Step 1 of Section 3.4.5 at theta_k: Dbar_KL = 0 and grad Dbar_KL = 0.
void check_zero_order_terms(const Policy& policy, const Matrix& obs) {
  const Matrix old_params = policy.params_of(obs);
  const Var kl = mean_kl(policy, obs, old_params);
  CHECK(std::abs(kl.item()) <= 16 * kEps);
  CHECK(flat_gradient(kl, policy.parameters()).cwiseAbs().maxCoeff() <= 1e3 * kEps);
}

// Taylor: Dbar_KL(theta_k || theta_k + t Delta) = t^2/2 Delta^T F Delta + O(t^3): the remainder
// shrinks ~8x per halving of t (a Hessian off by a factor, or a missing 1/2, leaves an O(t^2) one).
// For the softmax MLP the cubic term is small against the quartic one until t ~ 0.02 (the ratio
// is 3.5 at t = 0.2, 7.5 at 0.02), hence the small t.
void check_taylor(Policy& policy, const Matrix& obs, Rng& rng) {
  ad::ParameterSet theta = policy.parameters();
  const Vector theta_k = theta.flatten();
  Vector Delta(theta_k.size());
  for (Eigen::Index i = 0; i < Delta.size(); ++i) Delta(i) = static_cast<Scalar>(rng.normal());
  Delta /= Delta.norm();
  const Matrix old_params = policy.params_of(obs);
  const FisherVectorProduct F(policy, obs);
  const double quad = 0.5 * static_cast<double>(Delta.dot(F(Delta)));
  auto remainder = [&](double t) {
    theta.unflatten(theta_k + static_cast<Scalar>(t) * Delta);
    const double kl = mean_kl(policy, obs, old_params).item();
    theta.unflatten(theta_k);
    return std::abs(kl - t * t * quad);
  };
  for (double t : {0.02, 0.01}) {
    CAPTURE(t);
    const double ratio = remainder(t) / remainder(t / 2);
    CHECK(ratio > 6.5);
    CHECK(ratio < 9.5);
  }
  CHECK(remainder(0.005) < 0.02 * 0.005 * 0.005 * quad);  // the quadratic term dominates
}
}  // namespace

// Section 3.4.5: grad^2_theta Dbar_KL(theta_k || theta)|theta_k = E[grad log pi grad log pi^T] = F (3.54).
TEST_CASE("section 3.4.5: the Hessian of the mean KL at theta_k equals the Fisher matrix, softmax MLP policy" *
          NEEDS_DOUBLE(kFisherHessian)) {
  Rng rng(31);
  auto policy = CategoricalPolicy::make(4, {8, 8}, 3, ad::Activation::Tanh, rng);
  const Matrix obs = random_obs(6, 4, rng);
  const FisherVectorProduct hvp(*policy, obs);
  const MatrixD H = matrix_of(hvp, hvp.dim());
  const MatrixD F = categorical_fisher(*policy, obs, 3);
  CHECK(relative_error(H, F) <= 1e-8);
  CHECK(F.norm() > 1e-2);
  check_zero_order_terms(*policy, obs);
  check_taylor(*policy, obs, rng);
}

TEST_CASE("section 3.4.5: the Hessian of the mean KL at theta_k equals the Fisher matrix, Gaussian MLP policies" *
          NEEDS_DOUBLE(kFisherHessian)) {
  Rng rng(32);
  for (auto kind : {GaussianPolicy::LogStd::StateIndependent, GaussianPolicy::LogStd::StateDependent}) {
    const int out = kind == GaussianPolicy::LogStd::StateIndependent ? 2 : 4;
    GaussianPolicy policy(ad::Mlp({3, 8, out}, ad::Activation::Tanh, rng), 2, kind, Scalar(-0.4));
    const Matrix obs = random_obs(5, 3, rng);
    const FisherVectorProduct hvp(policy, obs);
    const MatrixD H = matrix_of(hvp, hvp.dim());
    const MatrixD F = gaussian_fisher(policy, obs);
    CHECK(relative_error(H, F) <= 1e-8);
    CHECK(F.norm() > 1e-2);
    check_zero_order_terms(policy, obs);
    check_taylor(policy, obs, rng);
  }
}

TEST_CASE("FisherVectorProduct: damping adds xi v, and products are linear in v") {
  Rng rng(33);
  auto policy = CategoricalPolicy::make(4, {8}, 3, ad::Activation::Tanh, rng);
  const Matrix obs = random_obs(7, 4, rng);
  const FisherVectorProduct F(*policy, obs), F_damped(*policy, obs, 0.25);
  Vector v(F.dim()), w(F.dim());
  for (Eigen::Index i = 0; i < v.size(); ++i) v(i) = static_cast<Scalar>(rng.normal()), w(i) = static_cast<Scalar>(rng.normal());
  const double scale = static_cast<double>(F(v).norm()) + static_cast<double>(v.norm());
  CHECK(static_cast<double>((F_damped(v) - F(v) - Scalar(0.25) * v).norm()) <= 1e3 * kEps * scale);
  CHECK(static_cast<double>((F(Scalar(2) * v + w) - Scalar(2) * F(v) - F(w)).norm()) <= 1e3 * kEps * scale);
  // Symmetric: w^T F v = v^T F w.
  CHECK(std::abs(static_cast<double>(w.dot(F(v)) - v.dot(F(w)))) <= 1e3 * kEps * scale * static_cast<double>(w.norm()));
  CHECK(F.products() == 7);
}

// ------------------------------------------------------------------ NPG (3.52)-(3.55)

// The QP (3.52) max g^T x s.t. 1/2 x^T F x <= delta is solved by x* = sqrt(2 delta / g^T F^-1 g) F^-1 g
// (3.55): x* is on the boundary, and no feasible x does better.
TEST_CASE("NPG step (3.55) solves the QP (3.52): on the boundary, optimal against random and nearby feasible points") {
  Rng rng(41);
  const int d = 12;
  MatrixD M(d, d);
  for (Eigen::Index i = 0; i < M.size(); ++i) M(i) = rng.normal();
  const MatrixD F = M * M.transpose() / d + 0.05 * MatrixD::Identity(d, d);
  VectorD g(d);
  for (int i = 0; i < d; ++i) g(i) = rng.normal();
  const Matrix Fs = F.cast<Scalar>();
  const LinearMap F_map = [&](const Vector& v) -> Vector { return Fs * v; };
  const double delta = 0.01;
  const CgResult cg = conjugate_gradient(F_map, g.cast<Scalar>(), 4 * d, 1e-14);
  const Vector Fp = F_map(cg.x);
  const VectorD step = trust_region_step(cg.x, Fp, delta) * to_double(cg.x);
  const auto quad = [&](const VectorD& x) { return 0.5 * x.dot(F * x); };
  // The constraint holds with equality.
  CHECK(std::abs(quad(step) - delta) <= 1e3 * kEps * delta);
  // The optimal value sqrt(2 delta g^T F^-1 g), from a dense Cholesky solve.
  const double best = std::sqrt(2 * delta * g.dot(F.llt().solve(g)));
  CHECK(std::abs(g.dot(step) - best) <= 1e3 * kEps * best);
  // Random feasible directions (scaled onto the boundary, where a linear objective is largest)
  // and small perturbations of the step, also put back on the boundary: none does better.
  double best_other = -INFINITY;
  for (int k = 0; k < 4000; ++k) {
    VectorD x(d);
    for (int i = 0; i < d; ++i) x(i) = rng.normal();
    if (k % 2) x = step + 1e-3 * std::sqrt(delta) * x;
    x *= std::sqrt(delta / quad(x));
    best_other = std::max(best_other, g.dot(x));
  }
  CHECK(best_other <= g.dot(step) * (1 + 1e3 * kEps));
  CHECK(best_other > 0.99 * g.dot(step));  // the perturbations came close: the check is sharp
  // The plain gradient direction, put on the same boundary, is worse (F is not a multiple of I).
  const VectorD vanilla = g * std::sqrt(delta / quad(g));
  CHECK(g.dot(vanilla) < 0.99 * g.dot(step));
}

// CG on F p = g with the autodiff Fisher-vector product (damped) against a dense solve with F from
// per-sample scores; CG's error in the A-norm never increases (its defining optimality).
TEST_CASE("conjugate gradient with Fisher-vector products matches a dense solve of (F + xi I) p = g" *
          NEEDS_DOUBLE("CG and the dense solve agree to 1e-8")) {
  Rng rng(42);
  auto policy = CategoricalPolicy::make(4, {8, 8}, 3, ad::Activation::Tanh, rng);
  const Matrix obs = random_obs(10, 4, rng);
  const double xi = 0.1;
  const FisherVectorProduct F(*policy, obs, xi);
  const MatrixD A = categorical_fisher(*policy, obs, 3) + xi * MatrixD::Identity(F.dim(), F.dim());
  VectorD g(F.dim());
  for (Eigen::Index i = 0; i < g.size(); ++i) g(i) = rng.normal();
  const VectorD exact = A.llt().solve(g);
  const Vector gs = g.cast<Scalar>();
  const CgResult cg = conjugate_gradient(F, gs, 1000, 1e-13);
  CHECK(cg.residual <= 1e-13);
  CHECK((to_double(cg.x) - exact).norm() <= 1e-8 * exact.norm());
  CHECK(cg.iterations < 1000);
  // ||p_k - p*||_A is non-increasing in k, down to rounding (floor: 1e-12 ||p*||_A).
  const double floor = 1e-12 * std::sqrt(exact.dot(A * exact));
  double previous = INFINITY, first = 0;
  for (int k = 1; k <= 25; ++k) {
    const VectorD e = to_double(conjugate_gradient(F, gs, k, 0).x) - exact;
    const double err = std::sqrt(e.dot(A * e));
    CHECK(err <= previous * (1 + 1e-9) + floor);
    if (k == 1) first = err;
    previous = err;
  }
  CHECK(first > 1e6 * floor);  // the errors checked span many orders above rounding
  // The recurrence's residual is the true one.
  const CgResult ten = conjugate_gradient(F, gs, 10);
  CHECK(std::abs(ten.residual - (g - A * to_double(ten.x)).norm() / g.norm()) <= 1e-8);
}

TEST_CASE("conjugate gradient and the trust-region step reject what is not positive definite") {
  const LinearMap negative = [](const Vector& v) -> Vector { return -v; };
  CHECK_THROWS_AS(conjugate_gradient(negative, Vector::Ones(3), 5), std::runtime_error);
  CHECK(conjugate_gradient(negative, Vector::Zero(3), 5).iterations == 0);  // b = 0: x = 0
  CHECK_THROWS_AS(trust_region_step(Vector::Ones(2), -Vector::Ones(2), 0.01), std::runtime_error);
}

// ------------------------------------------------------------------ TRPO (3.4.6)

// Step 8 enforces the trust-region problem (3.51) on the batch: the accepted theta* is the first beta^j step with Dbar_KL <= delta and a surrogate gain
// >= 0, both recomputed here from the distributions and the batch; with nothing acceptable the
// policy is back at theta_k.
TEST_CASE("TRPO line search: accepts the first beta^j step inside the KL ball that improves the surrogate") {
  Rng rng(51);
  VecEnv envs("CartPole-v1", 2);
  auto policy = CategoricalPolicy::make(4, {16}, 2, ad::Activation::Tanh, rng);
  ad::Mlp value = value_network(4, {16}, ad::Activation::Tanh, rng);
  OnPolicyCollector collector(envs, 64, 7);
  const OnPolicyBatch& batch = collector.collect(*policy, value, 0.99, 0.95, true, rng);
  TrpoConfig cfg;
  const NaturalDirection d = natural_direction(*policy, batch, cfg);
  ad::ParameterSet theta = policy->parameters();
  const Vector theta_k = theta.flatten();
  const Matrix& obs = batch.segment->obs;
  // KL and surrogate at theta_k + s * full, written out from (3.49) and (3.50).
  auto measure = [&](const Vector& full, double s, double& kl, double& gain) {
    theta.unflatten(theta_k + static_cast<Scalar>(s) * full);
    const Matrix params = policy->params_of(obs);
    kl = policy->kl(batch.old_params, Var(params)).value().mean();
    const Matrix log_pi = policy->log_prob(Var(params), batch.segment->actions).value();
    const Matrix rho = (log_pi - batch.old_log_prob).array().exp();
    gain = (rho.array() * batch.advantage.array()).mean() - batch.advantage.mean();
    theta.unflatten(theta_k);
  };
  // A full step 40x too long: KL ~ 1600 delta at j = 0, so the search must backtrack.
  const Vector full = static_cast<Scalar>(40 * d.alpha) * d.p;
  const LineSearchResult r = backtracking_line_search(*policy, batch, full, cfg.delta, cfg.beta, cfg.backtracks);
  REQUIRE(r.accepted);
  CHECK(r.backtracks >= 3);
  CHECK(std::abs(r.step - std::pow(0.5, r.backtracks)) == 0);
  // The policy is left at theta*.
  CHECK((theta.flatten() - (theta_k + static_cast<Scalar>(r.step) * full)).cwiseAbs().maxCoeff() == 0);
  double kl, gain;
  measure(full, r.step, kl, gain);
  CHECK(kl <= cfg.delta);
  CHECK(gain >= 0);
  CHECK(std::abs(kl - r.kl) <= 1e3 * kEps * cfg.delta);
  // The step before it failed one of the two checks.
  measure(full, 2 * r.step, kl, gain);
  CHECK((kl > cfg.delta || gain < 0));
  // kl_full_step is the KL of j = 0, the full step (bug caught: the accepted step's KL reported as
  // the full step's, which would hide the overshoot the gallery's claim card counts).
  measure(full, 1, kl, gain);
  CHECK(kl > cfg.delta);
  CHECK(std::abs(kl - r.kl_full_step) <= 1e3 * kEps * kl);

  // Nothing passes (delta far below the KL of beta^M of this step): theta_k is kept.
  theta.unflatten(theta_k);
  const LineSearchResult none = backtracking_line_search(*policy, batch, full, 1e-12, 0.5, 3);
  CHECK_FALSE(none.accepted);
  CHECK(none.backtracks == 4);
  CHECK((theta.flatten() - theta_k).cwiseAbs().maxCoeff() == 0);
}

// In a short TRPO run, every update: KL <= delta and a surrogate gain >= 0 on its own batch, both
// recomputed from the batch and the updated policy.
TEST_CASE("TRPO: every accepted update satisfies the KL constraint and improves the surrogate on its batch") {
  Rng rng(52);
  VecEnv envs("CartPole-v1", 2);
  auto policy = CategoricalPolicy::make(4, {16}, 2, ad::Activation::Tanh, rng);
  ad::Mlp value = value_network(4, {16}, ad::Activation::Tanh, rng);
  TrpoConfig cfg;
  cfg.env_steps = 6 * 2 * 128;
  cfg.envs = 2;
  cfg.steps = 128;
  int updates = 0, accepted = 0;
  train_trpo(cfg, envs, *policy, value, rng, 3, [&](long, const OnPolicyBatch& batch, long, const TrustRegionStats& s) {
    ++updates;
    const Matrix params = policy->params_of(batch.segment->obs);
    const double kl = policy->kl(batch.old_params, Var(params)).value().mean();
    const Matrix log_pi = policy->log_prob(Var(params), batch.segment->actions).value();
    const double gain = ((log_pi - batch.old_log_prob).array().exp() * batch.advantage.array()).mean() -
                        batch.advantage.mean();
    if (!s.accepted) {
      CHECK(kl == 0);  // theta_k kept
      return;
    }
    ++accepted;
    CHECK(kl <= cfg.delta);
    CHECK(gain >= 0);
    CHECK(kl > 0.05 * cfg.delta);  // a real step, not a vanishing one
  });
  CHECK(updates == 6);
  CHECK(accepted >= 5);
}

// ------------------------------------------------------------------ PPO (3.56)-(3.58)

// (3.57): the gradient of l_k (3.56), from per-sample scores at a theta != theta_k (so rho != 1),
// against the autodiff gradient of the objective. Differentiating (3.56) with the book's own
// rules, grad rho = rho grad log pi and grad log(pi_k / pi_theta) = -grad log pi_theta, gives
//   grad l_k = E[grad log pi_theta(a|s) (rho A + lambda)]:
// the effective advantage is rho A + lambda. (3.57) as printed has rho A - lambda, a sign slip:
// the penalty's gradient +lambda E_{a~pi_k}[grad log pi_theta] pulls theta back toward theta_k.
// The check below confirms +lambda and that the printed sign does not match.
TEST_CASE("PPO (3.57): the gradient of the KL-regularized surrogate is E[grad log pi (rho A + lambda)]") {
  Rng rng(61);
  auto cat = CategoricalPolicy::make(4, {8}, 3, ad::Activation::Tanh, rng);
  GaussianPolicy gauss(ad::Mlp({4, 8, 2}, ad::Activation::Tanh, rng), 2, GaussianPolicy::LogStd::StateIndependent);
  for (Policy* policy : std::vector<Policy*>{cat.get(), &gauss}) {
    CAPTURE(policy->describe());
    const int n = 16;
    const Matrix obs = random_obs(n, 4, rng);
    const Matrix actions = policy->sample(policy->params_of(obs), rng);
    const Matrix old_log_pi = policy->log_prob(obs, actions).value();  // theta_k
    Matrix A(n, 1);
    for (int i = 0; i < n; ++i) A(i, 0) = static_cast<Scalar>(rng.normal());
    ad::ParameterSet theta = policy->parameters();
    Vector moved = theta.flatten();
    for (Eigen::Index i = 0; i < moved.size(); ++i) moved(i) += static_cast<Scalar>(0.2 * rng.normal());
    theta.unflatten(moved);
    const Scalar lambda_ = Scalar(0.7);
    const Vector autodiff =
        flat_gradient(mean(kl_penalized_surrogate(policy->log_prob(obs, actions), old_log_pi, A, lambda_)), theta);
    Vector formula = Vector::Zero(theta.count()), mean_score = Vector::Zero(theta.count());
    double max_shift = 0;
    for (int i = 0; i < n; ++i) {
      const Var log_pi_i = policy->log_prob(Matrix(obs.row(i)), Matrix(actions.row(i)));
      const Scalar rho = std::exp(log_pi_i.item() - old_log_pi(i, 0));
      max_shift = std::max(max_shift, std::abs(static_cast<double>(rho) - 1));
      const Vector u = flat_gradient(log_pi_i, theta);
      formula += u * (rho * A(i, 0) + lambda_);  // (3.57), sign corrected
      mean_score += u;
    }
    formula /= static_cast<Scalar>(n);
    mean_score /= static_cast<Scalar>(n);
    const Vector as_printed = formula - 2 * lambda_ * mean_score;  // E[grad log pi (rho A - lambda)]
    CHECK(static_cast<double>((autodiff - as_printed).norm()) > 0.01 * static_cast<double>(formula.norm()));
    CHECK(max_shift > 0.05);  // rho != 1: a formula without rho would fail
    CHECK(static_cast<double>((autodiff - formula).norm()) <= 1e3 * kEps * static_cast<double>(formula.norm()));
  }
}

// Section 3.4.7.2's case analysis of L^CLIP(r, A) = min(r A, clip(r, 1-eps, 1+eps) A) (3.58):
//   A > 0: L = r A for r <= 1 + eps, (1 + eps) A beyond; dL/dr = A, then 0.
//   A < 0: L = r A for r >= 1 - eps, (1 - eps) A below;  dL/dr = A, then 0.
TEST_CASE("PPO-Clip (3.58): dL/dr = A inside the clip range and 0 outside it in the profitable direction") {
  const Scalar eps = Scalar(0.2);
  std::vector<Scalar> grid;
  for (int i = 0; i <= 100; ++i) grid.push_back(Scalar(0.5) + Scalar(0.01) * static_cast<Scalar>(i));
  grid.push_back(1 + eps);  // the edges, computed as the objective computes them
  grid.push_back(1 - eps);
  const int n = static_cast<int>(grid.size());
  for (Scalar A : {Scalar(1.3), Scalar(-0.7)}) {
    CAPTURE(A);
    Var r(Matrix(Eigen::Map<const Vector>(grid.data(), n)), true);
    const Var L = clipped_surrogate(r, Matrix::Constant(n, 1, A), eps);
    const Matrix dL = ad::grad(sum(L), {r})[0].value();
    for (int i = 0; i < n; ++i) {
      const Scalar ri = grid[static_cast<std::size_t>(i)];
      CAPTURE(ri);
      const bool flat = A > 0 ? ri > 1 + eps : ri < 1 - eps;
      CHECK(dL(i, 0) == (flat ? Scalar(0) : A));
      const Scalar expected = A > 0 ? std::min(ri, 1 + eps) * A : std::max(ri, 1 - eps) * A;
      CHECK(L.value()(i, 0) == expected);
    }
  }
}

TEST_CASE("PPO-KL's adaptive lambda doubles above 1.5 target, halves below target / 1.5") {
  CHECK(adapt_kl_coef(1.0, 0.02, 0.01) == 2.0);
  CHECK(adapt_kl_coef(1.0, 0.005, 0.01) == 0.5);
  CHECK(adapt_kl_coef(1.0, 0.01, 0.01) == 1.0);
  CHECK(adapt_kl_coef(1.0, 0.0149, 0.01) == 1.0);
}

// PPO-Clip's minibatch step (3.58) through ppo_minibatch_loss and Adam, against the same step
// written by hand in plain Eigen with every derivative coded directly (tools/bench/ppo_npg_hand.hpp,
// bench's baseline): rho = pi / pi_k, the minimum of the clipped and unclipped terms, the value
// term c_v, one gradient-norm clip over both networks. Some ratios start outside [1 - eps, 1 + eps]
// so both branches are taken. Fails for a maximum in place of the minimum, a clip around the wrong
// centre, a sign of the surrogate, c_v dropped, or per-network clipping; agreement here is ~1e-15.
TEST_CASE("PPO-Clip minibatch step (3.58) equals an independent hand-written Eigen step" *
          NEEDS_DOUBLE("agreement to 1e-10")) {
  PpoConfig cfg;
  cfg.minibatch = 128;
  const int B = cfg.minibatch;
  Rng init(1);
  const std::unique_ptr<CategoricalPolicy> policy = CategoricalPolicy::make(4, cfg.hidden, 2, ad::Activation::Tanh, init);
  ad::Mlp value = value_network(4, cfg.hidden, ad::Activation::Tanh, init);
  bench::HandPpo hand(policy->parameters(), value.parameters(), B,
                      {static_cast<Scalar>(cfg.epsilon), static_cast<Scalar>(cfg.c_v),
                       static_cast<Scalar>(cfg.max_grad_norm), static_cast<Scalar>(cfg.lr)});
  ad::ParameterSet theta_phi = policy->parameters();
  theta_phi.add(value.parameters());
  ad::Adam adam(theta_phi, ad::StepSize::constant(static_cast<Scalar>(cfg.lr)));
  Rng data(2);
  const bench::PpoMinibatch m = bench::ppo_minibatch(*policy, B, data);
  const Matrix w0 = policy->parameters().list()[0].value();
  for (int k = 0; k < 5; ++k) {
    adam.minimize(ppo_minibatch_loss(cfg, *policy, value, m.s, m.a, m.log_pi_k, m.A, m.v_targ, 0).J,
                  static_cast<Scalar>(cfg.max_grad_norm));
    hand.update(m.s, m.actions, m.log_pi_k, m.A, m.v_targ);
    const double diff = std::max(bench::max_difference(policy->parameters(), hand.policy()),
                                 bench::max_difference(value.parameters(), hand.value()));
    CAPTURE(k);
    CHECK(diff < 1e-10);
  }
  CHECK((policy->parameters().list()[0].value() - w0).cwiseAbs().maxCoeff() > 1e-3);  // the steps moved pi
}

// ------------------------------------------------------------------ the loops, through their entry points
//
// train_npg, train_trpo and train_ppo are checked update by update from their callbacks: the policy
// before the update (theta_k, kept by the test) and after it, the batch the update used, and the
// update recomputed here from the book's equations with quantities the library does not compute
// the same way: log-softmax, KL, entropy and the surrogate (3.49) written out in Eigen from the
// logits; g (3.53) by central finite differences of that surrogate; F (3.54) as a dense matrix
// of per-sample scores (categorical_fisher above) and p = (F + xi I)^{-1} g by a Cholesky solve.

namespace {

// log pi(a|s) for every row, from the logits, written out (no autodiff).
Eigen::MatrixXd log_softmax(const Matrix& logits) {
  const Eigen::MatrixXd z = logits.cast<double>();
  const Eigen::VectorXd m = z.rowwise().maxCoeff();
  const Eigen::MatrixXd shifted = z.colwise() - m;
  const Eigen::VectorXd log_sum = shifted.array().exp().rowwise().sum().log();
  return shifted.colwise() - log_sum;
}

VectorD taken_log_prob(const Matrix& logits, const Matrix& actions) {
  const Eigen::MatrixXd lp = log_softmax(logits);
  VectorD out(lp.rows());
  for (Eigen::Index i = 0; i < lp.rows(); ++i) out(i) = lp(i, static_cast<Eigen::Index>(actions(i, 0)));
  return out;
}

// Dbar_KL(theta_k || theta) = 1/N sum_i sum_a pi_k(a|s_i) (log pi_k - log pi)(a|s_i)          (3.50)
double hand_mean_kl(const Matrix& old_logits, const Matrix& logits) {
  const Eigen::MatrixXd lp_k = log_softmax(old_logits), lp = log_softmax(logits);
  return (lp_k.array().exp() * (lp_k - lp).array()).rowwise().sum().mean();
}

// 1/N sum_i H(pi(.|s_i)), H = -sum_a pi log pi.
double hand_mean_entropy(const Matrix& logits) {
  const Eigen::MatrixXd lp = log_softmax(logits);
  return -(lp.array().exp() * lp.array()).rowwise().sum().mean();
}

// L_theta_k(theta) = 1/N sum_t exp(log pi_theta(a_t|s_t) - log pi_theta_k(a_t|s_t)) A_t at the
// policy's current parameters.                                                              (3.49)
double hand_surrogate(const Policy& policy, const OnPolicyBatch& batch) {
  const VectorD log_pi = taken_log_prob(policy.params_of(batch.segment->obs), batch.segment->actions);
  const VectorD rho = (log_pi - batch.old_log_prob.col(0).cast<double>()).array().exp();
  return rho.dot(batch.advantage.col(0).cast<double>()) / static_cast<double>(rho.size());
}

// g = grad_theta L_theta_k(theta) at the policy's current parameters (3.53), by central
// differences of hand_surrogate: error O(h^2) + O(eps / h), ~1e-10 here.
VectorD fd_surrogate_gradient(Policy& policy, const OnPolicyBatch& batch) {
  ad::ParameterSet theta = policy.parameters();
  const Vector theta0 = theta.flatten();
  const double h = 1e-5;
  VectorD g(theta0.size());
  for (Eigen::Index i = 0; i < theta0.size(); ++i) {
    Vector t = theta0;
    t(i) = theta0(i) + static_cast<Scalar>(h);
    theta.unflatten(t);
    const double up = hand_surrogate(policy, batch);
    t(i) = theta0(i) - static_cast<Scalar>(h);
    theta.unflatten(t);
    g(i) = (up - hand_surrogate(policy, batch)) / (2 * h);
  }
  theta.unflatten(theta0);
  return g;
}

// Steps 4-7 written independently, at the policy's current parameters theta_k: g by differences
// (3.53), F + xi I dense (3.54), p = (F + xi I)^{-1} g exactly, alpha = sqrt(2 delta / p^T (F + xi I) p) (3.55).
struct DenseNpg {
  VectorD g, p;
  double alpha;
};
DenseNpg dense_npg(Policy& policy, const OnPolicyBatch& batch, int num_actions, double xi, double delta) {
  DenseNpg d;
  d.g = fd_surrogate_gradient(policy, batch);
  const MatrixD A = categorical_fisher(policy, batch.segment->obs, num_actions) +
                    xi * MatrixD::Identity(d.g.size(), d.g.size());
  d.p = A.llt().solve(d.g);
  d.alpha = std::sqrt(2 * delta / d.p.dot(A * d.p));
  return d;
}

// A fresh policy with the same architecture and parameters (an Mlp copy would share them).
std::unique_ptr<CategoricalPolicy> clone_categorical(const CategoricalPolicy& policy, int obs_dim,
                                                     const std::vector<int>& hidden, int num_actions) {
  Rng unused(0);
  auto copy = CategoricalPolicy::make(obs_dim, hidden, num_actions, ad::Activation::Tanh, unused);
  ad::ParameterSet p = copy->parameters();
  p.unflatten(policy.parameters().flatten());
  return copy;
}

}  // namespace

// (3.53): the g that step 4 computes is the gradient of the surrogate (3.49) at theta_k, here by
// central differences of the surrogate written out from the logits. Catches an advantage with the
// wrong sign, a gradient of log pi alone (A dropped), a sum in place of the mean, a gradient
// taken at the wrong rows.
TEST_CASE("NPG (3.53): step 4's g is the gradient of the surrogate L_theta_k at theta_k, by finite differences" *
          NEEDS_DOUBLE("finite differences to 1e-7")) {
  Rng rng(71);
  VecEnv envs("CartPole-v1", 2);
  auto policy = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, rng);
  ad::Mlp value = value_network(4, {8}, ad::Activation::Tanh, rng);
  OnPolicyCollector collector(envs, 40, 3);
  const OnPolicyBatch& batch = collector.collect(*policy, value, 0.99, 0.95, true, rng);
  TrustRegionConfig cfg;
  const NaturalDirection d = natural_direction(*policy, batch, cfg);
  const VectorD g = fd_surrogate_gradient(*policy, batch);
  CHECK(g.norm() > 1e-2);
  CHECK((to_double(d.g) - g).norm() <= 1e-7 * g.norm());
  // The surrogate step 7 reports from is (3.49) itself.
  CHECK(std::abs(surrogate(*policy, batch) - hand_surrogate(*policy, batch)) <= 1e-12);
}

// Steps 4-7 through train_npg, update by update: theta_k+1 - theta_k equals
// sqrt(2 delta / g^T (F + xi I)^{-1} g) (F + xi I)^{-1} g (3.55) with --step trust-region, and
// eta (F + xi I)^{-1} g with --step fixed, g (3.53) and F (3.54) computed independently (above).
// Catches a descent step (sign), the plain gradient in place of F^{-1} g, a wrong trust-region
// scale (delta in place of 2 delta, no square root, the undamped F), eta ignored, g from the
// wrong advantages; and a critic fit (step 3) that does not run or fits the wrong targets.
TEST_CASE("train_npg: every update is the natural step (3.55) of the batch's g (3.53) and F (3.54), recomputed densely" *
          NEEDS_DOUBLE("the step is compared to 1e-6 relative")) {
  for (const std::string step : {"trust-region", "fixed"}) {
    CAPTURE(step);
    Rng rng(72);
    VecEnv envs("CartPole-v1", 2);
    auto policy = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, rng);
    ad::Mlp value = value_network(4, {8}, ad::Activation::Tanh, rng);
    NpgConfig cfg;
    cfg.envs = 2;
    cfg.steps = 32;
    cfg.env_steps = 3 * 64;
    cfg.cg_iters = 200;  // CG converges (58 parameters), so the dense solve is the reference
    cfg.damping = 0.1;
    cfg.delta = 0.02;
    cfg.eta = 0.05;
    cfg.lr_critic = 1e-2;
    cfg.critic_epochs = 10;
    cfg.critic_minibatch = 16;
    cfg.solved_window = 0;
    cfg.step = step;
    ad::ParameterSet theta = policy->parameters();
    Vector theta_k = theta.flatten();
    int updates = 0;
    train_npg(cfg, envs, *policy, value, rng, 5, [&](long, const OnPolicyBatch& batch, long, const TrustRegionStats& s) {
      ++updates;
      const Vector theta_next = theta.flatten();
      theta.unflatten(theta_k);
      const DenseNpg d = dense_npg(*policy, batch, 2, cfg.damping, cfg.delta);
      theta.unflatten(theta_next);
      const double scale = cfg.step() == "trust-region" ? d.alpha : cfg.eta();
      const VectorD expected = scale * d.p;
      const VectorD taken = to_double(theta_next - theta_k);
      CHECK((taken - expected).norm() <= 1e-6 * expected.norm());
      CHECK(std::abs(s.alpha - scale) <= 1e-6 * scale);
      // The reported KL (npg's kl.svg) is Dbar_KL(theta_k || theta_k+1) on the batch.
      const Matrix logits = policy->params_of(batch.segment->obs);
      CHECK(std::abs(s.kl - hand_mean_kl(batch.old_params, logits)) <= 1e-10);
      // Step 3 ran: V_phi moved toward V_targ = A + V(s) (3.39).
      Matrix v_now;
      {
        ad::NoGrad off;
        v_now = value(Var(batch.segment->obs)).value();
      }
      const double before = (batch.values - batch.target).squaredNorm(), after = (v_now - batch.target).squaredNorm();
      CHECK(after < 0.9 * before);
      theta_k = theta_next;
    });
    CHECK(updates == 3);
  }
}

// Step 8 through train_trpo, update by update: theta_k+1 = theta_k + beta^j alpha p for the first
// j = 0..M with Dbar_KL(theta_k || theta*) <= delta (3.50) and L_theta_k(theta*) >= L_theta_k(theta_k)
// (3.49), both recomputed here (alpha p from the dense solve), and theta_k when no j passes. With
// delta = 0.2 some full steps improve the surrogate but leave the KL ball, so only the KL check
// rejects them; with delta = 1 some steps inside the ball lower the surrogate, so only the
// improvement check rejects them (the test requires both to happen). Catches a line search that
// drops either check, or flips one, shrinks by the wrong factor, does not restore theta_k, or a
// loop that ignores its result.
TEST_CASE("train_trpo: every update is the first beta^j step that passes both the KL bound and the improvement check" *
          NEEDS_DOUBLE("the step is compared to 1e-6 relative")) {
  for (const double delta : {0.2, 1.0}) {
    CAPTURE(delta);
    Rng rng(73);
    VecEnv envs("CartPole-v1", 2);
    auto policy = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, rng);
    ad::Mlp value = value_network(4, {8}, ad::Activation::Tanh, rng);
    TrpoConfig cfg;
    cfg.envs = 2;
    cfg.steps = 32;
    cfg.env_steps = 12 * 64;
    cfg.cg_iters = 200;
    cfg.damping = 0.1;
    cfg.delta = delta;
    cfg.backtracks = 6;
    cfg.solved_window = 0;
    ad::ParameterSet theta = policy->parameters();
    Vector theta_k = theta.flatten();
    int updates = 0, kl_rejected = 0, gain_rejected = 0, accepted = 0;
    train_trpo(cfg, envs, *policy, value, rng, 5, [&](long, const OnPolicyBatch& batch, long, const TrustRegionStats& s) {
      ++updates;
      const Vector theta_next = theta.flatten();
      theta.unflatten(theta_k);
      const DenseNpg d = dense_npg(*policy, batch, 2, cfg.damping, cfg.delta);
      const VectorD full = d.alpha * d.p;
      int j_star = cfg.backtracks + 1;
      double kl_star = 0, step = 1;
      for (int j = 0; j <= cfg.backtracks; ++j, step *= cfg.beta) {
        theta.unflatten(theta_k + (step * full).cast<Scalar>());
        const double kl = hand_mean_kl(batch.old_params, policy->params_of(batch.segment->obs));
        const double gain = hand_surrogate(*policy, batch) - batch.advantage.cast<double>().mean();
        if (kl <= delta && gain >= 0) {
          j_star = j;
          kl_star = kl;
          break;
        }
        if (gain >= 0) ++kl_rejected;  // the KL check alone rejects beta^j
        if (kl <= delta) ++gain_rejected;  // the improvement check alone rejects it
      }
      theta.unflatten(theta_next);
      const bool passed = j_star <= cfg.backtracks;
      accepted += passed;
      CHECK(s.accepted == passed);
      CHECK(s.backtracks == j_star);
      const VectorD expected = passed ? VectorD(std::pow(cfg.beta, j_star) * full) : VectorD::Zero(full.size());
      CHECK((to_double(theta_next - theta_k) - expected).norm() <= 1e-6 * full.norm());
      CHECK(std::abs(s.kl - kl_star) <= 1e-6 * delta);
      theta_k = theta_next;
    });
    CHECK(updates == 12);
    CHECK(accepted >= 6);
    if (delta == 0.2) CHECK(kl_rejected >= 1);
    if (delta == 1.0) CHECK(gain_rejected >= 1);
  }
}

// The entropy bonus of PPO's loss J_B = -l^PG_B + c_v l^VAL_B - c_e H_B (Section 3.4.7.2): the
// gradient of J_B with c_e > 0 minus that with c_e = 0 is -c_e grad H_B, H_B = 1/B sum_s H(pi(.|s))
// written out from the logits and differentiated by central differences. Catches the bonus's
// sign (+c_e H_B, a penalty on exploration), a sum in place of the mean, the term left out.
TEST_CASE("PPO loss: the entropy term contributes exactly -c_e grad H_B to the gradient" *
          NEEDS_DOUBLE("finite differences to 1e-7")) {
  Rng rng(81);
  auto policy = CategoricalPolicy::make(4, {8}, 3, ad::Activation::Tanh, rng);
  ad::Mlp value = value_network(4, {8}, ad::Activation::Tanh, rng);
  const int B = 32;
  const Matrix s = random_obs(B, 4, rng);
  const Matrix a = policy->sample(policy->params_of(s), rng);
  const Matrix log_pi_k = policy->log_prob(s, a).value();
  Matrix A(B, 1), v_targ(B, 1);
  for (int i = 0; i < B; ++i) A(i, 0) = static_cast<Scalar>(rng.normal()), v_targ(i, 0) = static_cast<Scalar>(rng.normal());
  ad::ParameterSet theta = policy->parameters();
  for (const std::string objective : {"clip", "kl"}) {
    CAPTURE(objective);
    PpoConfig with, without;
    with.objective = without.objective = objective;
    with.c_e = 0.3;
    without.c_e = 0;
    const Vector g_with = flat_gradient(ppo_minibatch_loss(with, *policy, value, s, a, log_pi_k, A, v_targ, 0.5).J, theta);
    const Vector g_without =
        flat_gradient(ppo_minibatch_loss(without, *policy, value, s, a, log_pi_k, A, v_targ, 0.5).J, theta);
    // grad H_B by central differences of the hand-written entropy.
    const Vector theta0 = theta.flatten();
    VectorD grad_H(theta0.size());
    const double h = 1e-5;
    for (Eigen::Index i = 0; i < theta0.size(); ++i) {
      Vector t = theta0;
      t(i) += static_cast<Scalar>(h);
      theta.unflatten(t);
      const double up = hand_mean_entropy(policy->params_of(s));
      t(i) = theta0(i) - static_cast<Scalar>(h);
      theta.unflatten(t);
      grad_H(i) = (up - hand_mean_entropy(policy->params_of(s))) / (2 * h);
    }
    theta.unflatten(theta0);
    CHECK(grad_H.norm() > 1e-2);
    CHECK((to_double(g_with - g_without) + 0.3 * grad_H).norm() <= 1e-7 * 0.3 * grad_H.norm());
  }
}

// The entropy bonus in the loop: one train_ppo iteration from a nearly deterministic policy
// (pi ~ 0.95 for one action) with c_e = 10 ends with a higher entropy than it started with and
// than the same iteration (same seed, same batch) with c_e = 0. Catches the bonus's sign flipped
// (the entropy falls) or the term not reaching the optimizer (the two runs end equal).
TEST_CASE("train_ppo: the entropy bonus raises the policy's entropy, against the same iteration without it") {
  auto run = [](double c_e, double& H_before) {
    Rng rng(82);
    VecEnv envs("CartPole-v1", 4);
    auto policy = CategoricalPolicy::make(4, {16}, 2, ad::Activation::Tanh, rng);
    ad::Mlp value = value_network(4, {16}, ad::Activation::Tanh, rng);
    ad::ParameterSet theta = policy->parameters();
    Vector t = theta.flatten();  // the output bias comes last: logits offset by +-1.5
    REQUIRE(theta.list().back().size() == 2);
    t(t.size() - 2) += Scalar(1.5);
    t(t.size() - 1) -= Scalar(1.5);
    theta.unflatten(t);
    PpoConfig cfg;
    cfg.envs = 4;
    cfg.steps = 64;
    cfg.minibatch = 64;
    cfg.env_steps = 256;  // one iteration
    cfg.epochs = 4;
    cfg.lr = 3e-3;
    cfg.c_e = c_e;
    cfg.solved_window = 0;
    double H_after = 0;
    train_ppo(cfg, envs, *policy, value, rng, 9, [&](long, const OnPolicyBatch& batch, long, const PpoStats&) {
      H_before = hand_mean_entropy(batch.old_params);
      H_after = hand_mean_entropy(policy->params_of(batch.segment->obs));
    });
    return H_after;
  };
  double H0 = 0, H0_again = 0;
  const double with = run(10, H0), without = run(0, H0_again);
  CHECK(H0 == H0_again);  // the same first batch
  CHECK(H0 < 0.3);
  CHECK(with > H0);
  CHECK(with > without);
}

// train_ppo in lockstep with a reference written from the book's pseudocode (Section 3.4.7.2):
// the same collector seed and a copy of the generator give the same batch and the same shuffles;
// the reference then takes K_epoch passes of minibatch Adam steps on
//   J_B = -l^PG_B + c_v 1/B sum (V(s) - V_targ)^2 - c_e H_B,
//   l^PG = (3.58) min(rho A, clip(rho, 1 - eps, 1 + eps) A)   or   (3.56) rho A - lambda log(pi_k / pi),
// with rho = exp(log pi - log pi_k); after each epoch it measures Dbar_KL(theta_k || theta) on the
// whole batch (written out from the logits), and PPO-KL sets lambda <- 2 lambda above 1.5 x the
// target, lambda / 2 below target / 1.5 for the next epoch's steps; step 4 stops the epochs
// once the KL exceeds --target-kl. Both networks must match the reference after every iteration,
// and the reported lambda the reference's. The settings make lambda double and halve, and the
// early stop happen (required below). Catches the penalty's sign in (3.56)/(3.57), a lambda that
// is adapted but not used by the next steps (or adapted once per iteration, or the wrong way), a
// KL measured against the wrong policy, minibatches gathered with mismatched rows, a wrong clip,
// a dropped value or entropy term, the learning-rate decay, the early stop.
TEST_CASE("train_ppo (PPO-Clip and PPO-KL) follows the pseudocode in lockstep, adaptive lambda and early stop included" *
          NEEDS_DOUBLE("lockstep to 1e-10")) {
  for (const std::string objective : {"kl", "clip"}) {
    CAPTURE(objective);
    PpoConfig cfg;
    cfg.objective = objective;
    cfg.envs = 4;
    cfg.steps = 64;
    cfg.minibatch = 64;
    cfg.epochs = 4;
    cfg.env_steps = 5 * 256;
    cfg.lr = 3e-3;
    cfg.c_e = 0.01;
    cfg.kl_coef = 1.0;
    cfg.kl_target = 0.0005;
    if (objective == "clip") cfg.target_kl = 0.004;
    cfg.solved_window = 0;
    const std::vector<int> hidden{8};
    Rng rng(83);
    VecEnv envs("CartPole-v1", 4);
    auto policy = CategoricalPolicy::make(4, hidden, 2, ad::Activation::Tanh, rng);
    ad::Mlp value = value_network(4, hidden, ad::Activation::Tanh, rng);
    // The reference: its own copies of the networks, the environments and the generator.
    Rng ref_rng = rng, unused(0);
    VecEnv ref_envs("CartPole-v1", 4);
    OnPolicyCollector ref_collector(ref_envs, cfg.steps, 11);
    auto ref_policy = clone_categorical(*policy, 4, hidden, 2);
    ad::Mlp ref_value = value_network(4, hidden, ad::Activation::Tanh, unused);
    ref_value.parameters().unflatten(value.parameters().flatten());
    ad::ParameterSet ref_theta_phi = ref_policy->parameters();
    ref_theta_phi.add(ref_value.parameters());
    ad::Adam ref_adam(ref_theta_phi, ad::StepSize::constant(static_cast<Scalar>(cfg.lr)));
    const long iterations = 5, rows = 256;
    double lambda_ = cfg.kl_coef;
    int doubled = 0, halved = 0, early_stops = 0, updates = 0;
    std::vector<int> index;
    Matrix s, a, log_pi_k, A, v_targ;
    train_ppo(cfg, envs, *policy, value, rng, 11, [&](long k, const OnPolicyBatch& batch, long, const PpoStats& stats) {
      ++updates;
      const OnPolicyBatch& rb = ref_collector.collect(*ref_policy, ref_value, cfg.gamma, cfg.lambda_, true, ref_rng);
      REQUIRE((rb.segment->obs - batch.segment->obs).cwiseAbs().maxCoeff() == 0);
      ref_adam.set_step_size(ad::StepSize::constant(static_cast<Scalar>(cfg.lr * (1.0 - double(k) / iterations))));
      int epochs = 0;
      for (int e = 0; e < cfg.epochs; ++e) {
        shuffle_indices(index, static_cast<int>(rows), ref_rng);
        for (int from = 0; from + cfg.minibatch <= rows; from += cfg.minibatch) {
          gather_rows(rb.segment->obs, index, from, cfg.minibatch, s);
          gather_rows(rb.segment->actions, index, from, cfg.minibatch, a);
          gather_rows(rb.old_log_prob, index, from, cfg.minibatch, log_pi_k);
          gather_rows(rb.advantage, index, from, cfg.minibatch, A);
          gather_rows(rb.target, index, from, cfg.minibatch, v_targ);
          const Var logits = ref_policy->dist_params(Var(s));
          const Var log_pi = ref_policy->log_prob(logits, a);
          const Var rho = exp(log_pi - Var(log_pi_k));
          const Var l_pg =
              objective == "clip"
                  ? mean(minimum(rho * Var(A), clamp(rho, Scalar(0.8), Scalar(1.2)) * Var(A)))            // (3.58)
                  : mean(rho * Var(A)) - static_cast<Scalar>(lambda_) * mean(Var(log_pi_k) - log_pi);  // (3.56)
          const Var l_val = mean(square(ref_value(Var(s)) - Var(v_targ)));
          const Var J = -l_pg + Scalar(0.5) * l_val - Scalar(0.01) * mean(ref_policy->entropy(logits));
          ref_adam.minimize(J, static_cast<Scalar>(cfg.max_grad_norm));
        }
        ++epochs;
        const double kl = hand_mean_kl(rb.old_params, ref_policy->params_of(rb.segment->obs));
        if (objective == "kl") {
          if (kl > 1.5 * cfg.kl_target) lambda_ *= 2, ++doubled;
          else if (kl < cfg.kl_target / 1.5) lambda_ /= 2, ++halved;
        }
        if (cfg.target_kl > 0 && kl > cfg.target_kl) {
          ++early_stops;
          break;
        }
      }
      CAPTURE(k);
      CHECK(stats.epochs == epochs);
      CHECK((policy->parameters().flatten() - ref_policy->parameters().flatten()).cwiseAbs().maxCoeff() < 1e-10);
      CHECK((value.parameters().flatten() - ref_value.parameters().flatten()).cwiseAbs().maxCoeff() < 1e-10);
      if (objective == "kl") CHECK(stats.kl_coef == lambda_);
    });
    CHECK(updates == iterations);
    if (objective == "kl") {
      CHECK(doubled >= 1);
      CHECK(halved >= 1);
    } else {
      CHECK(early_stops >= 1);
      CHECK(early_stops < iterations);  // and some iterations run all K_epoch epochs
    }
  }
}
