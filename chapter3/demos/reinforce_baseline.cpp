// reinforce_baseline: Section 3.2.4.4's minibatch REINFORCE with a learned value baseline on
// CartPole-v1 (Example 3.2; Fig. 3.5 and 3.6). The algorithm is in
// chapter3/3_2_4_reinforce_baseline.cpp, its hyperparameters in BaselineConfig; this file only
// turns them into a run.
#include "chapter3/3_2_4_reinforce_baseline.hpp"
#include "chapter3/experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("reinforce_baseline");
  run.env.choices = {"cartpole", "CartPole-v1"};
  BaselineConfig cfg;
  Cli cli("reinforce_baseline",
          "Minibatch REINFORCE with a learned value baseline (Section 3.2.4.4, Example 3.2) on CartPole-v1.");
  cli.add(run);
  cli.add(cfg);
  cli.note("Defaults are Example 3.2's settings from the course's example script (pi and V 4-128-128 tanh, Adam 1e-3 "
           "each, batch 50, advantages standardized, clip 1.0, at most 5000 episodes) except K_max. The script fits V "
           "with up to 2000 full-batch steps on every batch, and its stopping rule (checked every 10 steps, 10 checks "
           "in a row) never stops before 100 steps: on batches of 50 long episodes that is minutes per run. The "
           "default K_max here is the nearest setting that keeps a run under two minutes on one core; --k-max 2000 "
           "gives the script's.");
  cli.parse(argc, argv);
  check_run_flags(cli, run);

  ExperimentSpec spec{
      .figure = "Fig. 3.5 — Minibatch REINFORCE with a learned value baseline",
      .rollout_figure = "Fig. 3.6 — Policy rollout (REINFORCE with a learned value baseline)",
      .loss_columns = {"policy_loss", "value_loss", "critic_steps"},
      .budget = {.episodes = cfg.episodes},
      .hyperparameters = &cfg,
      .reference_return = 475};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    std::shared_ptr<Policy> policy =
        CategoricalPolicy::make(env->obs_dim(), cfg.hidden, env->num_actions(), ad::Activation::Tanh, rng);
    std::vector<int> value_sizes{env->obs_dim()};
    value_sizes.insert(value_sizes.end(), cfg.hidden().begin(), cfg.hidden().end());
    value_sizes.push_back(1);
    ad::Mlp value(value_sizes, ad::Activation::Tanh, rng);
    train_reinforce_baseline(cfg, *env, *policy, value, rng,
                             [&](long k, const std::vector<Trajectory>& batch, const BaselineStats& stats) {
                               log.set_loss("policy_loss", stats.actor_loss);
                               log.set_loss("value_loss", stats.critic_loss);
                               log.set_loss("critic_steps", stats.critic_steps);
                               log.batch(k, batch);
                             });
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
