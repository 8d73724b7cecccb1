// A scalar linear-quadratic problem with closed-form values, for the deterministic policy
// gradient tests of Section 3.6 (DPG, DDPG).
//
//   x' = a x + b u,   reward r(x, u) = -(q x^2 + r u^2),   x0 ~ N(x0_mean, x0_std^2),
//   deterministic linear policy u = mu_k(x) = k x,   discount gamma.
//
// Under mu_k the state evolves as x_t = c^t x0 with c = a + b k, so
//   V(x)   = -sum_t gamma^t (q + r k^2) c^(2t) x^2 = -P(k) x^2,
//            P(k) = (q + r k^2) / (1 - gamma c^2),      valid iff gamma c^2 < 1;
//   Q(x,u) = -(q x^2 + r u^2) + gamma V(a x + b u) = -(q x^2 + r u^2) - gamma P(k) (a x + b u)^2;
//   J(k)   = E[V(x0)] = -P(k) E[x0^2],   E[x0^2] = x0_mean^2 + x0_std^2;
//   dJ/dk  = -E[x0^2] (2 r k (1 - gamma c^2) + 2 gamma b c (q + r k^2)) / (1 - gamma c^2)^2
//          = -2 E[x0^2] (r k + gamma b c P(k)) / (1 - gamma c^2).
// The second form of dJ/dk is the DPG theorem (3.71) worked out: the unnormalized discounted
// visitation gives E[x^2] weight E[x0^2] / (1 - gamma c^2), and grad_k mu = x,
// dQ/du at u = k x equals -2 x (r k + gamma b c P(k)).
#pragma once

#include <cmath>
#include <stdexcept>

#include "core/random.hpp"

namespace pgcpp {

struct LinearQuadratic {
  double a = 0.9, b = 0.5;  // dynamics
  double q = 1.0, r = 0.1;  // cost weights
  double gamma = 0.95;
  double x0_mean = 0.5, x0_std = 1.0;

  double closed_loop(double k) const { return a + b * k; }  // c
  bool stable(double k) const { const double c = closed_loop(k); return gamma * c * c < 1.0; }

  double x0_second_moment() const { return x0_mean * x0_mean + x0_std * x0_std; }

  // P(k) with V(x) = -P(k) x^2; throws std::domain_error when gamma c^2 >= 1 (V diverges).
  double value_coefficient(double k) const {
    if (!stable(k)) throw std::domain_error("LinearQuadratic: gamma (a + b k)^2 >= 1, V diverges");
    const double c = closed_loop(k);
    return (q + r * k * k) / (1.0 - gamma * c * c);
  }

  double V(double k, double x) const { return -value_coefficient(k) * x * x; }
  double Q(double k, double x, double u) const {
    const double x_next = a * x + b * u;
    return reward(x, u) - gamma * value_coefficient(k) * x_next * x_next;
  }
  double J(double k) const { return -value_coefficient(k) * x0_second_moment(); }
  double dJ_dk(double k) const {
    const double c = closed_loop(k);
    return -2.0 * x0_second_moment() * (r * k + gamma * b * c * value_coefficient(k)) /
           (1.0 - gamma * c * c);
  }

  // Simulation, for Monte-Carlo tests.
  double reward(double x, double u) const { return -(q * x * x + r * u * u); }
  double next_state(double x, double u) const { return a * x + b * u; }
  double sample_initial(Rng& rng) const { return rng.normal(x0_mean, x0_std); }
};

}  // namespace pgcpp
