// mbpo: Section 3.5's model-based policy optimization, SAC (Section 3.4.8.2) trained on short
// rollouts of a learned dynamics ensemble mixed with real data, on Pendulum-v1 (Example 3.10;
// Fig. 3.23 and 3.24). The algorithm is in chapter3/3_5_mbpo.cpp, its hyperparameters in
// MbpoConfig (SAC's from SacConfig); this file only turns them into a run.
//
//   mbpo                                   Example 3.10's settings, SAC at width 128, 6k env steps
//   mbpo --hidden 256,256 --steps 50000    the book's width and length
//   mbpo --model-ratio 0                   SAC on real data only (with the models still fitted)
//   mbpo --ensemble-mean                   ablation: rollouts step with the ensemble mean
#include "chapter3/3_5_mbpo.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("mbpo");
  only_env(run, "pendulum", "Pendulum-v1");
  MbpoConfig cfg;
  Cli cli("mbpo", "Model-based policy optimization with SAC (Section 3.5, Example 3.10) on Pendulum-v1.");
  cli.note("Defaults are Example 3.10's settings from the course's example script, except where a flag's help says "
           "otherwise: --steps 50000 --hidden 256,256 --model-steps 200 runs the book's. As in the script, each rollout "
           "step uses one random member for the whole batch and the members share each model minibatch (--member-per row "
           "and --own-model-batches: one member per row, a minibatch per member).");
  parse_demo_flags(cli, run, cfg, argc, argv);
  require_batch_fits_buffer(cli, cfg.batch_size, cfg.buffer);
  cli.require(cfg.model_batch <= cfg.buffer, "--model-batch must not exceed --buffer");
  const ExperimentSpec spec =
      demo_spec("Fig. 3.23 — MBPO", "Fig. 3.24 — Policy rollout (MBPO)", {"model_loss", "critic_loss", "actor_loss", "alpha"},
                {.env_steps = cfg.steps}, cfg, {-200, "-200"});

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    SacAgent agent(cfg, env->spec(), rng);
    DynamicsEnsemble ensemble(cfg.ensemble, env->obs_dim(), env->act_dim(), cfg.model_hidden, cfg.lr_model, rng);
    train_mbpo(cfg, *env, agent, ensemble, rng, [&](long env_steps, double ret, int length, const MbpoStats& stats) {
      if (stats.model_steps > 0) log.set_loss("model_loss", stats.model_loss);  // never with --model-steps 0
      if (stats.sac.updates > 0) {
        log.set_loss("critic_loss", stats.sac.critic_loss);
        log.set_loss("actor_loss", stats.sac.actor_loss);
        log.set_loss("alpha", stats.sac.alpha);
      }
      log_episode_end(log, env_steps, ret, length);
    });
    return policy_result(agent.policy());
  };
  return run_experiment(run, spec, train, restore_policy);
}
