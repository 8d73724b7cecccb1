// Section 3.4.7: Proximal Policy Optimization, PPO-Clip and PPO-KL. See 3_4_7_ppo.cpp.
#pragma once

#include <cstdint>
#include <functional>

#include "chapter3/common/on_policy.hpp"
#include "chapter3/common/params.hpp"

namespace pgcpp {

// The chapter has no PPO experiment; defaults follow common practice (example_settings.md): CartPole-v1's,
// and Pendulum-v1's where a parameter declares them (EnvDefaults).
struct PpoConfig : Params {
  Param<long> env_steps{this, "--env-steps", 100'000, "budget in environment steps (all copies together)",
                        {1, 1'000'000'000}, {{"pendulum", 300'000}}};
  Param<int> envs{this, "--envs", 8, "N, environment copies stepped together", {1, 1024}, {{"pendulum", 4}}};
  Param<int> steps{this, "--steps", 128, "T, steps of each copy per iteration (batch N T)", {1, 100'000},
                   {{"pendulum", 512}}};
  Param<int> epochs{this, "--epochs", 10, "K_epoch, passes over each batch (step 3)", {1, 1000}};
  Param<int> minibatch{this, "--minibatch", 256, "B, minibatch size (step 3)", {1, 1'000'000}, {{"pendulum", 64}}};
  Param<double> lr{this, "--lr", 1e-3, "alpha, Adam step size of pi and V", Range<double>::open_closed(0, 1)};
  Param<bool> constant_lr{this, "--constant-lr", false, "keep alpha constant (default: linear decay to 0 over the budget)"};
  Param<double> gamma{this, "--gamma", 0.99, "discount gamma", {0, 1}, {{"pendulum", 0.9}}};
  Param<double> lambda_{this, "--lambda", 0.95, "lambda of GAE (3.37)", {0, 1}};
  Param<std::string> objective{this, "--objective", "clip", "l^PG: clip = PPO-Clip (3.58), kl = PPO-KL (3.56)",
                               {"clip", "kl"}};
  Param<double> epsilon{this, "--epsilon", 0.2, "epsilon, clip range of the ratio (3.58)", {0, 10}};
  Param<double> kl_coef{this, "--kl-coef", 1.0, "PPO-KL: initial penalty coefficient lambda (3.56)", {0, 1e6}};
  Param<double> kl_target{this, "--kl-target", 0.01,
                          "PPO-KL: target KL; lambda doubles above 1.5x it, halves below it / 1.5",
                          Range<double>::open_closed(0, 100)};
  Param<double> c_v{this, "--vf-coef", 0.5, "c_v, weight of the value loss", {0, 1e6}};
  Param<double> c_e{this, "--ent-coef", 0.0, "c_e, weight of the entropy bonus", {0, 1e6}};
  Param<double> max_grad_norm{this, "--max-grad-norm", 0.5, "gradient-norm clip of each step (0 = none)", {0, 1e6}};
  Param<double> target_kl{this, "--target-kl", 0.0, "step 4: stop the epochs once the batch KL exceeds this (0 = never)",
                          {0, 100}};
  Param<std::vector<int>> hidden{this, "--hidden", {64, 64}, "hidden layer sizes of pi and V"};
  Param<std::string> activation{this, "--activation", "tanh",
                                "hidden activation of pi and V (relu: RLtools' Pendulum configuration)", {"tanh", "relu"}};
  Param<double> log_std_init{this, "--log-std-init", 0.0, "Gaussian policies: initial log sigma", {-20, 2},
                              {{"pendulum", -0.5}}};
  Param<bool> no_standardize{this, "--no-standardize", false, "skip step 2's standardization of the advantages"};
  Param<double> solved{this, "--solved", 475, "stop once the last --solved-window episodes average this", {-1e6, 1e6}};
  Param<int> solved_window{this, "--solved-window", 20, "episodes averaged by --solved (0 = never stop early)",
                           {0, 100'000}, {{"pendulum", 0}}};  // 475 is CartPole's threshold
};

// L^CLIP per sample: min(rho A, clip(rho, 1 - eps, 1 + eps) A), N x 1                       (3.58)
Var clipped_surrogate(const Var& ratio, const Matrix& advantage, Scalar epsilon);
// l_k per sample: rho A - lambda log(pi_theta_k(a|s) / pi_theta(a|s)), N x 1                 (3.56)
// with rho = exp(log pi_theta - log pi_theta_k).
Var kl_penalized_surrogate(const Var& log_pi, const Matrix& old_log_pi, const Matrix& advantage, Scalar lambda_);
// PPO-KL's adaptive coefficient: lambda x 2 when kl > 1.5 target, / 2 when kl < target / 1.5.
double adapt_kl_coef(double lambda_, double kl, double target);

// Step 3's loss on one minibatch (s, a, log pi_theta_k(a|s), A, V_targ), B rows each:
//   J_B = -l^PG_B(theta) + c_v l^VAL_B(phi) - c_e H_B(theta),
// l^PG = l^CLIP (3.58) or, for --objective kl, l_k (3.56) with coefficient lambda_kl; the entropy
// term is left out of the graph when c_e = 0.
struct PpoLoss {
  Var J, l_pg, l_val;
  Var rho;  // pi_theta / pi_theta_k per sample, B x 1
};
PpoLoss ppo_minibatch_loss(const PpoConfig& cfg, const Policy& policy, const ad::Mlp& value, const Matrix& s,
                           const Matrix& a, const Matrix& log_pi_k, const Matrix& A, const Matrix& v_targ,
                           double lambda_kl);

struct PpoStats {
  double policy_loss = 0, value_loss = 0;  // -l^PG_B and l^VAL_B of the last minibatch
  double clip_fraction = 0;  // share of the last epoch's samples with |rho - 1| > eps
  double kl_coef = 0;        // PPO-KL: lambda after its adaptation
  int epochs = 0;            // epochs run (fewer than K_epoch after an early stop)
  long gradient_steps = 0;   // Adam steps so far
};

// How far an update moved the policy, for the logs: the exact mean KL (3.50)
// Dbar_KL(theta_k || theta_k+1) and the entropy of pi_theta_k+1, averaged over the batch's states
// (one forward pass). train_ppo measures the KL itself only where the algorithm uses it (PPO-KL's
// lambda, --target-kl); a callback that logs it calls this, so a run that logs nothing skips it.
struct PolicyChange {
  double kl = 0, entropy = 0;
};
PolicyChange policy_change(const Policy& policy, const OnPolicyBatch& batch);

using PpoCallback = std::function<void(long iteration, const OnPolicyBatch& batch, long env_steps, const PpoStats&)>;

// Trains `policy` and V_phi (`value`) in place on `envs` (reset from env_seed) for
// floor(env_steps / (N T)) iterations (at least 1), or until the solved rule holds.
void train_ppo(const PpoConfig& cfg, VecEnv& envs, Policy& policy, ad::Mlp& value, Rng& rng, std::uint64_t env_seed,
               const PpoCallback& on_iteration);

}  // namespace pgcpp
