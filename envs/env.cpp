#include "envs/env.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace pgcpp {

namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

}  // namespace

Eigen::VectorXd Env::reset(std::uint64_t seed) {
  Rng rng(seed);
  return reset(rng);
}

Eigen::VectorXd Env::reset(Rng& rng) {
  sample_initial_state(rng);
  start_episode(0);
  return observation();
}

void Env::check_running() const {
  if (phase_ == Phase::before_reset)
    throw std::logic_error(name() + ": step() called before reset()");
  if (phase_ == Phase::ended)
    throw std::logic_error(name() + ": step() called after the episode ended (terminated or "
                           "truncated); call reset() first");
}

void Env::check_action(const Eigen::VectorXd& action) const {
  if (action.size() != act_dim())
    throw std::invalid_argument(name() + ": action must have " + std::to_string(act_dim()) +
                                " element(s), got " + std::to_string(action.size()));
  for (Eigen::Index i = 0; i < action.size(); ++i) {
    const double a = action[i];
    if (!std::isfinite(a))
      throw std::invalid_argument(name() + ": action must be finite, got " + format_number(a));
    if (discrete() && (a != std::floor(a) || a < 0.0 || a >= num_actions()))
      throw std::invalid_argument(name() + ": action must be an integer in {0, ..., " +
                                  std::to_string(num_actions() - 1) + "}, got " +
                                  format_number(a));
  }
}

StepResult Env::step(const Eigen::VectorXd& action) {
  StepResult result{Eigen::VectorXd(obs_dim()), 0.0, false, false};
  result.reward = step(action, result.observation, result.terminated, result.truncated);
  return result;
}

double Env::step(const Eigen::VectorXd& action, Eigen::Ref<Eigen::VectorXd> observation,
                 bool& terminated, bool& truncated) {
  check_running();
  check_action(action);
  terminated = false;
  const double reward = advance(action, terminated);
  ++elapsed_steps_;
  // Gymnasium's TimeLimit: truncated is set at the limit even when the step also terminated.
  truncated = elapsed_steps_ >= max_episode_steps();
  if (terminated || truncated) phase_ = Phase::ended;
  observe(observation);
  return reward;
}

void Env::set_state(const Eigen::VectorXd& state, int elapsed_steps) {
  if (state.size() != state_dim())
    throw std::invalid_argument(name() + ": state must have " + std::to_string(state_dim()) +
                                " elements, got " + std::to_string(state.size()));
  if (!state.allFinite())
    throw std::invalid_argument(name() + ": state must be finite");
  if (elapsed_steps < 0 || elapsed_steps >= max_episode_steps())
    throw std::invalid_argument(name() + ": elapsed_steps must be in [0, " +
                                std::to_string(max_episode_steps()) + "), got " +
                                std::to_string(elapsed_steps));
  load_state(state);
  start_episode(elapsed_steps);
}

Eigen::VectorXd Env::observation() const {
  Eigen::VectorXd out(obs_dim());
  observe(out);
  return out;
}

}  // namespace pgcpp
