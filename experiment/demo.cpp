#include "experiment/demo.hpp"

#include <charconv>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "chapter3/3_4_9_ddpg.hpp"
#include "chapter3/common/critic.hpp"
#include "chapter3/common/mlp_policy.hpp"

namespace pgcpp {

namespace {

// The mode action by the plain forward pass, in a workspace the ActFn keeps between calls (an
// evaluation calls it once a step; only the returned vector is allocated).
ActFn mode_action(std::shared_ptr<const Policy> policy) {
  return [policy, ws = std::make_shared<ActWorkspace>()](const Eigen::VectorXd& s) {
    Eigen::VectorXd a;
    policy->act_mode(s, a, *ws);
    return a;
  };
}

}  // namespace

TrainResult policy_result(std::shared_ptr<const Policy> policy) {
  const ad::ParameterSet parameters = policy->parameters();
  const std::string describe = policy->describe();
  return TrainResult{parameters, describe, mode_action(std::move(policy))};
}

namespace {

// The architecture of file.architecture, checked against file.env. Throws std::invalid_argument
// for an architecture that is not an MLP policy's or does not fit the environment.
MlpPolicyArchitecture architecture_for_env(const PolicyFile& file, const EnvSpec& env) {
  const std::optional<MlpPolicyArchitecture> a = parse_mlp_policy(file.architecture);
  if (!a)
    throw std::invalid_argument("policy architecture '" + file.architecture +
                                "' is not one this demo can rebuild (expected e.g. 'categorical 4-128-128-2 tanh')");
  check_policy_fits_env(file.architecture, *a, env);
  // Before any network is built: a small file (or theta) declaring a huge network is refused here,
  // not after allocating it.
  if (a->parameter_count() != file.theta.size())
    throw std::invalid_argument("policy architecture '" + file.architecture + "' has " +
                                std::to_string(a->parameter_count()) + " parameters, the file holds " +
                                std::to_string(file.theta.size()));
  return *a;
}

// Loads file.theta into a rebuilt network's parameters, once its describe() matches the file's.
void load_theta(ad::ParameterSet parameters, const std::string& describe, const PolicyFile& file) {
  if (describe != file.architecture)  // e.g. extra spaces: describe() writes one form
    throw std::invalid_argument("policy architecture '" + file.architecture + "' is not written as describe() writes it ('" +
                                describe + "')");
  if (parameters.count() != file.theta.size())
    throw std::invalid_argument("policy architecture '" + file.architecture + "' has " +
                                std::to_string(parameters.count()) + " parameters, the file holds " +
                                std::to_string(file.theta.size()));
  parameters.unflatten(file.theta);
}

// "policy file '<path>': " to begin an error about the file's policy ("" for one made in memory).
std::string file_prefix(const PolicyFile& file) {
  return file.path.empty() ? "" : "policy file '" + printable(file.path) + "': ";
}

// The action of the policy restore_policy rebuilds (its mode, or mu_theta's action).
ActFn restored_action(const PolicyFile& file) {
  const std::unique_ptr<Env> env = make_env(file.env);
  const MlpPolicyArchitecture a = architecture_for_env(file, env->spec());
  if (a.kind == MlpPolicyArchitecture::Kind::deterministic_tanh) {
    Rng rng(0);  // the initial values are overwritten by theta
    auto actor = std::make_shared<DeterministicActor>(
        ad::Mlp(a.sizes, ad::parse_activation(a.activation), rng, ad::Activation::Tanh), env->action_low(),
        env->action_high());
    load_theta(actor->parameters(), actor->describe(), file);
    return [actor, ws = std::make_shared<ActWorkspace>()](const Eigen::VectorXd& s) {
      Eigen::VectorXd a;
      actor->act(s, a, *ws);
      return a;
    };
  }
  return mode_action(rebuild_policy(file));
}

}  // namespace

std::unique_ptr<Policy> rebuild_policy(const PolicyFile& file) {
  const std::unique_ptr<Env> env = make_env(file.env);
  const MlpPolicyArchitecture a = architecture_for_env(file, env->spec());
  Rng rng(0);  // the initial values are overwritten by theta
  ad::Mlp net(a.sizes, ad::parse_activation(a.activation), rng);
  std::unique_ptr<Policy> policy;
  using Kind = MlpPolicyArchitecture::Kind;
  switch (a.kind) {
    case Kind::categorical: policy = std::make_unique<CategoricalPolicy>(std::move(net)); break;
    case Kind::gaussian_state_independent:
      policy = std::make_unique<GaussianPolicy>(std::move(net), a.act_dim(), GaussianPolicy::LogStd::StateIndependent);
      break;
    case Kind::gaussian_state_dependent:
      policy = std::make_unique<GaussianPolicy>(std::move(net), a.act_dim(), GaussianPolicy::LogStd::StateDependent);
      break;
    case Kind::squashed_gaussian:
      policy = std::make_unique<SquashedGaussianPolicy>(std::move(net), env->action_low(), env->action_high());
      break;
    case Kind::deterministic_tanh:
      throw std::invalid_argument("policy architecture '" + file.architecture +
                                  "' is a deterministic actor, not a stochastic policy (restore_policy rebuilds it)");
  }
  load_theta(policy->parameters(), policy->describe(), file);
  return policy;
}

ActFn restore_policy(const PolicyFile& file) {
  ActFn act;
  try {
    act = restored_action(file);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(file_prefix(file) + printable(e.what()));
  }
  // Finite parameters can still overflow (a weight of 1e300): an action that is not a number is
  // the file's fault, said as such, not an environment's error about its input.
  return [act = std::move(act), who = file_prefix(file)](const Eigen::VectorXd& s) {
    Eigen::VectorXd action = act(s);
    if (!action.allFinite())
      throw std::runtime_error(who + "the policy's action is not a finite number (its parameters overflow)");
    return action;
  };
}

void log_segment(RunLog& log, long iteration, const Segment& segment, long env_steps_after) {
  const long before = env_steps_after - static_cast<long>(segment.T) * segment.N;
  for (const Segment::Finished& f : segment.finished)
    log.episode(before + static_cast<long>(f.t) * segment.N + f.copy + 1, f.episode_return, f.length);
  log.progress(iteration + 1, env_steps_after);
}

void parse_demo_flags(Cli& cli, RunOptions& run, Params& cfg, int argc, char** argv) {
  cli.add(run);
  cli.add(cfg);
  cli.parse(argc, argv);
  check_run_flags(cli, run);
}

void only_env(RunOptions& run, const std::string& short_name, const std::string& gymnasium_id) {
  run.env.choices = {short_name, gymnasium_id};
  run.env = short_name;
}

void require_batch_fits_buffer(const Cli& cli, long batch_size, long buffer) {
  cli.require(batch_size <= buffer, "--batch-size must not exceed --buffer");
}

void require_rows_per_batch(const Cli& cli, long envs, long steps) {
  cli.require(envs * steps <= 1'000'000,
              "--envs x --steps is " + std::to_string(envs * steps) + " rows per batch, more than 1000000");
}

bool on_pendulum(const RunOptions& run) { return !run.env().empty() && env_short_name(run.env) == "pendulum"; }

Reference cartpole_or_pendulum_reference(bool pendulum) {
  return pendulum ? Reference{-250.0, "-250"} : Reference{475.0, "solved"};
}

ExperimentSpec demo_spec(std::string figure, std::string rollout_figure, std::vector<std::string> loss_columns,
                         Budget budget, const Params& hyperparameters, Reference reference) {
  return ExperimentSpec{.figure = std::move(figure),
                        .rollout_figure = std::move(rollout_figure),
                        .x_axis = budget.env_steps > 0 ? CurveX::env_steps : CurveX::episodes,
                        .loss_columns = std::move(loss_columns),
                        .budget = budget,
                        .hyperparameters = &hyperparameters,
                        .reference_return = reference.value,
                        .reference_label = std::move(reference.label)};
}

PolicyAndValue policy_and_value(const Env& env, const std::vector<int>& hidden, Rng& rng, double log_std_init,
                                ad::Activation activation) {
  std::shared_ptr<Policy> policy = make_mlp_policy(env, hidden, log_std_init, rng, activation);
  return {std::move(policy), value_network(env.obs_dim(), hidden, activation, rng)};
}

void log_episode_end(RunLog& log, long env_steps, double episode_return, int length) {
  log.episode(env_steps, episode_return, length);
  log.progress(log.episodes(), env_steps);
}

}  // namespace pgcpp
