// Pictures of environment states as SVG: single frames, filmstrips (a row of frames with the
// time under each, like the book's rollout figures) and animations that play a whole episode in
// a browser (SMIL: <animateTransform>/<animate> with one value per step, looping).
//
// Geometry follows Gymnasium's renderers: CartPole's pole leans right for theta > 0 and its
// track is drawn over the termination range x in [-2.4, 2.4]; Pendulum's th = 0 is upright,
// positive th and positive torque are counter-clockwise.
//
// `state` is the internal state or the observation: CartPole (x, x_dot, theta, theta_dot);
// Pendulum (th, thdot) or (cos th, sin th, thdot). `env_name` is any name make_env accepts.
// An action is drawn when given (finite): CartPole's push as an arrow on the cart, Pendulum's
// torque as an arc around the pivot (in animations: a torque gauge). A non-finite action —
// `no_action` (NaN), as in an episode's final state, where none is taken — draws nothing, in
// frames, filmstrips and animations alike; it is never an error.
#pragma once

#include <Eigen/Dense>
#include <limits>
#include <string>
#include <vector>

#include "plot/svg.hpp"

namespace pgcpp::draw {

constexpr double no_action = std::numeric_limits<double>::quiet_NaN();

struct Box {
  double x = 0, y = 0, w = 300, h = 200;  // pixels, top-left corner and size
};

// One frame drawn into `box` of an existing canvas.
void cartpole_frame(plot::SvgCanvas& canvas, const Box& box, const Eigen::VectorXd& state,
                    double action = no_action);
void pendulum_frame(plot::SvgCanvas& canvas, const Box& box, const Eigen::VectorXd& state,
                    double torque = no_action);
void frame(plot::SvgCanvas& canvas, const std::string& env_name, const Box& box,
           const Eigen::VectorXd& state, double action = no_action);

// A standalone SVG document of one frame.
std::string frame_svg(const std::string& env_name, const Eigen::VectorXd& state,
                      double action = no_action, double width = 300, double height = 200);

struct FilmstripOptions {
  double frame_width = 160;
  double frame_height = 120;
  int columns = 0;        // frames per row; 0 = all in one row
  std::string title = "";
};

// Frames side by side with "t = ... s" under each; `times` (seconds) has one entry per state,
// `actions` is empty or has one entry per state (the action taken in that state).
std::string filmstrip_svg(const std::string& env_name, const std::vector<Eigen::VectorXd>& states,
                          const std::vector<double>& times, const std::vector<double>& actions = {},
                          const FilmstripOptions& options = {});

struct AnimationOptions {
  double width = 480;
  double height = 300;
  double dt = 0.0;     // seconds per step; 0 = the environment's own (EnvSpec::dt)
  double speed = 1.0;  // playback speed relative to real time
  std::string title = "";
};

// An SVG that plays the episode `states` (one per step) in a loop, in real time, with a
// progress bar underneath. `actions` is empty or one per state; a state whose action is
// `no_action` shows no push arrow (CartPole) or an empty torque gauge (Pendulum).
std::string animation_svg(const std::string& env_name, const std::vector<Eigen::VectorXd>& states,
                          const std::vector<double>& actions = {},
                          const AnimationOptions& options = {});

}  // namespace pgcpp::draw
