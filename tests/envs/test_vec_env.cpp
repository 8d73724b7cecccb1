#include <doctest/doctest.h>

#include <cmath>

#include "envs/cartpole.hpp"
#include "envs/vec_env.hpp"

using pgcpp::CartPole;
using pgcpp::VecEnv;

namespace {

bool cartpole_terminal(const Eigen::VectorXd& s) {
  return std::abs(s[0]) > CartPole::x_threshold ||
         std::abs(s[2]) > CartPole::theta_threshold_radians;
}

}  // namespace

TEST_CASE("vec_env: CartPole copies restart on their own and keep the final observation") {
  VecEnv venv("cartpole", 4);
  const Eigen::MatrixXd first = venv.reset(9);
  REQUIRE(first.rows() == 4);
  REQUIRE(first.cols() == 4);
  CHECK((first.array().abs() <= 0.05).all());

  // Always pushing right makes every pole fall within a few dozen steps.
  const Eigen::MatrixXd push_right = Eigen::MatrixXd::Ones(4, 1);
  Eigen::VectorXi length = Eigen::VectorXi::Zero(4);
  Eigen::MatrixXd previous = first;
  int episodes_ended = 0;
  for (int t = 0; t < 200; ++t) {
    const auto& r = venv.step(push_right);
    for (int i = 0; i < 4; ++i) {
      ++length[i];
      CHECK(r.reward[i] == 1.0);
      CHECK_FALSE(r.truncated[i]);
      // The transition itself is that of a single env from the previous observation.
      CartPole single;
      single.set_state(previous.row(i).transpose());
      const auto expected = single.step(Eigen::VectorXd::Ones(1));
      CHECK(r.final_observation.row(i).transpose() == expected.observation);
      CHECK(r.terminated[i] == expected.terminated);
      if (r.terminated[i]) {
        ++episodes_ended;
        CHECK(cartpole_terminal(r.final_observation.row(i).transpose()));
        CHECK((r.observation.row(i).array().abs() <= 0.05).all());  // the next episode's start
        CHECK(r.episode_length[i] == length[i]);
        CHECK(r.episode_return[i] == length[i]);
        length[i] = 0;
      } else {
        CHECK(r.observation.row(i) == r.final_observation.row(i));
        CHECK(r.episode_length[i] == 0);
      }
    }
    previous = r.observation;
  }
  CHECK(episodes_ended >= 8);
}

TEST_CASE("vec_env: Pendulum copies are truncated together at 200 steps and restart") {
  VecEnv venv("Pendulum-v1", 3);
  venv.reset(1);
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(3, 1);
  for (int t = 1; t <= 201; ++t) {
    const auto& r = venv.step(zero);
    CHECK_FALSE(r.terminated.any());
    CHECK(r.truncated.all() == (t == 200));
    if (t == 200) {
      CHECK((r.episode_length.array() == 200).all());
      CHECK((r.observation.array() != r.final_observation.array()).rowwise().any().all());
      // The restart draws thdot in [-1, 1]: the new observation's speed shows it.
      CHECK((r.observation.col(2).array().abs() <= 1.0).all());
    }
  }
}

TEST_CASE("vec_env: seeding is deterministic and gives each copy its own stream") {
  VecEnv a("cartpole", 3), b("cartpole", 3);
  const Eigen::MatrixXd first_a = a.reset(5);
  CHECK(first_a == b.reset(5));
  CHECK(first_a.row(0) != first_a.row(1));
  CHECK(first_a != b.reset(6));
  b.reset(5);
  const Eigen::MatrixXd actions = (Eigen::MatrixXd(3, 1) << 0, 1, 0).finished();
  for (int t = 0; t < 50; ++t) CHECK(a.step(actions).observation == b.step(actions).observation);
}

TEST_CASE("vec_env: a bad action is rejected before any copy moves") {
  VecEnv venv("cartpole", 3);
  CHECK_THROWS_AS(venv.step(Eigen::MatrixXd::Zero(3, 1)), std::logic_error);
  venv.reset(0);
  const Eigen::VectorXd before = venv.env(0).state();
  const Eigen::MatrixXd bad = (Eigen::MatrixXd(3, 1) << 1, 1, 7).finished();
  CHECK_THROWS_AS(venv.step(bad), std::invalid_argument);
  CHECK(venv.env(0).state() == before);
  CHECK_THROWS_AS(venv.step(Eigen::MatrixXd::Zero(2, 1)), std::invalid_argument);
}
