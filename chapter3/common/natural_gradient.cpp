#include "chapter3/common/natural_gradient.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace pgcpp {

using namespace ad;

// Dbar_KL(theta_k || theta) = 1/N sum_i KL(pi_k(.|s_i) || pi_theta(.|s_i))                     (3.50)
Var mean_kl(const Policy& policy, const Matrix& obs, const Matrix& old_params) {
  return mean_kl(policy, policy.dist_params(Var(obs)), old_params);
}

Var mean_kl(const Policy& policy, const Var& params, const Matrix& old_params) {
  return mean(policy.kl(old_params, params));
}

Vector flat_gradient(const Var& y, const ParameterSet& theta) {
  const Grads g = grad(y, theta.list());
  Vector flat(theta.count());
  Eigen::Index at = 0;
  for (const Var& gi : g) {
    flat.segment(at, gi.size()) = gi.value().reshaped();
    at += gi.size();
  }
  return flat;
}

FisherVectorProduct::FisherVectorProduct(const Policy& policy, const Matrix& obs, double damping)
    : theta_(policy.parameters()), damping_(static_cast<Scalar>(damping)) {
  // theta = theta_k: the old parameters are the current ones, held constant inside the KL.
  const Matrix old_params = policy.params_of(obs);
  kl_grad_ = grad(mean_kl(policy, obs, old_params), theta_.list(), /*create_graph=*/true);
}

// F v = grad_theta <grad_theta Dbar_KL, v> at theta_k (Section 3.4.5: the Hessian is the Fisher).
Vector FisherVectorProduct::operator()(const Vector& v) const {
  if (v.size() != dim())
    throw std::invalid_argument("FisherVectorProduct: vector of " + std::to_string(v.size()) + " for " +
                                std::to_string(dim()) + " parameters");
  Var inner;
  Eigen::Index at = 0;
  for (const Var& gi : kl_grad_) {
    const Var vi(Matrix(v.segment(at, gi.size()).reshaped(gi.rows(), gi.cols())));
    inner = inner.defined() ? inner + dot(gi, vi) : dot(gi, vi);
    at += gi.size();
  }
  ++products_;
  return flat_gradient(inner, theta_) + damping_ * v;  // (F + xi I) v
}

CgResult conjugate_gradient(const LinearMap& A, const Vector& b, int iterations, double tolerance) {
  CgResult out;
  out.x = Vector::Zero(b.size());
  Vector r = b, p = b;  // r = b - A x with x = 0
  // The inner products in double: in float, squares of a residual near convergence (|r_i| ~ 1e-20)
  // underflow to 0, and p^T A p = 0 would read as a matrix that is not positive definite.
  auto dot = [](const Vector& u, const Vector& v) { return u.cast<double>().dot(v.cast<double>()); };
  const double b_norm = std::sqrt(dot(b, b));
  double rr = dot(r, r);
  if (b_norm == 0) return out;
  for (int k = 0; k < iterations; ++k) {
    if (std::sqrt(rr) <= tolerance * b_norm) break;
    const Vector Ap = A(p);
    ++out.iterations;
    const double pAp = dot(p, Ap);
    if (!(pAp > 0) || !std::isfinite(pAp))
      throw std::runtime_error("conjugate gradient: p^T A p = " + std::to_string(pAp) + " at iteration " +
                               std::to_string(k + 1) + " (the matrix is not positive definite; add damping)");
    const Scalar step = static_cast<Scalar>(rr / pAp);
    out.x += step * p;
    r -= step * Ap;
    const double rr_next = dot(r, r);
    p = r + static_cast<Scalar>(rr_next / rr) * p;
    rr = rr_next;
  }
  out.residual = std::sqrt(rr) / b_norm;
  return out;
}

// alpha = sqrt(2 delta / p^T F p)                                                                  (3.55)
double trust_region_step(const Vector& p, const Vector& Fp, double delta) {
  const double pFp = static_cast<double>(p.dot(Fp));
  if (!(pFp > 0) || !std::isfinite(pFp))
    throw std::runtime_error("trust-region step: p^T F p = " + std::to_string(pFp) + " is not positive");
  return std::sqrt(2 * delta / pFp);
}

}  // namespace pgcpp
