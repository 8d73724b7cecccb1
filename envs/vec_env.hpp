// N copies of an environment stepped together, each restarting on its own when its episode
// ends. The restart happens within the same step (Gymnasium's SyncVectorEnv with
// autoreset_mode=SAME_STEP, the gym <= 0.29 behaviour): every step is a real transition, and
// the finished episode's last observation is returned beside the new episode's first one.
//
// Row i of every matrix belongs to copy i (Gymnasium's (num_envs, dim) layout).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "envs/env.hpp"

namespace pgcpp {

using Mask = Eigen::Array<bool, Eigen::Dynamic, 1>;

struct VecStepResult {
  Eigen::MatrixXd observation;        // N x obs_dim: where an episode ended, the NEXT
                                      // episode's first observation (automatic reset)
  Eigen::VectorXd reward;             // N
  Mask terminated;                    // N
  Mask truncated;                     // N
  Eigen::MatrixXd final_observation;  // N x obs_dim: where an episode ended, its last
                                      // observation (to bootstrap V(s_T) through truncation);
                                      // elsewhere equal to `observation`
  Eigen::VectorXd episode_return;     // N: undiscounted return of the episode that ended
  Eigen::VectorXi episode_length;     // N: its length; both 0 where no episode ended
};

class VecEnv {
 public:
  VecEnv(const Env& prototype, int num_envs);
  VecEnv(const std::string& env_name, int num_envs);

  int num_envs() const { return static_cast<int>(envs_.size()); }
  const Env& env(int i) const { return *envs_[static_cast<std::size_t>(i)]; }
  int obs_dim() const { return env(0).obs_dim(); }
  int act_dim() const { return env(0).act_dim(); }

  // Resets every copy; copy i draws from its own generator, split deterministically from seed.
  // Returns the N x obs_dim first observations (a reference to an internal buffer).
  const Eigen::MatrixXd& reset(std::uint64_t seed);

  // actions: N x act_dim (row i for copy i). The result refers to an internal buffer that the
  // next step() or reset() overwrites; it allocates only when an episode restarts.
  const VecStepResult& step(const Eigen::MatrixXd& actions);

 private:
  void step_one(int i, const Eigen::MatrixXd& actions);

  std::vector<std::unique_ptr<Env>> envs_;
  std::vector<Rng> rngs_;
  Eigen::VectorXd running_return_;
  Eigen::VectorXi running_length_;
  Eigen::VectorXd action_;  // one row of `actions`, reused
  Eigen::VectorXd obs_;     // one observation, reused
  Eigen::MatrixXd first_observation_;
  VecStepResult result_;
  bool was_reset_ = false;
};

}  // namespace pgcpp
