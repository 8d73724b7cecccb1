// Section 3.4's shared machinery: the on-policy batch's row order, cached log pi_theta_k and GAE per
// copy (chapter3/common/on_policy.hpp); minibatch gathering (minibatch.hpp); the value fit
// (value_fitting.hpp); the stopping rule (segment_solved_rule.hpp); update-numbered errors
// (update_error.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
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
#include "experiment/demo.hpp"
#include "tests/chapter3/cliff_env.hpp"

using namespace pgcpp;
using ad::Var;

namespace {
constexpr double kEps = std::numeric_limits<Scalar>::epsilon();
}  // namespace

// Row t N + i of every per-row vector is step t of copy i: recomputed copy by copy from the
// segment with (3.35), (3.37) and (3.39). A batch that listed the rows copy-major (i T + t), or
// took V(s_{t+1}) from the next row instead of the true next state (at a truncation, where the next
// row is the next episode's first state), would differ.
TEST_CASE("OnPolicyCollector: log pi_k, V, GAE and targets per copy, in the row order of the segment") {
  Rng rng(1);
  // CliffEnv: episodes end by termination and by truncation (where V(s_{t+1}) enters GAE).
  VecEnv envs(test::CliffEnv(), 3);
  const int d = test::CliffEnv::kStates;
  auto policy = CategoricalPolicy::make(d, {8}, 2, ad::Activation::Tanh, rng);
  ad::Mlp value = value_network(d, {8}, ad::Activation::Tanh, rng);
  const int T = 60, N = 3;
  OnPolicyCollector collector(envs, T, 5);
  const double gamma = 0.9, lambda_ = 0.8;
  for (int round = 0; round < 2; ++round) {  // the second continues mid-episode
    const OnPolicyBatch& batch = collector.collect(*policy, value, gamma, lambda_, false, rng);
    const Segment& seg = *batch.segment;
    REQUIRE(batch.rows() == T * N);
    CHECK(collector.env_steps() == (round + 1) * T * N);
    // pi_theta_k's parameters and log-densities as acting computed them: step t's N rows in one pass.
    for (int t = 0; t < T; ++t) {
      const Matrix obs_t = seg.obs.middleRows(t * N, N), actions_t = seg.actions.middleRows(t * N, N);
      CHECK((policy->params_of(obs_t) - batch.old_params.middleRows(t * N, N)).cwiseAbs().maxCoeff() == 0);
      CHECK((policy->log_prob(obs_t, actions_t).value() - batch.old_log_prob.middleRows(t * N, N)).cwiseAbs().maxCoeff() == 0);
    }
    Matrix v, v_next;
    {
      ad::NoGrad off;
      v = value(Var(seg.obs)).value();
      v_next = value(Var(seg.next_obs)).value();
    }
    const MaskMatrix truncated = seg.ended.array() && !seg.terminated.array();
    CHECK(std::any_of(truncated.data(), truncated.data() + truncated.size(), [](bool b) { return b; }));
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

// The batch NPG, TRPO and PPO learn from, on CliffEnv (tests/chapter3/cliff_env.hpp), where
// episodes end by termination and by the 5-step time limit mid-segment, and the segment's end cuts
// an episode too. A_t and V_targ are recomputed here from the book's definitions, with the episode
// boundaries and rewards taken from the environment's model (not the collector's flags):
//   delta_t = r_t + gamma V(s_{t+1}) - V(s_t), V(s_{t+1}) = 0 only at a terminal state   (3.35)
//   A_t = sum_l (gamma lambda)^l delta_{t+l} up to the episode's or the segment's end    (3.36)
//   V_targ_t = A_t + V(s_t)                                                               (3.39)
// Catches: a time limit treated as terminal (or a terminal state bootstrapped) anywhere on the
// VecEnv path (segment flags, the masks passed to GAE), V(s_{t+1}) from the next row (the next
// episode's first state after an autoreset), the recursion chaining two episodes, lambda or gamma
// dropped, the target missing V(s_t). Tolerance: 64 eps relative, rounding of the same sums in
// another order (float build: Scalar's eps).
TEST_CASE("OnPolicyCollector on an environment with termination and truncation: A and V_targ per (3.35)-(3.39)") {
  Rng rng(6);
  VecEnv envs(test::CliffEnv(), 3);
  auto policy = CategoricalPolicy::make(6, {8}, 2, ad::Activation::Tanh, rng);
  ad::Mlp value = value_network(6, {8}, ad::Activation::Tanh, rng);
  const int T = 12, N = 3;
  const double gamma = 0.8, lambda_ = 0.7;
  OnPolicyCollector collector(envs, T, 7);
  std::vector<int> length(N, 0);  // steps of each copy's running episode, across batches
  int terminations = 0, truncations = 0;
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const OnPolicyBatch& batch = collector.collect(*policy, value, gamma, lambda_, false, rng);
    const Segment& seg = *batch.segment;
    Matrix v, v_next;
    {
      ad::NoGrad off;
      v = value(Var(seg.obs)).value();
      v_next = value(Var(seg.next_obs)).value();
    }
    for (int i = 0; i < N; ++i) {
      // This copy's steps: r_t, delta_t and whether its episode ended after step t, from the model.
      std::vector<double> delta(T);
      std::vector<bool> ended(T);
      for (int t = 0; t < T; ++t) {
        const Eigen::Index row = static_cast<Eigen::Index>(t) * N + i;
        const int x_next = test::CliffEnv::next_state(test::CliffEnv::decode(seg.obs.row(row)),
                                                      static_cast<int>(seg.actions(row, 0)));
        REQUIRE(test::CliffEnv::decode(seg.next_obs.row(row)) == x_next);
        const bool terminal = test::CliffEnv::terminal(x_next);
        const bool truncated = !terminal && ++length[static_cast<std::size_t>(i)] == test::CliffEnv::kLimit;
        if (terminal || truncated) length[static_cast<std::size_t>(i)] = 0;
        terminations += terminal;
        truncations += truncated;
        ended[static_cast<std::size_t>(t)] = terminal || truncated;
        const double bootstrap = terminal ? 0.0 : static_cast<double>(v_next(row, 0));
        delta[static_cast<std::size_t>(t)] =
            test::CliffEnv::reward(x_next) + gamma * bootstrap - static_cast<double>(v(row, 0));
      }
      for (int t = 0; t < T; ++t) {
        CAPTURE(i);
        CAPTURE(t);
        double A = 0, w = 1;
        for (int l = t; l < T; ++l, w *= gamma * lambda_) {
          A += w * delta[static_cast<std::size_t>(l)];
          if (ended[static_cast<std::size_t>(l)]) break;
        }
        const Eigen::Index row = static_cast<Eigen::Index>(t) * N + i;
        const double target = A + static_cast<double>(v(row, 0));
        CHECK(std::abs(static_cast<double>(batch.advantage(row, 0)) - A) <= 64 * kEps * (1 + std::abs(A)));
        CHECK(std::abs(static_cast<double>(batch.target(row, 0)) - target) <= 64 * kEps * (1 + std::abs(target)));
        CHECK(static_cast<double>(batch.values(row, 0)) == static_cast<double>(v(row, 0)));
      }
    }
  }
  MESSAGE("terminations " << terminations << ", truncations " << truncations);
  CHECK(terminations >= 5);
  CHECK(truncations >= 3);
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

// shuffle_indices draws every permutation with probability 1/n!: over 6000 shuffles of 3 indices
// each of the 6 permutations is counted binomial(6000, 1/6) times, within 5 standard deviations
// (sd = 28.9; false-fail rate < 1e-5 over the 6 counts). Catches an off-by-one in Fisher-Yates
// (j drawn from 0..i-1, Sattolo's algorithm: only the 2 cyclic permutations) or a swap that skips
// index 0: still permutations, so the test above passes, but minibatches (PPO's epochs, the value
// fit, REINFORCE's baseline fit) would not be uniform.
TEST_CASE("shuffle_indices draws each permutation of 3 indices with probability 1/6") {
  Rng rng(21);
  std::vector<int> index;
  std::vector<long> count(9, 0);  // keyed by 3 * index[0] + index[1]
  const long draws = 6000;
  for (long k = 0; k < draws; ++k) {
    shuffle_indices(index, 3, rng);
    ++count[static_cast<std::size_t>(3 * index[0] + index[1])];
  }
  const double p = 1.0 / 6, sd = std::sqrt(draws * p * (1 - p));
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      CAPTURE(a);
      CAPTURE(b);
      const double expected = a == b ? 0.0 : draws * p;
      CHECK(std::abs(static_cast<double>(count[static_cast<std::size_t>(3 * a + b)]) - expected) < 5 * sd);
    }
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

// Plausible bug: ppo's --activation relu dropped on the way (pi or V still built with tanh). pi's mean and V at
// states far from 0 (where tanh saturates and ReLU does not) against the ReLU networks written by hand from
// their own parameters; equal up to rounding.
TEST_CASE("policy_and_value with ReLU: the mean of pi and V are ReLU networks of their parameters") {
  Rng rng(5);
  const std::unique_ptr<Env> pendulum = make_env("Pendulum-v1");
  auto [policy, value] = policy_and_value(*pendulum, {8, 8}, rng, 0.5, ad::Activation::ReLU);
  CHECK(policy->describe() == "gaussian state-independent-log-std 3-8-8-1 relu");
  Matrix s(3, 3);
  s << 3, -2, 5, -4, 1, -6, 0.5, 2.5, -3;
  // x W_1 + b_1 -> max(., 0) -> ... -> x W_L + b_L, from the first 2 L parameters (W, b per layer).
  auto relu_mlp = [&](const ad::ParameterSet& theta, int layers) {
    Matrix h = s;
    for (int l = 0; l < layers; ++l) {
      const Matrix& W = theta.list()[static_cast<std::size_t>(2 * l)].value();
      const Matrix& b = theta.list()[static_cast<std::size_t>(2 * l + 1)].value();
      Matrix z = h * W;
      z.rowwise() += b.row(0);
      h = l + 1 < layers ? Matrix(z.cwiseMax(Scalar(0))) : z;
    }
    return h;
  };
  const Matrix mu = policy->params_of(s).col(0), v = value(ad::Var(s)).value();
  CHECK((mu - relu_mlp(policy->parameters(), 3)).cwiseAbs().maxCoeff() < Scalar(1e-4));
  CHECK((v - relu_mlp(value.parameters(), 3)).cwiseAbs().maxCoeff() < Scalar(1e-4));
  CHECK(policy->params_of(s)(0, 1) == Scalar(0.5));
}
