// The learning curve of a multi-seed run, computed once: the aggregate curve.svg of every demo run
// with --seeds K (run_report.cpp) and the `compare` program (tools/compare.cpp) draw exactly this.
//
// Each seed's returns are smoothed by its own trailing moving average (detail::moving_average,
// `window` episodes), then put on a common grid and reduced to their mean and min–max over seeds:
//   per_episode: x = 1, 2, ... up to the longest seed's episode count;
//   points:      200 evenly spaced x up to the longest seed's last episode end (env steps, CPU
//                seconds), where a seed's value is that of its latest episode ending at or before x.
// A seed that stopped earlier (early stopping once solved) holds its last moving average, so the
// curve shows every seed to its end instead of ending with the fastest one. Before every seed has
// finished an episode there is no value: mean, lo and hi are NaN there (the plots leave a gap).
#pragma once

#include <vector>

namespace pgcpp {

// One seed's finished episodes: where each ends on the x axis (non-decreasing; unused on the
// per_episode grid) and its return.
struct SeedReturns {
  std::vector<double> x;
  std::vector<double> returns;
};

enum class CurveGrid { per_episode, points };

struct CurveBand {
  std::vector<double> x, mean, lo, hi;
};

inline constexpr int kCurveGridPoints = 200;  // the points grid

CurveBand curve_band(const std::vector<SeedReturns>& seeds, CurveGrid grid, int window);

}  // namespace pgcpp
