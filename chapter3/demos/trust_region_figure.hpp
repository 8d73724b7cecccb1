// The figure npg and trpo add to each seed's folder: the KL each update actually moved,
// Dbar_KL(theta_k || theta_k+1) measured exactly on its batch, against the radius delta (3.50),
// and for TRPO the number of backtracks of each line search. Included by demos/npg.cpp and
// demos/trpo.cpp only.
#pragma once

#include <string>
#include <vector>

#include "chapter3/3_4_4_npg.hpp"
#include "chapter3/experiment/program.hpp"
#include "plot/plot.hpp"

namespace pgcpp {

struct TrustRegionRecord {
  std::vector<double> iteration, kl, backtracks;
  void add(long k, const TrustRegionStats& s) {
    iteration.push_back(static_cast<double>(k));
    kl.push_back(s.accepted ? s.kl : std::nan(""));  // a rejected update moved nothing
    backtracks.push_back(static_cast<double>(s.backtracks));
  }
};

// Writes dir/kl.svg; with_backtracks adds TRPO's second panel.
inline void draw_trust_region_figure(const std::filesystem::path& dir, const std::string& title,
                                     const TrustRegionRecord& r, double delta, bool with_backtracks) {
  plot::Figure fig(with_backtracks ? 2 : 1, 1, 720, with_backtracks ? 560 : 360);
  fig.title(title);
  plot::Axes& ax = fig.panel(0, 0);
  ax.markers(r.iteration, r.kl, {.label = "KL of the update", .size = 2.2})
      .hline(delta, {.label = "delta"})
      .log_y()
      .xlabel("iteration k")
      .ylabel("Dbar_KL(theta_k || theta_k+1)");
  if (with_backtracks)
    fig.panel(1, 0).markers(r.iteration, r.backtracks, {.label = "backtracks j", .size = 2.2})
        .xlabel("iteration k")
        .ylabel("backtracks j of beta^j");
  write_file_atomically(dir / "kl.svg", fig.str());
}

}  // namespace pgcpp
