#include "envs/cartpole.hpp"

#include <cmath>

#include "envs/python_math.hpp"

namespace pgcpp {

namespace {

EnvSpec cartpole_spec() {
  EnvSpec spec;
  spec.name = "CartPole-v1";
  spec.obs_dim = 4;
  spec.state_dim = 4;
  spec.discrete = true;
  spec.num_actions = 2;
  spec.act_dim = 1;
  spec.action_low = Eigen::VectorXd::Constant(1, 0.0);
  spec.action_high = Eigen::VectorXd::Constant(1, 1.0);
  spec.max_episode_steps = 500;
  spec.dt = CartPole::tau;
  spec.state_names = {"x", "x_dot", "theta", "theta_dot"};
  spec.observation_names = spec.state_names;
  return spec;
}

}  // namespace

CartPole::CartPole() : Env(cartpole_spec()) {}

void CartPole::sample_initial_state(Rng& rng) {
  // Each component uniform in [-0.05, 0.05), drawn in state order.
  x_ = rng.uniform(-0.05, 0.05);
  x_dot_ = rng.uniform(-0.05, 0.05);
  theta_ = rng.uniform(-0.05, 0.05);
  theta_dot_ = rng.uniform(-0.05, 0.05);
}

void CartPole::load_state(const Eigen::VectorXd& s) {
  x_ = s[0];
  x_dot_ = s[1];
  theta_ = s[2];
  theta_dot_ = s[3];
}

Eigen::VectorXd CartPole::state() const {
  Eigen::VectorXd s(4);
  s << x_, x_dot_, theta_, theta_dot_;
  return s;
}

void CartPole::observe(Eigen::Ref<Eigen::VectorXd> out) const {
  out[0] = x_;
  out[1] = x_dot_;
  out[2] = theta_;
  out[3] = theta_dot_;
}

double CartPole::advance(const Eigen::VectorXd& action, bool& terminated) {
  // Gymnasium's expressions term by term, evaluated left to right as Python does, with
  // Python's x**2 (python::square); -ffp-contract=off keeps every product rounded on its own.
  const double force = action[0] == 1.0 ? force_mag : -force_mag;
  const double costheta = std::cos(theta_);
  const double sintheta = std::sin(theta_);
  // Pole and cart accelerations (Florian 2005, "Correct equations for the dynamics of the
  // cart-pole system", frictionless case).
  const double temp =
      (force + polemass_length * python::square(theta_dot_) * sintheta) / total_mass;
  const double thetaacc =
      (gravity * sintheta - costheta * temp) /
      (length * (4.0 / 3.0 - masspole * python::square(costheta) / total_mass));
  const double xacc = temp - polemass_length * thetaacc * costheta / total_mass;

  // Explicit Euler: positions move with the old velocities.
  x_ = x_ + tau * x_dot_;
  x_dot_ = x_dot_ + tau * xacc;
  theta_ = theta_ + tau * theta_dot_;
  theta_dot_ = theta_dot_ + tau * thetaacc;

  terminated = x_ < -x_threshold || x_ > x_threshold || theta_ < -theta_threshold_radians ||
               theta_ > theta_threshold_radians;
  return 1.0;
}

}  // namespace pgcpp
