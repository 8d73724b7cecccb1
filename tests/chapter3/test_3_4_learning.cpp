// Section 3.4's algorithms learn: short CartPole-v1 runs of NPG, TRPO, PPO-Clip and PPO-KL from a random
// policy (returns ~20) must raise the training return well above chance. Fixed seeds; budgets
// about half of what the defaults need to reach 475, so each case stays near a second.
#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "chapter3/3_4_4_npg.hpp"
#include "chapter3/3_4_6_trpo.hpp"
#include "chapter3/3_4_7_ppo.hpp"
#include "chapter3/common/critic.hpp"
#include "chapter3/common/mlp_policy.hpp"
#include "envs/vec_env.hpp"

using namespace pgcpp;

namespace {
// Mean of the last n finished episodes' returns.
struct Returns {
  std::vector<double> all;
  void add(const Segment& seg) {
    for (const Segment::Finished& f : seg.finished) all.push_back(f.episode_return);
  }
  double last(std::size_t n) const {
    const std::size_t k = std::min(n, all.size());
    return std::accumulate(all.end() - static_cast<long>(k), all.end(), 0.0) / static_cast<double>(k);
  }
};
}  // namespace

TEST_CASE("PPO-Clip learns CartPole-v1: the last 20 training returns average > 150 after 24k env steps") {
  Rng rng(1);
  VecEnv envs("CartPole-v1", 8);
  auto policy = make_mlp_policy(envs.env(0), {64, 64}, 0, rng);
  ad::Mlp value = value_network(4, {64, 64}, ad::Activation::Tanh, rng);
  PpoConfig cfg;
  cfg.env_steps = 24 * 1024;
  cfg.solved_window = 0;
  Returns r;
  train_ppo(cfg, envs, *policy, value, rng, 1, [&](long, const OnPolicyBatch& b, long, const PpoStats&) {
    r.add(*b.segment);
    CHECK(policy_change(*policy, b).kl < 0.2);  // the clipped objective keeps each update near pi_theta_k
  });
  CHECK(r.last(20) > 150);
  CHECK(r.last(20) > 5 * r.all.front());
}

TEST_CASE("TRPO learns CartPole-v1: the last 20 training returns average > 120 after 10 updates") {
  Rng rng(2);
  VecEnv envs("CartPole-v1", 8);
  auto policy = make_mlp_policy(envs.env(0), {64, 64}, 0, rng);
  ad::Mlp value = value_network(4, {64, 64}, ad::Activation::Tanh, rng);
  TrpoConfig cfg;
  cfg.env_steps = 10 * 2048;
  cfg.solved_window = 0;
  Returns r;
  train_trpo(cfg, envs, *policy, value, rng, 2, [&](long, const OnPolicyBatch& b, long, const TrustRegionStats&) {
    r.add(*b.segment);
  });
  CHECK(r.last(20) > 120);
}

// NPG with the trust-region step (3.55) and no line search. Over seeds 1-12 of the correct code,
// the last 20 returns after 10 updates: min 187, mean 238, SD 28 (first episodes ~10); 120 is
// mean - 4 SD. A descent step or a step that ignores the batch stays near the initial ~20.
TEST_CASE("NPG learns CartPole-v1: the last 20 training returns average > 120 after 10 updates") {
  Rng rng(3);
  VecEnv envs("CartPole-v1", 8);
  auto policy = make_mlp_policy(envs.env(0), {64, 64}, 0, rng);
  ad::Mlp value = value_network(4, {64, 64}, ad::Activation::Tanh, rng);
  NpgConfig cfg;
  cfg.env_steps = 10 * 2048;
  cfg.solved_window = 0;
  Returns r;
  train_npg(cfg, envs, *policy, value, rng, 3, [&](long, const OnPolicyBatch& b, long, const TrustRegionStats& s) {
    r.add(*b.segment);
    CHECK(s.kl < 3 * cfg.delta);  // the quadratic model of the KL holds to within a small factor
  });
  CHECK(r.last(20) > 120);
  CHECK(r.last(20) > 5 * r.all.front());
}

// PPO-KL (3.56) with the adaptive lambda, the defaults otherwise. Over seeds 1-12 of the correct
// code, the last 20 returns after 24k env steps: min 157, mean 308, SD 88 (first episodes ~10);
// 100 is below the minimum by half an SD. A penalty with the wrong sign, or a lambda that only
// grows, leaves the policy near its initial ~20.
TEST_CASE("PPO-KL learns CartPole-v1: the last 20 training returns average > 100 after 24k env steps") {
  Rng rng(4);
  VecEnv envs("CartPole-v1", 8);
  auto policy = make_mlp_policy(envs.env(0), {64, 64}, 0, rng);
  ad::Mlp value = value_network(4, {64, 64}, ad::Activation::Tanh, rng);
  PpoConfig cfg;
  cfg.objective = "kl";
  cfg.env_steps = 24 * 1024;
  cfg.solved_window = 0;
  Returns r;
  train_ppo(cfg, envs, *policy, value, rng, 4, [&](long, const OnPolicyBatch& b, long, const PpoStats&) {
    r.add(*b.segment);
  });
  CHECK(r.last(20) > 100);
  CHECK(r.last(20) > 5 * r.all.front());
}
