// bench --peers: the peers' Pendulum-v1 configurations (issue 19's table) trained end to end through the
// chapter's own training functions (train_sac, train_ppo, train_ddpg), in this process, one row at a time.
//
// Each row is the command line a reader would type for the demo (sac, ppo, ddpg), applied to the demo's
// config exactly as the demo's command line applies it: Pendulum-v1's per-environment defaults first,
// then the flags. Printed per row: the CPU seconds of training (process CPU time: user + system), the
// gradient updates per CPU second, the evaluation return (the demos' evaluation: 20 episodes of the
// deterministic policy from evaluation_seed(seed), experiment/run.hpp), and the scalar type.
//
//   sac64         RLtools' SAC benchmark: 2x64 ReLU, batch 100, 10,000 steps of which 100 random, 9,900 updates,
//                 initial alpha 0.5 learned, Adam 1e-3 everywhere
//   sac256        RLtools' SAC at width 256: batch 256, 256 random steps (9,744 updates), the demo's other defaults
//   ppo           RLtools' PPO benchmark in our flags (64-64 ReLU, 4 envs x 1,024 steps x 75 iterations,
//                 minibatch 256, 2 epochs, gamma 0.9, lambda 0.95, clip 0.2, initial sigma 2 in RLtools' action
//                 units, constant Adam 1e-3, no entropy bonus, no gradient clipping); the differences that remain
//                 are listed in peer_rows() below
//   cleanrl_sac   CleanRL's sac_continuous_action.py settings: 2x256, batch 256, 5,000 random steps, 4,999 updates
//   cleanrl_ddpg  CleanRL's ddpg_continuous_action.py settings: 2x256, batch 256, 1,000 random steps, actor every
//                 2nd update, Gaussian noise 0.1, Adam 3e-4
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pgcpp::bench {

struct PeerRow {
  std::string name;                // "sac64"
  std::string program;             // the demo whose config the flags set: "sac", "ppo" or "ddpg"
  std::vector<std::string> flags;  // that demo's command line (after --env pendulum)
  std::string peer;                // what it is compared with
};

// The five rows, in the order.
const std::vector<PeerRow>& peer_rows();

// The rows a --rows text selects ("all", or comma-separated row names); "" on success, else what was
// expected (for the usage error).
std::string select_peer_rows(const std::string& text, std::vector<PeerRow>& rows);

// Trains each row with `seed` and prints its line; returns 0. Throws std::logic_error if a row's command
// line does not fit its config (a defect of this table), and what training throws.
int run_peer_rows(const std::vector<PeerRow>& rows, std::uint64_t seed);

}  // namespace pgcpp::bench
