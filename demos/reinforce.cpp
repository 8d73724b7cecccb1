// reinforce: Section 3.2.3's REINFORCE on CartPole-v1 (Example 3.1; Fig. 3.2, 3.3 and 3.4).
// The algorithm is in chapter3/3_2_3_reinforce.cpp, its hyperparameters in ReinforceConfig;
// this file only turns them into a run.
//
//   reinforce              minibatch REINFORCE, 20 episodes per update, (3.24): Fig. 3.3, 3.4
//   reinforce --batch 1    naive REINFORCE, one episode per update, (3.23), 2000 episodes: Fig. 3.2
#include "chapter3/3_2_3_reinforce.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("reinforce");
  only_env(run, "cartpole", "CartPole-v1");
  ReinforceConfig cfg;
  Cli cli("reinforce", "REINFORCE (Section 3.2.3, Example 3.1) on CartPole-v1: minibatch by default, naive with --batch 1.");
  cli.note("Defaults are Example 3.1's settings, from the course's example script (pi 4-128-128-2 tanh, Adam 2.5e-3, "
           "gamma 0.99, clip 1.0, loss summed over steps and divided by the number of episodes, stop at a 100-episode "
           "average of 475).");
  parse_demo_flags(cli, run, cfg, argc, argv);
  if (cfg.batch == 1 && !cli.given("--episodes")) cfg.episodes = 2000;
  const bool naive = cfg.batch == 1;

  const ExperimentSpec spec =
      demo_spec(naive ? "Fig. 3.2 — Naive REINFORCE" : "Fig. 3.3 — Minibatch REINFORCE",
                naive ? "Policy rollout (Naive REINFORCE)" : "Fig. 3.4 — Policy rollout (Minibatch REINFORCE)",
                {"policy_loss"}, {.episodes = cfg.episodes}, cfg, {475});

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    std::shared_ptr<Policy> policy =
        CategoricalPolicy::make(env->obs_dim(), cfg.hidden, env->num_actions(), ad::Activation::Tanh, rng);
    train_reinforce(cfg, *env, *policy, rng, [&](long k, const std::vector<Trajectory>& batch, double loss) {
      log.set_loss("policy_loss", loss);
      log.batch(k, batch);
    });
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
