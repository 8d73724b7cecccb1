// ppo: Section 3.4.7's Proximal Policy Optimization on CartPole-v1 (softmax policy) and
// Pendulum-v1 (Gaussian policy). The algorithm is in chapter3/3_4_7_ppo.cpp, its hyperparameters
// in PpoConfig; this file only turns them into a run.
//
//   ppo                          PPO-Clip (3.58) on CartPole-v1, 100k env steps
//   ppo --env pendulum           PPO-Clip on Pendulum-v1 with its own defaults (see --help)
//   ppo --objective kl           PPO-KL (3.56) with the adaptive lambda
// Fig. 3.16 (L^CLIP against r) is drawn by ppo_clip_objective.
#include "chapter3/3_4_7_ppo.hpp"
#include "experiment/demo.hpp"

using namespace pgcpp;

int main(int argc, char** argv) {
  RunOptions run("ppo");
  PpoConfig cfg;
  Cli cli("ppo", "Proximal Policy Optimization (Section 3.4.7): PPO-Clip (3.58) or PPO-KL (3.56) with GAE, on "
                 "CartPole-v1 or Pendulum-v1.");
  cli.note("The chapter has no PPO experiment; the defaults are common practice (example_settings.md), with "
           "Pendulum's own where a flag lists them (a Gaussian policy with a state-independent log sigma; actions "
           "outside [-2, 2] are clipped by the environment). Training stops once --solved-window episodes in a row "
           "average --solved (CartPole's 475, the threshold CleanRL's runs are timed to).");
  parse_demo_flags(cli, run, cfg, argc, argv);
  require_rows_per_batch(cli, cfg.envs, cfg.steps);
  const bool pendulum = on_pendulum(run);
  const bool kl = cfg.objective() == "kl";

  const ExperimentSpec spec =
      demo_spec(kl ? "PPO-KL (Section 3.4.7)" : "PPO-Clip (Section 3.4.7)",
                kl ? "Policy rollout (PPO-KL)" : "Policy rollout (PPO-Clip)",
                {"policy_loss", "value_loss", "entropy", "kl", "clip_fraction", "kl_coef", "gradient_steps"},
                {.env_steps = cfg.env_steps}, cfg, cartpole_or_pendulum_reference(pendulum));

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    VecEnv envs(run.env, cfg.envs);
    auto [policy, value] = policy_and_value(envs.env(0), cfg.hidden, rng, cfg.log_std_init,
                                           ad::parse_activation(cfg.activation));
    train_ppo(cfg, envs, *policy, value, rng, seed,
              [&](long k, const OnPolicyBatch& batch, long env_steps, const PpoStats& s) {
                log.set_loss("policy_loss", s.policy_loss);
                log.set_loss("value_loss", s.value_loss);
                const PolicyChange change = policy_change(*policy, batch);
                log.set_loss("entropy", change.entropy);
                log.set_loss("kl", change.kl);
                log.set_loss("clip_fraction", s.clip_fraction);
                log.set_loss("kl_coef", s.kl_coef);
                log.set_loss("gradient_steps", static_cast<double>(s.gradient_steps));
                log_segment(log, k, *batch.segment, env_steps);
              });
    return policy_result(policy);
  };
  return run_experiment(run, spec, train, restore_policy);
}
