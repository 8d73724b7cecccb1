// offpolicy_compare: the figure the book lacks — SAC (Section 3.4.8.2), DDPG (Section 3.4.9) and
// MBPO (Section 3.5) on Pendulum-v1 in one plot, episode return against environment steps (the
// sample efficiency MBPO is built for), drawn from finished multi-seed runs of the three demos:
//
//   sac --seeds 5 && ddpg --seeds 5 && mbpo --seeds 5 --steps 20000
//   offpolicy_compare --sac runs/sac-pendulum-seeds1-5 --ddpg runs/ddpg-pendulum-seeds1-5
//                     --mbpo runs/mbpo-pendulum-seeds1-5
//
// Each folder is a run_experiment output: seed<k>/metrics.csv per seed (or one metrics.csv). For
// every algorithm: the mean over its seeds of the per-seed moving average of the episode return
// (--window episodes), with the min–max band over seeds, on a common grid of env steps up to where
// its shortest seed stopped. Written to --out/comparison.svg; the table printed gives, per seed,
// the env steps at which the moving average first reaches --level (the book's −200 on Pendulum).
// The folders are read by offpolicy_compare_runs.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "experiment/program.hpp"
#include "experiment/run.hpp"  // detail::moving_average: the runs' own smoothing
#include "offpolicy_compare_runs.hpp"
#include "plot/plot.hpp"

using namespace pgcpp;
using namespace pgcpp::offpolicy_compare;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Algorithm {
  std::string label, flag, dir;
};

// The mean and the min-max band over seeds of their smoothed returns, on a common grid of 200
// env-step points up to the shortest seed's end. At a step count, a seed's value is that of its
// latest finished episode; before every seed has finished one, there is no value (NaN).
struct Band {
  std::vector<double> x, mean, lo, hi;
};
Band band_over_seeds(const std::vector<SeedCurve>& seeds, const std::vector<std::vector<double>>& smooth) {
  double end = INFINITY;
  for (const SeedCurve& s : seeds) end = std::min(end, s.steps.back());
  Band band;
  for (int p = 1; p <= 200; ++p) {
    const double at = end * p / 200;
    double sum = 0, a = INFINITY, b = -INFINITY;
    bool all = true;
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      const auto it = std::upper_bound(seeds[k].steps.begin(), seeds[k].steps.end(), at);
      if (it == seeds[k].steps.begin()) {
        all = false;
        break;
      }
      const double v = smooth[k][static_cast<std::size_t>(it - seeds[k].steps.begin() - 1)];
      sum += v;
      a = std::min(a, v);
      b = std::max(b, v);
    }
    band.x.push_back(at);
    band.mean.push_back(all ? sum / static_cast<double>(seeds.size()) : kNaN);
    band.lo.push_back(all ? a : kNaN);
    band.hi.push_back(all ? b : kNaN);
  }
  return band;
}

// The env steps at which a seed's smoothed return first reaches `level`, or "not reached".
std::string first_crossing(const SeedCurve& seed, const std::vector<double>& smooth, double level) {
  for (std::size_t i = 0; i < smooth.size(); ++i)
    if (smooth[i] >= level) return std::to_string(static_cast<long>(seed.steps[i]));
  return "not reached";
}

// One algorithm's band and mean line on ax (colour `index` of the palette), and its table row.
void draw_algorithm(plot::Axes& ax, std::size_t index, const Algorithm& algorithm, const std::vector<SeedCurve>& seeds,
                    int window, double level) {
  std::vector<std::vector<double>> smooth;
  for (const SeedCurve& s : seeds) smooth.push_back(detail::moving_average(s.returns, window));
  const Band band = band_over_seeds(seeds, smooth);
  const std::string color = plot::palette()[index % plot::palette().size()];
  const std::string label = algorithm.label + ", " + std::to_string(seeds.size()) + " seed" +
                            (seeds.size() > 1 ? "s (band: min–max)" : "");
  ax.band(band.x, band.lo, band.hi, {.color = color, .opacity = 0.18});
  ax.line(band.x, band.mean, {.label = label, .color = color, .width = 2.2});
  std::printf("  %-14s", algorithm.label.c_str());
  for (std::size_t k = 0; k < seeds.size(); ++k)
    std::printf("  %s: %s", seeds[k].name.c_str(), first_crossing(seeds[k], smooth[k], level).c_str());
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  struct Config : Params {
    Param<std::string> sac{this, "--sac", "", "run folder of sac (its seed<k>/metrics.csv)"};
    Param<std::string> ddpg{this, "--ddpg", "", "run folder of ddpg"};
    Param<std::string> mbpo{this, "--mbpo", "", "run folder of mbpo"};
    Param<int> window{this, "--window", 5, "episodes in each seed's moving average", {1, 10'000}};
    Param<double> level{this, "--level", -200, "the return level whose first crossing is reported", {-1e9, 1e9}};
    Param<std::string> out{this, "--out", "runs/offpolicy-compare", "output folder (comparison.svg)"};
  } cfg;
  Cli cli("offpolicy_compare",
          "SAC, DDPG and MBPO on Pendulum-v1 in one figure (return against env steps, mean and min-max band over "
          "seeds), from finished runs of the sac, ddpg and mbpo demos.");
  cli.add(cfg);
  cli.note("Example: sac --seeds 5; ddpg --seeds 5; mbpo --seeds 5 --steps 20000; then offpolicy_compare --sac "
           "runs/sac-pendulum-seeds1-5 --ddpg runs/ddpg-pendulum-seeds1-5 --mbpo runs/mbpo-pendulum-seeds1-5.");
  cli.parse(argc, argv);
  return run_program(cli, [&] {
    make_output_dir(cfg.out(), "--out");  // a bad --out is named first, whatever else is missing
    cli.require(!cfg.sac().empty() || !cfg.ddpg().empty() || !cfg.mbpo().empty(),
                "give at least one of --sac, --ddpg, --mbpo");
    std::vector<Algorithm> algorithms;
    if (!cfg.sac().empty()) algorithms.push_back({"SAC (3.4.8.2)", "--sac", cfg.sac});
    if (!cfg.ddpg().empty()) algorithms.push_back({"DDPG (3.4.9)", "--ddpg", cfg.ddpg});
    if (!cfg.mbpo().empty()) algorithms.push_back({"MBPO (Section 3.5)", "--mbpo", cfg.mbpo});
    std::vector<std::vector<SeedCurve>> runs;
    for (const Algorithm& a : algorithms) runs.push_back(read_run(a.flag, a.dir));

    plot::Figure fig(1, 1, 900, 520);
    fig.title("SAC, DDPG and MBPO on Pendulum-v1");
    plot::Axes& ax = fig.panel();
    std::printf("env steps at which a seed's %d-episode moving average first reaches %g:\n", cfg.window(), cfg.level());
    for (std::size_t r = 0; r < runs.size(); ++r) draw_algorithm(ax, r, algorithms[r], runs[r], cfg.window, cfg.level);
    ax.hline(cfg.level, {.label = "return " + std::to_string(static_cast<long>(cfg.level))});
    ax.xlabel("environment steps")
        .ylabel("episode return (" + std::to_string(cfg.window()) + "-episode moving average)")
        .legend(plot::Corner::best);
    const fs::path path = fs::path(cfg.out()) / "comparison.svg";
    fig.save(path.string());
    std::printf("wrote %s\n", path.string().c_str());
    return 0;
  });
}
