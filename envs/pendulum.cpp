#include "envs/pendulum.hpp"

#include <cmath>
#include <numbers>

#include "envs/python_math.hpp"

namespace pgcpp {

namespace {

EnvSpec pendulum_spec() {
  EnvSpec spec;
  spec.name = "Pendulum-v1";
  spec.obs_dim = 3;
  spec.state_dim = 2;
  spec.discrete = false;
  spec.num_actions = 0;
  spec.act_dim = 1;
  spec.action_low = Eigen::VectorXd::Constant(1, -Pendulum::max_torque);
  spec.action_high = Eigen::VectorXd::Constant(1, Pendulum::max_torque);
  spec.max_episode_steps = 200;
  spec.dt = Pendulum::dt;
  spec.state_names = {"th", "thdot"};
  spec.observation_names = {"cos_th", "sin_th", "thdot"};
  return spec;
}

}  // namespace

double angle_normalize(double x) {
  constexpr double pi = std::numbers::pi;
  return python::mod(x + pi, 2 * pi) - pi;
}

Pendulum::Pendulum(double g) : Env(pendulum_spec()), g_(g) {}

void Pendulum::sample_initial_state(Rng& rng) {
  th_ = rng.uniform(-std::numbers::pi, std::numbers::pi);
  thdot_ = rng.uniform(-1.0, 1.0);
}

void Pendulum::load_state(const Eigen::VectorXd& s) {
  th_ = s[0];
  thdot_ = s[1];
}

Eigen::VectorXd Pendulum::state() const {
  Eigen::VectorXd s(2);
  s << th_, thdot_;
  return s;
}

void Pendulum::observe(Eigen::Ref<Eigen::VectorXd> out) const {
  out[0] = std::cos(th_);
  out[1] = std::sin(th_);
  out[2] = thdot_;
}

double Pendulum::advance(const Eigen::VectorXd& action, bool& terminated) {
  // Gymnasium's expressions, left to right as Python evaluates them, with Python's x**2.
  using python::square;
  const double u = python::clip(action[0], -max_torque, max_torque);
  const double costs = square(angle_normalize(th_)) + 0.1 * square(thdot_) + 0.001 * square(u);

  double newthdot = thdot_ + (3 * g_ / (2 * l) * std::sin(th_) + 3.0 / (m * square(l)) * u) * dt;
  newthdot = python::clip(newthdot, -max_speed, max_speed);
  const double newth = th_ + newthdot * dt;  // semi-implicit: the angle moves with the new speed

  th_ = newth;
  thdot_ = newthdot;
  terminated = false;
  return -costs;
}

}  // namespace pgcpp
