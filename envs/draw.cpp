#include "envs/draw.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>

#include "envs/env.hpp"

namespace pgcpp::draw {

namespace {

using plot::Style;
using plot::svg_number;
constexpr double pi = std::numbers::pi;
constexpr double degrees = 180.0 / pi;

// Gymnasium's colours, so the pictures look like the ones readers know.
const std::string cart_colour = "#000000", pole_colour = "#ca9865", axle_colour = "#8184cb";
const std::string rod_colour = "#cc4d4d", action_colour = "#0072b2", limit_colour = "#d55e00";

enum class Kind { cartpole, pendulum };

Kind kind_of(const std::string& env_name) {
  const std::string name = make_env(env_name)->name();  // throws, listing the valid names
  if (name == "CartPole-v1") return Kind::cartpole;
  if (name == "Pendulum-v1") return Kind::pendulum;
  throw std::invalid_argument("draw: no drawing for " + name + " (only CartPole-v1 and Pendulum-v1)");
}

// ---- CartPole geometry (metres, Gymnasium's proportions) ----
constexpr double cart_w = 0.4, cart_h = 0.24, pole_w = 0.08, pole_len = 1.0, x_limit = 2.4;

struct CartLayout {
  double scale;    // pixels per metre
  double x0;       // pixel column of x = 0
  double track_y;  // pixel row of the track
  double axle_y() const { return track_y - cart_h * scale; }
};

CartLayout cart_layout(const Box& b) {
  // The box shows x in [-2.8, 2.8] (the limits +-2.4 and a cart at them); cart and upright
  // pole, (cart_h + pole_len) tall, are centred vertically.
  const double height = cart_h + pole_len;
  const double scale = std::min(b.w / 5.6, 0.8 * b.h / height);
  return {scale, b.x + b.w / 2, b.y + (b.h + height * scale) / 2};
}

void cart_track(plot::SvgCanvas& c, const Box& b, const CartLayout& L) {
  c.line(b.x + 4, L.track_y, b.x + b.w - 4, L.track_y, {.stroke = "#555", .stroke_width = 1.0});
  for (double side : {-1.0, 1.0}) {  // termination limits x = +-2.4
    const double px = L.x0 + side * x_limit * L.scale;
    c.line(px, L.track_y - 0.25 * L.scale, px, L.track_y + 4,
           {.stroke = limit_colour, .stroke_width = 1.5, .dash = "3,2"});
  }
}

// A bar of width `width` from pivot (px, py) along the direction `angle` (radians clockwise
// from up on screen), as a polygon.
void bar(plot::SvgCanvas& c, double px, double py, double angle, double length, double width,
         const std::string& colour) {
  const double ux = std::sin(angle), uy = -std::cos(angle);  // along the bar
  const double nx = -uy * width / 2, ny = ux * width / 2;    // across it
  const double tx = px + ux * length, ty = py + uy * length;
  c.polygon({px + nx, tx + nx, tx - nx, px - nx}, {py + ny, ty + ny, ty - ny, py - ny},
            {.fill = colour});
}

void push_arrow(plot::SvgCanvas& c, double cx, double cy, double direction, double size,
                double opacity = 1.0) {
  const double tip = cx + direction * size, base = cx + direction * size * 0.2;
  c.polygon({base, tip, base}, {cy - size * 0.45, cy, cy + size * 0.45},
            {.fill = action_colour, .opacity = opacity});
}

// Cart at world position x with the pole at angle theta (theta > 0 leans right).
void cart_and_pole(plot::SvgCanvas& c, const CartLayout& L, double x, double theta) {
  const double cx = L.x0 + x * L.scale, s = L.scale;
  c.rect(cx - cart_w / 2 * s, L.axle_y(), cart_w * s, cart_h * s, {.fill = cart_colour});
  bar(c, cx, L.axle_y(), theta, pole_len * s, pole_w * s, pole_colour);
  c.circle(cx, L.axle_y(), pole_w / 2 * s, {.fill = axle_colour});
}

// ---- Pendulum geometry (rod of length 1) ----
struct PendulumLayout {
  double scale, cx, cy;
};

PendulumLayout pendulum_layout(const Box& b) {
  return {std::min(b.w, b.h) / 2.6, b.x + b.w / 2, b.y + b.h / 2};
}

double pendulum_angle(const Eigen::VectorXd& state) {
  if (state.size() == 2) return state[0];
  if (state.size() == 3) return std::atan2(state[1], state[0]);
  throw std::invalid_argument("draw: a Pendulum state has 2 (th, thdot) or 3 (cos, sin, thdot) "
                              "elements, got " + std::to_string(state.size()));
}

void rod(plot::SvgCanvas& c, const PendulumLayout& L, double th) {
  // th counter-clockwise from up = -th clockwise on screen.
  const double s = L.scale;
  bar(c, L.cx, L.cy, -th, s, 0.2 * s, rod_colour);
  c.circle(L.cx - s * std::sin(th), L.cy - s * std::cos(th), 0.1 * s, {.fill = rod_colour});
  c.circle(L.cx, L.cy, 0.1 * s, {.fill = rod_colour});
}

void pivot(plot::SvgCanvas& c, const PendulumLayout& L) {
  c.circle(L.cx, L.cy, 0.05 * L.scale, {.fill = "#000000"});
}

// Torque as an arc around the pivot, counter-clockwise for u > 0, 270 degrees at |u| = 2.
void torque_arc(plot::SvgCanvas& c, const PendulumLayout& L, double u) {
  const double extent = std::min(std::abs(u), 2.0) / 2.0 * 1.5 * pi;
  if (extent < 1e-3) return;
  const double sign = u > 0 ? 1.0 : -1.0, r = 0.35 * L.scale;
  std::vector<double> xs, ys;
  const int n = 40;
  double phi = 0.0;
  for (int i = 0; i <= n; ++i) {  // phi counter-clockwise from down
    phi = pi + sign * (-extent / 2 + extent * i / n);
    xs.push_back(L.cx - r * std::sin(phi));
    ys.push_back(L.cy - r * std::cos(phi));
  }
  const Style stroke{.stroke = action_colour, .stroke_width = std::max(1.5, 0.04 * L.scale)};
  c.polyline(xs, ys, stroke);
  // Arrowhead along the tangent at the end of the arc.
  const double tx = -sign * std::cos(phi), ty = sign * std::sin(phi), h = 0.12 * L.scale;
  const double ex = xs.back(), ey = ys.back();
  c.polygon({ex + tx * h, ex - ty * h * 0.5, ex + ty * h * 0.5},
            {ey + ty * h, ey + tx * h * 0.5, ey - tx * h * 0.5}, {.fill = action_colour});
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void check_actions(const std::vector<Eigen::VectorXd>& states, const std::vector<double>& actions) {
  if (states.empty()) throw std::invalid_argument("draw: no states");
  if (!actions.empty() && actions.size() != states.size())
    throw std::invalid_argument("draw: actions must be empty or one per state");
}

double action_at(const std::vector<double>& actions, std::size_t i) {
  return actions.empty() ? no_action : actions[i];
}

// An action is drawn only when it is finite; NaN (no_action, e.g. in an episode's final state,
// where no action is taken) draws no arrow or torque.
bool drawn(double action) { return std::isfinite(action); }

// Whether any state of an animation has an action to draw: if none has, the arrows or the
// torque gauge are left out altogether, as for an empty `actions`.
bool any_drawn(const std::vector<double>& actions) {
  return std::any_of(actions.begin(), actions.end(), drawn);
}

}  // namespace

void cartpole_frame(plot::SvgCanvas& canvas, const Box& box, const Eigen::VectorXd& state,
                    double action) {
  if (state.size() != 4)
    throw std::invalid_argument("draw: a CartPole state has 4 elements, got " +
                                std::to_string(state.size()));
  const CartLayout L = cart_layout(box);
  cart_track(canvas, box, L);
  cart_and_pole(canvas, L, state[0], state[2]);
  if (drawn(action)) {
    const double cx = L.x0 + state[0] * L.scale, cy = L.axle_y() + cart_h * L.scale / 2;
    push_arrow(canvas, cx + (action > 0.5 ? 1 : -1) * cart_w / 2 * L.scale, cy,
               action > 0.5 ? 1.0 : -1.0, 0.22 * L.scale);
  }
}

void pendulum_frame(plot::SvgCanvas& canvas, const Box& box, const Eigen::VectorXd& state,
                    double torque) {
  const PendulumLayout L = pendulum_layout(box);
  const double th = pendulum_angle(state);
  if (drawn(torque)) torque_arc(canvas, L, torque);
  rod(canvas, L, th);
  pivot(canvas, L);
}

void frame(plot::SvgCanvas& canvas, const std::string& env_name, const Box& box,
           const Eigen::VectorXd& state, double action) {
  if (kind_of(env_name) == Kind::cartpole) cartpole_frame(canvas, box, state, action);
  else pendulum_frame(canvas, box, state, action);
}

std::string frame_svg(const std::string& env_name, const Eigen::VectorXd& state, double action,
                      double width, double height) {
  plot::SvgCanvas canvas(width, height);
  frame(canvas, env_name, {0, 0, width, height}, state, action);
  return canvas.str();
}

std::string filmstrip_svg(const std::string& env_name, const std::vector<Eigen::VectorXd>& states,
                          const std::vector<double>& times, const std::vector<double>& actions,
                          const FilmstripOptions& o) {
  check_actions(states, actions);
  if (times.size() != states.size())
    throw std::invalid_argument("draw: filmstrip needs one time per state");
  const int n = static_cast<int>(states.size());
  const int columns = o.columns > 0 ? std::min(o.columns, n) : n;
  const int rows = (n + columns - 1) / columns;
  const double label_h = 20, title_h = o.title.empty() ? 0 : 26, gap = 6;
  plot::SvgCanvas canvas(columns * (o.frame_width + gap) + gap,
                         title_h + rows * (o.frame_height + label_h + gap) + gap);
  if (!o.title.empty()) canvas.text(canvas.width() / 2, 18, o.title, 14, "middle");
  for (int i = 0; i < n; ++i) {
    const Box box{gap + (i % columns) * (o.frame_width + gap),
                  title_h + gap + (i / columns) * (o.frame_height + label_h + gap), o.frame_width,
                  o.frame_height};
    canvas.rect(box.x, box.y, box.w, box.h, {.stroke = "#ccc"});
    const auto k = static_cast<std::size_t>(i);
    frame(canvas, env_name, box, states[k], action_at(actions, k));
    canvas.text(box.x + box.w / 2, box.y + box.h + 14, "t = " + fixed(times[k], 2) + " s", 11,
                "middle");
  }
  return canvas.str();
}

namespace {

// <animateTransform>/<animate> whose values are played evenly over `dur` seconds, looping.
std::string animation_element(const std::string& tag, const std::string& attributes,
                              const std::vector<std::string>& values, double dur, bool discrete) {
  std::string v;
  for (std::size_t i = 0; i < values.size(); ++i) v += (i ? ";" : "") + values[i];
  return "<" + tag + " " + attributes + " dur=\"" + fixed(dur, 3) +
         "s\" repeatCount=\"indefinite\"" + (discrete ? " calcMode=\"discrete\"" : "") +
         " values=\"" + v + "\"/>\n";
}

void cartpole_animation(plot::SvgCanvas& c, const Box& box,
                        const std::vector<Eigen::VectorXd>& states,
                        const std::vector<double>& actions, double dur) {
  const CartLayout L = cart_layout(box);
  cart_track(c, box, L);
  const bool arrows = any_drawn(actions);
  std::vector<std::string> shift, turn, right, left;
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i].size() != 4)
      throw std::invalid_argument("draw: a CartPole state has 4 elements, got " +
                                  std::to_string(states[i].size()));
    shift.push_back(svg_number(states[i][0] * L.scale) + ",0");
    turn.push_back(svg_number(states[i][2] * degrees) + " " + svg_number(L.x0) + " " +
                   svg_number(L.axle_y()));
    if (arrows) {  // both arrows hidden where there is no action
      const bool push = drawn(actions[i]);
      right.push_back(push && actions[i] > 0.5 ? "1" : "0");
      left.push_back(push && !(actions[i] > 0.5) ? "1" : "0");
    }
  }
  c.begin_group();  // moves with x
  c.raw(animation_element("animateTransform", "attributeName=\"transform\" type=\"translate\"",
                          shift, dur, false));
  const double s = L.scale;
  c.rect(L.x0 - cart_w / 2 * s, L.axle_y(), cart_w * s, cart_h * s, {.fill = cart_colour});
  if (arrows) {
    const double cy = L.axle_y() + cart_h * s / 2;
    for (double side : {1.0, -1.0}) {
      c.begin_group("opacity=\"0\"");
      c.raw(animation_element("animate", "attributeName=\"opacity\"", side > 0 ? right : left,
                              dur, true));
      push_arrow(c, L.x0 + side * cart_w / 2 * s, cy, side, 0.22 * s);
      c.end_group();
    }
  }
  c.begin_group();  // turns with theta about the axle
  c.raw(animation_element("animateTransform", "attributeName=\"transform\" type=\"rotate\"",
                          turn, dur, false));
  bar(c, L.x0, L.axle_y(), 0.0, pole_len * s, pole_w * s, pole_colour);
  c.end_group();
  c.circle(L.x0, L.axle_y(), pole_w / 2 * s, {.fill = axle_colour});
  c.end_group();
}

void pendulum_animation(plot::SvgCanvas& c, const Box& box,
                        const std::vector<Eigen::VectorXd>& states,
                        const std::vector<double>& actions, double dur) {
  const PendulumLayout L = pendulum_layout(box);
  std::vector<std::string> turn, gauge_x, gauge_w;
  const double gauge_scale = 0.4 * L.scale, gauge_y = box.y + box.h - 10;  // pixels per N m
  const bool gauge = any_drawn(actions);
  for (std::size_t i = 0; i < states.size(); ++i) {
    turn.push_back(svg_number(-pendulum_angle(states[i]) * degrees) + " " + svg_number(L.cx) +
                   " " + svg_number(L.cy));
    if (gauge) {  // an empty bar where there is no action
      const double u = drawn(actions[i]) ? std::clamp(actions[i], -2.0, 2.0) : 0.0;
      gauge_x.push_back(svg_number(L.cx + std::min(u, 0.0) * gauge_scale));
      gauge_w.push_back(svg_number(std::abs(u) * gauge_scale));
    }
  }
  c.begin_group();
  c.raw(animation_element("animateTransform", "attributeName=\"transform\" type=\"rotate\"",
                          turn, dur, false));
  rod(c, L, 0.0);
  c.end_group();
  pivot(c, L);
  if (gauge) {  // torque gauge: a bar right of centre for u > 0, left for u < 0
    c.rect(L.cx - 2 * gauge_scale, gauge_y - 4, 4 * gauge_scale, 8, {.stroke = "#aaa"});
    c.line(L.cx, gauge_y - 7, L.cx, gauge_y + 7, {.stroke = "#555"});
    c.raw("<rect x=\"" + svg_number(L.cx) + "\" y=\"" + svg_number(gauge_y - 4) +
          "\" width=\"0\" height=\"8\" fill=\"" + action_colour + "\">\n" +
          animation_element("animate", "attributeName=\"x\"", gauge_x, dur, false) +
          animation_element("animate", "attributeName=\"width\"", gauge_w, dur, false) +
          "</rect>\n");
    c.text(L.cx - 2 * gauge_scale - 4, gauge_y + 4, "torque", 10, "end", "#555");
  }
}

}  // namespace

std::string animation_svg(const std::string& env_name, const std::vector<Eigen::VectorXd>& states,
                          const std::vector<double>& actions, const AnimationOptions& o) {
  check_actions(states, actions);
  const Kind kind = kind_of(env_name);
  const double dt = o.dt > 0 ? o.dt : make_env(env_name)->spec().dt;
  const double episode_time = static_cast<double>(states.size() - 1) * dt;
  const double dur = std::max(episode_time, dt) / o.speed;
  const double title_h = o.title.empty() ? 0 : 24, bar_h = 30;
  plot::SvgCanvas c(o.width, o.height);
  if (!o.title.empty()) {
    // A long title shrinks to fit the width (about 0.58 em per character; UTF-8 continuation bytes not counted).
    const double chars = static_cast<double>(std::count_if(o.title.begin(), o.title.end(),
                                                           [](char ch) { return (ch & 0xC0) != 0x80; }));
    c.text(o.width / 2, 17, o.title, std::clamp((o.width - 12) / (0.58 * chars), 8.0, 14.0), "middle");
  }
  const Box box{0, title_h, o.width, o.height - title_h - bar_h};
  if (kind == Kind::cartpole) cartpole_animation(c, box, states, actions, dur);
  else pendulum_animation(c, box, states, actions, dur);
  // Progress bar: the elapsed episode time, with room on each side for its labels ("0 s" and
  // e.g. "10.00 s" at font size 10, about 6 px per character) so neither touches the edge.
  const std::string end_label = fixed(episode_time, 2) + " s";
  const double x0 = 10 + 6.0 * 3 + 4, right = 10 + 6.0 * static_cast<double>(end_label.size()) + 4;
  const double y = o.height - bar_h + 8, w = std::max(1.0, o.width - x0 - right);
  c.rect(x0, y, w, 6, {.stroke = "#aaa"});
  c.raw("<rect x=\"" + svg_number(x0) + "\" y=\"" + svg_number(y) +
        "\" width=\"0\" height=\"6\" fill=\"#888\">\n" +
        animation_element("animate", "attributeName=\"width\"", {"0", svg_number(w)}, dur, false) +
        "</rect>\n");
  c.text(x0 - 4, y + 6, "0 s", 10, "end", "#555");
  c.text(x0 + w + 4, y + 6, end_label, 10, "start", "#555");
  return c.str();
}

}  // namespace pgcpp::draw
