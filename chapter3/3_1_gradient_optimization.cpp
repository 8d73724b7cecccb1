#include "chapter3/3_1_gradient_optimization.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

namespace pgcpp::section_3_1 {

namespace {

Matrix to_row(const VectorD& v) { return v.transpose().cast<Scalar>(); }

ad::Var constant(const VectorD& v) { return ad::Var(to_row(v)); }
ad::Var constant(const MatrixD& m) { return ad::Var(m.cast<Scalar>()); }

}  // namespace

MatrixD rotation(int d, double angle) {
  MatrixD U = MatrixD::Identity(d, d);
  if (d >= 2) {
    const double c = std::cos(angle), s = std::sin(angle);
    U.topLeftCorner(2, 2) << c, -s, s, c;
  }
  return U;
}

// ---------------------------------------------------------------------------------------------
// Quadratic

Quadratic::Quadratic(VectorD lambda_, double angle, VectorD theta_star_)
    : lambda(std::move(lambda_)), U(rotation(static_cast<int>(lambda.size()), angle)) {
  if (lambda.size() != theta_star_.size() || lambda.minCoeff() < 0.0)
    throw std::invalid_argument("Quadratic: need lambda >= 0 and theta* of the same dimension");
  A = U * lambda.asDiagonal() * U.transpose();
  theta_star = std::move(theta_star_);
  L = lambda.maxCoeff();
  mu = lambda.minCoeff();
}

double Quadratic::f(const VectorD& theta) const {
  const VectorD e = theta - theta_star;
  return 0.5 * e.dot(A * e);
}

VectorD Quadratic::grad(const VectorD& theta) const { return A * (theta - theta_star); }

ad::Var Quadratic::f(const ad::Var& theta) const {
  ad::Var e = theta - constant(theta_star);
  return 0.5 * ad::dot(ad::matmul(e, constant(A)), e);
}

double Quadratic::grad_sup2() const {
  return L > 0.0 ? std::numeric_limits<double>::infinity() : 0.0;
}

VectorD Quadratic::nearest_minimizer(const VectorD& theta0) const {
  VectorD c = U.transpose() * (theta0 - theta_star);  // coordinates along the eigenvectors
  for (Eigen::Index i = 0; i < c.size(); ++i)
    if (lambda(i) > 0.0) c(i) = 0.0;
  return theta_star + U * c;
}

// ---------------------------------------------------------------------------------------------
// FlatBottom

FlatBottom::FlatBottom(VectorD w_, double angle, VectorD theta_star_, double mu_)
    : w(std::move(w_)), U(rotation(static_cast<int>(w.size()), angle)) {
  if (w.size() != theta_star_.size() || w.minCoeff() <= 0.0 || mu_ < 0.0)
    throw std::invalid_argument("FlatBottom: need w > 0, mu >= 0 and theta* of the same dimension");
  theta_star = std::move(theta_star_);
  mu = mu_;
  L = w.maxCoeff() + mu;
}

double FlatBottom::psi(double x) {
  const double ax = std::abs(x);
  // log cosh x and tanh(x)^2 / 2 both start x^2 / 2: near 0 the difference (~x^4 / 4) would
  // lose 2 eps / x^2 of relative accuracy, so use the Taylor series there. At |x| = 0.04 both
  // are accurate to ~1e-13.
  if (ax < 0.04) {
    const double x2 = x * x;
    return x2 * x2 * (1.0 / 3.0 + x2 * (-2.0 / 9.0 + x2 * (11.0 / 90.0 - x2 * (176.0 / 2835.0))));
  }
  // log cosh x = |x| + log(1 + e^{-2|x|}) - log 2, without overflow.
  const double log_cosh = ax + std::log1p(std::exp(-2.0 * ax)) - std::numbers::ln2;
  const double t = std::tanh(ax);
  return 4.0 / 3.0 * (log_cosh - 0.5 * t * t);
}

double FlatBottom::f(const VectorD& theta) const {
  const VectorD e = theta - theta_star;
  const VectorD z = U.transpose() * e;
  double value = 0.5 * mu * e.squaredNorm();
  for (Eigen::Index i = 0; i < z.size(); ++i) value += w(i) * psi(z(i));
  return value;
}

VectorD FlatBottom::grad(const VectorD& theta) const {
  const VectorD e = theta - theta_star;
  VectorD z = U.transpose() * e;
  for (Eigen::Index i = 0; i < z.size(); ++i) z(i) = w(i) * dpsi(z(i));
  return U * z + mu * e;
}

ad::Var FlatBottom::f(const ad::Var& theta) const {
  ad::Var e = theta - constant(theta_star);
  ad::Var z = ad::matmul(e, constant(U));  // z_i = u_i^T e
  // log cosh z = softplus(2 z) - z - log 2
  ad::Var log_cosh = ad::softplus(2.0 * z) - z - static_cast<Scalar>(std::numbers::ln2);
  ad::Var t = ad::tanh(z);
  ad::Var psi_z = static_cast<Scalar>(4.0 / 3.0) * (log_cosh - 0.5 * t * t);
  return ad::dot(constant(w), psi_z) + static_cast<Scalar>(0.5 * mu) * ad::sum(ad::square(e));
}

double FlatBottom::grad_sup2() const {
  // |psi'| < 4/3; the mu term is unbounded.
  return mu > 0.0 ? std::numeric_limits<double>::infinity() : 16.0 / 9.0 * w.squaredNorm();
}

// ---------------------------------------------------------------------------------------------
// Stationary points

double cubic_f(double x, double y) { return x * x * x - 3.0 * x + 3.0 * y - y * y * y; }

ad::Var cubic_f(const ad::Var& theta) {
  ad::Var x = ad::slice_cols(theta, 0, 1), y = ad::slice_cols(theta, 1, 1);
  return x * x * x - 3.0 * x + 3.0 * y - y * y * y;
}

MatrixD hessian(const std::function<ad::Var(const ad::Var&)>& f, const VectorD& theta) {
  const int d = static_cast<int>(theta.size());
  ad::Var p = parameter(theta);
  // Gradient with a graph, then each of its components differentiated again: row i of the Hessian.
  ad::Var g = ad::grad(f(p), {p}, /*create_graph=*/true)[0];
  MatrixD H(d, d);
  for (int i = 0; i < d; ++i) H.row(i) = ad::grad(ad::sum(ad::slice_cols(g, i, 1)), {p})[0].value().cast<double>();
  return 0.5 * (H + H.transpose());
}

StationaryPoint classify(const std::function<ad::Var(const ad::Var&)>& f, const VectorD& theta) {
  ad::Var p = parameter(theta);
  ad::Var value = f(p);
  const VectorD g = value_of(ad::grad(value, {p})[0]);
  Eigen::SelfAdjointEigenSolver<MatrixD> eig(hessian(f, theta));
  StationaryPoint s{theta, static_cast<double>(value.item()), g, eig.eigenvalues(), "degenerate"};
  const double scale = 1e-8 * std::max(1.0, eig.eigenvalues().cwiseAbs().maxCoeff());
  const bool pos = (eig.eigenvalues().array() > scale).all(), neg = (eig.eigenvalues().array() < -scale).all();
  const bool mixed = (eig.eigenvalues().array() > scale).any() && (eig.eigenvalues().array() < -scale).any();
  s.kind = pos ? "minimum" : neg ? "maximum" : mixed ? "saddle point" : "degenerate";
  return s;
}

// ---------------------------------------------------------------------------------------------
// Newton's method

std::vector<VectorD> newton(const Objective& f, const VectorD& theta0, int steps, bool line_search) {
  const auto f_var = [&f](const ad::Var& t) { return f.f(t); };
  std::vector<VectorD> path{theta0};
  for (int k = 0; k < steps; ++k) {
    const VectorD& theta = path.back();
    const VectorD grad = f.grad(theta);
    if (grad.squaredNorm() == 0.0) break;  // at a stationary point: nothing left to do
    // Newton direction d = -H^{-1} grad, from the autodiff Hessian.
    const Eigen::LDLT<MatrixD> ldlt(hessian(f_var, theta));
    VectorD d = ldlt.solve(-grad);
    const bool positive_definite = ldlt.info() == Eigen::Success && ldlt.isPositive() && (ldlt.vectorD().array() > 0).all();
    double eta = 1.0;
    if (line_search) {
      if (!positive_definite || !d.allFinite() || grad.dot(d) >= 0.0) d = -grad;  // not a descent direction
      const double f0 = f.f(theta), slope = grad.dot(d);
      for (int halvings = 0; halvings < 60 && !(f.f(theta + eta * d) <= f0 + 0.25 * eta * slope); ++halvings) eta *= 0.5;
    }
    const VectorD next = theta + eta * d;
    if (!next.allFinite()) break;
    path.push_back(next);
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// Bounds

// Theorem 3.1 (GD, f convex and L-smooth, 0 < alpha <= 2/L).
double bound_3_4(double alpha, double L, double gap0, double dist0_sq, long k) {
  if (gap0 <= 0.0) return 0.0;  // theta_0 is a minimizer: so is every theta_k
  return 2.0 * gap0 * dist0_sq / (2.0 * dist0_sq + static_cast<double>(k) * alpha * (2.0 - L * alpha) * gap0);  // (3.4)
}

double bound_3_5(double L, double dist0_sq, long k) {
  return 2.0 * L * dist0_sq / (static_cast<double>(k) + 4.0);  // (3.5): (3.4) at alpha = 1/L, with gap0 <= L/2 dist0_sq
}

// Theorem 3.2 (GD, f mu-strongly convex and L-smooth, 0 < alpha <= 2/(mu + L)).
double bound_3_7(double alpha, double mu, double L, double dist0_sq, long k) {
  return std::pow(1.0 - 2.0 * alpha * mu * L / (mu + L), static_cast<double>(k)) * dist0_sq;  // (3.7)
}

double alpha_3_8(double mu, double L) { return 2.0 / (mu + L); }  // (3.8)

double condition_number(double mu, double L) { return L / mu; }  // Q_f of (3.8)

double bound_3_8_dist(double mu, double L, double dist0, long k) {
  const double Q = condition_number(mu, L);
  return std::pow((Q - 1.0) / (Q + 1.0), static_cast<double>(k)) * dist0;  // (3.8), first line
}

double bound_3_8_gap(double mu, double L, double dist0_sq, long k) {
  const double Q = condition_number(mu, L);
  return 0.5 * L * std::pow((Q - 1.0) / (Q + 1.0), 2.0 * static_cast<double>(k)) * dist0_sq;  // (3.8), second line
}

// Theorem 3.3 (SGD, f convex and L-smooth, E||g_k||^2 <= G^2).
double oracle_G2(const Objective& f, double sigma) {
  // E||g||^2 = ||grad f||^2 + E||xi||^2 = ||grad f||^2 + sigma^2 (E xi = 0): the book's remark after
  // Theorem 3.3, G^2 replaced by sigma^2 + sup ||grad f||^2.
  return f.grad_sup2() + sigma * sigma;
}

double bound_3_9(double alpha, double G2, double dist0_sq, long K) {
  return dist0_sq / (2.0 * alpha * (static_cast<double>(K) + 1.0)) + 0.5 * alpha * G2;  // (3.9)
}

ad::StepSize step_3_10(double G2, double dist0_sq) {
  // alpha_k = alpha_0 / sqrt(k + 1), alpha_0 = ||theta_0 - theta*|| / G                       (3.10)
  return ad::StepSize::inv_sqrt(static_cast<Scalar>(std::sqrt(dist0_sq / G2)));
}

double bound_3_10(double G2, double dist0_sq, long K) {
  return std::sqrt(dist0_sq * G2) / std::sqrt(static_cast<double>(K) + 1.0);  // (3.10)
}

// Theorem 3.4 (SGD, f mu-strongly convex and L-smooth, E||g_k||^2 <= G^2).
ad::StepSize step_3_11(double mu) {
  return ad::StepSize::inv(static_cast<Scalar>(1.0 / mu));  // alpha_k = (1/mu) / (k + 1)      (3.11)
}

double bound_3_11_gap(double mu, double G2, long K) {
  const double K1 = static_cast<double>(K) + 1.0;
  return G2 / (2.0 * mu * K1) * (1.0 + std::log(K1));  // (3.11), first line
}

double bound_3_11_dist(double mu, double G2, double dist0_sq, long K) {
  return std::max(G2 / (mu * mu), dist0_sq) / (static_cast<double>(K) + 1.0);  // (3.11), second line: Q / (K + 1)
}

// ---------------------------------------------------------------------------------------------
// Iterating

ad::Var parameter(const VectorD& theta0) { return ad::Var(to_row(theta0), /*requires_grad=*/true); }

VectorD value_of(const ad::Var& theta) {
  return Eigen::Map<const Matrix>(theta.value().data(), theta.size(), 1).cast<double>();
}

std::vector<VectorD> iterate(ad::Optimizer& opt, ad::Var& theta, int steps, const GradientFn& gradient) {
  std::vector<VectorD> path;
  path.reserve(static_cast<std::size_t>(steps) + 1);
  path.push_back(value_of(theta));
  for (int k = 0; k < steps; ++k) {
    theta.grad() = to_row(gradient(path.back()));
    opt.step();
    path.push_back(value_of(theta));
  }
  return path;
}

VectorD NoisyOracle::operator()(const VectorD& theta) {
  VectorD g = f_.grad(theta);
  const double s = sigma_ / std::sqrt(static_cast<double>(g.size()));
  for (Eigen::Index i = 0; i < g.size(); ++i) g(i) += s * rng_.normal();
  return g;
}

SgdRuns sgd_runs(const Objective& f, const VectorD& theta0, double sigma, ad::StepSize step, int K, int runs,
                 std::uint64_t seed) {
  SgdRuns out{MatrixD::Zero(runs, K + 1), MatrixD::Zero(runs, K + 1), MatrixD::Zero(runs, K + 1),
              MatrixD::Zero(runs, K + 1)};
  Rng master(seed);
  for (int r = 0; r < runs; ++r) {
    Rng rng = master.split();
    NoisyOracle oracle(f, sigma, rng);
    ad::Var theta = parameter(theta0);
    ad::Sgd opt(ad::ParameterSet({theta}), step);
    VectorD theta_bar = theta0;
    for (int k = 0; k <= K; ++k) {
      const VectorD theta_k = value_of(theta);
      theta_bar += (theta_k - theta_bar) / static_cast<double>(k + 1);  // running mean of theta_0..theta_k
      out.avg_gap(r, k) = f.f(theta_bar) - f.f_star;
      out.avg_dist2(r, k) = (theta_bar - f.theta_star).squaredNorm();
      out.last_gap(r, k) = f.f(theta_k) - f.f_star;
      if (k == K) break;
      const VectorD g = oracle(theta_k);
      out.grad2(r, k) = g.squaredNorm();
      theta.grad() = to_row(g);
      opt.step();  // theta_{k+1} = theta_k - alpha_k g_k
    }
  }
  return out;
}

double QuadraticSgdMoments::G2() const { return *std::max_element(grad2.begin(), grad2.end()); }

QuadraticSgdMoments sgd_moments(const Quadratic& q, const VectorD& theta0, double sigma, ad::StepSize step, int K) {
  // Along eigenvector i, e = u_i^T (theta - theta*) follows e_{k+1} = (1 - alpha_k lambda_i) e_k
  // - alpha_k xi_k with xi_k ~ N(0, sigma^2/d) independent of the past, and the running mean
  // e_bar_{k+1} = w e_bar_k + (1 - w) e_{k+1}, w = (k+1)/(k+2). Track E e^2, E e e_bar, E e_bar^2.
  const int d = q.dim();
  const double s2 = sigma * sigma / d;
  const VectorD c0 = q.U.transpose() * (theta0 - q.theta_star);
  VectorD Pee = c0.array().square(), Peb = Pee, Pbb = Pee;
  QuadraticSgdMoments m;
  for (int k = 0;; ++k) {
    m.grad2.push_back((q.lambda.array().square() * Pee.array()).sum() + sigma * sigma);
    m.dist2.push_back(Pee.sum());
    m.avg_dist2.push_back(Pbb.sum());
    m.avg_gap.push_back(0.5 * (q.lambda.array() * Pbb.array()).sum());
    if (k == K) break;
    const double alpha = static_cast<double>(step.at(k));
    const double w = (k + 1.0) / (k + 2.0);
    for (int i = 0; i < d; ++i) {
      const double a = 1.0 - alpha * q.lambda(i);
      const double ee = a * a * Pee(i) + alpha * alpha * s2;  // E e_{k+1}^2
      const double be = a * Peb(i);                            // E e_bar_k e_{k+1}
      Pbb(i) = w * w * Pbb(i) + 2.0 * w * (1.0 - w) * be + (1.0 - w) * (1.0 - w) * ee;
      Peb(i) = w * be + (1.0 - w) * ee;
      Pee(i) = ee;
    }
  }
  return m;
}

MeanSe mean_se(const MatrixD& runs, int k) {
  const auto col = runs.col(k).array();
  const double n = static_cast<double>(runs.rows());
  const double mean = col.mean();
  const double var = (col - mean).square().sum() / (n - 1.0);
  return {mean, std::sqrt(var / n)};
}

double quantile(const MatrixD& runs, int k, double q) {
  std::vector<double> v(runs.col(k).data(), runs.col(k).data() + runs.rows());
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(pos);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - static_cast<double>(i)) * (v[i + 1] - v[i]);
}

}  // namespace pgcpp::section_3_1
