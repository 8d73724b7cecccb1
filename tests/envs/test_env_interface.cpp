#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "envs/cartpole.hpp"
#include "envs/env.hpp"
#include "envs/pendulum.hpp"
#include "test_util.hpp"

using pgcpp::make_env;
using pgcpp::test::step;
using pgcpp::test::vec;

namespace {

// The message of the std::invalid_argument thrown by f ("" if none).
template <class F>
std::string invalid_argument_message(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("make_env: accepts short and Gymnasium names, rejects others listing valid ones") {
  CHECK(make_env("cartpole")->name() == "CartPole-v1");
  CHECK(make_env("CartPole-v1")->name() == "CartPole-v1");
  CHECK(make_env("pendulum")->name() == "Pendulum-v1");
  CHECK(make_env("Pendulum-v1")->name() == "Pendulum-v1");
  const std::string msg = invalid_argument_message([] { make_env("MountainCar-v0"); });
  CHECK(contains(msg, "MountainCar-v0"));
  CHECK(contains(msg, "cartpole"));
  CHECK(contains(msg, "Pendulum-v1"));
}

TEST_CASE("env: bad CartPole actions are rejected with the env name and the bad value") {
  auto env = make_env("cartpole");
  env->reset(0);
  const Eigen::VectorXd before = env->state();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case { Eigen::VectorXd action; std::string shown; };
  const Case cases[] = {{vec({0.5}), "0.5"}, {vec({2}), "2"},      {vec({-1}), "-1"},
                        {vec({nan}), "nan"}, {vec({inf}), "inf"},  {vec({0, 1}), "got 2"},
                        {Eigen::VectorXd(0), "got 0"}};
  for (const auto& c : cases) {
    const std::string msg = invalid_argument_message([&] { env->step(c.action); });
    CAPTURE(msg);
    CHECK(contains(msg, "CartPole-v1"));
    CHECK(contains(msg, c.shown));
  }
  CHECK(env->state() == before);  // a rejected action changes nothing
  CHECK(env->elapsed_steps() == 0);
  CHECK_NOTHROW(step(*env, 1.0));
  CHECK_NOTHROW(step(*env, -0.0));  // -0.0 is the integer 0
}

TEST_CASE("env: bad Pendulum actions are rejected, out-of-range torques are clipped, not errors") {
  auto env = make_env("pendulum");
  env->reset(0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& [action, shown] : {std::pair{vec({nan}), std::string("nan")},
                                      std::pair{vec({-inf}), std::string("-inf")},
                                      std::pair{vec({1, 1}), std::string("got 2")}}) {
    const std::string msg = invalid_argument_message([&] { env->step(action); });
    CAPTURE(msg);
    CHECK(contains(msg, "Pendulum-v1"));
    CHECK(contains(msg, shown));
  }
  CHECK_NOTHROW(step(*env, 100.0));
}

TEST_CASE("env: stepping before reset or after the episode ended is a logic error") {
  for (const char* name : {"cartpole", "pendulum"}) {
    auto env = make_env(name);
    CHECK_THROWS_AS(step(*env, 0.0), std::logic_error);
    env->set_state(env->state(), env->max_episode_steps() - 1);
    CHECK(step(*env, 0.0).truncated);
    CHECK_FALSE(env->episode_running());
    CHECK_THROWS_AS(step(*env, 0.0), std::logic_error);
    env->reset(1);
    CHECK_NOTHROW(step(*env, 0.0));
  }
  pgcpp::CartPole env;
  env.set_state(vec({2.39, 1.0, 0.0, 0.0}));
  CHECK(step(env, 1).terminated);
  CHECK_THROWS_AS(step(env, 1), std::logic_error);
}

TEST_CASE("env: set_state checks size, finiteness and elapsed steps") {
  pgcpp::CartPole env;
  CHECK_THROWS_AS(env.set_state(vec({0, 0, 0})), std::invalid_argument);
  CHECK_THROWS_AS(env.set_state(vec({0, 0, std::numeric_limits<double>::quiet_NaN(), 0})),
                  std::invalid_argument);
  CHECK_THROWS_AS(env.set_state(vec({0, 0, 0, 0}), -1), std::invalid_argument);
  CHECK_THROWS_AS(env.set_state(vec({0, 0, 0, 0}), 500), std::invalid_argument);
  env.set_state(vec({0.1, 0.2, 0.03, 0.4}), 17);
  CHECK(env.state() == vec({0.1, 0.2, 0.03, 0.4}));
  CHECK(env.elapsed_steps() == 17);
  step(env, 0);
  CHECK(env.elapsed_steps() == 18);
}

TEST_CASE("env: clones are independent and replay the same trajectory") {
  for (const char* name : {"cartpole", "pendulum"}) {
    auto env = make_env(name);
    env->reset(5);
    auto copy = env->clone();
    for (int t = 0; t < 5; ++t) {
      const double a = t % 2;
      const auto r1 = step(*env, a);
      const auto r2 = step(*copy, a);
      CHECK(r1.observation == r2.observation);
      CHECK(r1.reward == r2.reward);
    }
    step(*env, 0.0);
    CHECK(env->elapsed_steps() == copy->elapsed_steps() + 1);
  }
}

TEST_CASE("env: reset(seed) equals reset(Rng(seed)) and the allocation-free step agrees") {
  for (const char* name : {"cartpole", "pendulum"}) {
    auto a = make_env(name), b = make_env(name);
    pgcpp::Rng rng(42);
    CHECK(a->reset(42) == b->reset(rng));
    Eigen::VectorXd obs(b->obs_dim());
    bool terminated = false, truncated = false;
    const auto r = step(*a, 1.0);
    const double reward = b->step(vec({1.0}), obs, terminated, truncated);
    CHECK(r.observation == obs);
    CHECK(r.reward == reward);
    CHECK(r.terminated == terminated);
    CHECK(r.truncated == truncated);
  }
}
