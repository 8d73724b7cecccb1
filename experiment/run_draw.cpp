// rollout.svg and rollout_anim.svg of one evaluation episode, drawn with envs/draw.hpp.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "experiment/program.hpp"
#include "experiment/run.hpp"
#include "envs/draw.hpp"
#include "envs/env.hpp"

namespace pgcpp {

namespace {

void save_text(const std::filesystem::path& path, const std::string& text) { write_file_atomically(path, text); }

}  // namespace

void draw_rollout(const std::string& env_name, const Evaluation& ev, const std::filesystem::path& dir,
                  const std::string& title) {
  if (ev.states.empty()) throw std::invalid_argument("draw_rollout: the evaluation recorded no episode");
  const std::unique_ptr<Env> env = make_env(env_name);
  const std::string id = env->name();
  const double dt = env->spec().dt;
  // The action taken in each state; none in the final one.
  std::vector<double> actions(ev.states.size(), draw::no_action);
  for (std::size_t t = 0; t < ev.actions.size() && t < actions.size(); ++t) actions[t] = ev.actions[t][0];

  char summary[96];
  std::snprintf(summary, sizeof summary, " — return %.1f in %zu steps", ev.returns.empty() ? 0.0 : ev.returns[0],
                ev.actions.size());

  // Filmstrip: 10 frames evenly spaced over the episode, first and last included.
  const std::size_t n = ev.states.size();
  const std::size_t frames = std::min<std::size_t>(10, n);
  std::vector<Eigen::VectorXd> states;
  std::vector<double> times, frame_actions;
  for (std::size_t k = 0; k < frames; ++k) {
    const std::size_t t = frames == 1 ? 0 : k * (n - 1) / (frames - 1);
    states.push_back(ev.states[t]);
    times.push_back(static_cast<double>(t) * dt);
    frame_actions.push_back(actions[t]);
  }
  save_text(dir / "rollout.svg",
            draw::filmstrip_svg(id, states, times, frame_actions,
                                {.frame_width = 180, .frame_height = 135, .columns = 5, .title = title + summary}));
  // The final state has no action (no_action): the animation shows no arrow or torque there.
  save_text(dir / "rollout_anim.svg",
            draw::animation_svg(id, ev.states, actions, {.width = 640, .height = 400, .title = title + summary}));
}

}  // namespace pgcpp
