// ddpg: Section 3.4.9's deep deterministic policy gradient on Pendulum-v1 (Example 3.9; Fig. 3.21
// and 3.22). The algorithm is in chapter3/3_4_9_ddpg.cpp, its hyperparameters in DdpgConfig; this
// file only turns them into a run.
//
//   ddpg                                  Example 3.9's settings at width 128, 20k env steps
//   ddpg --hidden 256,256 --steps 50000   the book's width and length
//   ddpg --noise gaussian                 Gaussian instead of Ornstein-Uhlenbeck exploration noise
#include "chapter3/3_4_9_ddpg.hpp"
#include "chapter3/experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("ddpg");
  run.env.choices = {"pendulum", "Pendulum-v1"};
  run.env = "pendulum";
  DdpgConfig cfg;
  Cli cli("ddpg", "Deep deterministic policy gradient (Section 3.4.9, Example 3.9) on Pendulum-v1.");
  cli.add(run);
  cli.add(cfg);
  cli.note(DDPG_DEFAULTS_NOTE);
  cli.parse(argc, argv);
  check_run_flags(cli, run);
  cli.require(cfg.batch_size <= cfg.buffer, "--batch-size must not exceed --buffer");

  ExperimentSpec spec{.figure = "Fig. 3.21 — DDPG",
                      .rollout_figure = "Fig. 3.22 — Policy rollout (DDPG)",
                      .x_axis = CurveX::env_steps,
                      .loss_columns = {"critic_loss", "actor_loss"},
                      .budget = {.env_steps = cfg.steps},
                      .hyperparameters = &cfg,
                      .reference_return = -200,
                      .reference_label = "-200"};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    DdpgAgent agent(cfg, env->spec(), rng);
    train_ddpg(cfg, *env, agent, rng, [&](long env_steps, double ret, int length, const DdpgStats& stats) {
      if (stats.updates > 0) {
        log.set_loss("critic_loss", stats.critic_loss);
        log.set_loss("actor_loss", stats.actor_loss);
      }
      log.episode(env_steps, ret, length);
      log.progress(log.episodes(), env_steps);
    });
    std::shared_ptr<const DeterministicActor> actor = agent.actor();
    return TrainResult{actor->parameters(), actor->describe(), [actor](const Eigen::VectorXd& s) { return actor->act(s); }};
  };
  return run_experiment(run, spec, train, restore_deterministic_actor);
}
