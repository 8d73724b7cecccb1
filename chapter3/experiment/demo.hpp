// What every RL demo's main() needs besides run.hpp: the TrainResult of a trained policy, and rebuilding a policy saved in policy.safetensors from its description.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chapter3/common/policy.hpp"
#include "chapter3/common/segment.hpp"
#include "chapter3/experiment/run.hpp"

namespace pgcpp {

// theta, architecture (policy->describe()) and the mode action of a trained policy.
TrainResult policy_result(std::shared_ptr<const Policy> policy);

// Rebuilds the MLP policy that describe() named in file.architecture, e.g. "categorical
// 4-128-128-2 tanh" or "squashed-gaussian 3-64-64-2 tanh" (any kind of chapter3/common/policy.hpp),
// for file.env (whose action box a squashed Gaussian needs), and loads file.theta into it. Throws
// std::invalid_argument for an unknown description, a policy that does not fit the environment
// (check_policy_fits_env: e.g. a categorical policy for Pendulum-v1) or a theta of the wrong size.
std::unique_ptr<Policy> rebuild_policy(const PolicyFile& file);
// The RestoreFn of run_experiment for policies made by rebuild_policy.
ActFn restore_policy(const PolicyFile& file);

// The episodes that finished during a VecEnv segment (chapter3/common/segment.hpp) as metrics.csv
// rows, in order of time then copy, each at the env step count where it ended (env_steps_after =
// the count after the segment); then the progress line for `iteration` (from 0).
void log_segment(RunLog& log, long iteration, const Segment& segment, long env_steps_after);

}  // namespace pgcpp
