// What every RL demo's main() needs besides run.hpp: the TrainResult of a trained policy, and rebuilding a policy saved in policy.safetensors from its description.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "chapter3/common/policy.hpp"
#include "chapter3/common/segment.hpp"
#include "experiment/run.hpp"

namespace pgcpp {

// theta, architecture (policy->describe()) and the mode action of a trained policy.
TrainResult policy_result(std::shared_ptr<const Policy> policy);

// Rebuilds the MLP policy that describe() named in file.architecture, e.g. "categorical
// 4-128-128-2 tanh" or "squashed-gaussian 3-64-64-2 tanh" (any kind of chapter3/common/policy.hpp),
// for file.env (whose action box a squashed Gaussian needs), and loads file.theta into it. Throws
// std::invalid_argument for an unknown description, a policy that does not fit the environment
// (check_policy_fits_env: e.g. a categorical policy for Pendulum-v1) or a theta of the wrong size
// (checked before the network is built).
std::unique_ptr<Policy> rebuild_policy(const PolicyFile& file);
// The RestoreFn of run_experiment: the mode action of a policy rebuild_policy makes, or Section
// 3.4.9's mu_theta for "deterministic-tanh 3-128-128-1 relu" (DeterministicActor). Throws
// std::invalid_argument as rebuild_policy does, beginning "policy file '<file.path>': " for a
// loaded file, before building any network whose parameter count is not theta's; the action it
// returns throws std::runtime_error (naming the file too) when it is not finite.
ActFn restore_policy(const PolicyFile& file);

// The episodes that finished during a VecEnv segment (chapter3/common/segment.hpp) as metrics.csv
// rows, in order of time then copy, each at the env step count where it ended (env_steps_after =
// the count after the segment); then the progress line for `iteration` (from 0).
void log_segment(RunLog& log, long iteration, const Segment& segment, long env_steps_after);

// ---- Setup every demo's main() repeats, written once so the demos cannot drift apart.

// Adds the run's flags (RunOptions, --env --seed ...) then the config's to `cli`, parses and
// checks them (check_run_flags): a usage error exits 2. Notes (cli.note) may come before.
void parse_demo_flags(Cli& cli, RunOptions& run, Params& cfg, int argc, char** argv);
// --env narrowed to one environment, both spellings ("pendulum", "Pendulum-v1"), and made the
// default; call before parse_demo_flags so --help lists only that environment.
void only_env(RunOptions& run, const std::string& short_name, const std::string& gymnasium_id);

// Replay-based demos (sac, sac_discrete, ddpg, mbpo): a minibatch of B transitions is drawn from
// the buffer, so B must not exceed its capacity |D|.
void require_batch_fits_buffer(const Cli& cli, long batch_size, long buffer);
// VecEnv demos (npg, trpo, ppo): N copies x T steps rows per batch, bounded like every other size.
void require_rows_per_batch(const Cli& cli, long envs, long steps);
// After parse_demo_flags: does this run train on Pendulum-v1 (false with --load and no --env)?
bool on_pendulum(const RunOptions& run);

// The dashed line of a demo's learning curve and its label (NaN: none).
struct Reference {
  double value = std::numeric_limits<double>::quiet_NaN();
  std::string label = "solved";
};
// npg, trpo and ppo: CartPole-v1's 475 ("solved"), or -250 on Pendulum-v1.
Reference cartpole_or_pendulum_reference(bool pendulum);
// A demo's spec; its learning curve's x axis counts what its budget counts (env steps if
// budget.env_steps is set, else episodes).
ExperimentSpec demo_spec(std::string figure, std::string rollout_figure, std::vector<std::string> loss_columns,
                         Budget budget, const Params& hyperparameters, Reference reference);

// ---- Model construction and logging the demos share.

// pi (make_mlp_policy: softmax on CartPole, Gaussian with initial log sigma log_std_init on
// Pendulum) and then V_phi, both of `hidden` layers (tanh unless `activation` says otherwise), drawn
// from rng in that order: the on-policy actor-critic demos (reinforce_baseline, actor_critic, npg, trpo, ppo).
struct PolicyAndValue {
  std::shared_ptr<Policy> policy;
  ad::Mlp value;
};
PolicyAndValue policy_and_value(const Env& env, const std::vector<int>& hidden, Rng& rng, double log_std_init = 0.0,
                                ad::Activation activation = ad::Activation::Tanh);

// One finished episode of a replay-based demo: its metrics.csv row at env_steps and the progress
// line (iteration = episodes so far).
void log_episode_end(RunLog& log, long env_steps, double episode_return, int length);

}  // namespace pgcpp
