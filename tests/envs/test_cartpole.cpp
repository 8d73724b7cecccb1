#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "envs/cartpole.hpp"
#include "test_util.hpp"

using pgcpp::CartPole;
using pgcpp::test::step;
using pgcpp::test::vec;

namespace {

// One Euler step of the frictionless cart-pole, written out from the equations
// (Florian 2005; Barto, Sutton & Anderson 1983) with the constants of Gymnasium's CartPole-v1:
//   F = +-10, m_c = 1, m_p = 0.1, half length l = 0.5, g = 9.8, tau = 0.02,
//   temp     = (F + m_p l thd^2 sin th) / (m_c + m_p)
//   theta_dd = (g sin th - cos th temp) / (l (4/3 - m_p cos^2 th / (m_c + m_p)))
//   x_dd     = temp - m_p l theta_dd cos th / (m_c + m_p)
//   x' = x + tau xd, xd' = xd + tau x_dd, th' = th + tau thd, thd' = thd + tau theta_dd.
Eigen::VectorXd hand_step(const Eigen::VectorXd& s, int action) {
  const double F = action == 1 ? 10.0 : -10.0, mc = 1.0, mp = 0.1, l = 0.5, g = 9.8, tau = 0.02;
  const double x = s[0], xd = s[1], th = s[2], thd = s[3];
  const double temp = (F + mp * l * thd * thd * std::sin(th)) / (mc + mp);
  const double theta_dd = (g * std::sin(th) - std::cos(th) * temp) /
                          (l * (4.0 / 3.0 - mp * std::cos(th) * std::cos(th) / (mc + mp)));
  const double x_dd = temp - mp * l * theta_dd * std::cos(th) / (mc + mp);
  return vec({x + tau * xd, xd + tau * x_dd, th + tau * thd, thd + tau * theta_dd});
}

void check_close(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  REQUIRE(a.size() == b.size());
  // Same equations, grouped differently: agreement to a few ulps of the state's scale.
  for (Eigen::Index i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-13));
}

}  // namespace

TEST_CASE("cartpole: description matches Gymnasium's CartPole-v1") {
  CartPole env;
  CHECK(env.name() == "CartPole-v1");
  CHECK(env.obs_dim() == 4);
  CHECK(env.discrete());
  CHECK(env.num_actions() == 2);
  CHECK(env.act_dim() == 1);
  CHECK(env.max_episode_steps() == 500);
  CHECK(CartPole::theta_threshold_radians == doctest::Approx(12.0 * std::numbers::pi / 180.0));
}

TEST_CASE("cartpole: one step equals the equations of motion, both actions") {
  const Eigen::VectorXd s0 = vec({0.01, -0.02, 0.03, 0.5});
  for (int action : {0, 1}) {
    CAPTURE(action);
    CartPole env;
    env.set_state(s0);
    const auto r = step(env, action);
    check_close(env.state(), hand_step(s0, action));
    check_close(r.observation, env.state());  // observation = state (in double)
    CHECK(r.reward == 1.0);
    CHECK_FALSE(r.terminated);
    CHECK_FALSE(r.truncated);
  }
}

TEST_CASE("cartpole: pushing right accelerates the cart right and the pole left") {
  CartPole env;
  env.set_state(vec({0, 0, 0, 0}));
  step(env, 1);
  const auto s = env.state();
  CHECK(s[1] > 0.0);  // x_dot
  CHECK(s[3] < 0.0);  // theta_dot
  CHECK(s[0] == 0.0);  // Euler: the position moves with the old velocity
}

TEST_CASE("cartpole: terminates beyond each of the four limits, with reward 1") {
  const double thr = CartPole::theta_threshold_radians;
  struct Case { const char* what; Eigen::VectorXd state; };
  // Positions move with the old velocity: x' = x + 0.02 x_dot, theta' = theta + 0.02 theta_dot.
  const Case cases[] = {
      {"x > 2.4", vec({2.39, 1.0, 0.0, 0.0})},
      {"x < -2.4", vec({-2.39, -1.0, 0.0, 0.0})},
      {"theta > thr", vec({0.0, 0.0, thr - 0.001, 0.1})},
      {"theta < -thr", vec({0.0, 0.0, -thr + 0.001, -0.1})},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CartPole env;
    env.set_state(c.state);
    const auto r = step(env, 0);
    CHECK(r.terminated);
    CHECK_FALSE(r.truncated);
    CHECK(r.reward == 1.0);  // Gymnasium rewards the terminating step too
  }
}

TEST_CASE("cartpole: the limits themselves are not terminal (strict inequalities)") {
  // At x = 2.4 with x_dot = 0 the Euler step leaves x exactly at 2.4; same for theta.
  for (const auto& s : {vec({2.4, 0.0, 0.0, 0.0}), vec({-2.4, 0.0, 0.0, 0.0}),
                        vec({0.0, 0.0, CartPole::theta_threshold_radians, 0.0}),
                        vec({0.0, 0.0, -CartPole::theta_threshold_radians, 0.0})}) {
    CartPole env;
    env.set_state(s);
    CHECK_FALSE(step(env, 1).terminated);
  }
}

TEST_CASE("cartpole: truncated at exactly 500 steps by a balancing controller") {
  CartPole env;
  Eigen::VectorXd obs = env.reset(3);
  int steps = 0;
  double total = 0.0;
  for (;;) {
    // Push toward the side the pole is falling to: keeps it up for the whole episode.
    const int action = obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0.0 ? 1 : 0;
    const auto r = step(env, action);
    obs = r.observation;
    total += r.reward;
    ++steps;
    REQUIRE_FALSE(r.terminated);
    if (r.truncated) break;
  }
  CHECK(steps == 500);
  CHECK(total == 500.0);
  CHECK(env.elapsed_steps() == 500);
}

TEST_CASE("cartpole: a step at the time limit can be both terminated and truncated") {
  CartPole env;
  env.set_state(vec({2.39, 1.0, 0.0, 0.0}), 499);
  const auto r = step(env, 1);
  CHECK(r.terminated);
  CHECK(r.truncated);  // TimeLimit sets truncated at the limit whatever the env said
}

TEST_CASE("cartpole: reset draws each component uniformly in [-0.05, 0.05]") {
  CartPole env;
  Eigen::VectorXd lo = Eigen::VectorXd::Constant(4, 1.0), hi = -lo;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    const auto obs = env.reset(seed);
    lo = lo.cwiseMin(obs);
    hi = hi.cwiseMax(obs);
  }
  CHECK((lo.array() >= -0.05).all());
  CHECK((hi.array() <= 0.05).all());
  CHECK((lo.array() < -0.049).all());  // and covers the whole interval
  CHECK((hi.array() > 0.049).all());
  CHECK(env.reset(7) == env.reset(7));
  CHECK(env.reset(7) != env.reset(8));
}
