#include "envs/vec_env.hpp"

#include <stdexcept>

namespace pgcpp {

VecEnv::VecEnv(const Env& prototype, int num_envs) {
  if (num_envs < 1) throw std::invalid_argument("VecEnv: num_envs must be >= 1");
  for (int i = 0; i < num_envs; ++i) envs_.push_back(prototype.clone());
  rngs_.resize(static_cast<std::size_t>(num_envs));
  const int n = num_envs, d = prototype.obs_dim();
  running_return_ = Eigen::VectorXd::Zero(n);
  running_length_ = Eigen::VectorXi::Zero(n);
  action_.resize(prototype.act_dim());
  obs_.resize(d);
  first_observation_.resize(n, d);
  result_.observation.resize(n, d);
  result_.final_observation.resize(n, d);
  result_.reward.resize(n);
  result_.terminated.resize(n);
  result_.truncated.resize(n);
  result_.episode_return.resize(n);
  result_.episode_length.resize(n);
}

VecEnv::VecEnv(const std::string& env_name, int num_envs) : VecEnv(*make_env(env_name), num_envs) {}

const Eigen::MatrixXd& VecEnv::reset(std::uint64_t seed) {
  Rng seeder(seed);
  for (int i = 0; i < num_envs(); ++i) {
    const auto k = static_cast<std::size_t>(i);
    rngs_[k] = seeder.split();
    first_observation_.row(i) = envs_[k]->reset(rngs_[k]).transpose();
  }
  running_return_.setZero();
  running_length_.setZero();
  was_reset_ = true;
  return first_observation_;
}

const VecStepResult& VecEnv::step(const Eigen::MatrixXd& actions) {
  if (!was_reset_) throw std::logic_error("VecEnv: step() called before reset()");
  if (actions.rows() != num_envs() || actions.cols() != act_dim())
    throw std::invalid_argument("VecEnv(" + env(0).name() + "): actions must be " +
                                std::to_string(num_envs()) + " x " + std::to_string(act_dim()) +
                                ", got " + std::to_string(actions.rows()) + " x " +
                                std::to_string(actions.cols()));
  // Check every action first so that a bad one leaves all copies untouched.
  for (int i = 0; i < num_envs(); ++i) {
    action_ = actions.row(i).transpose();
    env(i).check_action(action_);
  }
  for (int i = 0; i < num_envs(); ++i) step_one(i, actions);
  return result_;
}

void VecEnv::step_one(int i, const Eigen::MatrixXd& actions) {
  Env& e = *envs_[static_cast<std::size_t>(i)];
  action_ = actions.row(i).transpose();
  bool terminated = false, truncated = false;
  const double reward = e.step(action_, obs_, terminated, truncated);
  running_return_[i] += reward;
  running_length_[i] += 1;
  result_.reward[i] = reward;
  result_.terminated[i] = terminated;
  result_.truncated[i] = truncated;
  result_.final_observation.row(i) = obs_.transpose();
  result_.episode_return[i] = 0.0;
  result_.episode_length[i] = 0;
  if (terminated || truncated) {
    result_.episode_return[i] = running_return_[i];
    result_.episode_length[i] = running_length_[i];
    running_return_[i] = 0.0;
    running_length_[i] = 0;
    e.reset(rngs_[static_cast<std::size_t>(i)]);
    e.observation(obs_);
  }
  result_.observation.row(i) = obs_.transpose();
}

}  // namespace pgcpp
