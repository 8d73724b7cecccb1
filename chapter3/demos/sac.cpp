// sac: Section 3.4.8.2's soft actor–critic for continuous actions (tanh-squashed Gaussian, twin
// critics and targets, learned temperature) on Pendulum-v1 (Example 3.8; Fig. 3.19 and 3.20). The
// algorithm is in chapter3/3_4_8_sac.cpp, its hyperparameters in SacConfig; this file only turns
// them into a run.
//
//   sac                                     Example 3.8's settings at width 128, 20k env steps
//   sac --hidden 256,256 --steps 50000      the book's width and length
//   sac --fixed-alpha --alpha 0.1           a fixed temperature
#include "chapter3/3_4_8_sac.hpp"
#include "chapter3/experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("sac");
  run.env.choices = {"pendulum", "Pendulum-v1"};
  run.env = "pendulum";
  SacConfig cfg;
  Cli cli("sac", "Soft actor-critic for continuous actions (Section 3.4.8.2, Example 3.8) on Pendulum-v1.");
  cli.add(run);
  cli.add(cfg);
  cli.note(SAC_DEFAULTS_NOTE);
  cli.parse(argc, argv);
  check_run_flags(cli, run);
  cli.require(cfg.batch_size <= cfg.buffer, "--batch-size must not exceed --buffer");

  ExperimentSpec spec{.figure = "Fig. 3.19 — Soft actor–critic",
                      .rollout_figure = "Fig. 3.20 — Policy rollout (soft actor–critic)",
                      .x_axis = CurveX::env_steps,
                      .loss_columns = {"critic_loss", "actor_loss", "alpha", "entropy"},
                      .budget = {.env_steps = cfg.steps},
                      .hyperparameters = &cfg,
                      .reference_return = -200,
                      .reference_label = "-200"};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    SacAgent agent(cfg, env->spec(), rng);
    train_sac(cfg, *env, agent, rng, [&](long env_steps, double ret, int length, const SacStats& stats) {
      if (stats.updates > 0) {
        log.set_loss("critic_loss", stats.critic_loss);
        log.set_loss("actor_loss", stats.actor_loss);
        log.set_loss("entropy", stats.entropy);
      }
      log.set_loss("alpha", stats.alpha);
      log.episode(env_steps, ret, length);
      log.progress(log.episodes(), env_steps);
    });
    return policy_result(agent.policy());
  };
  return run_experiment(run, spec, train, restore_policy);
}
