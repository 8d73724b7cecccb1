// What npg and trpo share, written once: a seed's training, the metrics.csv columns of
// TrustRegionStats, and the figure each seed's folder gets besides the usual outputs, the KL each
// update actually moved, Dbar_KL(theta_k || theta_k+1) measured exactly on its batch, against the
// radius delta (3.50), and for TRPO the number of backtracks of each line search. Included by
// demos/npg.cpp and demos/trpo.cpp only.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "chapter3/3_4_4_npg.hpp"
#include "experiment/demo.hpp"
#include "experiment/program.hpp"
#include "plot/plot.hpp"

namespace pgcpp {

// The loss columns of TrustRegionStats in metrics.csv; with_backtracks adds TRPO's.
inline std::vector<std::string> trust_region_columns(bool with_backtracks) {
  if (with_backtracks)
    return {"value_loss", "kl", "surrogate_gain", "alpha", "backtracks", "kl_full_step", "cg_residual"};
  return {"value_loss", "kl", "surrogate_gain", "alpha", "cg_residual"};
}

class TrustRegionRecord {
 public:
  explicit TrustRegionRecord(bool with_backtracks) : with_backtracks_(with_backtracks) {}

  // One iteration k: its columns (trust_region_columns), the segment's episodes (log_segment),
  // and its point of kl.svg.
  void log(RunLog& log, long k, const Segment& segment, long env_steps, const TrustRegionStats& s) {
    log.set_loss("value_loss", s.value_loss);
    log.set_loss("kl", s.kl);
    log.set_loss("surrogate_gain", s.surrogate_gain);
    log.set_loss("alpha", s.alpha);
    if (with_backtracks_) log.set_loss("backtracks", s.backtracks);
    if (with_backtracks_) log.set_loss("kl_full_step", s.kl_full_step);
    log.set_loss("cg_residual", s.cg_residual);
    log_segment(log, k, segment, env_steps);
    iteration_.push_back(static_cast<double>(k));
    kl_.push_back(s.accepted ? s.kl : std::nan(""));  // a rejected update moved nothing
    backtracks_.push_back(static_cast<double>(s.backtracks));
    kl_full_.push_back(s.kl_full_step);
  }

  // Writes dir/kl.svg; with backtracks, TRPO's second panel.
  void draw(const std::filesystem::path& dir, const std::string& title, double delta) const {
    plot::Figure fig(with_backtracks_ ? 2 : 1, 1, 720, with_backtracks_ ? 560 : 360);
    fig.title(title);
    plot::Axes& ax = fig.panel(0, 0);
    if (with_backtracks_)  // TRPO: what the full step beta^0 alpha p would have moved, before step 8
      ax.markers(iteration_, kl_full_, {.label = "KL of the full step (before the line search)", .size = 2.2});
    ax.markers(iteration_, kl_, {.label = "KL of the update", .size = 2.2})
        .hline(delta, {.label = "delta"})
        .log_y()
        .xlabel("iteration k")
        .ylabel("Dbar_KL(theta_k || theta_k+1)");
    if (with_backtracks_)
      fig.panel(1, 0).markers(iteration_, backtracks_, {.label = "backtracks j", .size = 2.2})
          .xlabel("iteration k")
          .ylabel("backtracks j of beta^j");
    write_file_atomically(dir / "kl.svg", fig.str());
  }

 private:
  bool with_backtracks_;
  std::vector<double> iteration_, kl_, backtracks_, kl_full_;
};

// One seed of npg or trpo (the two demos differ only in `train`, train_npg or train_trpo, and
// TRPO's backtracks): N copies of the environment, pi and V, the training with its metrics.csv
// rows, then kl.svg titled "<name>: KL of each update against delta, <env>".
template <class Config, class Train>
TrainResult train_trust_region_seed(const Config& cfg, const RunOptions& run, std::uint64_t seed, RunLog& log,
                                    const std::string& name, bool with_backtracks, Train train) {
  Rng rng(seed);
  VecEnv envs(run.env, cfg.envs);
  auto [policy, value] = policy_and_value(envs.env(0), cfg.hidden, rng, cfg.log_std_init);
  TrustRegionRecord record(with_backtracks);
  train(cfg, envs, *policy, value, rng, seed,
        [&](long k, const OnPolicyBatch& batch, long env_steps, const TrustRegionStats& s) {
          record.log(log, k, *batch.segment, env_steps, s);
        });
  record.draw(log.dir(), name + ": KL of each update against delta, " + run.env(), cfg.delta);
  return policy_result(policy);
}

}  // namespace pgcpp
