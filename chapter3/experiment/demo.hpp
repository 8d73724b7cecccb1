// What every RL demo's main() needs besides run.hpp: the TrainResult of a trained policy, and rebuilding a policy saved in policy.bin from its description.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chapter3/common/policy.hpp"
#include "chapter3/experiment/run.hpp"

namespace pgcpp {

// theta, architecture (policy->describe()) and the mode action of a trained policy.
TrainResult policy_result(std::shared_ptr<const Policy> policy);

// Rebuilds the policy that describe() named, e.g. "categorical 4-128-128-2 tanh", and loads
// theta into it. Throws std::invalid_argument for an unknown description or a theta of the
// wrong size.
std::unique_ptr<Policy> rebuild_policy(const std::string& architecture, const Vector& theta);
// The RestoreFn of run_experiment for policies made by rebuild_policy.
ActFn restore_policy(const PolicyFile& file);

}  // namespace pgcpp
