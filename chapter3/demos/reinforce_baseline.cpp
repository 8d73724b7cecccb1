// reinforce_baseline: Section 3.2.4.4's minibatch REINFORCE with a learned value baseline on
// CartPole-v1 (Example 3.2; Fig. 3.5 and 3.6). The algorithm is in
// chapter3/3_2_4_reinforce_baseline.cpp; this file only turns flags into a run.
#include "chapter3/experiment/demo.hpp"
#include "chapter3/3_2_4_reinforce_baseline.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run{.algorithm = "reinforce_baseline"};
  BaselineConfig cfg;
  std::string hidden = hidden_text(cfg.hidden);
  bool no_standardize = false;
  Cli cli("reinforce_baseline",
          "Minibatch REINFORCE with a learned value baseline (Section 3.2.4.4, Example 3.2) on CartPole-v1.");
  add_run_flags(cli, run);
  cli.option("--batch", cfg.batch, "N, trajectories per update");
  cli.option("--episodes", cfg.episodes, "budget in episodes");
  cli.option("--lr-actor", cfg.lr_actor, "alpha_theta, Adam step size of pi");
  cli.option("--lr-critic", cfg.lr_critic, "alpha_phi, Adam step size of V");
  cli.option("--gamma", cfg.gamma, "discount gamma");
  cli.option("--hidden", hidden, "hidden layer sizes of pi and V (tanh)");
  cli.option("--clip", cfg.clip, "gradient-norm clip of actor and critic (0 = none)");
  cli.option("--k-max", cfg.k_max, "K_max, most critic steps per batch (the book: 2000; see below)");
  cli.option("--check-every", cfg.check_every, "critic steps between two checks of the stopping rule");
  cli.option("--patience", cfg.patience, "M, consecutive checks with relative decrease < epsilon that stop the fit");
  cli.option("--epsilon", cfg.epsilon, "epsilon of the critic's stopping rule");
  cli.flag("--no-standardize", no_standardize, "skip step 4's batch-wise standardization of the advantages");
  cli.option("--solved", cfg.solved, "stop once the last 100 episodes average this (0 = never)");
  cli.note("Defaults are Example 3.2's settings (pi and V 4-128-128 tanh, Adam 1e-3 each, batch 50, advantages "
           "standardized, clip 1.0, at most 5000 episodes) except K_max. The book fits V with up to 2000 "
           "full-batch steps on every batch, and its stopping rule (checked every 10 steps, 10 checks in a row) "
           "never stops before 100 steps: on batches of 50 long episodes that is minutes per run. The default "
           "K_max here is the nearest setting that keeps a run under two minutes on one core; "
           "--k-max 2000 gives the book's.");
  cli.parse(argc, argv);
  check_run_flags(cli, run);
  cli.require(!run.load.empty() || run.env == "CartPole-v1", "this demo is Example 3.2 on CartPole-v1 (--env cartpole)");
  cli.require(cfg.batch >= 1 && cfg.episodes >= 1, "--batch and --episodes must be >= 1");
  cli.require(cfg.lr_actor > 0 && cfg.lr_critic > 0, "--lr-actor and --lr-critic must be > 0");
  cli.require(cfg.gamma >= 0 && cfg.gamma <= 1 && cfg.clip >= 0, "0 <= --gamma <= 1 and --clip >= 0");
  cli.require(cfg.k_max >= 1 && cfg.check_every >= 1 && cfg.patience >= 1 && cfg.epsilon >= 0,
              "--k-max, --check-every, --patience must be >= 1 and --epsilon >= 0");
  cfg.hidden = parse_hidden(cli, "--hidden", hidden);
  cfg.standardize = !no_standardize;

  ExperimentSpec spec{
      .figure = "Fig. 3.5 — Minibatch REINFORCE with a learned value baseline",
      .rollout_figure = "Fig. 3.6 — Policy rollout (REINFORCE with a learned value baseline)",
      .loss_columns = {"policy_loss", "value_loss", "critic_steps"},
      .budget = {.episodes = cfg.episodes},
      .hyperparameters = {{"batch_episodes", cfg.batch}, {"lr_actor", cfg.lr_actor}, {"lr_critic", cfg.lr_critic},
                          {"gamma", cfg.gamma}, {"hidden", hidden}, {"clip", cfg.clip}, {"k_max", cfg.k_max},
                          {"check_every", cfg.check_every}, {"patience", cfg.patience}, {"epsilon", cfg.epsilon},
                          {"standardize", cfg.standardize}, {"episodes", cfg.episodes}, {"solved", cfg.solved}},
      .reference_return = 475};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    std::shared_ptr<Policy> policy =
        CategoricalPolicy::make(env->obs_dim(), cfg.hidden, env->num_actions(), ad::Activation::Tanh, rng);
    std::vector<int> value_sizes{env->obs_dim()};
    value_sizes.insert(value_sizes.end(), cfg.hidden.begin(), cfg.hidden.end());
    value_sizes.push_back(1);
    ad::Mlp value(value_sizes, ad::Activation::Tanh, rng);
    long env_steps = 0;
    train_reinforce_baseline(cfg, *env, *policy, value, rng,
                             [&](long k, const std::vector<Trajectory>& batch, const BaselineStats& stats) {
                               log.set_loss("policy_loss", stats.actor_loss);
                               log.set_loss("value_loss", stats.critic_loss);
                               log.set_loss("critic_steps", stats.critic_steps);
                               for (const Trajectory& tau : batch)
                                 log.episode(env_steps += tau.length(), tau.total_reward(), tau.length());
                               log.progress(k + 1, env_steps);
                             });
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
