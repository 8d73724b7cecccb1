// mbpo: Section 3.5's model-based policy optimization, SAC (Section 3.4.8.2) trained on short
// rollouts of a learned dynamics ensemble mixed with real data, on Pendulum-v1 (Example 3.10;
// Fig. 3.23 and 3.24). The algorithm is in chapter3/3_5_mbpo.cpp, its hyperparameters in
// MbpoConfig (SAC's from SacConfig); this file only turns them into a run.
//
//   mbpo                                   Example 3.10's settings, SAC at width 128, 6k env steps
//   mbpo --hidden 256,256 --steps 50000    the book's width and length
//   mbpo --model-ratio 0                   SAC on real data only (with the models still fitted)
#include "chapter3/3_5_mbpo.hpp"
#include "chapter3/experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("mbpo");
  run.env.choices = {"pendulum", "Pendulum-v1"};
  run.env = "pendulum";
  MbpoConfig cfg;
  Cli cli("mbpo", "Model-based policy optimization with SAC (Section 3.5, Example 3.10) on Pendulum-v1.");
  cli.add(run);
  cli.add(cfg);
  cli.note(MBPO_DEFAULTS_NOTE);
  cli.parse(argc, argv);
  check_run_flags(cli, run);
  cli.require(cfg.batch_size <= cfg.buffer, "--batch-size must not exceed --buffer");
  cli.require(cfg.model_batch <= cfg.buffer, "--model-batch must not exceed --buffer");

  ExperimentSpec spec{.figure = "Fig. 3.23 — MBPO",
                      .rollout_figure = "Fig. 3.24 — Policy rollout (MBPO)",
                      .x_axis = CurveX::env_steps,
                      .loss_columns = {"model_loss", "critic_loss", "actor_loss", "alpha"},
                      .budget = {.env_steps = cfg.steps},
                      .hyperparameters = &cfg,
                      .reference_return = -200,
                      .reference_label = "-200"};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    SacAgent agent(cfg, env->spec(), rng);
    DynamicsEnsemble ensemble(cfg.ensemble, env->obs_dim(), env->act_dim(), cfg.model_hidden, cfg.lr_model, rng);
    train_mbpo(cfg, *env, agent, ensemble, rng, [&](long env_steps, double ret, int length, const MbpoStats& stats) {
      if (stats.sac.updates > 0) {
        log.set_loss("model_loss", stats.model_loss);
        log.set_loss("critic_loss", stats.sac.critic_loss);
        log.set_loss("actor_loss", stats.sac.actor_loss);
        log.set_loss("alpha", stats.sac.alpha);
      }
      log.episode(env_steps, ret, length);
      log.progress(log.episodes(), env_steps);
    });
    return policy_result(agent.policy());
  };
  return run_experiment(run, spec, train, restore_policy);
}
