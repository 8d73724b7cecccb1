#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

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

namespace {

// The `values` list of the first animation element after `from` whose attributes contain `what`.
std::vector<std::string> animated_values(const std::string& svg, const std::string& what,
                                         std::size_t from = 0) {
  const auto at = svg.find(what, from);
  REQUIRE(at != std::string::npos);
  const auto begin = svg.find("values=\"", at) + 8, end = svg.find('"', begin);
  std::vector<std::string> values;
  for (std::size_t pos = begin; pos <= end;) {
    const auto stop = std::min(svg.find(';', pos), end);
    values.push_back(svg.substr(pos, stop - pos));
    pos = stop + 1;
  }
  return values;
}

}  // namespace

// The final state of an episode has no action: run outputs pass no_action (NaN) there.
TEST_CASE("draw: a NaN action (no action, as in an episode's final state) draws no arrow or torque") {
  using pgcpp::draw::no_action;
  const double nan = std::nan("");
  // Frames: the same picture as without an action, for both environments.
  CHECK(pgcpp::draw::frame_svg("cartpole", vec({0.5, 0, 0.1, 0}), nan) ==
        pgcpp::draw::frame_svg("cartpole", vec({0.5, 0, 0.1, 0})));
  CHECK(count(pgcpp::draw::frame_svg("cartpole", vec({0.5, 0, 0.1, 0}), nan), "<polygon") == 1);  // pole only
  CHECK(pgcpp::draw::frame_svg("pendulum", vec({0.3, 1.0}), nan) ==
        pgcpp::draw::frame_svg("pendulum", vec({0.3, 1.0})));
  CHECK(count(pgcpp::draw::frame_svg("pendulum", vec({0.3, 1.0}), nan), "<polyline") == 0);

  // Filmstrips: an arrow in every frame but the last.
  const std::vector<Eigen::VectorXd> cart{vec({0, 0, 0, 0}), vec({0.1, 0, 0.05, 0}), vec({0.2, 0, 0.1, 0})};
  const std::string strip =
      pgcpp::draw::filmstrip_svg("cartpole", cart, {0, 0.02, 0.04}, {1, 0, no_action});
  CHECK(is_svg_document(strip));
  CHECK(count(strip, "<polygon") == 3 + 2);  // 3 poles + 2 arrows
  const std::vector<Eigen::VectorXd> pend{vec({0.3, 1.0}), vec({0.4, 1.2}), vec({0.5, 1.1})};
  const std::string pstrip =
      pgcpp::draw::filmstrip_svg("pendulum", pend, {0, 0.05, 0.1}, {1.5, -0.5, no_action});
  CHECK(count(pstrip, "<polyline") == 2);

  // Animations: CartPole shows neither arrow in the final state.
  const std::string anim = pgcpp::draw::animation_svg("cartpole", cart, {1, 0, no_action});
  CHECK(is_svg_document(anim));
  CHECK(count(anim, "repeatCount=\"indefinite\"") == 5);  // translation, 2 arrows, rotation, progress
  const auto first = anim.find("attributeName=\"opacity\"");
  const std::vector<std::string> right = animated_values(anim, "attributeName=\"opacity\"");
  const std::vector<std::string> left = animated_values(anim, "attributeName=\"opacity\"", first + 1);
  CHECK(right == std::vector<std::string>{"1", "0", "0"});
  CHECK(left == std::vector<std::string>{"0", "1", "0"});

  // Pendulum (whose gauge once wrote NaN coordinates and threw): an empty gauge in the final state.
  std::string panim;
  REQUIRE_NOTHROW(panim = pgcpp::draw::animation_svg("pendulum", pend, {1.5, -0.5, no_action}));
  CHECK(is_svg_document(panim));
  const std::vector<std::string> width = animated_values(panim, "attributeName=\"width\"");
  REQUIRE(width.size() == 3);
  CHECK(width[0] != "0");
  CHECK(width[1] != "0");
  CHECK(width[2] == "0");
  CHECK(panim.find("nan") == std::string::npos);

  // No action in any state: the same as no actions at all (no arrows, no gauge).
  const std::vector<double> none(pend.size(), no_action);
  CHECK(pgcpp::draw::animation_svg("pendulum", pend, none) == pgcpp::draw::animation_svg("pendulum", pend));
  CHECK(pgcpp::draw::animation_svg("cartpole", cart, {nan, nan, nan}) == pgcpp::draw::animation_svg("cartpole", cart));
  // A single-state episode (reset only, no action).
  CHECK_NOTHROW(pgcpp::draw::animation_svg("pendulum", {pend[0]}, {no_action}));
}
