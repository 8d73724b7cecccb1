// Optimizers' first steps against values computed by hand, on f(theta) = 1/2 sum a_i theta_i^2
// (gradient a_i theta_i), and the parameter-set utilities.
#include <doctest/doctest.h>

#include <cmath>

#include "autodiff/autodiff.hpp"

using namespace pgcpp;
using namespace pgcpp::ad;

namespace {

struct Quadratic {
  Var theta;
  Vector a;
  explicit Quadratic(Vector theta0, Vector a_) : theta(Matrix(theta0), true), a(std::move(a_)) {}
  void compute_grad() { theta.grad() = (a.array() * theta.value().col(0).array()).matrix(); }
  Scalar at(int i) const { return theta.value()(i, 0); }
};

Quadratic problem() { return Quadratic(Vector{{1.0, -2.0}}, Vector{{1.0, 4.0}}); }

template <class Opt, class... Args>
Quadratic run(int steps, StepSize step, Args... args) {
  Quadratic q = problem();
  Opt opt(ParameterSet({q.theta}), step, args...);
  for (int k = 0; k < steps; ++k) {
    q.compute_grad();
    opt.step();
  }
  return q;
}

constexpr double tol = 1e-6;

}  // namespace

TEST_CASE("SGD: theta <- theta - alpha g") {
  // g0 = (1, -8); theta1 = (1 - 0.1, -2 + 0.8) = (0.9, -1.2)
  // g1 = (0.9, -4.8); theta2 = (0.81, -0.72)
  Quadratic q = run<Sgd>(2, StepSize::constant(0.1));
  CHECK(q.at(0) == doctest::Approx(0.81).epsilon(tol));
  CHECK(q.at(1) == doctest::Approx(-0.72).epsilon(tol));
}

TEST_CASE("SGD with alpha/(k+1) and alpha/sqrt(k+1) schedules") {
  // alpha_0 = 0.1, alpha_1 = 0.05: theta1 = (0.9, -1.2); g1 = (0.9, -4.8); theta2 = (0.855, -0.96)
  Quadratic q = run<Sgd>(2, StepSize::inv(0.1));
  CHECK(q.at(0) == doctest::Approx(0.855).epsilon(tol));
  CHECK(q.at(1) == doctest::Approx(-0.96).epsilon(tol));
  // alpha_1 = 0.1/sqrt(2): theta2_0 = 0.9 - 0.9 * 0.0707106781 = 0.836360390
  Quadratic r = run<Sgd>(2, StepSize::inv_sqrt(0.1));
  CHECK(r.at(0) == doctest::Approx(0.9 - 0.9 * 0.1 / std::sqrt(2.0)).epsilon(tol));
  CHECK(StepSize::inv_sqrt(2.0).at(3) == doctest::Approx(1.0));
}

TEST_CASE("Momentum: v <- beta v + g, theta <- theta - alpha v") {
  // v1 = (1, -8), theta1 = (0.9, -1.2); g1 = (0.9, -4.8), v2 = (0.9 + 0.9, -7.2 - 4.8) = (1.8, -12)
  // theta2 = (0.9 - 0.18, -1.2 + 1.2) = (0.72, 0)
  Quadratic q = run<Momentum>(2, StepSize::constant(0.1), Scalar(0.9));
  CHECK(q.at(0) == doctest::Approx(0.72).epsilon(tol));
  CHECK(std::abs(q.at(1)) < 1e-12);
}

TEST_CASE("AdaGrad: G <- G + g^2, theta <- theta - alpha g / (sqrt(G) + eps)") {
  // step 1: theta1 = theta0 - 0.1 sign(g0) = (0.9, -1.9)
  // step 2: g1 = (0.9, -7.6); G = (1.81, 121.76); theta2_0 = 0.9 - 0.1 * 0.9 / sqrt(1.81)
  Quadratic q = run<AdaGrad>(2, StepSize::constant(0.1), Scalar(0));
  CHECK(q.at(0) == doctest::Approx(0.9 - 0.09 / std::sqrt(1.81)).epsilon(tol));
  CHECK(q.at(1) == doctest::Approx(-1.9 + 0.76 / std::sqrt(121.76)).epsilon(tol));
}

TEST_CASE("RMSProp: s <- rho s + (1-rho) g^2, theta <- theta - alpha g / (sqrt(s) + eps)") {
  // s1 = 0.01 g0^2, theta1 = theta0 - 0.01 g0 / (0.1 |g0|) = theta0 - 0.1 sign(g0) = (0.9, -1.9)
  Quadratic q = run<RmsProp>(1, StepSize::constant(0.01), Scalar(0.99), Scalar(0));
  CHECK(q.at(0) == doctest::Approx(0.9).epsilon(tol));
  CHECK(q.at(1) == doctest::Approx(-1.9).epsilon(tol));
}

TEST_CASE("Adam: bias-corrected moments, the first step moves each coordinate by alpha") {
  // m1/(1-b1) = g0, v1/(1-b2) = g0^2: theta1 = theta0 - alpha sign(g0) = (0.9, -1.9)
  Quadratic q = run<Adam>(1, StepSize::constant(0.1), Scalar(0.9), Scalar(0.999), Scalar(0));
  CHECK(q.at(0) == doctest::Approx(0.9).epsilon(tol));
  CHECK(q.at(1) == doctest::Approx(-1.9).epsilon(tol));
  // step 2 (coordinate 0): g1 = 0.9; m2 = 0.09 + 0.09 = 0.18; v2 = 0.000999 + 0.00081 = 0.001809
  // theta2 = 0.9 - 0.1 * (0.18 / 0.19) / sqrt(0.001809 / 0.001999)
  Quadratic r = run<Adam>(2, StepSize::constant(0.1), Scalar(0.9), Scalar(0.999), Scalar(0));
  CHECK(r.at(0) == doctest::Approx(0.9 - 0.1 * (0.18 / 0.19) / std::sqrt(0.001809 / 0.001999)).epsilon(tol));
}

TEST_CASE("parameter sets: flatten/unflatten round trip, copy, Polyak averaging, gradient clipping") {
  Rng rng(5);
  Mlp a({3, 4, 2}, Activation::Tanh, rng), b({3, 4, 2}, Activation::Tanh, rng);
  ParameterSet pa = a.parameters(), pb = b.parameters();
  CHECK(pa.count() == 3 * 4 + 4 + 4 * 2 + 2);
  const Vector theta = pa.flatten();
  Vector changed = theta * 2.0;
  pa.unflatten(changed);
  CHECK(pa.flatten() == changed);
  pa.unflatten(theta);
  const Vector target0 = pb.flatten();
  pb.polyak_update(pa, 0.25);
  CHECK((pb.flatten() - (0.25 * theta + 0.75 * target0)).norm() < 1e-12);
  pb.copy_from(pa);
  CHECK(pb.flatten() == theta);
  Mlp c = a.clone();
  c.parameters().unflatten(theta * 3.0);
  CHECK(pa.flatten() == theta);  // a clone is independent

  Vector g = Vector::Constant(pa.count(), 1.0);
  pa.set_flat_grad(g);
  const Scalar before = pa.clip_grad_norm(1.0);
  CHECK(before == doctest::Approx(std::sqrt(static_cast<double>(pa.count()))));
  CHECK(pa.grad_norm() == doctest::Approx(1.0).epsilon(1e-5));
  CHECK_THROWS_AS(pa.unflatten(Vector::Zero(3)), ShapeError);
  Mlp d({3, 5, 2}, Activation::Tanh, rng);
  CHECK_THROWS_AS(pb.copy_from(d.parameters()), ShapeError);
}

TEST_CASE("backward accumulates into leaves, NoGrad records nothing") {
  Var x(Matrix::Constant(2, 2, 3.0), true);
  backward(sum(square(x)));
  backward(sum(x));
  CHECK(x.grad()(0, 0) == doctest::Approx(2 * 3.0 + 1));
  NoGrad off;
  CHECK(!(x * 2.0).requires_grad());
}

TEST_CASE("minimize: zero_grad, backward, clip to the global norm, step") {
  // f = 1/2 (1 theta_0^2 + 4 theta_1^2) at (1, -2): gradient (1, -8), norm sqrt(65).
  const Vector a{{1.0, 4.0}};
  auto loss_of = [&](const Var& theta) { return sum(Var(Matrix(a)) * square(theta)) * Scalar(0.5); };
  SUBCASE("no clipping: one plain SGD step") {
    Var theta(Matrix(Vector{{1.0, -2.0}}), true);
    Sgd opt(ParameterSet({theta}), StepSize::constant(Scalar(0.1)));
    theta.grad() = Matrix::Constant(2, 1, 100);  // a stale gradient: minimize must zero it first
    CHECK(opt.minimize(loss_of(theta)) == doctest::Approx(std::sqrt(65.0)));
    CHECK(theta.value()(0, 0) == doctest::Approx(1.0 - 0.1 * 1.0));
    CHECK(theta.value()(1, 0) == doctest::Approx(-2.0 + 0.1 * 8.0));
  }
  SUBCASE("clipped to norm 1: the step is the unit gradient direction (torch's 1e-6 guard aside)") {
    Var theta(Matrix(Vector{{1.0, -2.0}}), true);
    Sgd opt(ParameterSet({theta}), StepSize::constant(Scalar(0.1)));
    opt.minimize(loss_of(theta), Scalar(1));
    const double scale = 1.0 / (std::sqrt(65.0) + 1e-6);
    CHECK(theta.value()(0, 0) == doctest::Approx(1.0 - 0.1 * 1.0 * scale));
    CHECK(theta.value()(1, 0) == doctest::Approx(-2.0 + 0.1 * 8.0 * scale));
  }
}
