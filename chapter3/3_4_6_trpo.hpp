// Section 3.4.6: Trust Region Policy Optimization with GAE advantages. See 3_4_6_trpo.cpp.
#pragma once

#include "chapter3/3_4_4_npg.hpp"

namespace pgcpp {

struct TrpoConfig : TrustRegionConfig {
  Param<double> beta{this, "--beta", 0.5, "beta, backtracking factor of step 8", Range<double>{0, 1, true, true}};
  Param<int> backtracks{this, "--backtracks", 10, "M, most backtracks of step 8", {0, 1000}};
};

struct LineSearchResult {
  bool accepted = false;   // some beta^j passed both checks; else theta_k is kept
  int backtracks = 0;      // j of the accepted step (M + 1 if none)
  double kl = 0;           // Dbar_KL(theta_k || theta*) of the accepted step (0 if none)
  double surrogate_gain = 0;  // L_theta_k(theta*) - L_theta_k(theta_k) (0 if none)
  double step = 0;         // beta^j (0 if none)
  double kl_full_step = 0;    // Dbar_KL(theta_k || theta_k + alpha p) of the full step j = 0: what the
                              // quadratic model (3.52) promised to be delta
};

// Step 8: theta* = theta_k + beta^j alpha p for j = 0, 1, ..., M; accept the first theta* with
// Dbar_KL(theta_k || theta*) <= delta and L_theta_k(theta*) >= L_theta_k(theta_k), both
// measured on the batch. The policy's parameters are left at the accepted theta*, or at
// theta_k (= its parameters on entry) when no j passes.
LineSearchResult backtracking_line_search(Policy& policy, const OnPolicyBatch& batch, const Vector& full_step,
                                          double delta, double beta, int max_backtracks);

void train_trpo(const TrpoConfig& cfg, VecEnv& envs, Policy& policy, ad::Mlp& value, Rng& rng, std::uint64_t env_seed,
                const TrustRegionCallback& on_iteration);

}  // namespace pgcpp
