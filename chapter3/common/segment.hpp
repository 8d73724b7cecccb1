// Fixed-length segments of a VecEnv (envs/vec_env.hpp): T steps of N environment copies stepped
// together under one policy, the on-policy data of PPO-style methods (Sections 3.3.3, 3.4), and
// the input of gae_segment (chapter3/common/gae.hpp).
//
// A segment does not start or end with an episode: copies restart on their own when an episode
// ends (VecEnv's same-step autoreset), and the last step of a segment usually sits mid-episode.
// Each step therefore records its true next state s_{t+1} (next_obs: the episode's final
// observation where it ended, else the next row's observation) and two flags, terminated and
// ended (= terminated or truncated), which is all GAE needs to bootstrap correctly at
// termination, at truncation and at the segment's end.
//
// Storage is allocated once, at construction and on the first collect(); later collect()s reuse
// it: actions are chosen by the plain forward pass (Policy::act), and a step allocates nothing
// (except where VecEnv restarts an episode).
#pragma once

#include <cstdint>
#include <vector>

#include "chapter3/common/gae.hpp"
#include "chapter3/common/policy.hpp"
#include "envs/vec_env.hpp"

namespace pgcpp {

struct Segment {
  int T = 0, N = 0;
  // Row t * N + i belongs to step t of copy i (a step's N rows are one forward pass).
  Matrix obs;       // (T N) x obs_dim: s_t
  Matrix next_obs;  // (T N) x obs_dim: s_{t+1}, the true next state (final observation where ended)
  Matrix actions;   // (T N) x act_dim
  Matrix params;    // (T N) x k: pi's distribution parameters at s_t, as acting computed them
  // T x N, column i = copy i.
  Eigen::MatrixXd rewards;
  MaskMatrix terminated, ended;
  // The episodes that finished during the segment, in order of time then copy.
  struct Finished {
    int t, copy;
    double episode_return;
    int length;
  };
  std::vector<Finished> finished;

  // Rows t N + i of a (T N)-vector (e.g. values of obs) as the T x N matrix of gae_segment.
  Eigen::MatrixXd by_step(const Vector& per_row) const;
};

class SegmentCollector {
 public:
  // Resets every copy of envs from seed (VecEnv::reset). envs must outlive the collector.
  SegmentCollector(VecEnv& envs, int T, std::uint64_t seed);

  // T steps of every copy under `policy` (sampled actions), continuing where the last call
  // stopped. The result refers to internal storage that the next collect() overwrites.
  const Segment& collect(const Policy& policy, Rng& rng);

  long env_steps() const { return env_steps_; }  // all copies, all segments so far

 private:
  VecEnv& envs_;
  Segment seg_;
  Eigen::MatrixXd current_;  // N x obs_dim: s_t of every copy
  Eigen::MatrixXd action_;   // N x act_dim, the VecEnv's double actions
  ActWorkspace act_;         // the policy's buffers for N observations
  long env_steps_ = 0;
};

}  // namespace pgcpp
