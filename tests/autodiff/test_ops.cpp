// Every autodiff op against central finite differences: first derivatives (gradcheck) and
// Hessian-vector products through the op's backward rule (gradgradcheck).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>

#include "tests/autodiff/gradcheck.hpp"
#include "tests/needs_double.hpp"

using namespace pgcpp;
using namespace pgcpp::ad;
using test::gradcheck;
using test::gradgradcheck;
using test::random_matrix;

namespace {

// A fixed random scalar of the op's output y, sum(W1 * y) + sum(W2 * tanh(y)), whose gradient
// involves every output entry. The tanh term puts every op below a nonlinearity: the gradient
// arriving at the op then depends on x, so a backward rule that returns a constant instead of a
// differentiable Var (losing the second-order term) gives a wrong Hessian-vector product even
// for a linear op (add, sub, neg, transpose, broadcast_to, sum_to, slices). With the linear
// projection alone the Hessian of a linear op is 0 and such a rule would pass.
Var project(const Var& y) {
  Rng rng(1000 + 31 * y.rows() + y.cols());
  const Matrix W1 = random_matrix(y.rows(), y.cols(), rng), W2 = random_matrix(y.rows(), y.cols(), rng);
  return sum(y * Var(W1)) + sum(tanh(y) * Var(W2));
}

// Checks op (applied to inputs of the given values) to first and second order.
void check_op(const std::function<Var(const std::vector<Var>&)>& op, const std::vector<Matrix>& values) {
  Rng rng(7);
  auto f = [&](const std::vector<Var>& x) { return project(op(x)); };
  gradcheck(f, values);
  gradgradcheck(f, values, rng);
}

Matrix rnd(Eigen::Index r, Eigen::Index c, double lo = -1.0, double hi = 1.0) {
  static Rng rng(42);
  return random_matrix(r, c, rng, lo, hi);
}

// Values bounded away from 0 so that kinks (relu, abs) are farther than the FD step.
Matrix away_from_zero(Eigen::Index r, Eigen::Index c) {
  Matrix m = rnd(r, c, 0.1, 1.0);
  for (Eigen::Index i = 0; i < m.size(); i += 2) m(i) = -m(i);
  return m;
}

// Central differences with h = 1e-6 (gradcheck) and 1e-5 (gradgradcheck) are good to ~1e-9 in
// double; in float h is a few ulps of the inputs and the differences carry ~1e-2 of rounding.
constexpr const char* kFiniteDifferences = "checked against central finite differences to 1e-6";

}  // namespace

TEST_CASE("elementwise arithmetic, same shapes, 1x1, 1xn and nx1" * NEEDS_DOUBLE(kFiniteDifferences)) {
  for (auto [r, c] : {std::pair{3, 4}, {1, 1}, {1, 5}, {5, 1}}) {
    CAPTURE(r);
    CAPTURE(c);
    check_op([](auto& x) { return x[0] + x[1]; }, {rnd(r, c), rnd(r, c)});
    check_op([](auto& x) { return x[0] - x[1]; }, {rnd(r, c), rnd(r, c)});
    check_op([](auto& x) { return x[0] * x[1]; }, {rnd(r, c), rnd(r, c)});
    check_op([](auto& x) { return x[0] / x[1]; }, {rnd(r, c), rnd(r, c, 0.5, 2.0)});
    check_op([](auto& x) { return -x[0]; }, {rnd(r, c)});
  }
}

TEST_CASE("elementwise arithmetic with broadcasting: row, column, scalar, row against column" *
          NEEDS_DOUBLE(kFiniteDifferences)) {
  check_op([](auto& x) { return x[0] + x[1]; }, {rnd(4, 3), rnd(1, 3)});
  check_op([](auto& x) { return x[1] - x[0]; }, {rnd(4, 3), rnd(4, 1)});
  check_op([](auto& x) { return x[0] * x[1]; }, {rnd(4, 3), rnd(1, 1)});
  check_op([](auto& x) { return x[0] / x[1]; }, {rnd(4, 3), rnd(1, 3, 0.5, 2.0)});
  check_op([](auto& x) { return x[1] / x[0]; }, {rnd(4, 1, 0.5, 2.0), rnd(1, 3)});
  check_op([](auto& x) { return x[0] * x[1]; }, {rnd(1, 3), rnd(4, 1)});
}

TEST_CASE("arithmetic with scalars" * NEEDS_DOUBLE(kFiniteDifferences)) {
  check_op([](auto& x) { return (2.5 * x[0] + 1.0) - (x[0] / 4.0) * 3.0; }, {rnd(3, 2)});
  check_op([](auto& x) { return 1.0 - 2.0 / x[0]; }, {rnd(3, 2, 0.5, 2.0)});
}

TEST_CASE("matmul in all four transpose combinations, transpose and affine" * NEEDS_DOUBLE(kFiniteDifferences)) {
  check_op([](auto& x) { return matmul(x[0], x[1]); }, {rnd(3, 4), rnd(4, 2)});
  check_op([](auto& x) { return matmul(x[0], x[1], true, false); }, {rnd(4, 3), rnd(4, 2)});
  check_op([](auto& x) { return matmul(x[0], x[1], false, true); }, {rnd(3, 4), rnd(2, 4)});
  check_op([](auto& x) { return matmul(x[0], x[1], true, true); }, {rnd(4, 3), rnd(2, 4)});
  check_op([](auto& x) { return matmul(x[0], x[1]); }, {rnd(1, 4), rnd(4, 1)});
  check_op([](auto& x) { return transpose(x[0]); }, {rnd(3, 5)});
  check_op([](auto& x) { return affine(x[0], x[1], x[2]); }, {rnd(5, 3), rnd(3, 2), rnd(1, 2)});
  // A product with curvature in the inputs, so the Hessian-vector check is not trivial.
  check_op([](auto& x) { return matmul(tanh(x[0]), x[0], false, true); }, {rnd(3, 4)});
}

TEST_CASE("shape ops: broadcast_to, sum_to, concat, slice, pad" * NEEDS_DOUBLE(kFiniteDifferences)) {
  check_op([](auto& x) { return broadcast_to(x[0], 4, 3); }, {rnd(1, 3)});
  check_op([](auto& x) { return broadcast_to(x[0], 4, 3); }, {rnd(4, 1)});
  check_op([](auto& x) { return broadcast_to(x[0], 4, 3); }, {rnd(1, 1)});
  check_op([](auto& x) { return sum_to(square(x[0]), 1, 3); }, {rnd(4, 3)});
  check_op([](auto& x) { return concat_cols({x[0], square(x[1]), x[0]}); }, {rnd(3, 2), rnd(3, 1)});
  check_op([](auto& x) { return slice_cols(square(x[0]), 1, 2); }, {rnd(3, 4)});
  check_op([](auto& x) { return pad_cols(square(x[0]), 1, 5); }, {rnd(3, 2)});
}

TEST_CASE("stop_gradient: d/dx sum(x * stop_gradient(x)) = stop_gradient(x), not 2x") {
  const Matrix x0 = rnd(3, 2);
  Var x(x0, true);
  CHECK(grad(sum(x * stop_gradient(x)), {x})[0].value() == x0);
}

TEST_CASE("reductions: sum, mean (whole, per row, per column), dot" * NEEDS_DOUBLE(kFiniteDifferences)) {
  check_op([](auto& x) { return square(sum(x[0])); }, {rnd(3, 4)});
  check_op([](auto& x) { return square(sum(x[0], 0)); }, {rnd(3, 4)});
  check_op([](auto& x) { return square(sum(x[0], 1)); }, {rnd(3, 4)});
  check_op([](auto& x) { return square(mean(x[0])); }, {rnd(3, 4)});
  check_op([](auto& x) { return square(mean(x[0], 0)); }, {rnd(3, 4)});
  check_op([](auto& x) { return square(mean(x[0], 1)); }, {rnd(3, 4)});
  check_op([](auto& x) { return square(dot(x[0], x[1])); }, {rnd(3, 4), rnd(3, 4)});
}

TEST_CASE("elementwise functions" * NEEDS_DOUBLE(kFiniteDifferences)) {
  for (auto [r, c] : {std::pair{3, 4}, {1, 1}, {1, 4}, {4, 1}}) {
    CAPTURE(r);
    CAPTURE(c);
    check_op([](auto& x) { return exp(x[0]); }, {rnd(r, c)});
    check_op([](auto& x) { return log(x[0]); }, {rnd(r, c, 0.2, 3.0)});
    check_op([](auto& x) { return tanh(x[0]); }, {rnd(r, c, -3.0, 3.0)});
    check_op([](auto& x) { return sigmoid(x[0]); }, {rnd(r, c, -4.0, 4.0)});
    check_op([](auto& x) { return softplus(x[0]); }, {rnd(r, c, -4.0, 4.0)});
    check_op([](auto& x) { return relu(x[0]) * x[0]; }, {away_from_zero(r, c)});
    check_op([](auto& x) { return square(x[0]); }, {rnd(r, c)});
    check_op([](auto& x) { return sqrt(x[0]); }, {rnd(r, c, 0.2, 3.0)});
    check_op([](auto& x) { return pow(x[0], 2.5); }, {rnd(r, c, 0.2, 3.0)});
    check_op([](auto& x) { return pow(x[0], -1.5); }, {rnd(r, c, 0.2, 3.0)});
    check_op([](auto& x) { return abs(x[0]) * x[0]; }, {away_from_zero(r, c)});
  }
}

TEST_CASE("min, max, clamp and where (away from ties and bounds)" * NEEDS_DOUBLE(kFiniteDifferences)) {
  Matrix a = rnd(3, 4), b = a;
  for (Eigen::Index i = 0; i < b.size(); ++i) b(i) += (i % 2 ? 0.3 : -0.3);  // no ties
  check_op([](auto& x) { return minimum(x[0], x[1]) * x[0]; }, {a, b});
  check_op([](auto& x) { return maximum(x[0], x[1]) * x[1]; }, {a, b});
  check_op([](auto& x) { return maximum(x[0], x[1]); }, {rnd(3, 4), Matrix::Constant(1, 1, 0.05)});  // broadcast
  Matrix c = away_from_zero(3, 4) * 2.0;                                                           // |c| in [0.2, 2]
  check_op([](auto& x) { return clamp(x[0], -1.0, 1.0) * x[0]; }, {c});
  Matrix mask = (rnd(3, 4).array() > 0).cast<Scalar>().matrix();
  check_op([mask](auto& x) { return where(mask, square(x[0]), x[1] * x[0]); }, {rnd(3, 4), rnd(3, 4)});
}

TEST_CASE("per-row ops: softmax, log_softmax, logsumexp, pick, scatter" * NEEDS_DOUBLE(kFiniteDifferences)) {
  for (auto [r, c] : {std::pair{4, 3}, {1, 5}, {3, 1}, {1, 1}}) {
    CAPTURE(r);
    CAPTURE(c);
    check_op([](auto& x) { return softmax(x[0]); }, {rnd(r, c, -2.0, 2.0)});
    check_op([](auto& x) { return log_softmax(x[0]); }, {rnd(r, c, -2.0, 2.0)});
    check_op([](auto& x) { return logsumexp(x[0]); }, {rnd(r, c, -2.0, 2.0)});
  }
  const std::vector<int> index{2, 0, 1, 2};
  check_op([&](auto& x) { return pick(log_softmax(x[0]), index); }, {rnd(4, 3, -2.0, 2.0)});
  check_op([&](auto& x) { return scatter(square(x[0]), index, 3); }, {rnd(4, 1)});
}

TEST_CASE("a node feeding several consumers accumulates all of their gradients" * NEEDS_DOUBLE(kFiniteDifferences)) {
  check_op([](auto& x) {
    const Var h = tanh(x[0]);
    return h * h + exp(h) - matmul(h, x[1]) * sum(h);
  }, {rnd(3, 3), rnd(3, 1)});
}

TEST_CASE("an MLP's gradient with respect to its parameters and its input" * NEEDS_DOUBLE(kFiniteDifferences)) {
  Rng rng(3);
  for (Activation act : {Activation::Tanh, Activation::ReLU}) {
    Mlp net({3, 5, 4, 2}, act, rng);
    auto params = net.parameters().list();
    std::vector<Matrix> values{rnd(6, 3)};
    for (const Var& p : params) values.push_back(p.value());
    auto f = [&](const std::vector<Var>& x) {
      // Rebuild the network's computation from the given parameter values.
      Var h = x[0];
      for (std::size_t l = 0; l < 3; ++l) {
        h = affine(h, x[1 + 2 * l], x[2 + 2 * l]);
        if (l < 2) h = activate(h, act);
      }
      return project(h);
    };
    gradcheck(f, values);
  }
}

// Only in double: the kernel under test is our double one (autodiff/tanh_kernel.cpp); in float the
// kernel is Eigen's own float tanh, whose error depends on the instruction set (5 ulps measured
// without AVX-512, in the asan build).
TEST_CASE("the double tanh kernel is within a few ulps of std::tanh" *
          NEEDS_DOUBLE("the double kernel is the one under test; float uses Eigen's tanh")) {
  std::vector<Scalar> x;
  for (int i = -20000; i <= 20000; ++i) x.push_back(static_cast<Scalar>(i * 1e-3));
  for (int i = 1; i < 1000; ++i) x.push_back(static_cast<Scalar>(i * 1e-9));
  x.push_back(Scalar(800));
  x.push_back(Scalar(-800));
  std::vector<Scalar> y(x.size());
  tanh_kernel(x.data(), y.data(), static_cast<Eigen::Index>(x.size()));
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const Scalar ref = std::tanh(x[i]);
    if (ref == 0) {
      CHECK(y[i] == 0);
      continue;
    }
    const Scalar ulp = std::nextafter(std::abs(ref), std::numeric_limits<Scalar>::infinity()) - std::abs(ref);
    worst = std::max(worst, static_cast<double>(std::abs(y[i] - ref) / ulp));
  }
  CHECK(worst <= 4.0);  // the reference itself may be off by up to 1 ulp
}

TEST_CASE("grad with respect to interior nodes and to the output itself") {
  // backward passes release interior adjoints once used; the ones asked for must survive.
  Rng rng(5);
  Var x(random_matrix(3, 2, rng), true);
  const Var h = tanh(x);
  const Var y = sum(square(h));
  const auto g = grad(y, {h, x, h, y});
  const Matrix t = h.value();
  const double tol = 16 * std::numeric_limits<Scalar>::epsilon();
  CHECK(test::normalized_error(g[0].value(), 2 * t) <= tol);
  CHECK(test::normalized_error(g[1].value(), (2 * t.array() * (1 - t.array().square())).matrix()) <= tol);
  CHECK(g[2].value() == g[0].value());
  CHECK(g[3].value() == Matrix::Ones(1, 1));
}

TEST_CASE("third derivatives through tanh and relu backward rules" * NEEDS_DOUBLE("closed forms checked to 1e-12")) {
  // tanh' = 1 - t^2, tanh'' = -2 t (1 - t^2), tanh''' = (1 - t^2)(6 t^2 - 2): each order
  // differentiates the previous order's backward rule.
  Rng rng(6);
  const Matrix x0 = random_matrix(2, 3, rng, -2.0, 2.0);
  Var x(x0, true);
  const Var d1 = grad(sum(tanh(x)), {x}, true)[0];
  const Var d2 = grad(sum(d1), {x}, true)[0];
  const Var d3 = grad(sum(d2), {x})[0];
  const Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic> t = x0.array().tanh(), s = 1 - t.square();
  CHECK(test::normalized_error(d1.value(), s.matrix()) <= 1e-12);
  CHECK(test::normalized_error(d2.value(), (-2 * t * s).matrix()) <= 1e-12);
  CHECK(test::normalized_error(d3.value(), (s * (6 * t.square() - 2)).matrix()) <= 1e-12);
  // relu(x)^3 / 3: first derivative relu(x)^2, second 2 relu(x), third 2 [x > 0].
  const Matrix r0 = away_from_zero(2, 3);
  Var r(r0, true);
  const Var e1 = grad(sum(relu(r) * relu(r) * relu(r)) / 3.0, {r}, true)[0];
  const Var e2 = grad(sum(e1), {r}, true)[0];
  const Var e3 = grad(sum(e2), {r})[0];
  const Matrix pos = (r0.array() > 0).cast<Scalar>().matrix();
  CHECK(test::normalized_error(e1.value(), r0.cwiseMax(0).cwiseAbs2()) <= 1e-12);
  CHECK(test::normalized_error(e2.value(), 2 * r0.cwiseMax(0)) <= 1e-12);
  CHECK(test::normalized_error(e3.value(), 2 * pos) <= 1e-12);
}

// ---- The conventions ops.hpp documents, at the points where finite differences cannot look ----

namespace {
Matrix row(std::initializer_list<double> v) {
  Matrix m(1, static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double x : v) m(0, i++) = static_cast<Scalar>(x);
  return m;
}
Matrix grad_of(const std::function<Var(const Var&)>& f, const Matrix& x0) {
  Var x(x0, true);
  return grad(sum(f(x)), {x})[0].value();
}
}  // namespace

// ops.hpp: clamp's gradient passes where lo <= x <= hi, bounds included, and is 0 outside.
TEST_CASE("clamp: gradient 1 at x = lo and x = hi (inclusive bounds), 0 outside, 1 inside") {
  const Matrix x0 = row({-1.0, 1.0, -1.5, 1.5, 0.25});
  CHECK(grad_of([](const Var& x) { return clamp(x, -1.0, 1.0); }, x0) == row({1, 1, 0, 0, 1}));
  CHECK(clamp(Var(x0), -1.0, 1.0).value() == row({-1, 1, -1, 1, 0.25}));
}

// ops.hpp: elementwise min/max send the gradient to the first argument on ties.
TEST_CASE("minimum and maximum: on ties the whole gradient goes to the first argument") {
  Var a(row({1.0, 2.0, 3.0}), true), b(row({1.0, 0.0, 5.0}), true);
  const auto gmin = grad(sum(minimum(a, b)), {a, b});
  CHECK(gmin[0].value() == row({1, 0, 1}));  // tie at 0 -> a; b smaller at 1
  CHECK(gmin[1].value() == row({0, 1, 0}));
  const auto gmax = grad(sum(maximum(a, b)), {a, b});
  CHECK(gmax[0].value() == row({1, 1, 0}));  // tie at 0 -> a; b larger at 2
  CHECK(gmax[1].value() == row({0, 0, 1}));
  // A broadcast scalar tied with two entries: it is the first argument, so it takes both.
  Var s(Matrix::Constant(1, 1, 2.0), true), c(row({2.0, 2.0, 7.0}), true);
  const auto gs = grad(sum(maximum(s, c)), {s, c});
  CHECK(gs[0].value()(0, 0) == 2);
  CHECK(gs[1].value() == row({0, 0, 1}));
  const auto gr = grad(sum(maximum(c, s)), {c, s});  // swapped: now c wins the ties
  CHECK(gr[0].value() == row({1, 1, 1}));
  CHECK(gr[1].value()(0, 0) == 0);
}

// ops.hpp: relu and abs take the subgradient 0 at x = 0.
TEST_CASE("relu and abs: subgradient 0 at exactly 0, slopes 0/1 and -1/1 elsewhere") {
  const Matrix x0 = row({0.0, -0.0, 2.0, -2.0});
  CHECK(grad_of([](const Var& x) { return relu(x); }, x0) == row({0, 0, 1, 0}));
  CHECK(grad_of([](const Var& x) { return abs(x); }, x0) == row({0, 0, 1, -1}));
}

// ops.hpp: softplus = log(1 + e^x) "computed without overflow"; logsumexp shifted by the row max.
// A naive log(1 + exp(x)) is inf at x = 1000 and a naive log(sum exp) is inf (or -inf) at |x| = 1000.
TEST_CASE("softplus, sigmoid, logsumexp, log_softmax, softmax stay finite and exact at |x| = 1000") {
  const Matrix x0 = row({1000.0, -1000.0, 0.0});
  const Matrix sp = softplus(Var(x0)).value();
  CHECK(sp(0, 0) == 1000);
  CHECK(sp(0, 1) == 0);
  CHECK(sp(0, 2) == doctest::Approx(std::log(2.0)));
  const Matrix dsp = grad_of([](const Var& x) { return softplus(x); }, x0);  // sigmoid(x)
  CHECK(dsp(0, 0) == 1);
  CHECK(dsp(0, 1) == 0);
  CHECK(dsp(0, 2) == doctest::Approx(0.5));
  CHECK(sigmoid(Var(x0)).value() == row({1, 0, 0.5}));

  Matrix big(2, 2);
  big << 1000, 1000, -1000, -1000;
  const Matrix lse = logsumexp(Var(big)).value();
  CHECK(lse(0, 0) == doctest::Approx(1000 + std::log(2.0)));
  CHECK(lse(1, 0) == doctest::Approx(-1000 + std::log(2.0)));
  // softmax = exp(x - lse): 1/2 up to the rounding of lse (|lse| ~ 1000, so ~1000 eps).
  CHECK(test::normalized_error(grad_of([](const Var& x) { return logsumexp(x); }, big), Matrix::Constant(2, 2, 0.5)) <=
        2000 * std::numeric_limits<Scalar>::epsilon());
  const Matrix far = row({1000.0, 0.0});
  CHECK(log_softmax(Var(far)).value() == row({0, -1000}));
  // e^-1000 underflows: 0, or a subnormal where Eigen's vectorized exp (the portable/asan builds'
  // SSE kernel) does not flush it. Exact up to the smallest normal number, and never NaN or inf.
  const Scalar tiny = std::numeric_limits<Scalar>::min();
  const Matrix p = softmax(Var(far)).value();
  CHECK(p(0, 0) == 1);
  CHECK(std::abs(p(0, 1)) <= tiny);
  // d/dx log_softmax(x)_0 = e_0 - softmax(x) = (0, 0) here: finite, not NaN.
  Var z(far, true);
  const Matrix dz = grad(sum(pick(log_softmax(z), {0})), {z})[0].value();
  CHECK(dz(0, 0) == 0);
  CHECK(std::abs(dz(0, 1)) <= tiny);
}
