// Hessian-vector products grad(dot(grad(f, x), v), x) against closed-form Hessians and
// finite differences of gradients.
#include <doctest/doctest.h>

#include <functional>
#include <limits>
#include <utility>

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

// Second order through linear ops. A linear op's Hessian is 0, so its backward rule is only
// checked to second order when the op sits below a nonlinearity: the gradient reaching it then
// depends on x, and a rule that returned a constant (a detached matrix) instead of a Var built
// from g would make these Hessian-vector products 0 (or miss a term). Every function below is a
// quadratic or tanh of a linear map of x, so H v has a closed form.
namespace {
constexpr double kRoundoff = 64 * std::numeric_limits<Scalar>::epsilon();  // both builds
}  // namespace

TEST_CASE("second order through add and broadcast: Hessian of sum tanh(x + b) is diag(-2 t (1 - t^2))") {
  Rng rng(21);
  const Matrix x0 = random_matrix(4, 3, rng), b0 = random_matrix(1, 3, rng);
  const Matrix v = random_matrix(4, 3, rng), vb = random_matrix(1, 3, rng);
  const auto t = (x0.rowwise() + b0.row(0)).array().tanh();
  const Matrix curvature = (-2 * t * (1 - t.square())).matrix();  // d^2/dz^2 tanh z at z = x + b
  // In x (b constant, broadcast over the rows); in b (x constant): the rows' curvatures add up.
  CHECK(test::normalized_error(hvp([&](const Var& x) { return sum(tanh(x + Var(b0))); }, x0, v),
                               curvature.cwiseProduct(v)) <= kRoundoff);
  CHECK(test::normalized_error(hvp([&](const Var& b) { return sum(tanh(Var(x0) + b)); }, b0, vb),
                               curvature.colwise().sum().cwiseProduct(vb)) <= kRoundoff);
  CHECK(test::normalized_error(hvp([&](const Var& b) { return sum(tanh(Var(x0) + broadcast_to(b, 4, 3))); }, b0, vb),
                               curvature.colwise().sum().cwiseProduct(vb)) <= kRoundoff);
}

TEST_CASE("second order through sub, neg, transpose, slices, sum_to, mean: the Gaussian KL's (mu_old - mu)^2 and kin") {
  Rng rng(22);
  const Matrix mu0 = random_matrix(3, 4, rng), mu_old = random_matrix(3, 4, rng), v = random_matrix(3, 4, rng);
  const Var old(mu_old);
  const Scalar sigma2 = Scalar(0.49);
  // KL(N(mu_old, sigma^2) || N(mu, sigma^2)) summed over entries = sum (mu_old - mu)^2 / (2 sigma^2):
  // H = I / sigma^2, whichever linear ops carry mu to the square.
  const std::vector<std::pair<const char*, std::function<Var(const Var&)>>> kl = {
      {"sub (mu second)", [&](const Var& mu) { return sum(square(old - mu)) / (2 * sigma2); }},
      {"sub (mu first)", [&](const Var& mu) { return sum(square(mu - old)) / (2 * sigma2); }},
      {"neg and add", [&](const Var& mu) { return sum(square(-mu + old)) / (2 * sigma2); }},
      {"transpose", [&](const Var& mu) { return sum(square(transpose(old) - transpose(mu))) / (2 * sigma2); }},
      {"concat and slice", [&](const Var& mu) { return sum(square(slice_cols(concat_cols({old, mu}), 4, 4) - old)) / (2 * sigma2); }},
      {"pad", [&](const Var& mu) { return sum(square(pad_cols(mu - old, 2, 7))) / (2 * sigma2); }},
  };
  for (const auto& [name, f] : kl) {
    CAPTURE(name);
    CHECK(test::normalized_error(hvp(f, mu0, v), v / sigma2) <= kRoundoff);
  }
  // Reductions: 1/2 ||sum over rows - c||^2 has H v = every row of v's column sums (sum_to then
  // broadcast); 1/2 mean(mu)^2 has H v = mean(v) / N everywhere; 1/2 ||3 mu||^2 has H v = 9 v.
  const Var c(random_matrix(1, 4, rng));
  const Matrix colsum = v.colwise().sum();
  CHECK(test::normalized_error(hvp([&](const Var& mu) { return 0.5 * sum(square(sum(mu, 0) - c)); }, mu0, v),
                               colsum.replicate(3, 1)) <= kRoundoff);
  CHECK(test::normalized_error(hvp([&](const Var& mu) { return 0.5 * square(mean(mu)); }, mu0, v),
                               Matrix::Constant(3, 4, v.mean() / 12)) <= kRoundoff);
  CHECK(test::normalized_error(hvp([&](const Var& mu) { return 0.5 * sum(square(3.0 * mu)); }, mu0, v), 9 * v) <=
        kRoundoff);
}
