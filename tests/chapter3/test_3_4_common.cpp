// Section 3.4's shared machinery: the on-policy batch's row order, cached log pi_theta_k and GAE per
// copy (chapter3/common/on_policy.hpp); minibatch gathering (minibatch.hpp); the value fit
// (value_fitting.hpp); the stopping rule (segment_solved_rule.hpp); update-numbered errors
// (update_error.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/common/critic.hpp"
#include "chapter3/common/gae.hpp"
#include "chapter3/common/minibatch.hpp"
#include "chapter3/common/mlp_policy.hpp"
#include "chapter3/common/on_policy.hpp"
#include "chapter3/common/segment_solved_rule.hpp"
#include "chapter3/common/update_error.hpp"
#include "chapter3/common/value_fitting.hpp"
#include "envs/vec_env.hpp"

using namespace pgcpp;
using ad::Var;

namespace {
constexpr double kEps = std::numeric_limits<Scalar>::epsilon();
}  // namespace

// Row t N + i of every per-row vector is step t of copy i: recomputed copy by copy from the
// segment with (3.35), (3.37) and (3.39). A batch that listed the rows copy-major (i T + t), or
// took V(s_{t+1}) from the next row instead of the true next state, would differ.
TEST_CASE("OnPolicyCollector: log pi_k, V, GAE and targets per copy, in the row order of the segment") {
  Rng rng(1);
  VecEnv envs("CartPole-v1", 3);
  auto policy = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, rng);
  ad::Mlp value = value_network(4, {8}, ad::Activation::Tanh, rng);
  const int T = 60, N = 3;
  OnPolicyCollector collector(envs, T, 5);
  const double gamma = 0.9, lambda_ = 0.8;
  for (int round = 0; round < 2; ++round) {  // the second continues mid-episode
    const OnPolicyBatch& batch = collector.collect(*policy, value, gamma, lambda_, false, rng);
    const Segment& seg = *batch.segment;
    REQUIRE(batch.rows() == T * N);
    CHECK(collector.env_steps() == (round + 1) * T * N);
    const Matrix log_pi = policy->log_prob(seg.obs, seg.actions).value();
    CHECK((log_pi - batch.old_log_prob).cwiseAbs().maxCoeff() == 0);
    CHECK((policy->params_of(seg.obs) - batch.old_params).cwiseAbs().maxCoeff() == 0);
    Matrix v, v_next;
    {
      ad::NoGrad off;
      v = value(Var(seg.obs)).value();
      v_next = value(Var(seg.next_obs)).value();
    }
    CHECK(std::any_of(seg.ended.data(), seg.ended.data() + seg.ended.size(), [](bool b) { return b; }));
    for (int i = 0; i < N; ++i) {
      Eigen::VectorXd r(T), vt(T), vn(T), delta(T), A(T);
      MaskVector term(T), ended(T);
      for (int t = 0; t < T; ++t) {
        r(t) = seg.rewards(t, i);
        vt(t) = static_cast<double>(v(t * N + i, 0));
        vn(t) = static_cast<double>(v_next(t * N + i, 0));
        term(t) = seg.terminated(t, i);
        ended(t) = seg.ended(t, i);
      }
      td_residuals(r, vt, vn, term, gamma, delta);
      gae_from_residuals(delta, ended, gamma, lambda_, A);
      for (int t = 0; t < T; ++t) {
        CAPTURE(i);
        CAPTURE(t);
        CHECK(std::abs(static_cast<double>(batch.advantage(t * N + i, 0)) - A(t)) <= 64 * kEps * (1 + std::abs(A(t))));
        CHECK(std::abs(static_cast<double>(batch.target(t * N + i, 0)) - (A(t) + vt(t))) <=
              64 * kEps * (1 + std::abs(A(t) + vt(t))));
      }
    }
  }
  // Standardized: mean 0, standard deviation 1 (targets are not standardized).
  const OnPolicyBatch& z = collector.collect(*policy, value, gamma, lambda_, true, rng);
  const Eigen::ArrayXd a = z.advantage.col(0).cast<double>().array();
  CHECK(std::abs(a.mean()) <= 1e3 * kEps);
  CHECK(std::abs(std::sqrt((a - a.mean()).square().mean()) - 1) <= 1e-6);
  CHECK((z.target - z.values).cwiseAbs().maxCoeff() > 0);
}

TEST_CASE("shuffle_indices is a permutation, and gather_rows takes the rows it names and checks its range") {
  Rng rng(2);
  std::vector<int> index;
  shuffle_indices(index, 100, rng);
  std::vector<int> sorted = index;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
  CHECK_FALSE(std::is_sorted(index.begin(), index.end()));
  Matrix x(100, 2);
  for (int i = 0; i < 100; ++i) x(i, 0) = Scalar(i), x(i, 1) = Scalar(-i);
  Matrix out;
  gather_rows(x, index, 10, 5, out);
  REQUIRE(out.rows() == 5);
  for (int r = 0; r < 5; ++r) {
    CHECK(out(r, 0) == Scalar(index[static_cast<std::size_t>(10 + r)]));
    CHECK(out(r, 1) == -out(r, 0));
  }
  CHECK_THROWS_AS(gather_rows(x, index, 98, 5, out), std::invalid_argument);
}

TEST_CASE("fit_value_function: minibatch epochs reduce the mean squared error to the targets") {
  Rng rng(3);
  ad::Mlp value = value_network(2, {16}, ad::Activation::Tanh, rng);
  Matrix obs(512, 2), target(512, 1);
  for (int i = 0; i < 512; ++i) {
    obs(i, 0) = static_cast<Scalar>(rng.uniform(-1, 1));
    obs(i, 1) = static_cast<Scalar>(rng.uniform(-1, 1));
    target(i, 0) = obs(i, 0) * obs(i, 1) + Scalar(0.5);
  }
  ad::Adam adam(value.parameters(), ad::StepSize::constant(Scalar(1e-2)));
  auto mse = [&] {
    ad::NoGrad off;
    return static_cast<double>(ad::mean(ad::square(value(Var(obs)) - Var(target))).item());
  };
  const double before = mse();
  fit_value_function(value, adam, obs, target, 30, 64, 0, rng);
  CHECK(adam.iterations() == 30 * 8);  // 512 / 64 minibatches per epoch
  CHECK(mse() < 0.1 * before);
}

TEST_CASE("SegmentSolvedRule: the mean of the last `window` finished episodes, across segments") {
  Segment seg;
  SegmentSolvedRule rule(475, 3), never(475, 0);
  seg.finished = {{0, 0, 500, 500}, {1, 1, 400, 400}};
  CHECK_FALSE(rule.record(seg));  // only 2 episodes so far
  seg.finished = {{5, 0, 500, 500}};
  CHECK_FALSE(rule.record(seg));  // (500 + 400 + 500) / 3 < 475
  seg.finished = {{2, 2, 500, 500}};
  CHECK_FALSE(rule.record(seg));  // 400 is still one of the last 3
  seg.finished = {{0, 1, 480, 480}};
  CHECK(rule.record(seg));  // (500 + 500 + 480) / 3 >= 475
  CHECK_FALSE(never.record(seg));
}

TEST_CASE("rethrow_at_update names the update, once") {
  try {
    rethrow_at_update(4, std::runtime_error("conjugate gradient: p^T A p = -1"));
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "update 5: conjugate gradient: p^T A p = -1");
  }
  try {
    rethrow_at_update(4, std::runtime_error("update 5: kl is nan"));
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "update 5: kl is nan");
  }
}

TEST_CASE("make_mlp_policy: softmax for discrete actions, state-independent Gaussian for continuous") {
  Rng rng(4);
  const std::unique_ptr<Env> cartpole = make_env("CartPole-v1"), pendulum = make_env("Pendulum-v1");
  CHECK(make_mlp_policy(*cartpole, {8}, 0, rng)->describe() == "categorical 4-8-2 tanh");
  const auto gauss = make_mlp_policy(*pendulum, {8}, -0.5, rng);
  CHECK(gauss->describe() == "gaussian state-independent-log-std 3-8-1 tanh");
  CHECK(gauss->params_of(Matrix::Zero(1, 3))(0, 1) == Scalar(-0.5));
}
