// npg: Section 3.4.4's natural policy gradient with GAE advantages on CartPole-v1 (or
// Pendulum-v1, Gaussian policy). The algorithm is in chapter3/3_4_4_npg.cpp, its hyperparameters
// in NpgConfig; this file only turns them into a run.
//
//   npg                  trust-region scaling alpha = sqrt(2 delta / p^T F p) (3.55)
//   npg --step fixed     the fixed natural step eta p_NPG
// Besides the usual outputs, each seed's folder gets kl.svg: the KL of every update against delta.
#include "chapter3/3_4_4_npg.hpp"
#include "demos/trust_region_figure.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("npg");
  NpgConfig cfg;
  Cli cli("npg", "Natural policy gradient (Section 3.4.4) with GAE advantages, conjugate gradient on exact "
                 "Fisher-vector products, on CartPole-v1 or Pendulum-v1.");
  cli.note("The chapter has no NPG experiment; the defaults are common practice (example_settings.md): delta 0.01, "
           "10 CG iterations, damping 0.1, GAE lambda 0.95, 8 copies x 256 steps per iteration, pi and V 64-64 "
           "tanh, 5 epochs of V updates per batch; training stops once the last 20 episodes average 475 (on CartPole). kl.svg in each seed's folder shows the KL of every update "
           "against delta.");
  parse_demo_flags(cli, run, cfg, argc, argv);
  require_rows_per_batch(cli, cfg.envs, cfg.steps);
  const bool pendulum = on_pendulum(run);
  const ExperimentSpec spec =
      demo_spec("Natural policy gradient (Section 3.4.4)", "Policy rollout (NPG)", trust_region_columns(false),
                {.env_steps = cfg.env_steps}, cfg, cartpole_or_pendulum_reference(pendulum));

  auto train = [&](std::uint64_t seed, RunLog& log) {
    return train_trust_region_seed(cfg, run, seed, log, "NPG", false, train_npg);
  };
  return run_experiment(run, spec, train, restore_policy);
}
