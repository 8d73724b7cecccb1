#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "envs/cartpole.hpp"
#include "envs/draw.hpp"
#include "test_util.hpp"

using pgcpp::test::vec;

namespace {

int count(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

bool is_svg_document(const std::string& svg) {
  return svg.rfind("<?xml", 0) == 0 && svg.find("<svg") != std::string::npos &&
         svg.size() > 7 && svg.compare(svg.size() - 7, 7, "</svg>\n") == 0;
}

}  // namespace

TEST_CASE("draw: frames of both environments are SVG documents with the expected shapes") {
  const std::string cart = pgcpp::draw::frame_svg("cartpole", vec({0.5, 0, 0.1, 0}), 1);
  CHECK(is_svg_document(cart));
  CHECK(count(cart, "<polygon") == 2);  // pole + push arrow
  CHECK(count(cart, "<circle") == 1);   // axle
  const std::string pend = pgcpp::draw::frame_svg("Pendulum-v1", vec({0.3, 1.0}), -1.5);
  CHECK(is_svg_document(pend));
  CHECK(count(pend, "<polyline") == 1);  // torque arc
  // The observation (cos th, sin th, thdot) draws the same picture as the state (th, thdot).
  CHECK(pgcpp::draw::frame_svg("pendulum", vec({std::cos(0.3), std::sin(0.3), 1.0})) ==
        pgcpp::draw::frame_svg("pendulum", vec({0.3, 1.0})));
}

TEST_CASE("draw: bad inputs are clear errors") {
  CHECK_THROWS_AS(pgcpp::draw::frame_svg("acrobot", vec({0, 0})), std::invalid_argument);
  CHECK_THROWS_AS(pgcpp::draw::frame_svg("cartpole", vec({0, 0})), std::invalid_argument);
  CHECK_THROWS_AS(pgcpp::draw::frame_svg("pendulum", vec({0, 0, 0, 0})), std::invalid_argument);
  CHECK_THROWS_AS(pgcpp::draw::filmstrip_svg("cartpole", {vec({0, 0, 0, 0})}, {}),
                  std::invalid_argument);
  CHECK_THROWS_AS(pgcpp::draw::animation_svg("cartpole", {}), std::invalid_argument);
}

TEST_CASE("draw: a filmstrip has one frame and one time label per state") {
  std::vector<Eigen::VectorXd> states;
  std::vector<double> times;
  for (int i = 0; i < 6; ++i) {
    states.push_back(vec({0.1 * i, 0, 0.02 * i, 0}));
    times.push_back(0.02 * i);
  }
  const std::string svg = pgcpp::draw::filmstrip_svg("cartpole", states, times, {},
                                                     {.columns = 3, .title = "rollout"});
  CHECK(is_svg_document(svg));
  CHECK(count(svg, "t = ") == 6);
  CHECK(svg.find("t = 0.10 s") != std::string::npos);
  CHECK(svg.find("rollout") != std::string::npos);
}

TEST_CASE("draw: an animation has one keyframe per step and lasts the episode's real time") {
  pgcpp::CartPole env;
  std::vector<Eigen::VectorXd> states{env.reset(2)};
  std::vector<double> actions;
  for (;;) {
    actions.push_back(states.back()[2] > 0 ? 1 : 0);
    const auto r = env.step(vec({actions.back()}));
    if (r.terminated || r.truncated) break;
    states.push_back(r.observation);
  }
  actions.resize(states.size());
  const std::string svg = pgcpp::draw::animation_svg("cartpole", states, actions);
  CHECK(is_svg_document(svg));
  CHECK(count(svg, "<animateTransform") == 2);  // cart translation, pole rotation
  CHECK(count(svg, "repeatCount=\"indefinite\"") == 5);  // + 2 push arrows + progress bar
  const auto values = svg.find("values=\"", svg.find("type=\"translate\""));
  const auto end = svg.find('"', values + 8);
  CHECK(count(svg.substr(values, end - values), ";") + 1 == static_cast<int>(states.size()));
  const double seconds = static_cast<double>(states.size() - 1) * 0.02;
  char dur[32];
  std::snprintf(dur, sizeof dur, "dur=\"%.3fs\"", seconds);
  CHECK(svg.find(dur) != std::string::npos);
}
