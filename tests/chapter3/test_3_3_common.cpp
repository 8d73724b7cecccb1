// The machinery Section 3.3 adds to chapter3/common/ for every later section: the replay buffer
// (replay_buffer.hpp), critics and target networks with Polyak averaging (critic.hpp), and
// fixed-length VecEnv segments (segment.hpp) with GAE over them (gae.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "chapter3/common/critic.hpp"
#include "chapter3/common/gae.hpp"
#include "chapter3/common/replay_buffer.hpp"
#include "chapter3/common/segment.hpp"
#include "envs/vec_env.hpp"
#include "tests/chapter3/cliff_env.hpp"

using namespace pgcpp;
using Eigen::VectorXd;

namespace {

VectorXd vec(std::initializer_list<double> v) {
  VectorXd x(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double e : v) x(i++) = e;
  return x;
}

// Transition k of the tests: obs (k, -k), action k % 3, reward 10 k, next_obs (k + 1, 0).
void add_transition(ReplayBuffer& D, int k) {
  D.add(vec({double(k), -double(k)}), vec({double(k % 3)}), 10.0 * k, vec({k + 1.0, 0.0}), k % 5 == 0, -0.1 * k);
}

}  // namespace

// ---------------------------------------------------------------- replay buffer

TEST_CASE("replay buffer: a ring of the last `capacity` transitions, oldest first, every field kept") {
  ReplayBuffer D(4, 2, 1);
  CHECK(D.size() == 0);
  Rng rng(1);
  ReplayBatch batch;
  CHECK_THROWS_AS(D.sample(2, rng, batch), std::logic_error);
  for (int k = 0; k < 3; ++k) add_transition(D, k);
  CHECK(D.size() == 3);
  D.gather((Eigen::VectorXi(3) << 0, 1, 2).finished(), batch);
  for (int j = 0; j < 3; ++j) {
    CHECK(batch.obs(j, 0) == j);
    CHECK(batch.obs(j, 1) == -j);
    CHECK(batch.actions(j, 0) == j % 3);
    CHECK(batch.rewards(j, 0) == 10 * j);
    CHECK(batch.next_obs(j, 0) == j + 1);
    CHECK(batch.terminated(j, 0) == (j % 5 == 0 ? 1 : 0));
    CHECK(batch.log_behaviour(j, 0) == doctest::Approx(-0.1 * j));
  }
  // Overwrite: after 7 additions the ring holds transitions 3, 4, 5, 6, oldest first.
  for (int k = 3; k < 7; ++k) add_transition(D, k);
  CHECK(D.size() == 4);
  CHECK(D.added() == 7);
  D.gather((Eigen::VectorXi(4) << 0, 1, 2, 3).finished(), batch);
  for (int j = 0; j < 4; ++j) CHECK(batch.rewards(j, 0) == 10 * (j + 3));
  CHECK_THROWS_AS(D.gather((Eigen::VectorXi(1) << 4).finished(), batch), std::out_of_range);
  CHECK_THROWS_AS(D.add(vec({1.0}), vec({0.0}), 0, vec({1.0, 2.0}), false), std::invalid_argument);
  CHECK_THROWS_AS(ReplayBuffer(0, 2, 1), std::invalid_argument);
}

// Each of the n stored transitions is drawn with probability 1/n: counts over m draws are
// binomial(m, 1/n), within 5 standard deviations (false-fail rate < 1e-4 over the 10 counts).
TEST_CASE("replay buffer: minibatches are uniform over the stored transitions, with replacement") {
  ReplayBuffer D(10, 2, 1);
  for (int k = 0; k < 25; ++k) add_transition(D, k);  // holds 15..24
  Rng rng(2);
  ReplayBatch batch;
  std::vector<long> count(10, 0);
  const int draws = 200, B = 100;
  for (int i = 0; i < draws; ++i) {
    D.sample(B, rng, batch);
    for (int j = 0; j < B; ++j) {
      const int k = static_cast<int>(batch.obs(j, 0));
      REQUIRE(k >= 15);
      REQUIRE(k <= 24);
      CHECK(batch.rewards(j, 0) == 10 * k);  // rows stay whole transitions
      ++count[static_cast<std::size_t>(k - 15)];
    }
  }
  const double m = draws * B, p = 0.1, sd = std::sqrt(m * p * (1 - p));
  for (long c : count) CHECK(std::abs(c - m * p) < 5 * sd);
}

// The minibatch is written into the caller's matrices: the same storage every time (no
// reallocation) when B stays the same, and the ring never grows.
TEST_CASE("replay buffer: insert and sample reuse preallocated storage") {
  ReplayBuffer D(1000, 3, 2);
  Rng rng(3);
  ReplayBatch batch;
  D.add(VectorXd::Ones(3), VectorXd::Ones(2), 1, VectorXd::Ones(3), false);
  D.sample(64, rng, batch);
  const Scalar* obs = batch.obs.data();
  const Scalar* next = batch.next_obs.data();
  const Scalar* logb = batch.log_behaviour.data();
  for (int k = 0; k < 5000; ++k) {
    D.add(VectorXd::Constant(3, k), VectorXd::Zero(2), k, VectorXd::Constant(3, k + 1), false);
    if (k % 10 == 0) D.sample(64, rng, batch);
  }
  CHECK(batch.obs.data() == obs);
  CHECK(batch.next_obs.data() == next);
  CHECK(batch.log_behaviour.data() == logb);
  CHECK(D.size() == 1000);
  CHECK(batch.size() == 64);
}

// ---------------------------------------------------------------- critics and target networks

TEST_CASE("critics: V, Q(s, .) and Q(s, a) networks have the shapes Section 3.3 uses") {
  Rng rng(4);
  CHECK(value_network(4, {128, 128}, ad::Activation::Tanh, rng).describe() == "4-128-128-1 tanh");
  CHECK(q_network(4, {128, 128}, 2, ad::Activation::ReLU, rng).describe() == "4-128-128-2 relu");
  const ad::Mlp q = q_network_continuous(3, 1, {16}, ad::Activation::ReLU, rng);
  CHECK(q.describe() == "4-16-1 relu");
  const ad::Var x = q_input(ad::Var(Matrix::Ones(5, 3)), ad::Var(Matrix::Zero(5, 1)));
  CHECK(q(x).value().rows() == 5);
}

// psibar <- tau psi + (1 - tau) psibar (Section 3.3.4, step 8).
TEST_CASE("target network: starts equal, does not follow the online network, Polyak-averages on update") {
  Rng rng(5);
  ad::Mlp online = q_network(3, {8}, 2, ad::Activation::ReLU, rng);
  TargetNetwork target(online);
  const Matrix x = Matrix::Random(6, 3);
  ad::NoGrad off;
  CHECK(target(ad::Var(x)).value() == online(ad::Var(x)).value());
  // Change the online weights (as an optimizer step would): the target keeps its own copy.
  const std::vector<Matrix> before = [&] {
    std::vector<Matrix> v;
    const ad::ParameterSet psibar = target.target().parameters();
    for (const ad::Var& p : psibar.list()) v.push_back(p.value());
    return v;
  }();
  const ad::ParameterSet online_params = online.parameters();
  for (ad::Var p : online_params.list()) p.mutable_value().array() += Scalar(0.5);
  CHECK(target(ad::Var(x)).value() != online(ad::Var(x)).value());
  const Scalar tau = Scalar(0.25);
  target.update(tau);
  const std::vector<ad::Var> psi = online.parameters().list(), psibar = target.target().parameters().list();
  REQUIRE(psi.size() == before.size());
  for (std::size_t i = 0; i < psi.size(); ++i)
    CHECK((psibar[i].value() - (tau * psi[i].value() + (1 - tau) * before[i])).cwiseAbs().maxCoeff() <=
          4 * std::numeric_limits<Scalar>::epsilon() * (1 + psi[i].value().cwiseAbs().maxCoeff()));
  target.sync();
  CHECK(target(ad::Var(x)).value() == online(ad::Var(x)).value());
}

TEST_CASE("episode_values: V at every row and at each trajectory's final observation") {
  Rng rng(6);
  const ad::Mlp V = value_network(2, {4}, ad::Activation::Tanh, rng);
  std::vector<Trajectory> batch(2);
  batch[0].obs = Matrix::Random(3, 2);
  batch[0].final_obs = vec({0.3, -0.2});
  batch[1].obs = Matrix::Random(2, 2);
  batch[1].final_obs = vec({-1.0, 1.0});
  for (Trajectory& tau : batch) tau.rewards.assign(static_cast<std::size_t>(tau.obs.rows()), 1.0);
  const Matrix obs = stack_obs(batch);
  const EpisodeValues v = episode_values(V, obs, batch);
  ad::NoGrad off;
  CHECK(v.values.size() == 5);
  // One row at a time against the batch: the products may round differently, by a few ulps.
  const double tol = 16 * std::numeric_limits<Scalar>::epsilon();
  for (int i = 0; i < 5; ++i) CHECK(std::abs(v.values(i) - V(ad::Var(Matrix(obs.row(i)))).item()) < tol);
  CHECK(std::abs(v.final_values(1) - V(ad::Var(Matrix(batch[1].final_obs.transpose().cast<Scalar>()))).item()) < tol);
  CHECK(std::abs(v.final_values(0) - v.final_values(1)) > 1e-6);  // final_obs, not a row of obs
}

// ---------------------------------------------------------------- VecEnv segments

// Pendulum-v1 episodes end only by the 200-step time limit: a 250-step segment holds one truncated
// episode per copy and a piece cut by the segment's end. GAE over the segment must equal GAE over
// the same steps as two episodes (each bootstrapping from V at its last state).
TEST_CASE("segments: true next states at truncation and at autoreset, gae_segment equals gae_episodes") {
  Rng rng(7);
  VecEnv envs("pendulum", 2);
  SegmentCollector collector(envs, 250, 11);
  const SquashedGaussianPolicy policy(ad::Mlp({3, 8, 2}, ad::Activation::Tanh, rng), envs.env(0).action_low(),
                                      envs.env(0).action_high());
  const Segment& seg = collector.collect(policy, rng);
  const int N = 2, T = 250;
  CHECK(collector.env_steps() == 500);
  REQUIRE(seg.finished.size() == 2);
  for (int i = 0; i < N; ++i) {
    for (int t = 0; t < T; ++t) {
      const bool end = t == 199;
      CHECK(seg.ended(t, i) == end);
      CHECK_FALSE(seg.terminated(t, i));
      if (t + 1 < T && !end) CHECK(seg.next_obs.row(t * N + i) == seg.obs.row((t + 1) * N + i));
    }
    // At the time limit, s_{t+1} is the episode's last state, not the next episode's first.
    CHECK(seg.next_obs.row(199 * N + i) != seg.obs.row(200 * N + i));
    double total = 0;
    for (int t = 0; t < 200; ++t) total += seg.rewards(t, i);
    CHECK(seg.finished[static_cast<std::size_t>(i)].episode_return == doctest::Approx(total).epsilon(1e-12));
    CHECK(seg.finished[static_cast<std::size_t>(i)].length == 200);
  }

  const ad::Mlp V = value_network(3, {8}, ad::Activation::Tanh, rng);
  ad::NoGrad off;
  const Eigen::MatrixXd values = seg.by_step(V(ad::Var(seg.obs)).value().col(0));
  const Eigen::MatrixXd next_values = seg.by_step(V(ad::Var(seg.next_obs)).value().col(0));
  GaeResult<Eigen::MatrixXd> out;
  gae_segment(seg.rewards, values, next_values, seg.terminated, seg.ended, 0.99, 0.95, out);
  for (int i = 0; i < N; ++i) {
    std::vector<Trajectory> batch(2);
    VectorXd final_values(2), v(T);
    for (int k = 0; k < 2; ++k) {
      const int t0 = k == 0 ? 0 : 200, t1 = k == 0 ? 200 : 250;
      for (int t = t0; t < t1; ++t) batch[static_cast<std::size_t>(k)].rewards.push_back(seg.rewards(t, i));
      batch[static_cast<std::size_t>(k)].truncated = true;
      final_values(k) = next_values(t1 - 1, i);
    }
    v = values.col(i);
    const GaeResult<VectorXd> ref = gae_episodes(batch, v, final_values, 0.99, 0.95);
    CHECK((ref.advantage - out.advantage.col(i)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((ref.target - out.target.col(i)).cwiseAbs().maxCoeff() < 1e-12);
  }

  // The next segment continues where this one stopped.
  const Matrix last_next = seg.next_obs.bottomRows(N);
  const Segment& again = collector.collect(policy, rng);
  CHECK(again.obs.topRows(N) == last_next);
  CHECK(collector.env_steps() == 1000);
}

// CartPole-v1 episodes of an untrained policy end by termination within a few dozen steps: where
// one ends mid-segment, s_{t+1} is the terminal state (outside the bounds), the next row is the
// next episode's first state (within 0.05 of upright), and GAE does not bootstrap there.
TEST_CASE("segments: termination mid-segment is recorded with the terminal state, and cuts the bootstrap") {
  Rng rng(8);
  VecEnv envs("cartpole", 3);
  SegmentCollector collector(envs, 100, 12);
  const auto policy = CategoricalPolicy::make(4, {8}, 2, ad::Activation::Tanh, rng);
  const Segment& seg = collector.collect(*policy, rng);
  const int N = 3;
  int terminations = 0;
  for (int i = 0; i < N; ++i)
    for (int t = 0; t + 1 < seg.T; ++t) {
      if (!seg.terminated(t, i)) continue;
      ++terminations;
      CHECK(seg.ended(t, i));
      const auto s = seg.next_obs.row(t * N + i);
      CHECK((std::abs(s(0)) > 2.4 || std::abs(s(2)) > 12 * 2 * 3.14159265358979 / 360));
      CHECK((seg.obs.row((t + 1) * N + i).array().abs() <= Scalar(0.05)).all());
    }
  CHECK(terminations >= 6);
  // With V = 1 everywhere and r = 1: delta = 1 + gamma - 1 = gamma mid-episode, 1 - 1 = 0 at a termination.
  const Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(seg.T, N);
  GaeResult<Eigen::MatrixXd> out;
  gae_segment(seg.rewards, ones, ones, seg.terminated, seg.ended, 0.9, 0.5, out);
  for (int i = 0; i < N; ++i)
    for (int t = 0; t < seg.T; ++t) CHECK(out.delta(t, i) == doctest::Approx(seg.terminated(t, i) ? 0.0 : 0.9));
}

// SegmentCollector on CliffEnv (tests/chapter3/cliff_env.hpp), whose episodes end by termination
// (x' = 0 or 5) and by its 5-step time limit, both mid-segment, over three segments (the later
// ones continue episodes begun in the previous one). Every recorded transition is checked against
// the environment's model, with the episode boundaries worked out here from the model and a step
// count, not from the collector's flags: s_{t+1} = the true next state (at a time limit too, not
// the next episode's first state), r_t, terminated = x' terminal only, ended = terminal or the 5th
// step, the finished episodes' returns and lengths.
// Catches: truncation recorded as termination (or termination as a mere end), next_obs taken from
// the autoreset observation, a flag or reward shifted by a step or a copy, episode returns or
// lengths not following an episode across segments.
TEST_CASE("segments on an environment with termination and truncation: flags, next states and rewards per the model") {
  Rng rng(9);
  VecEnv envs(test::CliffEnv(), 3);
  const int N = 3, T = 12;
  SegmentCollector collector(envs, T, 13);
  const auto policy = CategoricalPolicy::make(6, {8}, 2, ad::Activation::Tanh, rng);
  std::vector<int> length(N, 0);
  std::vector<double> running(N, 0.0);
  int terminations = 0, truncations = 0;
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const Segment& seg = collector.collect(*policy, rng);
    std::size_t finished = 0;
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < N; ++i) {
        CAPTURE(t);
        CAPTURE(i);
        const Eigen::Index row = static_cast<Eigen::Index>(t) * N + i;
        const int x = test::CliffEnv::decode(seg.obs.row(row)), a = static_cast<int>(seg.actions(row, 0));
        const int x_next = test::CliffEnv::next_state(x, a);
        CHECK(test::CliffEnv::decode(seg.next_obs.row(row)) == x_next);
        CHECK(seg.rewards(t, i) == test::CliffEnv::reward(x_next));
        ++length[static_cast<std::size_t>(i)];
        running[static_cast<std::size_t>(i)] += test::CliffEnv::reward(x_next);
        const bool terminal = test::CliffEnv::terminal(x_next);
        const bool truncated = !terminal && length[static_cast<std::size_t>(i)] == test::CliffEnv::kLimit;
        CHECK(seg.terminated(t, i) == terminal);
        CHECK(seg.ended(t, i) == (terminal || truncated));
        terminations += terminal;
        truncations += truncated;
        if (terminal || truncated) {
          REQUIRE(finished < seg.finished.size());
          const Segment::Finished& f = seg.finished[finished++];
          CHECK(f.t == t);
          CHECK(f.copy == i);
          CHECK(f.length == length[static_cast<std::size_t>(i)]);
          CHECK(f.episode_return == doctest::Approx(running[static_cast<std::size_t>(i)]).epsilon(1e-12));
          length[static_cast<std::size_t>(i)] = 0;
          running[static_cast<std::size_t>(i)] = 0;
          if (t + 1 < T) {  // the next row starts a new episode from x_0 in {1, 2, 3}
            const int x0 = test::CliffEnv::decode(seg.obs.row(row + N));
            CHECK((x0 >= 1 && x0 <= 3));
          }
        } else if (t + 1 < T) {
          CHECK(seg.obs.row(row + N) == seg.next_obs.row(row));
        }
      }
    CHECK(finished == seg.finished.size());
  }
  MESSAGE("terminations " << terminations << ", truncations " << truncations);
  CHECK(terminations >= 5);
  CHECK(truncations >= 3);
}
