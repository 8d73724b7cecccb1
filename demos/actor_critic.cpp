// actor_critic: Section 3.3.2's on-policy actor–critic with a one-step bootstrap, TD(0), on
// CartPole-v1 (Example 3.3; Fig. 3.7 and 3.8). The algorithm is in
// chapter3/3_3_2_actor_critic_td0.cpp, its hyperparameters in ActorCriticConfig; this file only
// turns them into a run.
#include "chapter3/3_3_2_actor_critic_td0.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("actor_critic");
  only_env(run, "cartpole", "CartPole-v1");
  ActorCriticConfig cfg;
  Cli cli("actor_critic", "On-policy actor-critic with TD(0) (Section 3.3.2, Example 3.3) on CartPole-v1.");
  cli.note("Defaults are Example 3.3's settings from the course's example script (pi and V 4-128-128 tanh, Adam 1e-3 "
           "each, gamma 0.99, 30 episodes per update, TD(0) targets held fixed for 20 critic steps, delta recomputed "
           "and normalized, one actor step, clip 1.0, at most 3000 episodes, stop at a 100-episode average of 475). "
           "One difference: an episode cut by the time limit bootstraps from V at its last state; the script treats "
           "the limit as terminal.");
  parse_demo_flags(cli, run, cfg, argc, argv);

  const ExperimentSpec spec =
      demo_spec("Fig. 3.7 — Actor–critic with one-step bootstrap",
                "Fig. 3.8 — Policy rollout (actor–critic with one-step bootstrap)", {"policy_loss", "value_loss"},
                {.episodes = cfg.episodes}, cfg, {475});

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    auto [policy, value] = policy_and_value(*env, cfg.hidden, rng);
    train_actor_critic_td0(cfg, *env, *policy, value, rng,
                           [&](long k, const std::vector<Trajectory>& batch, const ActorCriticStats& stats) {
                             log.set_loss("policy_loss", stats.actor_loss);
                             log.set_loss("value_loss", stats.critic_loss);
                             log.batch(k, batch);
                           });
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
