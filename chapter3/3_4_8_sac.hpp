// Section 3.4.8: soft actor–critic, for discrete actions (3.4.8.1) and for continuous actions
// (3.4.8.2). See 3_4_8_sac.cpp.
#pragma once

#include <functional>
#include <limits>
#include <memory>

#include "chapter3/common/critic.hpp"
#include "chapter3/common/off_policy.hpp"
#include "chapter3/common/params.hpp"
#include "chapter3/common/policy.hpp"
#include "chapter3/common/replay_buffer.hpp"
#include "envs/env.hpp"

namespace pgcpp {

// ---- the section's formulas, one function each (tested in tests/chapter3/test_3_4_8_sac.cpp)

// The soft state value (3.61) from a policy's probabilities over every action:
//   V(s) = sum_a pi(a|s) (Q(s, a) - alpha log pi(a|s)).   probs, log_probs, q: B x |A|; V: B x 1.
Matrix soft_state_value(const Matrix& probs, const Matrix& log_probs, const Matrix& q, double alpha);

// The soft Bellman target y = r + gamma (1 - d) V(s') of (3.63) and (3.67); all B x 1. A
// terminal s' (d = 1) is worth 0.
Matrix soft_bellman_target(const Matrix& rewards, const Matrix& terminated, const Matrix& v_next, double gamma);

// The exact-sum actor objective (3.65)
//   J_pi = 1/B sum_s sum_a pi(a|s) (alpha log pi(a|s) - Q(s, a)),   pi = softmax(logits),
// differentiable in logits (B x |A|), with Q (B x |A|) a constant. Its gradient is (3.66).
ad::Var discrete_actor_loss(const ad::Var& logits, const Matrix& q, double alpha);

// The reparameterized actor objective (3.68): 1/B sum_i (alpha log pi(a_i|s_i) - q_min_i) with
// a_i = f_theta(s_i, eps_i), both B x 1 and differentiable (the gradient flows through a too).
ad::Var continuous_actor_loss(const ad::Var& log_pi, const ad::Var& q_min, double alpha);

// The temperature's dual objective J(alpha) = 1/B sum_i -alpha (log pi_i + Hbar), alpha =
// exp(log_alpha) (1 x 1, differentiable), log_pi (B x 1) a constant. Its gradient in log alpha is
// alpha (H - Hbar), H = -mean log pi: descent lowers alpha when the entropy is above its target
// and raises it below. For discrete actions pass the exact E_a[log pi(a|s)] = -H(pi(.|s)) per row.
ad::Var temperature_loss(const ad::Var& log_alpha, const Matrix& log_pi, double target_entropy);

// The soft return that followed each step of one episode, the quantity Q(s_t, a_t) estimates:
//   G_t = r_t + sum_{k > t} gamma^(k - t) (r_k - alpha log pi(a_k|s_k))   (from (3.60), (3.61))
// to the episode's end (nothing beyond: a truncated episode's G_t misses its tail). rewards and
// log_pi: T x 1; returns T x 1. (The leading :: is for clang-repl 16, the notebooks' interpreter,
// which misreads a namespace-scope function whose return type is a qualified Eigen name.)
::Eigen::VectorXd discounted_soft_returns(const Eigen::VectorXd& rewards, const Eigen::VectorXd& log_pi,
                                          double gamma, double alpha);

// ---- 3.4.8.1: discrete actions, a single Q(s, .) and its target (Example 3.7)

// Example 3.7's settings are the defaults except the budget and the width (said in --help).
struct SacDiscreteConfig : ReplayConfig {
  SacDiscreteConfig()
      : ReplayConfig({.budget = 50'000,
                      .budget_help = "budget in env steps (the book: 80000; 50000 keeps a default run within two "
                                     "minutes of one core)",
                      .tau_help = "Polyak rate tau of the target critic (step 6)"}) {}
  Param<double> lr_actor{this, "--lr-actor", 3e-4, "alpha_theta, Adam step size of pi", Range<double>::open_closed(0, 1)};
  Param<double> lr_critic{this, "--lr-critic", 3e-4, "alpha_psi, Adam step size of Q", Range<double>::open_closed(0, 1)};
  Param<std::vector<int>> hidden{this, "--hidden", {112, 112},
                                 "hidden layer sizes of pi and Q(s, .) (ReLU) (the book: 128,128; 112 keeps a default "
                                 "run within two minutes of one core)"};
  Param<int> gradient_steps{this, "--gradient-steps", 50, "updates (steps 2-6) per round", {1, 1'000'000}};
  Param<double> alpha{this, "--alpha", 0.2, "temperature alpha (the initial value with --learn-alpha)",
                      Range<double>::open_closed(0, 1e6)};
  Param<bool> learn_alpha{this, "--learn-alpha", false, "learn alpha as a dual variable (the book: fixed)"};
  Param<double> lr_alpha{this, "--lr-alpha", 3e-4, "Adam step size of log alpha (with --learn-alpha)",
                         Range<double>::open_closed(0, 1)};
  Param<double> target_entropy_ratio{this, "--target-entropy-ratio", 0.5,
                                     "with --learn-alpha: Hbar = this x log |A| (the maximum entropy, 3.59)", {0, 1}};
};

// What the latest update did; NaN before the first.
struct SacStats {
  double critic_loss = std::numeric_limits<double>::quiet_NaN();
  double actor_loss = std::numeric_limits<double>::quiet_NaN();
  double alpha = std::numeric_limits<double>::quiet_NaN();
  double entropy = std::numeric_limits<double>::quiet_NaN();  // mean H(pi(.|s)) (estimated from log pi of samples)
  long updates = 0;                                           // gradient steps so far
  // Continuous SAC only, set at the end of each episode after the warm-up: the mean over the
  // episode's first half of Q(s_t, a_t) - G_t, Q the critic value of the target (3.67) (min_j
  // Qbar_j, or Qbar_1 with --single-critic) and G_t the soft discounted return that followed
  // (discounted_soft_returns); > 0 is overestimation.
  double q_minus_return = std::numeric_limits<double>::quiet_NaN();
};

// Called at the end of every episode: env steps so far (this episode's included), its
// undiscounted return and length, and the statistics of the latest update.
using SacCallback = std::function<void(long env_steps, double episode_return, int length, const SacStats& stats)>;

// pi: categorical over |A| actions; q: Q_psi(s, .), obs -> |A|.
void train_sac_discrete(const SacDiscreteConfig& cfg, Env& env, const CategoricalPolicy& policy, ad::Mlp& q, Rng& rng,
                        const SacCallback& on_episode);

// ---- 3.4.8.2: continuous actions, twin critics and twin targets (Example 3.8)

// Example 3.8's settings are the defaults except the budget and the width (said in --help).
struct SacConfig : ReplayConfig {
  SacConfig() : SacConfig(20'000, "budget in env steps (the book: 50000; 20000 keeps a default run within minutes of one core)") {}
  Param<double> lr_actor{this, "--lr-actor", 3e-4, "alpha_theta, Adam step size of pi", Range<double>::open_closed(0, 1)};
  Param<double> lr_critic{this, "--lr-critic", 3e-4, "alpha_psi, Adam step size of both Q", Range<double>::open_closed(0, 1)};
  Param<double> lr_alpha{this, "--lr-alpha", 3e-4, "alpha_alpha, Adam step size of log alpha",
                         Range<double>::open_closed(0, 1)};
  Param<std::vector<int>> hidden{this, "--hidden", {128, 128},
                                 "hidden layer sizes of pi and of both Q (ReLU) (the book: 256,256; 128 keeps a default "
                                 "run within minutes of one core)"};
  Param<int> gradient_steps{this, "--gradient-steps", 50, "updates (steps 2-7) per round", {1, 1'000'000}};
  Param<double> alpha{this, "--alpha", 0.2, "temperature alpha: its initial value, or its value with --fixed-alpha",
                      Range<double>::open_closed(0, 1e6)};
  Param<bool> fixed_alpha{this, "--fixed-alpha", false, "keep alpha fixed (skip step 6)"};
  Param<double> target_entropy{this, "--target-entropy", -1, "Hbar of step 6 (the book: -dim(A) = -1 on Pendulum-v1)",
                               {-1e6, 1e6}};
  Param<bool> single_critic{this, "--single-critic",
                            false, "ablation: one critic Q_psi1 and its target, no twin minimum in (3.67) and (3.68)"};
  Param<bool> no_tanh_correction{this, "--no-tanh-correction", false,
                                 "ablation: log pi(a|s) without the tanh correction - sum_i log(1 - tanh^2 u_i) (the "
                                 "Gaussian log-density of u alone)"};

 protected:
  // MBPO's learner: the same settings, its own budget.
  SacConfig(long budget, const char* budget_help)
      : ReplayConfig({.budget = budget, .budget_help = budget_help, .tau_help = "Polyak rate tau of the target critics (step 7)"}) {}
};

// The learner of Section 3.4.8.2: pi_theta (tanh-squashed Gaussian, [mu, log sigma] from one
// ReLU MLP, log sigma clamped to [-20, 2]), twin critics Q_psi1, Q_psi2 on [s, a] with their
// targets, and the temperature. MBPO (Section 3.5) trains the same learner on model data.
class SacAgent {
 public:
  // Initialize: psibar_j <- psi_j. Throws std::invalid_argument for a discrete action space.
  SacAgent(const SacConfig& cfg, const EnvSpec& env, Rng& rng);

  // Step 1's action for one observation: a = f_theta(s, eps), eps ~ N(0, I).
  // Both act()s run the plain forward pass (no tape) in the agent's workspace: they allocate
  // nothing once it has the batch's shape.
  void act(const Eigen::VectorXd& obs, Rng& rng, Eigen::VectorXd& action);
  // A batch of actions a ~ pi(.|s) for the rows of obs (MBPO's model rollouts), into `actions`.
  void act(const Matrix& obs, Rng& rng, Matrix& actions);
  // Steps 3-7 on the minibatch D: the target (3.67), both critics, the actor (3.68), the
  // temperature, the Polyak averages. Throws std::runtime_error for a non-finite loss.
  void update(const ReplayBatch& D, Rng& rng);
  // The pieces of update(), each for given standard normal draws (B x m):
  // a = f_theta(s, eps) and log pi(a|s) (without the tanh correction with --no-tanh-correction),
  SquashedGaussianPolicy::Sample sample(const ad::Var& obs, const Matrix& eps) const;
  // step 3's target y of (3.67) with a' = f_theta(s', eps_next) (no tape),
  Matrix critic_target(const ReplayBatch& D, const Matrix& eps_next) const;
  // the critic value the target uses: min_j Qbar_j(s, a), or Qbar_1(s, a) with --single-critic (no tape),
  Matrix target_value(const Matrix& obs, const Matrix& actions) const;
  // and step 5's J_pi of (3.68) on the critics' frozen copies (refreshed by the caller).
  ad::Var actor_objective(const ad::Var& obs, const Matrix& eps, SquashedGaussianPolicy::Sample& a);
  // Q - G of SacStats::q_minus_return for one finished episode (rows: its steps in order).
  double q_minus_return(const Matrix& obs, const Matrix& actions, const Eigen::VectorXd& rewards) const;

  std::shared_ptr<const SquashedGaussianPolicy> policy() const { return policy_; }
  const ad::Mlp& critic(int j) const { return j == 1 ? q1_ : q2_; }  // Q_psi_1, Q_psi_2
  const ad::Mlp& target_critic(int j) const { return j == 1 ? target1_.target() : target2_.target(); }  // Q_psibar_j
  const SacStats& stats() const { return stats_; }
  SacStats& stats() { return stats_; }
  double alpha() const;

 private:
  SacConfig cfg_;  // its own copy (of MbpoConfig's SacConfig part for MBPO)
  std::shared_ptr<SquashedGaussianPolicy> policy_;
  ad::Mlp q1_, q2_;
  TargetNetwork target1_, target2_;
  FrozenCopy frozen1_, frozen2_;
  ad::Var log_alpha_;
  ad::Adam actor_opt_, critic_opt_, alpha_opt_;
  Matrix eps_;  // B x m standard normal draws, reused
  ActWorkspace act_ws_;
  SacStats stats_;
};

// Trains agent on env for cfg.steps env steps: a uniformly random warm-up, then a ~ pi; every
// update_every steps after the warm-up, gradient_steps updates, each on a fresh minibatch.
void train_sac(const SacConfig& cfg, Env& env, SacAgent& agent, Rng& rng, const SacCallback& on_episode);

}  // namespace pgcpp
