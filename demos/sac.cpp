// sac: Section 3.4.8.2's soft actor–critic for continuous actions (tanh-squashed Gaussian, twin
// critics and targets, learned temperature) on Pendulum-v1 (Example 3.8; Fig. 3.19 and 3.20). The
// algorithm is in chapter3/3_4_8_sac.cpp, its hyperparameters in SacConfig; this file only turns
// them into a run.
//
//   sac                                     Example 3.8's settings at width 128, 20k env steps
//   sac --hidden 256,256 --steps 50000      the book's width and length
//   sac --fixed-alpha --alpha 0.1           a fixed temperature
//   sac --single-critic                     ablation: one critic, no twin minimum (3.67), (3.68)
//   sac --no-tanh-correction                ablation: log pi without the tanh log-det term
// metrics.csv's q_minus_return: per episode, the mean of Q(s_t, a_t) - G_t over its first half
// (SacStats::q_minus_return), the critic's overestimation on the states it visited.
#include <cmath>

#include "demos/sac_log.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("sac");
  only_env(run, "pendulum", "Pendulum-v1");
  SacConfig cfg;
  Cli cli("sac", "Soft actor-critic for continuous actions (Section 3.4.8.2, Example 3.8) on Pendulum-v1.");
  cli.note("Defaults are Example 3.8's settings from the course's example script, except where a flag's help says "
           "otherwise: --steps 50000 --hidden 256,256 runs the book's. log pi(a|s) keeps the constant -sum log a_scale of "
           "the squash (-log 2 on Pendulum-v1), which the course's script drops.");
  parse_demo_flags(cli, run, cfg, argc, argv);
  require_batch_fits_buffer(cli, cfg.batch_size, cfg.buffer);
  const ExperimentSpec spec = demo_spec("Fig. 3.19 — Soft actor–critic", "Fig. 3.20 — Policy rollout (soft actor–critic)",
                                        [] {
                                          auto c = sac_columns();
                                          c.push_back("q_minus_return");
                                          return c;
                                        }(),
                                        {.env_steps = cfg.steps}, cfg, {-200, "-200"});

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    SacAgent agent(cfg, env->spec(), rng);
    train_sac(cfg, *env, agent, rng, [&](long env_steps, double ret, int length, const SacStats& stats) {
      if (!std::isnan(stats.q_minus_return)) log.set_loss("q_minus_return", stats.q_minus_return);
      log_sac_episode(log, env_steps, ret, length, stats);
    });
    return policy_result(agent.policy());
  };
  return run_experiment(run, spec, train, restore_policy);
}
