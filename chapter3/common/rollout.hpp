// Trajectories (Section 3.2.1): collection under a policy, returns (3.13) and returns-to-go (3.14).
#pragma once

#include <vector>

#include "chapter3/common/policy.hpp"
#include "envs/env.hpp"

namespace pgcpp {

// tau = (s_0, a_0, r_0, ..., s_{T-1}, a_{T-1}, r_{T-1}, s_T)                               (3.12)
struct Trajectory {
  Matrix obs;                    // T x obs_dim: s_0 .. s_{T-1}
  Matrix actions;                // T x act_dim
  std::vector<double> rewards;   // r_0 .. r_{T-1}
  Eigen::VectorXd final_obs;     // s_T
  bool terminated = false;       // s_T is terminal: no value beyond it
  bool truncated = false;        // cut by the time limit: V(s_T) still counts
  int length() const { return static_cast<int>(rewards.size()); }
  double total_reward() const;   // undiscounted: the return the book's curves plot
};

// One episode of `policy` (sampled actions, chosen without the tape) from env.reset(rng).
Trajectory run_episode(Env& env, const Policy& policy, Rng& rng);
Trajectory run_episode(Env& env, const Policy& policy, Rng& rng, ActWorkspace& ws);  // ws reused
std::vector<Trajectory> collect_episodes(Env& env, const Policy& policy, int episodes, Rng& rng);

// A budget of `total` episodes spent in batches (the demos' --episodes): each collect() runs
// min(batch, episodes left) episodes, so exactly `total` run and the last batch may be smaller.
class EpisodeBudget {
 public:
  explicit EpisodeBudget(long total) : total_(total) {}
  bool left() const { return spent_ < total_; }
  std::vector<Trajectory> collect(Env& env, const Policy& policy, int batch, Rng& rng);

 private:
  long total_, spent_ = 0;
};

// R(tau) = sum_t gamma^t r_t                                                                (3.13)
double discounted_return(const std::vector<double>& rewards, double gamma);
// g_t = sum_{t' >= t} gamma^{t'-t} r_t', computed backwards: g_t = r_t + gamma g_{t+1}       (3.14)
std::vector<double> returns_to_go(const std::vector<double>& rewards, double gamma);

// All trajectories' observations / actions stacked in order (sum T_i rows).
Matrix stack_obs(const std::vector<Trajectory>& batch);
Matrix stack_actions(const std::vector<Trajectory>& batch);
long total_steps(const std::vector<Trajectory>& batch);

// The example scripts' stopping rule: stop once the mean return of the last `window` episodes
// reaches `target` (475 on CartPole-v1); a target <= 0 never stops.
class SolvedRule {
 public:
  explicit SolvedRule(double target, std::size_t window = 100) : target_(target), window_(window) {}
  // Records the batch's episode returns; true once the rule holds.
  bool record(const std::vector<Trajectory>& batch);

 private:
  double target_;
  std::size_t window_;
  std::vector<double> recent_;
};

// (x - mean) / (std + delta) over the whole batch (the optional step 4 of Section 3.2.4.4).
Vector standardize(const Vector& x, Scalar delta = Scalar(1e-8));

}  // namespace pgcpp
