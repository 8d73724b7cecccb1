// The metrics.csv columns of SacStats, the same for sac and sac_discrete (mbpo logs its own: the
// model's loss first, and alpha only once updates began). Included by demos/sac.cpp and
// demos/sac_discrete.cpp only.
#pragma once

#include <string>
#include <vector>

#include "chapter3/3_4_8_sac.hpp"
#include "experiment/demo.hpp"

namespace pgcpp {

inline std::vector<std::string> sac_columns() { return {"critic_loss", "actor_loss", "alpha", "entropy"}; }

// One finished episode: the losses of the last update (none before the first), alpha (fixed or
// learned, known from the start), then the row and the progress line.
inline void log_sac_episode(RunLog& log, long env_steps, double episode_return, int length, const SacStats& stats) {
  if (stats.updates > 0) {
    log.set_loss("critic_loss", stats.critic_loss);
    log.set_loss("actor_loss", stats.actor_loss);
    log.set_loss("entropy", stats.entropy);
  }
  log.set_loss("alpha", stats.alpha);
  log_episode_end(log, env_steps, episode_return, length);
}

}  // namespace pgcpp
