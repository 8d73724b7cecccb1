// Section 3.4.4: the natural policy gradient with GAE advantages. See 3_4_4_npg.cpp.
// Steps 1-7 are shared with TRPO (Section 3.4.6, 3_4_6_trpo.hpp), which adds a line search.
#pragma once

#include <cstdint>
#include <functional>

#include "chapter3/common/natural_gradient.hpp"
#include "chapter3/common/on_policy.hpp"
#include "chapter3/common/params.hpp"

namespace pgcpp {

// The inputs both NPG and TRPO take. The chapter has no experiment for them; defaults follow
// common practice (example_settings.md: delta 0.01, 10 CG iterations, damping 0.1).
struct TrustRegionConfig : Params {
  Param<long> env_steps{this, "--env-steps", 200'000, "budget in environment steps (all copies together)",
                        {1, 1'000'000'000}};
  Param<int> envs{this, "--envs", 8, "N, environment copies stepped together", {1, 1024}};
  Param<int> steps{this, "--steps", 256, "T, steps of each copy per iteration (batch N T)", {1, 100'000}};
  Param<double> gamma{this, "--gamma", 0.99, "discount gamma", {0, 1}};
  Param<double> lambda_{this, "--lambda", 0.95, "lambda of GAE (3.37)", {0, 1}};
  Param<double> delta{this, "--delta", 0.01, "delta, KL radius of the trust region (3.50)",
                      Range<double>::open_closed(0, 100)};
  Param<int> cg_iters{this, "--cg-iters", 10, "K_cg, conjugate-gradient iterations (step 6)", {1, 100'000}};
  Param<double> damping{this, "--damping", 0.1, "xi, damping F + xi I of the Fisher-vector product (step 5)", {0, 1e6}};
  Param<double> lr_critic{this, "--lr-critic", 1e-3, "alpha_phi, Adam step size of V", Range<double>::open_closed(0, 1)};
  Param<int> critic_epochs{this, "--critic-epochs", 5, "passes of step 3 over each batch", {1, 1000}};
  Param<int> critic_minibatch{this, "--critic-minibatch", 256, "minibatch size of step 3", {1, 1'000'000}};
  Param<std::vector<int>> hidden{this, "--hidden", {64, 64}, "hidden layer sizes of pi and V (tanh)"};
  Param<double> log_std_init{this, "--log-std-init", 0.0, "Gaussian policies: initial log sigma", {-20, 2}};
  Param<bool> no_standardize{this, "--no-standardize", false, "skip step 2's standardization of the advantages"};
  Param<double> solved{this, "--solved", 475, "stop once the last --solved-window episodes average this", {-1e6, 1e6}};
  Param<int> solved_window{this, "--solved-window", 20, "episodes averaged by --solved (0 = never stop early)",
                           {0, 100'000}, {{"pendulum", 0}}};  // 475 is CartPole's threshold
};

struct NpgConfig : TrustRegionConfig {
  Param<std::string> step{this, "--step", "trust-region",
                          "step 7: trust-region = alpha = sqrt(2 delta / p^T F p) (3.55); fixed = eta",
                          {"trust-region", "fixed"}};
  Param<double> eta{this, "--eta", 1.0, "eta, the fixed natural step of --step fixed", Range<double>::open_closed(0, 1e3)};
};

// L_theta_k(theta) = 1/N sum_t rho_theta(s_t, a_t) A_t, rho = pi_theta / pi_theta_k, at the
// policy's current parameters (no graph).                                                   (3.49)
double surrogate(const Policy& policy, const OnPolicyBatch& batch);

// Steps 4-7: the surrogate gradient, the natural direction and the trust-region step size.
struct NaturalDirection {
  Vector g;        // 1/N sum_t grad log pi_theta_k(a_t|s_t) A_t                              (3.53)
  Vector p;        // p_NPG ~ (F + xi I)^{-1} g by K_cg CG iterations                          (3.55)
  Vector Fp;       // (F + xi I) p
  CgResult cg;
  double alpha;    // sqrt(2 delta / p^T F p)                                                  (3.55)
};
NaturalDirection natural_direction(const Policy& policy, const OnPolicyBatch& batch, const TrustRegionConfig& cfg);

struct TrustRegionStats {
  double kl = 0;              // Dbar_KL(theta_k || theta_k+1) on the batch, measured exactly
  double surrogate_gain = 0;  // L_theta_k(theta_k+1) - L_theta_k(theta_k)
  double alpha = 0;           // the step size taken along p_NPG (beta^j alpha for TRPO)
  double cg_residual = 0;     // ||g - F p|| / ||g||
  double value_loss = 0;      // step 3's last epoch
  int backtracks = 0;         // TRPO: j of the accepted beta^j (M + 1 when nothing was accepted)
  double kl_full_step = 0;    // TRPO: Dbar_KL of the full step beta^0 alpha p, before the line search
  bool accepted = true;       // TRPO: false when no beta^j passed and theta_k was kept
};

using TrustRegionCallback =
    std::function<void(long iteration, const OnPolicyBatch& batch, long env_steps, const TrustRegionStats&)>;

// Trains `policy` and V_phi (`value`) in place on `envs` (reset from env_seed) for
// floor(env_steps / (N T)) iterations (at least 1), or until the solved rule holds.
void train_npg(const NpgConfig& cfg, VecEnv& envs, Policy& policy, ad::Mlp& value, Rng& rng, std::uint64_t env_seed,
               const TrustRegionCallback& on_iteration);

}  // namespace pgcpp
