#include <doctest/doctest.h>

#include <cmath>

#include "envs/linear_quadratic.hpp"
#include "tests/mean_se.hpp"

using pgcpp::LinearQuadratic;

namespace {

const LinearQuadratic lq{.a = 0.9, .b = 0.5, .q = 1.0, .r = 0.1, .gamma = 0.95,
                         .x0_mean = 0.5, .x0_std = 1.0};
constexpr double k = -0.6;  // c = 0.6, gamma c^2 = 0.342 < 1

// sum_t gamma^t r(x_t, u_t) from x with first action u, then u_t = k x_t, over `steps` steps.
double simulate_return(const LinearQuadratic& m, double k_, double x, double u, int steps) {
  double G = 0.0, discount = 1.0;
  for (int t = 0; t < steps; ++t) {
    G += discount * m.reward(x, u);
    x = m.next_state(x, u);
    u = k_ * x;
    discount *= m.gamma;
  }
  return G;
}

}  // namespace

TEST_CASE("linear quadratic: V and Q closed forms equal simulated discounted returns") {
  for (double x : {-2.0, 0.3, 1.7}) {
    CHECK(lq.V(k, x) == doctest::Approx(simulate_return(lq, k, x, k * x, 2000)).epsilon(1e-12));
    for (double u : {-1.0, 0.0, 2.5})
      CHECK(lq.Q(k, x, u) == doctest::Approx(simulate_return(lq, k, x, u, 2000)).epsilon(1e-12));
  }
}

TEST_CASE("linear quadratic: J(k) agrees with a Monte-Carlo estimate within 4 standard errors") {
  pgcpp::Rng rng(31);
  const int episodes = 20000;
  pgcpp::test::MeanSe returns;
  for (int n = 0; n < episodes; ++n) {
    const double x0 = lq.sample_initial(rng);
    returns.add(simulate_return(lq, k, x0, k * x0, 300));  // 0.95^300 ~ 2e-7, times c^600
  }
  const double mean = returns.mean()(0), standard_error = returns.se()(0);
  CAPTURE(mean);
  CAPTURE(standard_error);
  CHECK(std::abs(mean - lq.J(k)) < 4.0 * standard_error);  // 4 SE: false-fail rate < 1e-4
}

TEST_CASE("linear quadratic: dJ/dk equals central finite differences of J(k)") {
  for (double k_ : {-1.5, -0.6, 0.0, 0.2}) {
    CAPTURE(k_);
    REQUIRE(lq.stable(k_));
    const double h = 1e-5;  // truncation O(h^2 J''') ~ 1e-10, rounding ~ 1e-16 / h ~ 1e-11
    const double fd = (lq.J(k_ + h) - lq.J(k_ - h)) / (2.0 * h);
    CHECK(lq.dJ_dk(k_) == doctest::Approx(fd).epsilon(1e-7));
  }
}

TEST_CASE("theorem (3.71) DPG: dJ/dk = sum_t gamma^t E[grad_k mu(x_t) dQ/du(x_t, mu(x_t))]") {
  // Every term is quadratic in x0, so one trajectory from x0 = sqrt(E[x0^2]) gives the
  // expectation exactly; dQ/du comes from central differences of the closed-form Q.
  double x = std::sqrt(lq.x0_second_moment()), discount = 1.0, gradient = 0.0;
  for (int t = 0; t < 2000; ++t) {
    const double h = 1e-6, u = k * x;
    const double dQ_du = (lq.Q(k, x, u + h) - lq.Q(k, x, u - h)) / (2.0 * h);
    gradient += discount * x * dQ_du;  // grad_k mu_k(x) = x
    x = lq.next_state(x, u);
    discount *= lq.gamma;
  }
  CHECK(gradient == doctest::Approx(lq.dJ_dk(k)).epsilon(1e-7));
}

TEST_CASE("linear quadratic: the optimum of J(k) has dJ/dk = 0 and beats its neighbours") {
  // Golden-section search on the stable interval, then check stationarity.
  double lo = (-1.0 / std::sqrt(lq.gamma) - lq.a) / lq.b + 1e-6;
  double hi = (1.0 / std::sqrt(lq.gamma) - lq.a) / lq.b - 1e-6;
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  for (int i = 0; i < 200; ++i) {
    const double m1 = hi - phi * (hi - lo), m2 = lo + phi * (hi - lo);
    if (lq.J(m1) > lq.J(m2)) hi = m2;
    else lo = m1;
  }
  const double k_star = 0.5 * (lo + hi);
  CHECK(std::abs(lq.dJ_dk(k_star)) < 1e-6);
  CHECK(lq.J(k_star) > lq.J(k_star + 0.01));
  CHECK(lq.J(k_star) > lq.J(k_star - 0.01));
}

TEST_CASE("linear quadratic: an unstable gain (gamma (a + b k)^2 >= 1) is a domain error") {
  const double k_unstable = 1.0;  // c = 1.4, gamma c^2 = 1.862
  CHECK_FALSE(lq.stable(k_unstable));
  CHECK_THROWS_AS(lq.J(k_unstable), std::domain_error);
  CHECK_THROWS_AS(lq.V(k_unstable, 1.0), std::domain_error);
}
