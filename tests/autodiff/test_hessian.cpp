// Hessian-vector products grad(dot(grad(f, x), v), x) against closed-form Hessians and
// finite differences of gradients.
#include <doctest/doctest.h>

#include "tests/autodiff/gradcheck.hpp"
#include "tests/needs_double.hpp"

using namespace pgcpp;
using namespace pgcpp::ad;
using test::random_matrix;

namespace {
Matrix hvp(const std::function<Var(const Var&)>& f, const Matrix& x0, const Matrix& v) {
  Var x(x0, true);
  const Var g = grad(f(x), {x}, /*create_graph=*/true)[0];
  return grad(dot(g, Var(v)), {x})[0].value();
}

// The closed-form checks hold to ~1e-15 (normalized) in double, checked at 1e-12; in float the
// second-order graph rounds at ~1e-6, and the finite-difference check is ~1e-2 off.
constexpr const char* kHessianVectorProducts = "Hessian-vector products checked to 1e-12, or against differences";
}  // namespace

TEST_CASE("Hessian-vector product of a quadratic form 1/2 x^T A x + b^T x equals A v" *
          NEEDS_DOUBLE(kHessianVectorProducts)) {
  Rng rng(11);
  const int d = 6;
  Matrix M = random_matrix(d, d, rng);
  const Matrix A = M * M.transpose() + Matrix::Identity(d, d);  // symmetric positive definite
  const Matrix b = random_matrix(d, 1, rng), x0 = random_matrix(d, 1, rng), v = random_matrix(d, 1, rng);
  auto f = [&](const Var& x) { return 0.5 * sum(x * matmul(Var(A), x)) + dot(Var(b), x); };
  const Matrix expected = A * v;
  CHECK(test::normalized_error(hvp(f, x0, v), expected) <= 1e-12);
}

TEST_CASE("Hessian of softmax cross-entropy -log softmax(z)_y equals diag(p) - p p^T" *
          NEEDS_DOUBLE(kHessianVectorProducts)) {
  Rng rng(12);
  const Matrix z0 = random_matrix(1, 5, rng, -2, 2), v = random_matrix(1, 5, rng);
  auto f = [&](const Var& z) { return -sum(pick(log_softmax(z), {3})); };
  RowVector p = (z0.array() - z0.maxCoeff()).exp().matrix();
  p /= p.sum();
  const Matrix H = Matrix(p.asDiagonal()) - p.transpose() * p;
  CHECK(test::normalized_error(hvp(f, z0, v), v * H) <= 1e-12);
}

TEST_CASE("Hessian-vector product of an MLP loss matches finite differences of its gradient" *
          NEEDS_DOUBLE(kHessianVectorProducts)) {
  Rng rng(13);
  Mlp net({3, 8, 2}, Activation::Tanh, rng);
  const Matrix X = random_matrix(5, 3, rng);
  std::vector<Matrix> values;
  const ParameterSet params = net.parameters();
  for (const Var& p : params.list()) values.push_back(p.value());
  auto f = [&](const std::vector<Var>& w) {
    const Var h = tanh(affine(Var(X), w[0], w[1]));
    return sum(log_softmax(affine(h, w[2], w[3])));
  };
  test::gradgradcheck(f, values, rng);
}
