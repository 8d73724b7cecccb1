// Acting without the tape (ad::Mlp::forward, Policy::act and its workspace): the plain path
// computes the recorded path's values bit for bit and draws the same random numbers in the same
// order; and the loops that act, and the on-policy machinery, allocate nothing per step once warm.
//
// Allocations are counted by tests/alloc_counter.hpp (every heap allocation of the process);
// under AddressSanitizer the counting tests are skipped.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/3_4_7_ppo.hpp"
#include "chapter3/3_4_8_sac.hpp"
#include "chapter3/3_4_9_ddpg.hpp"
#include "chapter3/common/critic.hpp"
#include "chapter3/common/gae.hpp"
#include "chapter3/common/minibatch.hpp"
#include "chapter3/common/on_policy.hpp"
#include "chapter3/common/policy.hpp"
#include "chapter3/common/rollout.hpp"
#include "chapter3/common/segment.hpp"
#include "envs/env.hpp"
#include "envs/vec_env.hpp"
#include "tests/alloc_counter.hpp"

namespace pgcpp {
namespace {

using ad::Var;

Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double scale = 1.0) {
  Matrix m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = static_cast<Scalar>(scale * rng.normal());
  return m;
}

Matrix recorded_params(const Policy& policy, const Matrix& obs) {
  ad::NoGrad off;
  return policy.dist_params(Var(obs)).value();
}

// The counter works: one vector's storage is one allocation (guards the tests below against a
// counter that never counts).
TEST_CASE("acting: the allocation counter counts a heap allocation" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  static void* volatile seen;  // the pointers escape: Clang may elide a new/delete pair that nothing sees
  const long n = allocations([] {
    auto v = std::make_unique<std::vector<double>>(1000);
    seen = v.get();
    seen = v->data();
    CHECK(seen != nullptr);
    CHECK(v->size() == 1000);
  });
  CHECK(n >= 2);  // the vector object and its storage
}

// Bug caught: a plain forward pass that differs from the recorded one in the last bit (std::tanh
// instead of the tape's tanh kernel, the bias added before the product, a missing output
// activation), which would change every fixed-seed run.
TEST_CASE("acting: Mlp::forward equals the recorded forward pass bit for bit") {
  Rng rng(3);
  const ad::Mlp tanh_net({4, 64, 64, 2}, ad::Activation::Tanh, rng);
  const ad::Mlp relu_tanh_out({3, 32, 32, 1}, ad::Activation::ReLU, rng, ad::Activation::Tanh);
  ad::Workspace ws;
  Matrix out;
  for (const ad::Mlp* net : {&tanh_net, &relu_tanh_out})
    for (Eigen::Index batch : {1, 7, 64}) {  // 7: a batch that leaves a tail after the SIMD packets
      const Matrix x = random_matrix(batch, net->sizes().front(), rng, 2.0);
      net->forward(x, out, ws);
      ad::NoGrad off;
      const Matrix recorded = (*net)(Var(x)).value();
      CHECK(out.rows() == recorded.rows());
      CHECK(out.cols() == recorded.cols());
      CHECK(out == recorded);
    }
}

// Bug caught: an allocation per step in acting (a temporary per layer in the plain forward pass).
TEST_CASE("acting: Mlp::forward allocates nothing once its workspace is warm" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  Rng rng(4);
  const ad::Mlp net({4, 64, 64, 2}, ad::Activation::Tanh, rng);
  const Matrix x = random_matrix(1, 4, rng);
  ad::Workspace ws;
  Matrix out;
  net.forward(x, out, ws);
  CHECK(allocations([&] {
          for (int k = 0; k < 100; ++k) net.forward(x, out, ws);
        }) == 0);
}

// The policies of the chapter, on 3 observations of dimension 3 (actions of dimension 2 for the
// Gaussians, so that the order of draws over rows and columns matters).
struct Policies {
  Rng rng{11};
  Eigen::VectorXd low = Eigen::Vector2d(-2, -1), high = Eigen::Vector2d(2, 3);
  CategoricalPolicy categorical{ad::Mlp({3, 16, 16, 4}, ad::Activation::Tanh, rng)};
  GaussianPolicy independent{ad::Mlp({3, 16, 2}, ad::Activation::Tanh, rng), 2, GaussianPolicy::LogStd::StateIndependent, -0.3};
  GaussianPolicy dependent{ad::Mlp({3, 16, 4}, ad::Activation::ReLU, rng), 2, GaussianPolicy::LogStd::StateDependent, 0, -1, 0.5};
  SquashedGaussianPolicy squashed{ad::Mlp({3, 16, 4}, ad::Activation::ReLU, rng), low, high};
  std::vector<const Policy*> all() const { return {&categorical, &independent, &dependent, &squashed}; }
};

// Bug caught: plain distribution parameters that differ from dist_params(Var(obs)) (log sigma
// not clamped in the state-dependent case, the state-independent log sigma not broadcast).
TEST_CASE("acting: the plain dist_params equals the recorded one for every policy") {
  Policies p;
  ActWorkspace ws;
  for (const Policy* policy : p.all()) {
    const Matrix obs = random_matrix(3, 3, p.rng, 3.0);  // scale 3: some log sigma clamped
    policy->dist_params(obs, ws);
    CHECK(ws.params == recorded_params(*policy, obs));
  }
}

// Bug caught: acting that draws other random numbers, or the same in another order (columns
// before rows, a draw skipped or added), than the tape path did: the
// reference here is the sampler written out by hand on the recorded parameters, with a copy of
// the generator, and both generators must end in the same state.
TEST_CASE("acting: act samples with the same draws in the same order as the recorded path") {
  Policies p;
  ActWorkspace ws;
  const Matrix obs = random_matrix(3, 3, p.rng, 2.0);
  for (const Policy* policy : p.all()) {
    Rng rng(101), reference(101);
    const Matrix& a = policy->act(obs, rng, ws);
    const Matrix params = recorded_params(*policy, obs);
    Matrix expected(3, policy->act_dim());
    if (policy == &p.categorical) {
      for (Eigen::Index i = 0; i < 3; ++i) {
        const Eigen::RowVectorXd w = (params.row(i).array() - params.row(i).maxCoeff()).exp().cast<double>().matrix();
        expected(i, 0) = static_cast<Scalar>(reference.categorical(w));
      }
    } else {
      for (Eigen::Index i = 0; i < 3; ++i)
        for (int j = 0; j < 2; ++j)
          expected(i, j) = params(i, j) + std::exp(params(i, 2 + j)) * static_cast<Scalar>(reference.normal());
      if (policy == &p.squashed) {
        const RowVector scale = (0.5 * (p.high - p.low)).cast<Scalar>().transpose();
        const RowVector shift = (0.5 * (p.high + p.low)).cast<Scalar>().transpose();
        expected = ((expected.array().tanh().rowwise() * scale.array()).rowwise() + shift.array()).matrix();
      }
    }
    CHECK(a == expected);
    CHECK(rng.uniform() == reference.uniform());
  }
}

// Bug caught: an allocation per step in acting (the categorical sampler's weights stored in a
// fresh vector per row, a fresh parameter matrix per call).
TEST_CASE("acting: Policy::act allocates nothing once its workspace is warm" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  Policies p;
  ActWorkspace ws;
  Rng rng(5);
  const Eigen::VectorXd s = Eigen::Vector3d(0.1, -0.4, 0.9);
  Eigen::VectorXd a;
  for (const Policy* policy : p.all()) {
    policy->act(s, rng, a, ws);
    policy->act_mode(s, a, ws);
    CHECK(allocations([&] {
            for (int k = 0; k < 50; ++k) {
              policy->act(s, rng, a, ws);
              policy->act_mode(s, a, ws);
            }
          }) == 0);
  }
}

// Bug caught: an allocation per step in the collector (the policy's parameters and actions
// allocated at every step, as params_of and sample's return values were). Pendulum's episodes
// last 200 steps, so no copy restarts (VecEnv's one allocation) during the 16 steps counted.
TEST_CASE("acting: an allocation per step in the collector" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  Rng rng(6);
  VecEnv envs("Pendulum-v1", 3);
  const GaussianPolicy policy(ad::Mlp({3, 64, 64, 1}, ad::Activation::Tanh, rng), 1, GaussianPolicy::LogStd::StateIndependent);
  SegmentCollector collector(envs, 8, 7);
  collector.collect(policy, rng);  // warm: the workspace takes its shapes
  CHECK(allocations([&] {
          collector.collect(policy, rng);
          collector.collect(policy, rng);
        }) == 0);
}

// Bug caught: an allocation per step in the on-policy batch (collector, values or GAE allocating
// per row or per step): its count must not grow with the number of steps T (the log-density is
// recorded ops, a fixed number of allocations per batch).
TEST_CASE("acting: the on-policy batch allocates the same for T = 8 and T = 32" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  auto count = [](int T) {
    Rng rng(8);
    VecEnv envs("Pendulum-v1", 2);
    const GaussianPolicy policy(ad::Mlp({3, 32, 32, 1}, ad::Activation::Tanh, rng), 1, GaussianPolicy::LogStd::StateIndependent);
    const ad::Mlp value = value_network(3, {32, 32}, ad::Activation::Tanh, rng);
    OnPolicyCollector collector(envs, T, 9);
    collector.collect(policy, value, 0.99, 0.95, true, rng);
    return allocations([&] { collector.collect(policy, value, 0.99, 0.95, true, rng); });
  };
  const long short_batch = count(8), long_batch = count(32);
  CHECK(long_batch == short_batch);
}

// Bug caught: GAE allocating per step (a temporary per row) where it should write into the
// caller's storage.
TEST_CASE("acting: gae_segment_rows allocates nothing" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  const int T = 64, N = 4;
  Rng rng(10);
  const Eigen::MatrixXd rewards = Eigen::MatrixXd::Random(T, N);
  const Vector values = random_matrix(T * N, 1, rng).col(0), next_values = random_matrix(T * N, 1, rng).col(0);
  MaskMatrix terminated = MaskMatrix::Constant(T, N, false), ended = MaskMatrix::Constant(T, N, false);
  terminated(10, 1) = ended(10, 1) = ended(30, 2) = true;
  Vector advantage(T * N), target(T * N);
  CHECK(allocations([&] {
          gae_segment_rows(rewards, values, next_values, terminated, ended, 0.99, 0.95, advantage, target);
        }) == 0);
}

// Bug caught: an allocation per sample in the minibatch update (gathering rows through a
// temporary per row, an op whose storage grows with B). The tape takes its nodes and matrices
// from its pools (autodiff/tape.cpp), so once warm PPO's minibatch step (gather, loss, Adam)
// allocates only a few times (measured: 8 at B = 64, 7 at B = 256), while an allocation per
// sample would cost at least B = 64.
TEST_CASE("acting: PPO's minibatch update allocates the same for B = 64 and B = 256" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  Rng rng(12);
  const int rows = 512;
  const Matrix obs = random_matrix(rows, 3, rng), actions = random_matrix(rows, 1, rng);
  const Matrix advantage = random_matrix(rows, 1, rng), v_targ = random_matrix(rows, 1, rng);
  auto count = [&](int B) {
    Rng init(13);
    GaussianPolicy policy(ad::Mlp({3, 64, 64, 1}, ad::Activation::Tanh, init), 1, GaussianPolicy::LogStd::StateIndependent);
    const ad::Mlp value = value_network(3, {64, 64}, ad::Activation::Tanh, init);
    ad::ParameterSet params = policy.parameters();
    params.add(value.parameters());
    ad::Adam optimizer(params, ad::StepSize::constant(Scalar(3e-4)));
    const PpoConfig cfg;
    Matrix old_log_pi;
    {
      ad::NoGrad off;
      old_log_pi = policy.log_prob(obs, actions).value();
    }
    std::vector<int> index;
    Matrix s, a, log_pi_k, A, target;
    auto step = [&] {
      shuffle_indices(index, rows, rng);
      gather_rows(obs, index, 0, B, s);
      gather_rows(actions, index, 0, B, a);
      gather_rows(old_log_pi, index, 0, B, log_pi_k);
      gather_rows(advantage, index, 0, B, A);
      gather_rows(v_targ, index, 0, B, target);
      const PpoLoss loss = ppo_minibatch_loss(cfg, policy, value, s, a, log_pi_k, A, target, 0.0);
      optimizer.minimize(loss.J, Scalar(0.5));
    };
    for (int k = 0; k < 3; ++k) step();
    return allocations(step);
  };
  const long small = count(64), large = count(256);
  CHECK(small < 64);
  CHECK(large < 64);
}

// Bug caught: an allocation per step in the SAC and DDPG interaction loops (acting through the
// tape, or a fresh action vector per step).
TEST_CASE("acting: SAC's and DDPG's actions allocate nothing once warm" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  Rng rng(14);
  const std::unique_ptr<Env> env = make_env("Pendulum-v1");
  SacConfig sac_cfg;
  sac_cfg.hidden = std::vector<int>{64, 64};
  SacAgent sac(sac_cfg, env->spec(), rng);
  const DeterministicActor actor = DeterministicActor::make(env->spec(), {64, 64}, rng);
  const Eigen::VectorXd s = env->reset(rng);
  Eigen::VectorXd a(1), mu(1);
  ActWorkspace ws;
  sac.act(s, rng, a);
  actor.act(s, mu, ws);
  CHECK(allocations([&] {
          for (int k = 0; k < 50; ++k) {
            sac.act(s, rng, a);
            actor.act(s, mu, ws);
          }
        }) == 0);
  // ... and the plain actor computes what the recorded one does.
  ad::NoGrad off;
  CHECK(mu == actor(Var(Matrix(s.cast<Scalar>().transpose()))).value().row(0).transpose().cast<double>());
}

// Bug caught: an episode that allocates per step (each observation and action in its own vector,
// as run_episode used to store them): a 200-step Pendulum episode must cost far fewer allocations
// than steps.
TEST_CASE("acting: run_episode allocates per episode, not per step" * doctest::skip(!PGCPP_COUNT_ALLOCATIONS)) {
  Rng rng(15);
  const std::unique_ptr<Env> env = make_env("Pendulum-v1");
  const GaussianPolicy policy(ad::Mlp({3, 64, 64, 1}, ad::Activation::Tanh, rng), 1, GaussianPolicy::LogStd::StateIndependent);
  ActWorkspace ws;
  run_episode(*env, policy, rng, ws);
  long n = 0;
  const long used = allocations([&] { n = run_episode(*env, policy, rng, ws).length(); });
  CHECK(n == 200);
  CHECK(used < 20);
}

}  // namespace
}  // namespace pgcpp
