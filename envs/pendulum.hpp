// Pendulum-v1 (Examples 3.6, 3.8-3.10, Fig. 3.13), identical to Gymnasium's classic_control
// PendulumEnv wrapped in TimeLimit(200).
//
// State (th, thdot), th = 0 upright; observation (cos th, sin th, thdot); action: torque u,
// clipped to [-2, 2]; reward -(angle_normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2) computed from
// the state *before* the step. Never terminates. Gymnasium returns a float32 observation and
// its action space is float32; we compute in double throughout, which is what Gymnasium does
// when given a float64 action (a float32 action would round the torque terms in float32).
#pragma once

#include "envs/env.hpp"

namespace pgcpp {

class Pendulum final : public Env {
 public:
  static constexpr double max_speed = 8;
  static constexpr double max_torque = 2.0;
  static constexpr double dt = 0.05;
  static constexpr double m = 1.0;
  static constexpr double l = 1.0;

  explicit Pendulum(double g = 10.0);

  double g() const { return g_; }
  Eigen::VectorXd state() const override;
  std::unique_ptr<Env> clone() const override { return std::make_unique<Pendulum>(*this); }

 protected:
  void sample_initial_state(Rng& rng) override;
  void load_state(const Eigen::VectorXd& state) override;
  double advance(const Eigen::VectorXd& action, bool& terminated) override;
  void observe(Eigen::Ref<Eigen::VectorXd> out) const override;

 private:
  double g_;
  double th_ = 0.0, thdot_ = 0.0;
};

// ((x + pi) mod 2 pi) - pi with Python's floored modulo: a value in [-pi, pi).
double angle_normalize(double x);

}  // namespace pgcpp
