// ddpg: Section 3.4.9's deep deterministic policy gradient on Pendulum-v1 (Example 3.9; Fig. 3.21
// and 3.22). The algorithm is in chapter3/3_4_9_ddpg.cpp, its hyperparameters in DdpgConfig; this
// file only turns them into a run.
//
//   ddpg                                  Example 3.9's settings at width 128, 20k env steps
//   ddpg --hidden 256,256 --steps 50000   the book's width and length
//   ddpg --noise gaussian                 Gaussian instead of Ornstein-Uhlenbeck exploration noise
#include "chapter3/3_4_9_ddpg.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("ddpg");
  only_env(run, "pendulum", "Pendulum-v1");
  DdpgConfig cfg;
  Cli cli("ddpg", "Deep deterministic policy gradient (Section 3.4.9, Example 3.9) on Pendulum-v1.");
  cli.note("Defaults are Example 3.9's settings from the course's example script, except where a flag's help says "
           "otherwise: --steps 50000 --hidden 256,256 runs the book's.");
  parse_demo_flags(cli, run, cfg, argc, argv);
  require_batch_fits_buffer(cli, cfg.batch_size, cfg.buffer);
  const ExperimentSpec spec = demo_spec("Fig. 3.21 — DDPG", "Fig. 3.22 — Policy rollout (DDPG)", {"critic_loss", "actor_loss"},
                                        {.env_steps = cfg.steps}, cfg, {-200, "-200"});

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    DdpgAgent agent(cfg, env->spec(), rng);
    train_ddpg(cfg, *env, agent, rng, [&](long env_steps, double ret, int length, const DdpgStats& stats) {
      if (stats.updates > 0) log.set_loss("critic_loss", stats.critic_loss);
      if (stats.actor_updates > 0) log.set_loss("actor_loss", stats.actor_loss);  // none yet with a large --actor-every
      log_episode_end(log, env_steps, ret, length);
    });
    std::shared_ptr<const DeterministicActor> actor = agent.actor();
    return TrainResult{actor->parameters(), actor->describe(), [actor](const Eigen::VectorXd& s) { return actor->act(s); }};
  };
  return run_experiment(run, spec, train, restore_policy);
}
