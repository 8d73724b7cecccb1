// Section 3.3.4: off-policy actor–critic with experience replay. See 3_3_4_off_policy_ac.cpp.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "chapter3/common/off_policy.hpp"
#include "chapter3/common/params.hpp"
#include "chapter3/common/policy.hpp"
#include "envs/env.hpp"

namespace pgcpp {

// Defaults: Example 3.5 (CartPole) and, with --env pendulum, Example 3.6 (the EnvDefaults below).
// Where a default differs from the examples, its help says why.
struct OffPolicyConfig : ReplayConfig {
  OffPolicyConfig()
      : ReplayConfig({.budget_flag = "--env-steps",
                      .budget = 90'000,
                      .budget_help = "budget in env steps, whichever budget ends first (0 = none; the examples: none; "
                                     "90000 stops a CartPole run that does not solve within two minutes of one core)",
                      .budget_min = 0,
                      .buffer_per_env = {{"pendulum", 300'000}},
                      .batch_size = 64,
                      .batch_help = "B, transitions per minibatch (Examples 3.5, 3.6: 256; 64 with one critic step "
                                    "keeps a run within two minutes of one core)",
                      .warmup = 2000,
                      .warmup_help = "env steps collected before the first update",
                      .update_every = 1,
                      .update_every_help = "env steps between two updates (steps 2-8)",
                      .tau_help = "Polyak rate tau of the target network (step 8)"}) {}
  Param<long> episodes{this, "--episodes", 2000, "budget in episodes", {1, 10'000'000}, {{"pendulum", 300}}};
  Param<double> lr_actor{this, "--lr-actor", 1e-3, "alpha_theta, Adam step size of pi", Range<double>::open_closed(0, 1),
                         {{"pendulum", 3e-4}}};
  Param<double> lr_critic{this, "--lr-critic", 1e-3, "alpha_psi, Adam step size of Q", Range<double>::open_closed(0, 1),
                          {{"pendulum", 3e-4}}};
  Param<std::vector<int>> actor_hidden{this, "--actor-hidden", {128, 128},
                                       "hidden layer sizes of pi (Example 3.6: 256,256; 128 keeps a Pendulum run within two minutes of one core)"};
  Param<std::string> actor_activation{this, "--actor-activation", "tanh", "hidden activation of pi", {"tanh", "relu"},
                                      {{"pendulum", "relu"}}};
  Param<std::vector<int>> critic_hidden{this, "--critic-hidden", {128, 128},
                                        "hidden layer sizes of Q and its target, ReLU (Example 3.6: 256,256; as for pi)"};
  Param<int> critic_steps{this, "--critic-steps", 1,
                          "critic steps per update (step 4), each on a fresh minibatch (Examples 3.5, 3.6: 8; 1 keeps a run "
                          "within two minutes of one core)",
                          {1, 10'000}};
  Param<int> actor_steps{this, "--actor-steps", 1, "actor steps per update (steps 5-7), each on a fresh minibatch",
                         {0, 10'000}};
  Param<double> is_clip{this, "--is-clip", 10, "c >= 1, clip of the importance ratio rho (3.42); 1e6 = no clipping in practice", {1, 1e6}};
  Param<double> clip{this, "--clip", 1.0, "gradient-norm clip of actor and critic (0 = none)", {0, 1e6}};
  Param<bool> no_normalize{this, "--no-normalize", false, "skip step 5's normalization of the advantages"};
  // Discrete actions: the behaviour b = (1 - eps) pi + eps / |A|, eps decaying linearly.
  Param<double> eps_start{this, "--eps-start", 0.2, "discrete: epsilon of the eps-soft behaviour at step 0", {0, 1}};
  Param<double> eps_end{this, "--eps-end", 0.02, "discrete: epsilon after --eps-steps", {0, 1}};
  Param<long> eps_steps{this, "--eps-steps", 80'000, "discrete: env steps of the linear epsilon decay", {1, 1'000'000'000}};
  // Continuous actions: the behaviour keeps pi's mean and widens its pre-squash std.
  Param<double> behaviour_std{this, "--behaviour-std", 0.5,
                              "continuous: b's pre-squash std is sqrt(sigma^2 + this^2)", {0, 100}};
  Param<int> target_samples{this, "--target-samples", 1,
                            "continuous: samples a' ~ pi(.|s') averaged in the target (3.44)", {1, 1000}};
  Param<int> value_samples{this, "--value-samples", 1, "continuous: samples a ~ pi(.|s) averaged in V_psi(s) (3.45)",
                           {1, 1000}};
  Param<double> log_std_min{this, "--log-std-min", -5, "continuous: lower clamp of pi's log-std head", {-50, 50}};
  Param<double> log_std_max{this, "--log-std-max", 2, "continuous: upper clamp of pi's log-std head", {-50, 50}};
  Param<double> solved{this, "--solved", 475, "stop once the last 100 episodes average at least this", {-1e9, 1e9},
                       {{"pendulum", -250}}};
  Param<bool> no_stop{this, "--no-stop", false, "never stop early: run the whole budget"};
};

struct OffPolicyStats {
  double actor_loss = std::numeric_limits<double>::quiet_NaN();  // NaN before the first update
  double critic_loss = std::numeric_limits<double>::quiet_NaN();
  double clipped_fraction = std::numeric_limits<double>::quiet_NaN();  // share of rho above c (last actor step)
  long critic_updates = 0, actor_updates = 0;                          // gradient steps so far
};

// Called at the end of every episode: env steps so far (this episode's included), its
// undiscounted return and length, and the statistics of the latest update.
using OffPolicyCallback =
    std::function<void(long env_steps, double episode_return, int length, const OffPolicyStats& stats)>;

// Discrete actions (Example 3.5): pi categorical, q: obs -> |A| (Q_psi(s, .)).
void train_off_policy_ac_discrete(const OffPolicyConfig& cfg, Env& env, const CategoricalPolicy& policy, ad::Mlp& q,
                                  Rng& rng, const OffPolicyCallback& on_episode);
// Continuous actions (Example 3.6): pi a tanh-squashed Gaussian, q: [obs, a] -> 1.
void train_off_policy_ac_continuous(const OffPolicyConfig& cfg, Env& env, const SquashedGaussianPolicy& policy,
                                    ad::Mlp& q, Rng& rng, const OffPolicyCallback& on_episode);

// ---- the section's formulas, one function each (tested in tests/chapter3/test_3_3_off_policy.cpp)

// Expected-SARSA target                                                                    (3.44)
//   y_i = r_i + gamma (1 - d_i) sum_k w_ik Qbar(s'_i, a'_k)
// with w_ik = pi(a'_k | s'_i) over all actions (discrete: the exact sum), or 1/K over K samples
// a'_k ~ pi(.|s'_i) (continuous). rewards, terminated: B x 1; weights, q_next: B x K.
Matrix expected_sarsa_target(const Matrix& rewards, const Matrix& terminated, const Matrix& weights,
                             const Matrix& q_next, double gamma);

// rho_bar_i = min(pi(a_i|s_i) / b(a_i|s_i), c) = min(exp(log pi - log b), c)                (3.42)
// (c = +infinity: unclipped). B x 1.
Matrix clipped_ratios(const Matrix& log_pi, const Matrix& log_behaviour, double c);

// The actor's surrogate: -1/B sum_i rho_bar_i log pi(a_i|s_i) A_i, rho_bar and A held constant, so
// its gradient is minus the estimator (3.43) with clipped ratios, step 7. log_pi: B x 1, differentiable.
ad::Var off_policy_actor_loss(const ad::Var& log_pi, const Matrix& log_behaviour, const Matrix& advantage, double c);

// The eps-soft behaviour around pi: b(.|s) = (1 - eps) pi(.|s) + eps / |A|, rows of probabilities.
Matrix eps_soft(const Matrix& pi_probs, double eps);

}  // namespace pgcpp
