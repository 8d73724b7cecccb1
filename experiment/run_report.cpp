// The figures of a run: curve.svg (one seed, or the aggregate over seeds) and the rollouts.
#include <algorithm>
#include <cmath>
#include <limits>

#include "experiment/curves.hpp"
#include "experiment/run_internal.hpp"
#include "plot/plot.hpp"

namespace pgcpp {

CurveBand curve_band(const std::vector<SeedReturns>& seeds, CurveGrid grid, int window) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::vector<double>> smooth;
  for (const SeedReturns& s : seeds) smooth.push_back(detail::moving_average(s.returns, window));

  // at[seed][grid point]: each seed's moving average on the common grid.
  CurveBand band;
  std::vector<double>& x = band.x;
  std::vector<std::vector<double>> at;
  if (grid == CurveGrid::per_episode) {
    std::size_t n = 0;
    for (const auto& m : smooth) n = std::max(n, m.size());
    for (std::size_t i = 0; i < n; ++i) x.push_back(static_cast<double>(i + 1));
    for (const auto& m : smooth) {
      std::vector<double> v(m);
      v.resize(n, m.empty() ? kNaN : m.back());
      at.push_back(std::move(v));
    }
  } else {
    double end = 0;
    for (const SeedReturns& s : seeds) end = std::max(end, s.x.empty() ? 0.0 : s.x.back());
    const int points = end > 0 ? kCurveGridPoints : 0;
    for (int p = 1; p <= points; ++p) x.push_back(end * p / points);
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      std::vector<double> v;
      for (double xs : x) {
        const auto it = std::upper_bound(seeds[k].x.begin(), seeds[k].x.end(), xs);
        v.push_back(it == seeds[k].x.begin() ? kNaN : smooth[k][static_cast<std::size_t>(it - seeds[k].x.begin() - 1)]);
      }
      at.push_back(std::move(v));
    }
  }

  band.mean.resize(x.size());
  band.lo.resize(x.size());
  band.hi.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double s = 0, a = INFINITY, b = -INFINITY;
    for (const auto& v : at) {
      s += v[i];
      a = std::min(a, v[i]);
      b = std::max(b, v[i]);
    }
    const bool all = std::all_of(at.begin(), at.end(), [&](const auto& v) { return std::isfinite(v[i]); });
    band.mean[i] = all ? s / static_cast<double>(at.size()) : kNaN;
    band.lo[i] = all ? a : kNaN;
    band.hi[i] = all ? b : kNaN;
  }
  return band;
}

}  // namespace pgcpp

namespace pgcpp::detail {

namespace {

const char* x_label(CurveX x) { return x == CurveX::episodes ? "episode" : "environment steps"; }

void finish_axes(plot::Axes& ax, CurveX x_axis, const ExperimentSpec& spec) {
  if (std::isfinite(spec.reference_return))
    ax.hline(spec.reference_return, {.label = spec.reference_label + " (" + number_text(spec.reference_return) + ")"});
  ax.xlabel(x_label(x_axis)).ylabel("episode return").legend(plot::Corner::best);
}

}  // namespace

void write_curve(const std::filesystem::path& path, const std::string& title, CurveX x_axis, const RunLog& log,
                 const ExperimentSpec& spec) {
  const std::vector<double>& returns = log.returns();
  std::vector<double> x(returns.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = x_axis == CurveX::episodes ? static_cast<double>(i + 1) : static_cast<double>(log.episode_end_steps()[i]);

  plot::Figure fig(1, 1, 900, 500);
  fig.title(title);
  plot::Axes& ax = fig.panel();
  const std::string color = plot::palette()[0];
  ax.line(x, returns, {.label = "episode return", .color = color, .width = 1.0, .opacity = 0.35});
  ax.line(x, moving_average(returns, kRecentEpisodes),
          {.label = "moving average (" + std::to_string(kRecentEpisodes) + " episodes)", .color = color, .width = 2.2});
  finish_axes(ax, x_axis, spec);
  fig.save(path.string());
}

void write_aggregate_curve(const std::filesystem::path& path, const std::string& title, CurveX x_axis,
                           const std::vector<SeedCurve>& seeds, const ExperimentSpec& spec) {
  std::vector<SeedReturns> curves;
  for (const SeedCurve& s : seeds) curves.push_back({std::vector<double>(s.end_steps.begin(), s.end_steps.end()), s.returns});
  const CurveBand band = curve_band(curves, x_axis == CurveX::episodes ? CurveGrid::per_episode : CurveGrid::points,
                                    kRecentEpisodes);
  const auto& [x, mean, lo, hi] = band;

  plot::Figure fig(1, 1, 900, 500);
  fig.title(title + " (" + std::to_string(seeds.size()) + " seeds)");
  plot::Axes& ax = fig.panel();
  const std::string color = plot::palette()[0];
  ax.band(x, lo, hi, {.label = "min–max over seeds (a seed that stopped holds its last value)", .color = color});
  ax.line(x, mean,
          {.label = "mean over seeds of the " + std::to_string(kRecentEpisodes) + "-episode moving average",
           .color = color, .width = 2.2});
  finish_axes(ax, x_axis, spec);
  fig.save(path.string());
}

}  // namespace pgcpp::detail
