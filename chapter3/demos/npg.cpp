// npg: Section 3.4.4's natural policy gradient with GAE advantages on CartPole-v1 (or
// Pendulum-v1, Gaussian policy). The algorithm is in chapter3/3_4_4_npg.cpp, its hyperparameters
// in NpgConfig; this file only turns them into a run.
//
//   npg                  trust-region scaling alpha = sqrt(2 delta / p^T F p) (3.55)
//   npg --step fixed     the fixed natural step eta p_NPG
// Besides the usual outputs, each seed's folder gets kl.svg: the KL of every update against delta.
#include "chapter3/3_4_4_npg.hpp"
#include "chapter3/common/critic.hpp"
#include "chapter3/demos/trust_region_figure.hpp"
#include "chapter3/experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("npg");
  NpgConfig cfg;
  Cli cli("npg", "Natural policy gradient (Section 3.4.4) with GAE advantages, conjugate gradient on exact "
                 "Fisher-vector products, on CartPole-v1 or Pendulum-v1.");
  cli.add(run);
  cli.add(cfg);
  cli.note("The chapter has no NPG experiment; the defaults are common practice (example_settings.md): delta 0.01, "
           "10 CG iterations, damping 0.1, GAE lambda 0.95, 8 copies x 256 steps per iteration, pi and V 64-64 "
           "tanh, 5 epochs of V updates per batch; training stops once the last 20 episodes average 475 (on CartPole). kl.svg in each seed's folder shows the KL of every update "
           "against delta.");
  cli.parse(argc, argv);
  check_run_flags(cli, run);
  cli.require(static_cast<long>(cfg.envs) * cfg.steps <= 1'000'000,
              "--envs x --steps is " + std::to_string(static_cast<long>(cfg.envs) * cfg.steps) +
                  " rows per batch, more than 1000000");
  const bool pendulum = !run.env().empty() && env_short_name(run.env) == "pendulum";
  if (pendulum && !cli.given("--solved-window")) cfg.solved_window = 0;  // 475 is CartPole's threshold

  ExperimentSpec spec{.figure = "Natural policy gradient (Section 3.4.4)",
                      .rollout_figure = "Policy rollout (NPG)",
                      .x_axis = CurveX::env_steps,
                      .loss_columns = {"value_loss", "kl", "surrogate_gain", "alpha", "cg_residual"},
                      .budget = {.env_steps = cfg.env_steps},
                      .hyperparameters = &cfg,
                      .reference_return = pendulum ? -250.0 : 475.0,
                      .reference_label = pendulum ? "-250" : "solved"};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    VecEnv envs(run.env, cfg.envs);
    const Env& env = envs.env(0);
    std::shared_ptr<Policy> policy = make_mlp_policy(env, cfg.hidden, cfg.log_std_init, rng);
    ad::Mlp value = value_network(env.obs_dim(), cfg.hidden, ad::Activation::Tanh, rng);
    TrustRegionRecord record;
    train_npg(cfg, envs, *policy, value, rng, seed,
              [&](long k, const OnPolicyBatch& batch, long env_steps, const TrustRegionStats& s) {
                log.set_loss("value_loss", s.value_loss);
                log.set_loss("kl", s.kl);
                log.set_loss("surrogate_gain", s.surrogate_gain);
                log.set_loss("alpha", s.alpha);
                log.set_loss("cg_residual", s.cg_residual);
                log_segment(log, k, *batch.segment, env_steps);
                record.add(k, s);
              });
    draw_trust_region_figure(log.dir(), "NPG: KL of each update against delta, " + run.env(), record, cfg.delta, false);
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
