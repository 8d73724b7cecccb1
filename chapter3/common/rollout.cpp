#include "chapter3/common/rollout.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace pgcpp {

double Trajectory::total_reward() const { return std::accumulate(rewards.begin(), rewards.end(), 0.0); }

Trajectory run_episode(Env& env, const Policy& policy, Rng& rng) {
  ActWorkspace ws;
  return run_episode(env, policy, rng, ws);
}

Trajectory run_episode(Env& env, const Policy& policy, Rng& rng, ActWorkspace& ws) {
  Trajectory tau;
  // Rows for the time limit (16 without one), doubled when full: a few allocations an episode,
  // none per step; the rows left over are cut at the end.
  const Eigen::Index capacity = std::max(env.max_episode_steps(), 16);
  tau.obs.resize(capacity, env.obs_dim());
  tau.actions.resize(capacity, policy.act_dim());
  tau.rewards.reserve(static_cast<std::size_t>(capacity));
  Eigen::VectorXd s = env.reset(rng), s_next(env.obs_dim()), a(policy.act_dim());
  Eigen::Index T = 0;
  bool terminated = false, truncated = false;
  while (!terminated && !truncated) {
    if (T == tau.obs.rows()) {
      tau.obs.conservativeResize(2 * T, Eigen::NoChange);
      tau.actions.conservativeResize(2 * T, Eigen::NoChange);
    }
    policy.act(s, rng, a, ws);
    tau.obs.row(T) = s.cast<Scalar>().transpose();
    tau.actions.row(T) = a.cast<Scalar>().transpose();
    ++T;
    tau.rewards.push_back(env.step(a, s_next, terminated, truncated));
    s.swap(s_next);
  }
  tau.terminated = terminated;
  tau.truncated = truncated && !terminated;
  tau.final_obs = std::move(s);
  tau.obs.conservativeResize(T, Eigen::NoChange);
  tau.actions.conservativeResize(T, Eigen::NoChange);
  return tau;
}

std::vector<Trajectory> collect_episodes(Env& env, const Policy& policy, int episodes, Rng& rng) {
  std::vector<Trajectory> batch;
  batch.reserve(static_cast<std::size_t>(episodes));
  ActWorkspace ws;
  for (int i = 0; i < episodes; ++i) batch.push_back(run_episode(env, policy, rng, ws));
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
