// Section 3.1 — Gradient-based optimization: what the demo gd_sgd (demos/gd_sgd.cpp)
// and the theorem tests (tests/chapter3/test_3_1_theorems.cpp) share.
//
//   * test functions whose L, mu, minimizer theta* and minimum f* are known exactly;
//   * the stochastic gradient oracle of Section 3.1.3, g = grad f(theta) + xi with E xi = 0 and
//     E||xi||^2 = sigma^2 exactly;
//   * the right-hand sides of the bounds (3.4)-(3.11), one function per inequality, and the step
//     sizes and constants they are stated for (2/(mu+L), Q_f, G^2, the SGD schedules);
//   * GD / SGD driven through the library's optimizers (autodiff/optim.hpp), and many seeded SGD
//     runs with the averaged iterate theta_bar_K = (theta_0 + ... + theta_K) / (K + 1);
//   * for quadratics, the exact first and second moments of SGD, so G^2 = sup_k E||g_k||^2 is
//     known exactly rather than guessed, and Monte-Carlo estimates can be checked against them.
//
// Functions and oracles compute in double whatever pgcpp::Scalar is: the iterates live in the
// optimizer's Scalar, and are evaluated exactly as stored.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "autodiff/autodiff.hpp"

namespace pgcpp::section_3_1 {

using VectorD = Eigen::VectorXd;
using MatrixD = Eigen::MatrixXd;

// f : R^d -> R with the constants Theorems 3.1-3.4 are stated in.
class Objective {
 public:
  virtual ~Objective() = default;
  virtual double f(const VectorD& theta) const = 0;
  virtual VectorD grad(const VectorD& theta) const = 0;
  // The same f built from autodiff ops on a 1 x d row theta, to check f and grad against.
  virtual ad::Var f(const ad::Var& theta) const = 0;
  // sup over R^d of ||grad f||^2 (+infinity when unbounded).
  virtual double grad_sup2() const = 0;

  int dim() const { return static_cast<int>(theta_star.size()); }
  VectorD theta_star;  // a minimizer
  double f_star = 0.0;
  // grad f is L-Lipschitz (3.2); equivalently the descent lemma holds,
  //   f(theta + Delta) <= f(theta) + grad f(theta)^T Delta + L/2 ||Delta||^2,              (3.3)
  // which is why GD's step sizes are fractions of 1/L: with Delta = -alpha grad f, each step
  // lowers f by at least alpha (1 - alpha L / 2) ||grad f||^2 > 0 for 0 < alpha < 2/L.
  double L = 0.0;
  double mu = 0.0;  // mu-strongly convex, (3.6); 0 = convex only
};

// Rotation by `angle` in the (theta_1, theta_2) plane (identity in any further coordinates): its
// columns u_i are the principal axes of the test functions, tilted so that GD's path is not
// axis-aligned.
MatrixD rotation(int d, double angle);

// f(theta) = 1/2 (theta - theta*)^T A (theta - theta*),  A = U diag(lambda) U^T,  lambda_i >= 0.
// L = max lambda, mu = min lambda. A zero eigenvalue makes f convex but not strongly convex,
// and every point of theta* + null(A) a minimizer.
class Quadratic final : public Objective {
 public:
  Quadratic(VectorD lambda, double angle, VectorD theta_star);
  double f(const VectorD& theta) const override;
  VectorD grad(const VectorD& theta) const override;
  ad::Var f(const ad::Var& theta) const override;
  double grad_sup2() const override;
  // The minimizer nearest theta0 (theta0 moved onto theta* + null(A)): GD never moves along
  // null(A), so this is where it converges, and it gives the tightest ||theta0 - theta*||.
  VectorD nearest_minimizer(const VectorD& theta0) const;

  VectorD lambda;
  MatrixD U, A;
};

// A smooth convex function that is NOT strongly convex, with a flat bottom and linear tails:
//
//   f(theta) = sum_i w_i psi(u_i^T (theta - theta*)) + mu/2 ||theta - theta*||^2,
//   psi(x)   = 4/3 (log cosh x - tanh(x)^2 / 2),   psi'(x) = 4/3 tanh(x)^3,
//   psi''(x) = 4 tanh(x)^2 (1 - tanh(x)^2)  in [0, 1]   (max 1 at tanh(x)^2 = 1/2).
//
// psi'' >= 0: convex, (3.1). Hessian U diag(w_i psi''(z_i)) U^T + mu I <= (max w + mu) I, so
// L = max w + mu is exact, (3.2). With mu = 0, psi''(0) = 0 (f ~ w z^4 / 3 near theta*) and
// psi'' -> 0 in the tails: no mu > 0 satisfies (3.6), yet theta* is the unique minimizer and
// f* = 0. With mu = 0 the gradient is bounded everywhere, ||grad f||^2 < 16/9 sum w_i^2, which
// is what Theorem 3.3 needs to hold with a G^2 valid on all of R^d. mu > 0 gives a strongly
// convex, non-quadratic function (for Theorem 3.2).
class FlatBottom final : public Objective {
 public:
  FlatBottom(VectorD w, double angle, VectorD theta_star, double mu = 0.0);
  double f(const VectorD& theta) const override;
  VectorD grad(const VectorD& theta) const override;
  ad::Var f(const ad::Var& theta) const override;
  double grad_sup2() const override;

  static double psi(double x);
  static double dpsi(double x) { return 4.0 / 3.0 * std::tanh(x) * std::tanh(x) * std::tanh(x); }

  VectorD w;
  MatrixD U;
};

// A non-convex function with every kind of first-order stationary point (Section 3.1.2.1):
//   f(theta) = theta_1^3 - 3 theta_1 + 3 theta_2 - theta_2^3,
//   grad f = (3 theta_1^2 - 3, 3 - 3 theta_2^2) = 0 at theta_1, theta_2 = +-1,
//   Hessian = diag(6 theta_1, -6 theta_2):
//     (1, -1) minimum (f = -4), (-1, 1) maximum (f = 4), (1, 1) and (-1, -1) saddles (f = 0).
double cubic_f(double x, double y);
ad::Var cubic_f(const ad::Var& theta);  // theta: 1 x 2

struct StationaryPoint {
  VectorD theta;
  double value;
  VectorD grad;                // from autodiff: ~0 at a stationary point
  VectorD hessian_eigenvalues;  // ascending; Hessian from autodiff's second derivatives
  std::string kind;             // "minimum", "maximum", "saddle point", "degenerate"
};
// Classify theta by the eigenvalues of the Hessian of `f` (all > 0: minimum, all < 0: maximum,
// both signs: saddle), computed by differentiating the autodiff gradient once more.
StationaryPoint classify(const std::function<ad::Var(const ad::Var&)>& f, const VectorD& theta);

// The Hessian of f at theta from autodiff: the gradient recorded with a graph, each of its
// components differentiated once more (row i = grad of d f / d theta_i), symmetrized.
MatrixD hessian(const std::function<ad::Var(const ad::Var&)>& f, const VectorD& theta);

// ---- Section 3.1.4, second-order methods: Newton's method ----
// theta_{k+1} = theta_k - eta_k H(theta_k)^{-1} grad f(theta_k), H from hessian() above.
// Pure Newton takes eta_k = 1. With line_search, eta_k is halved from 1 until the Armijo
// condition f(theta_k + eta d) <= f(theta_k) + eta grad^T d / 4 holds (at most 60 halvings),
// and where H is not positive definite the step falls back to the gradient direction d = -grad.
// Stops early, keeping the iterates so far, once grad f = 0 exactly or an iterate is non-finite.
std::vector<VectorD> newton(const Objective& f, const VectorD& theta0, int steps, bool line_search);

// ---- Bounds: the right-hand sides of (3.4)-(3.11), and the step sizes they are stated for ----
// Each bound is its inequality's right-hand side at one k (GD) or K (SGD), in the theorem's own
// constants: gap0 = f(theta_0) - f*, dist0_sq = ||theta_0 - theta*||^2, dist0 = ||theta_0 - theta*||,
// G2 = G^2 (E||g_k||^2 <= G^2 for every k). The demo gd_sgd draws them, the tests check them.

// Theorem 3.1, 0 < alpha <= 2/L: f(theta_k) - f* <= 2 gap0 dist0_sq / (2 dist0_sq + k alpha (2 - L alpha) gap0).
double bound_3_4(double alpha, double L, double gap0, double dist0_sq, long k);
// Theorem 3.1, alpha = 1/L: f(theta_k) - f* <= 2 L dist0_sq / (k + 4).
double bound_3_5(double L, double dist0_sq, long k);
// Theorem 3.2, 0 < alpha <= 2/(mu + L): ||theta_k - theta*||^2 <= (1 - 2 alpha mu L / (mu + L))^k dist0_sq.
double bound_3_7(double alpha, double mu, double L, double dist0_sq, long k);
// Theorem 3.2's largest step, alpha = 2/(mu + L), the one (3.8) is stated for.
double alpha_3_8(double mu, double L);
// Q_f = L / mu, the condition number of (3.8).
double condition_number(double mu, double L);
// Theorem 3.2, alpha = 2/(mu + L): ||theta_k - theta*|| <= ((Q_f - 1)/(Q_f + 1))^k dist0.
double bound_3_8_dist(double mu, double L, double dist0, long k);
// Theorem 3.2, alpha = 2/(mu + L): f(theta_k) - f* <= L/2 ((Q_f - 1)/(Q_f + 1))^{2k} dist0_sq.
double bound_3_8_gap(double mu, double L, double dist0_sq, long k);
// G^2 = sup ||grad f||^2 + sigma^2 of NoisyOracle (below): the G^2 Theorem 3.3 needs, from a variance bound.
double oracle_G2(const Objective& f, double sigma);
// Theorem 3.3, constant alpha: E f(theta_bar_K) - f* <= dist0_sq / (2 alpha (K + 1)) + alpha G2 / 2.
double bound_3_9(double alpha, double G2, double dist0_sq, long K);
// Theorem 3.3's diminishing step alpha_k = ||theta_0 - theta*|| / (G sqrt(k + 1)), the one (3.10) is stated for.
ad::StepSize step_3_10(double G2, double dist0_sq);
// Theorem 3.3, alpha_k of step_3_10: E f(theta_bar_K) - f* <= ||theta_0 - theta*|| G / sqrt(K + 1).
double bound_3_10(double G2, double dist0_sq, long K);
// Theorem 3.4's step alpha_k = 1 / (mu (k + 1)), the one (3.11) is stated for.
ad::StepSize step_3_11(double mu);
// Theorem 3.4: E f(theta_bar_K) - f* <= G2 / (2 mu (K + 1)) (1 + log(K + 1)).
double bound_3_11_gap(double mu, double G2, long K);
// Theorem 3.4: E||theta_bar_K - theta*||^2 <= max(G2 / mu^2, dist0_sq) / (K + 1).
double bound_3_11_dist(double mu, double G2, double dist0_sq, long K);

// ---- Iterating with the library's optimizers ----
// theta_0 as a parameter: a 1 x d row that requires a gradient.
ad::Var parameter(const VectorD& theta0);
VectorD value_of(const ad::Var& theta);

using GradientFn = std::function<VectorD(const VectorD&)>;
// theta_0, ..., theta_steps: `gradient` is written into theta.grad() and `opt` (whose
// parameter set is {theta}) takes a step, `steps` times.
std::vector<VectorD> iterate(ad::Optimizer& opt, ad::Var& theta, int steps, const GradientFn& gradient);

// The stochastic oracle of Section 3.1.3: g = grad f(theta) + xi, xi ~ N(0, sigma^2/d I), so
// E[g | theta] = grad f(theta) and E[||g - grad f(theta)||^2 | theta] = sigma^2 exactly.
class NoisyOracle {
 public:
  NoisyOracle(const Objective& f, double sigma, Rng& rng) : f_(f), sigma_(sigma), rng_(rng) {}
  VectorD operator()(const VectorD& theta);

 private:
  const Objective& f_;
  double sigma_;
  Rng& rng_;
};

// `runs` independent SGD runs theta_{k+1} = theta_k - alpha_k g_k (k = 0..K-1), run r seeded by
// the r-th split() of Rng(seed). Row r, column K of each matrix is run r at step K.
struct SgdRuns {
  MatrixD avg_gap;    // f(theta_bar_K) - f*
  MatrixD avg_dist2;  // ||theta_bar_K - theta*||^2
  MatrixD last_gap;   // f(theta_K) - f*
  MatrixD grad2;      // ||g_K||^2 (column K unused: no gradient is drawn at the last iterate)
};
SgdRuns sgd_runs(const Objective& f, const VectorD& theta0, double sigma, ad::StepSize step, int K, int runs,
                 std::uint64_t seed);

// Exact moments of SGD with that oracle on a quadratic, k = 0..K (SGD on a quadratic is a linear
// recursion driven by Gaussian noise, so its second moments follow a deterministic recursion).
struct QuadraticSgdMoments {
  std::vector<double> grad2;      // E||g_k||^2 = E||A (theta_k - theta*)||^2 + sigma^2
  std::vector<double> dist2;      // E||theta_k - theta*||^2
  std::vector<double> avg_dist2;  // E||theta_bar_k - theta*||^2
  std::vector<double> avg_gap;    // E f(theta_bar_k) - f*
  double G2() const;              // max_k grad2[k]: the smallest G^2 valid for k = 0..K
};
QuadraticSgdMoments sgd_moments(const Quadratic& q, const VectorD& theta0, double sigma, ad::StepSize step, int K);

// Mean and Monte-Carlo standard error of column k; the q-quantile (0 <= q <= 1) of column k.
struct MeanSe {
  double mean, se;
};
MeanSe mean_se(const MatrixD& runs, int k);
double quantile(const MatrixD& runs, int k, double q);

}  // namespace pgcpp::section_3_1
