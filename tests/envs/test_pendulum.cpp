#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "envs/pendulum.hpp"
#include "test_util.hpp"

using pgcpp::Pendulum;
using pgcpp::angle_normalize;
using pgcpp::test::step;
using pgcpp::test::vec;
constexpr double pi = std::numbers::pi;

TEST_CASE("pendulum: description matches Gymnasium's Pendulum-v1") {
  Pendulum env;
  CHECK(env.name() == "Pendulum-v1");
  CHECK(env.obs_dim() == 3);
  CHECK_FALSE(env.discrete());
  CHECK(env.act_dim() == 1);
  CHECK(env.action_low()[0] == -2.0);
  CHECK(env.action_high()[0] == 2.0);
  CHECK(env.max_episode_steps() == 200);
  CHECK(env.g() == 10.0);
}

TEST_CASE("pendulum: one step equals the equations of motion") {
  // g = 10, m = l = 1, dt = 0.05:
  //   reward  = -(th^2 + 0.1 thd^2 + 0.001 u^2)           (th already in [-pi, pi))
  //   thd'    = thd + (3 g / (2 l) sin th + 3 / (m l^2) u) dt
  //   th'     = th + thd' dt,   observation (cos th', sin th', thd')
  const double th = 0.7, thd = -1.3, u = 0.4;
  Pendulum env;
  env.set_state(vec({th, thd}));
  const auto r = step(env, u);
  const double thd_new = thd + (15.0 * std::sin(th) + 3.0 * u) * 0.05;
  const double th_new = th + thd_new * 0.05;
  CHECK(env.state()[0] == doctest::Approx(th_new).epsilon(1e-14));
  CHECK(env.state()[1] == doctest::Approx(thd_new).epsilon(1e-14));
  CHECK(r.reward == doctest::Approx(-(th * th + 0.1 * thd * thd + 0.001 * u * u)).epsilon(1e-14));
  CHECK(r.observation[0] == doctest::Approx(std::cos(th_new)).epsilon(1e-14));
  CHECK(r.observation[1] == doctest::Approx(std::sin(th_new)).epsilon(1e-14));
  CHECK(r.observation[2] == doctest::Approx(thd_new).epsilon(1e-14));
  CHECK_FALSE(r.terminated);
  CHECK_FALSE(r.truncated);
}

TEST_CASE("pendulum: the reward uses the normalized angle of the state before the step") {
  Pendulum env;
  env.set_state(vec({2 * pi + 0.5, 0.0}));  // same position as 0.5
  const double expected = -(0.5 * 0.5);     // u = 0, thdot = 0
  CHECK(step(env, 0.0).reward == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("pendulum: torque is clipped to [-2, 2], in the dynamics and in the reward") {
  for (double big : {2.0, 5.0, 1e6}) {
    for (double sign : {1.0, -1.0}) {
      Pendulum clipped, reference;
      clipped.set_state(vec({0.3, 0.2}));
      reference.set_state(vec({0.3, 0.2}));
      const auto r = step(clipped, sign * big);
      const auto ref = step(reference, sign * 2.0);
      CHECK(clipped.state() == reference.state());
      CHECK(r.reward == ref.reward);  // 0.001 * 2^2, not 0.001 * big^2
    }
  }
}

TEST_CASE("pendulum: angular speed is clipped to [-8, 8] before the angle update") {
  Pendulum env;
  env.set_state(vec({-pi / 2, 7.9}));
  step(env, 2.0);  // 7.9 + (-15 + 6) * 0.05 = 7.45: inside the limits, not clipped
  CHECK(env.state()[1] == doctest::Approx(7.45));
  env.set_state(vec({pi / 2, 7.9}));
  step(env, 2.0);  // 7.9 + (15 + 6) * 0.05 = 8.95 -> 8
  CHECK(env.state()[1] == 8.0);
  CHECK(env.state()[0] == doctest::Approx(pi / 2 + 8.0 * 0.05));
  env.set_state(vec({-pi / 2, -7.9}));
  step(env, -2.0);  // -8.95 -> -8
  CHECK(env.state()[1] == -8.0);
  CHECK(env.state()[0] == doctest::Approx(-pi / 2 - 8.0 * 0.05));
}

TEST_CASE("pendulum: angle_normalize uses Python's floored modulo, result between -pi and pi") {
  CHECK(angle_normalize(0.0) == 0.0);
  CHECK(angle_normalize(0.5) == doctest::Approx(0.5));
  CHECK(angle_normalize(-0.5) == doctest::Approx(-0.5));
  // Exact multiples of pi: both pi and -pi map to -pi (the interval is half-open).
  CHECK(angle_normalize(pi) == -pi);
  CHECK(angle_normalize(-pi) == -pi);
  CHECK(std::abs(angle_normalize(2 * pi)) < 1e-15);
  CHECK(std::abs(angle_normalize(-2 * pi)) < 1e-15);
  CHECK(std::abs(std::abs(angle_normalize(3 * pi)) - pi) < 1e-12);
  CHECK(std::abs(std::abs(angle_normalize(-3 * pi)) - pi) < 1e-12);
  // Negative angles wrap upward: C's truncating fmod would leave -7 at -7.
  CHECK(angle_normalize(-7.0) == doctest::Approx(-7.0 + 2 * pi));
  CHECK(angle_normalize(7.0) == doctest::Approx(7.0 - 2 * pi));
  CHECK(angle_normalize(-100.0) == doctest::Approx(-100.0 + 32 * pi));
  for (double x = -50.0; x < 50.0; x += 0.37) {
    const double y = angle_normalize(x);
    CHECK(y >= -pi);
    CHECK(y <= pi);  // rounding of (x + pi) mod 2pi may land exactly on 2pi
  }
}

TEST_CASE("pendulum: never terminates, truncated at exactly 200 steps") {
  Pendulum env;
  env.reset(11);
  for (int t = 1; t <= 200; ++t) {
    const auto r = step(env, 2.0 * std::sin(0.1 * t));
    CHECK_FALSE(r.terminated);
    CHECK(r.truncated == (t == 200));
  }
  CHECK_THROWS_AS(step(env, 0.0), std::logic_error);
}

TEST_CASE("pendulum: reset draws th in [-pi, pi] and thdot in [-1, 1]") {
  Pendulum env;
  double th_lo = 10, th_hi = -10, v_lo = 10, v_hi = -10;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    const auto obs = env.reset(seed);
    const auto s = env.state();
    th_lo = std::min(th_lo, s[0]);
    th_hi = std::max(th_hi, s[0]);
    v_lo = std::min(v_lo, s[1]);
    v_hi = std::max(v_hi, s[1]);
    CHECK(obs[0] == std::cos(s[0]));
    CHECK(obs[1] == std::sin(s[0]));
    CHECK(obs[2] == s[1]);
  }
  CHECK(th_lo >= -pi);
  CHECK(th_hi <= pi);
  CHECK(th_lo < -3.1);
  CHECK(th_hi > 3.1);
  CHECK(v_lo >= -1.0);
  CHECK(v_hi <= 1.0);
  CHECK(v_lo < -0.99);
  CHECK(v_hi > 0.99);
}
