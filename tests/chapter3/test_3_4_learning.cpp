// Section 3.4's algorithms learn: short CartPole-v1 runs of NPG, TRPO and PPO-Clip from a random
// policy (returns ~20) must raise the training return well above chance. Fixed seeds; budgets
// about half of what the defaults need to reach 475, so each case stays near a second.
#include <doctest/doctest.h>

#include <numeric>
#include <vector>

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
  train_ppo(cfg, envs, *policy, value, rng, 1, [&](long, const OnPolicyBatch& b, long, const PpoStats& s) {
    r.add(*b.segment);
    CHECK(s.kl < 0.2);  // the clipped objective keeps each update near pi_theta_k
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
