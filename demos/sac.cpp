// sac: Section 3.4.8.2's soft actor–critic for continuous actions (tanh-squashed Gaussian, twin
// critics and targets, learned temperature) on Pendulum-v1 (Example 3.8; Fig. 3.19 and 3.20). The
// algorithm is in chapter3/3_4_8_sac.cpp, its hyperparameters in SacConfig; this file only turns
// them into a run.
//
//   sac                                     Example 3.8's settings at width 128, 20k env steps
//   sac --hidden 256,256 --steps 50000      the book's width and length
//   sac --fixed-alpha --alpha 0.1           a fixed temperature
#include "demos/sac_log.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("sac");
  only_env(run, "pendulum", "Pendulum-v1");
  SacConfig cfg;
  Cli cli("sac", "Soft actor-critic for continuous actions (Section 3.4.8.2, Example 3.8) on Pendulum-v1.");
  cli.note("Defaults are Example 3.8's settings from the course's example script, except where a flag's help says "
           "otherwise: --steps 50000 --hidden 256,256 runs the book's.");
  parse_demo_flags(cli, run, cfg, argc, argv);
  require_batch_fits_buffer(cli, cfg.batch_size, cfg.buffer);
  const ExperimentSpec spec = demo_spec("Fig. 3.19 — Soft actor–critic", "Fig. 3.20 — Policy rollout (soft actor–critic)",
                                        sac_columns(), {.env_steps = cfg.steps}, cfg, {-200, "-200"});

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    SacAgent agent(cfg, env->spec(), rng);
    train_sac(cfg, *env, agent, rng, [&](long env_steps, double ret, int length, const SacStats& stats) {
      log_sac_episode(log, env_steps, ret, length, stats);
    });
    return policy_result(agent.policy());
  };
  return run_experiment(run, spec, train, restore_policy);
}
