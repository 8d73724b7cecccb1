// CartPole-v1 (Example 3.1, Fig. 3.1), identical to Gymnasium's classic_control CartPoleEnv
// wrapped in TimeLimit(500).
//
// State = observation = (x, x_dot, theta, theta_dot). Gymnasium returns the observation as
// float32; we keep double (the internal state, which is what Gymnasium's dynamics use, is the
// same float64 numbers). Action 0 pushes the cart left, 1 right. Reward 1 on every step,
// including the terminating one.
#pragma once

#include <numbers>

#include "envs/env.hpp"

namespace pgcpp {

class CartPole final : public Env {
 public:
  // Gymnasium's constants, computed with the same expressions so they round the same.
  static constexpr double gravity = 9.8;
  static constexpr double masscart = 1.0;
  static constexpr double masspole = 0.1;
  static constexpr double total_mass = masspole + masscart;
  static constexpr double length = 0.5;  // half the pole's length
  static constexpr double polemass_length = masspole * length;
  static constexpr double force_mag = 10.0;
  static constexpr double tau = 0.02;  // seconds between state updates ("euler" integrator)
  static constexpr double theta_threshold_radians = 12 * 2 * std::numbers::pi / 360;
  static constexpr double x_threshold = 2.4;

  CartPole();

  Eigen::VectorXd state() const override;
  std::unique_ptr<Env> clone() const override { return std::make_unique<CartPole>(*this); }

 protected:
  void sample_initial_state(Rng& rng) override;
  void load_state(const Eigen::VectorXd& state) override;
  double advance(const Eigen::VectorXd& action, bool& terminated) override;
  void observe(Eigen::Ref<Eigen::VectorXd> out) const override;

 private:
  double x_ = 0.0, x_dot_ = 0.0, theta_ = 0.0, theta_dot_ = 0.0;
};

}  // namespace pgcpp
