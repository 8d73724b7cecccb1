#include "chapter3/common/rollout.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace pgcpp {

double Trajectory::total_reward() const { return std::accumulate(rewards.begin(), rewards.end(), 0.0); }

Trajectory run_episode(Env& env, const Policy& policy, Rng& rng) {
  Trajectory tau;
  Eigen::VectorXd s = env.reset(rng);
  const int limit = env.max_episode_steps();
  std::vector<Eigen::VectorXd> states, actions;
  states.reserve(static_cast<std::size_t>(limit));
  actions.reserve(static_cast<std::size_t>(limit));
  while (true) {
    Eigen::VectorXd a = policy.act(s, rng);
    StepResult step = env.step(a);
    states.push_back(std::move(s));
    actions.push_back(std::move(a));
    tau.rewards.push_back(step.reward);
    s = std::move(step.observation);
    if (step.terminated || step.truncated) {
      tau.terminated = step.terminated;
      tau.truncated = step.truncated && !step.terminated;
      break;
    }
  }
  tau.final_obs = s;
  const Eigen::Index T = static_cast<Eigen::Index>(states.size());
  tau.obs.resize(T, env.obs_dim());
  tau.actions.resize(T, policy.act_dim());
  for (Eigen::Index t = 0; t < T; ++t) {
    tau.obs.row(t) = states[static_cast<std::size_t>(t)].cast<Scalar>().transpose();
    tau.actions.row(t) = actions[static_cast<std::size_t>(t)].cast<Scalar>().transpose();
  }
  return tau;
}

std::vector<Trajectory> collect_episodes(Env& env, const Policy& policy, int episodes, Rng& rng) {
  std::vector<Trajectory> batch;
  batch.reserve(static_cast<std::size_t>(episodes));
  for (int i = 0; i < episodes; ++i) batch.push_back(run_episode(env, policy, rng));
  return batch;
}

std::vector<Trajectory> EpisodeBudget::collect(Env& env, const Policy& policy, int batch, Rng& rng) {
  const int n = static_cast<int>(std::min<long>(batch, total_ - spent_));
  spent_ += n;
  return collect_episodes(env, policy, n, rng);
}

bool SolvedRule::record(const std::vector<Trajectory>& batch) {
  for (const Trajectory& tau : batch) recent_.push_back(tau.total_reward());
  if (recent_.size() > window_) recent_.erase(recent_.begin(), recent_.end() - static_cast<long>(window_));
  return target_ > 0 && recent_.size() == window_ &&
         std::accumulate(recent_.begin(), recent_.end(), 0.0) / static_cast<double>(window_) >= target_;
}

double discounted_return(const std::vector<double>& rewards, double gamma) {
  double R = 0, discount = 1;
  for (double r : rewards) {
    R += discount * r;  // (3.13)
    discount *= gamma;
  }
  return R;
}

std::vector<double> returns_to_go(const std::vector<double>& rewards, double gamma) {
  std::vector<double> g(rewards.size());
  double next = 0;
  for (std::size_t t = rewards.size(); t-- > 0;) {
    g[t] = rewards[t] + gamma * next;  // (3.14)
    next = g[t];
  }
  return g;
}

namespace {
template <class Field>
Matrix stack(const std::vector<Trajectory>& batch, Field field) {
  Eigen::Index rows = 0, cols = 0;
  for (const Trajectory& tau : batch) {
    rows += (tau.*field).rows();
    cols = (tau.*field).cols();
  }
  Matrix out(rows, cols);
  Eigen::Index at = 0;
  for (const Trajectory& tau : batch) {
    out.middleRows(at, (tau.*field).rows()) = tau.*field;
    at += (tau.*field).rows();
  }
  return out;
}
}  // namespace

Matrix stack_obs(const std::vector<Trajectory>& batch) { return stack(batch, &Trajectory::obs); }
Matrix stack_actions(const std::vector<Trajectory>& batch) { return stack(batch, &Trajectory::actions); }

long total_steps(const std::vector<Trajectory>& batch) {
  long n = 0;
  for (const Trajectory& tau : batch) n += tau.length();
  return n;
}

Vector standardize(const Vector& x, Scalar delta) {
  if (x.size() == 0) return x;
  const Scalar mean = x.mean();
  const Scalar var = (x.array() - mean).square().sum() / static_cast<Scalar>(x.size());
  return ((x.array() - mean) / (std::sqrt(var) + delta)).matrix();
}

}  // namespace pgcpp
