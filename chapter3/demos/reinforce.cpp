// reinforce: Section 3.2.3's REINFORCE on CartPole-v1 (Example 3.1; Fig. 3.2, 3.3 and 3.4).
// The algorithm is in chapter3/3_2_3_reinforce.cpp; this file only turns flags into a run.
//
//   reinforce              minibatch REINFORCE, 20 episodes per update, (3.24): Fig. 3.3, 3.4
//   reinforce --batch 1    naive REINFORCE, one episode per update, (3.23), 2000 episodes: Fig. 3.2
#include "chapter3/experiment/demo.hpp"
#include "chapter3/3_2_3_reinforce.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run{.algorithm = "reinforce"};
  ReinforceConfig cfg;
  std::string hidden = hidden_text(cfg.hidden);
  Cli cli("reinforce", "REINFORCE (Section 3.2.3, Example 3.1) on CartPole-v1: minibatch by default, naive with --batch 1.");
  add_run_flags(cli, run);
  cli.option("--batch", cfg.batch, "N, trajectories per update (1 = naive REINFORCE, Fig. 3.2)");
  cli.option("--episodes", cfg.episodes, "budget in episodes (with --batch 1 and no --episodes: 2000, as in the book)");
  cli.option("--lr", cfg.lr, "alpha, Adam step size");
  cli.option("--gamma", cfg.gamma, "discount gamma");
  cli.option("--hidden", hidden, "hidden layer sizes of pi (tanh)");
  cli.option("--clip", cfg.clip, "gradient-norm clip (0 = none)");
  cli.option("--estimator", cfg.estimator, "auto | return (3.23) | rtg (3.24); auto: (3.23) when --batch 1, else (3.24)");
  cli.option("--solved", cfg.solved, "stop once the last 100 episodes average this (0 = never)");
  cli.note("Defaults are Example 3.1's settings (pi 4-128-128-2 tanh, Adam 2.5e-3, gamma 0.99, clip 1.0, loss summed "
           "over steps and divided by the number of episodes, stop at a 100-episode average of 475).");
  cli.parse(argc, argv);
  check_run_flags(cli, run);
  cli.require(!run.load.empty() || run.env == "CartPole-v1", "REINFORCE's demo is Example 3.1 on CartPole-v1 (--env cartpole)");
  cli.require(cfg.batch >= 1, "--batch must be >= 1");
  cli.require(cfg.lr > 0 && cfg.gamma >= 0 && cfg.gamma <= 1 && cfg.clip >= 0, "--lr > 0, 0 <= --gamma <= 1, --clip >= 0");
  cli.require(cfg.estimator == "auto" || cfg.estimator == "return" || cfg.estimator == "rtg",
              "--estimator must be auto, return or rtg");
  cfg.hidden = parse_hidden(cli, "--hidden", hidden);
  if (cfg.batch == 1 && !cli.given("--episodes")) cfg.episodes = 2000;
  cli.require(cfg.episodes >= 1, "--episodes must be >= 1");
  const bool naive = cfg.batch == 1;

  ExperimentSpec spec{
      .figure = naive ? "Fig. 3.2 — Naive REINFORCE" : "Fig. 3.3 — Minibatch REINFORCE",
      .rollout_figure = naive ? "Policy rollout (Naive REINFORCE)" : "Fig. 3.4 — Policy rollout (Minibatch REINFORCE)",
      .loss_columns = {"policy_loss"},
      .budget = {.episodes = cfg.episodes},
      .hyperparameters = {{"batch_episodes", cfg.batch}, {"lr", cfg.lr}, {"gamma", cfg.gamma}, {"hidden", hidden},
                          {"clip", cfg.clip}, {"estimator", cfg.estimator}, {"episodes", cfg.episodes},
                          {"solved", cfg.solved}},
      .reference_return = 475};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    std::shared_ptr<Policy> policy =
        CategoricalPolicy::make(env->obs_dim(), cfg.hidden, env->num_actions(), ad::Activation::Tanh, rng);
    long env_steps = 0;
    train_reinforce(cfg, *env, *policy, rng, [&](long k, const std::vector<Trajectory>& batch, double loss) {
      log.set_loss("policy_loss", loss);
      for (const Trajectory& tau : batch) log.episode(env_steps += tau.length(), tau.total_reward(), tau.length());
      log.progress(k + 1, env_steps);
    });
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
