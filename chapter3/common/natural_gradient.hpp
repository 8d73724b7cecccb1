// Sections 3.4.3-3.4.5 — the trust region's machinery, shared by NPG (3.4.4) and TRPO (3.4.6):
//
//   mean_kl              Dbar_KL(theta_k || theta), the batch's mean KL                      (3.50)
//   FisherVectorProduct  v -> F(theta_k) v, F the Hessian of Dbar_KL at theta_k = the Fisher
//                        information (3.54), as Section 3.4.5 proves; optional damping xi
//   conjugate_gradient   p_NPG ~ F^{-1} g with one F-product per iteration                   (3.55)
//   trust_region_step    alpha = sqrt(2 delta / p^T F p)                                     (3.55)
//
// The Fisher-vector product is exact and forms no matrix: the gradient of Dbar_KL is taken once
// with its graph (create_graph, autodiff/var.hpp), and each product differentiates
// <grad Dbar_KL, v> once more, a Hessian-vector product. Nothing here uses finite differences.
#pragma once

#include <functional>

#include "chapter3/common/policy.hpp"

namespace pgcpp {

// Dbar_KL(theta_k || theta) = 1/N sum_i KL(pi_theta_k(.|s_i) || pi_theta(.|s_i))               (3.50)
// over the N rows of obs; old_params = pi_theta_k's distribution parameters at obs (constants).
// 1 x 1, differentiable (to any order) in the policy's current parameters theta.
Var mean_kl(const Policy& policy, const Matrix& obs, const Matrix& old_params);
// The same from the policy's distribution parameters at those states, already computed (params).
Var mean_kl(const Policy& policy, const Var& params, const Matrix& old_params);

// The gradient of a 1 x 1 y with respect to every parameter of theta, as one vector in the order
// of ParameterSet::flatten (zeros for parameters y does not depend on).
Vector flat_gradient(const Var& y, const ad::ParameterSet& theta);

// v -> (F(theta_k) + xi I) v with F(theta_k) = grad^2_theta Dbar_KL(theta_k || theta) at theta = theta_k
// (3.54), on the batch obs. theta_k is the policy's parameters when the product is constructed;
// they must not change while it is used. Construction records the first-order graph once; each
// call is one reverse pass through it.
class FisherVectorProduct {
 public:
  FisherVectorProduct(const Policy& policy, const Matrix& obs, double damping = 0);
  Vector operator()(const Vector& v) const;
  Eigen::Index dim() const { return theta_.count(); }
  long products() const { return products_; }

 private:
  ad::ParameterSet theta_;
  ad::Grads kl_grad_;  // grad Dbar_KL with its graph; 0 in value at theta_k (Step 1 of Section 3.4.5)
  Scalar damping_;
  mutable long products_ = 0;
};

using LinearMap = std::function<Vector(const Vector&)>;

struct CgResult {
  Vector x;              // approximate solution of A x = b
  int iterations = 0;    // products A p taken
  double residual = 0;   // ||b - A x|| / ||b|| at the end (the recurrence's residual)
};

// Conjugate gradient for A x = b, A symmetric positive definite, from x_0 = 0: at most
// `iterations` steps, stopping early once ||r|| <= tolerance ||b||. Throws std::runtime_error if
// p^T A p <= 0 or is not finite (A is not positive definite along p: add damping).
CgResult conjugate_gradient(const LinearMap& A, const Vector& b, int iterations, double tolerance = 1e-10);

// alpha = sqrt(2 delta / p^T F p), given Fp = F p: theta_k + alpha p lies on the boundary of the
// quadratic trust region 1/2 dtheta^T F dtheta <= delta of (3.52).                        (3.55)
// Throws std::runtime_error if p^T F p is not a positive finite number.
double trust_region_step(const Vector& p, const Vector& Fp, double delta);

}  // namespace pgcpp
