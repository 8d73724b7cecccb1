// off_policy_ac: Section 3.3.4's experience-replay off-policy actor–critic, on CartPole-v1
// (Example 3.5; Fig. 3.11 and 3.12) and Pendulum-v1 with a tanh-squashed Gaussian on [-2, 2]
// (Example 3.6; Fig. 3.14 and 3.15). The algorithm is in chapter3/3_3_4_off_policy_ac.cpp, its
// hyperparameters in OffPolicyConfig; this file only turns them into a run.
//
//   off_policy_ac                  CartPole-v1, Example 3.5's settings (but see --help)
//   off_policy_ac --env pendulum   Pendulum-v1, Example 3.6's settings (but see --help)
#include "chapter3/3_3_4_off_policy_ac.hpp"
#include "chapter3/common/critic.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("off_policy_ac");
  OffPolicyConfig cfg;
  Cli cli("off_policy_ac",
          "Off-policy actor-critic with experience replay (Section 3.3.4): CartPole-v1 (Example 3.5) or Pendulum-v1 "
          "with a tanh-squashed Gaussian on [-2, 2] (Example 3.6).");
  cli.note("Defaults are Examples 3.5 (CartPole) and 3.6 (Pendulum, --env pendulum) from the course's example "
           "scripts, except where a flag's help says otherwise. One more difference: a transition cut by the time "
           "limit bootstraps from Q at its last state (every Pendulum episode ends that way); the scripts treat the "
           "limit as terminal.");
  parse_demo_flags(cli, run, cfg, argc, argv);
  cli.require(cfg.log_std_min < cfg.log_std_max, "--log-std-min must be below --log-std-max");
  require_batch_fits_buffer(cli, cfg.batch_size, cfg.buffer);
  const bool pendulum = on_pendulum(run);

  ExperimentSpec spec{
      .figure = "Fig. " + std::string(pendulum ? "3.14" : "3.11") + " — Off-policy actor–critic",
      .rollout_figure = "Fig. " + std::string(pendulum ? "3.15" : "3.12") + " — Policy rollout (off-policy actor–critic)",
      .loss_columns = {"policy_loss", "q_loss", "rho_clipped"},
      .budget = {.episodes = cfg.episodes, .env_steps = cfg.steps},
      .hyperparameters = &cfg,
      .reference_return = cfg.solved,
      .reference_label = pendulum ? "book's stopping level" : "solved"};

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    const ad::Activation actor_act = ad::parse_activation(cfg.actor_activation);
    const auto on_episode = [&](long env_steps, double episode_return, int length, const OffPolicyStats& stats) {
      if (stats.actor_updates > 0) {
        log.set_loss("policy_loss", stats.actor_loss);
        log.set_loss("rho_clipped", stats.clipped_fraction);
      }
      if (stats.critic_updates > 0) log.set_loss("q_loss", stats.critic_loss);
      log.episode(env_steps, episode_return, length);
      log.progress(log.episodes(), env_steps);
    };
    if (env->discrete()) {
      std::shared_ptr<CategoricalPolicy> policy =
          CategoricalPolicy::make(env->obs_dim(), cfg.actor_hidden, env->num_actions(), actor_act, rng);
      ad::Mlp q = q_network(env->obs_dim(), cfg.critic_hidden, env->num_actions(), ad::Activation::ReLU, rng);
      train_off_policy_ac_discrete(cfg, *env, *policy, q, rng, on_episode);
      return policy_result(policy);
    }
    const int m = env->act_dim();
    auto policy = std::make_shared<SquashedGaussianPolicy>(
        ad::Mlp(mlp_sizes(env->obs_dim(), cfg.actor_hidden, 2 * m), actor_act, rng), env->action_low(),
        env->action_high(), static_cast<Scalar>(cfg.log_std_min), static_cast<Scalar>(cfg.log_std_max));
    ad::Mlp q = q_network_continuous(env->obs_dim(), m, cfg.critic_hidden, ad::Activation::ReLU, rng);
    train_off_policy_ac_continuous(cfg, *env, *policy, q, rng, on_episode);
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
