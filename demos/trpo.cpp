// trpo: Section 3.4.6's Trust Region Policy Optimization with GAE advantages on CartPole-v1 (or
// Pendulum-v1, Gaussian policy). The algorithm is in chapter3/3_4_6_trpo.cpp, its hyperparameters
// in TrpoConfig; this file only turns them into a run.
// Besides the usual outputs, each seed's folder gets kl.svg: the KL of every accepted update
// against delta, and the backtracks of every line search.
#include "chapter3/3_4_6_trpo.hpp"
#include "demos/trust_region_figure.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("trpo");
  TrpoConfig cfg;
  Cli cli("trpo", "Trust Region Policy Optimization (Section 3.4.6) with GAE advantages: the natural direction by "
                  "conjugate gradient, then a backtracking line search on the exact KL and the surrogate.");
  cli.note("The chapter has no TRPO experiment; the defaults are common practice (example_settings.md): delta 0.01, "
           "10 CG iterations, damping 0.1, backtracking beta 0.5 with up to 10 steps, GAE lambda 0.95, 8 copies x "
           "256 steps per iteration, pi and V 64-64 tanh, 5 epochs of V updates per batch; training stops once the last 20 episodes average 475 (on CartPole). When no beta^j passes, "
           "theta_k is kept. kl.svg in each seed's folder shows the KL of every update against delta.");
  parse_demo_flags(cli, run, cfg, argc, argv);
  require_rows_per_batch(cli, cfg.envs, cfg.steps);
  const bool pendulum = on_pendulum(run);
  const ExperimentSpec spec = demo_spec("TRPO (Section 3.4.6)", "Policy rollout (TRPO)", trust_region_columns(true),
                                        {.env_steps = cfg.env_steps}, cfg, cartpole_or_pendulum_reference(pendulum));

  auto train = [&](std::uint64_t seed, RunLog& log) {
    return train_trust_region_seed(cfg, run, seed, log, "TRPO", true, train_trpo);
  };
  return run_experiment(run, spec, train, restore_policy);
}
