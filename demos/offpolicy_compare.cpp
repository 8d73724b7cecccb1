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
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "experiment/program.hpp"
#include "experiment/run.hpp"  // detail::moving_average: the runs' own smoothing
#include "plot/plot.hpp"

using namespace pgcpp;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct SeedCurve {
  std::string name;
  std::vector<double> steps, returns;
};

// metrics.csv: the env_steps and return columns, every row finite.
SeedCurve read_metrics(const fs::path& file, const std::string& name) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read '" + file.string() + "'");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("'" + file.string() + "' is empty");
  std::vector<std::string> header;
  std::stringstream head(line);
  for (std::string cell; std::getline(head, cell, ',');) header.push_back(cell);
  const auto column = [&](const std::string& c) {
    const auto it = std::find(header.begin(), header.end(), c);
    if (it == header.end()) throw std::runtime_error("'" + file.string() + "' has no '" + c + "' column");
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t c_steps = column("env_steps"), c_return = column("return");
  SeedCurve curve{name, {}, {}};
  for (long row = 2; std::getline(in, line); ++row) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
    const auto number = [&](std::size_t c) {
      double v = kNaN;
      if (c < cells.size()) {
        std::size_t used = 0;
        try {
          v = std::stod(cells[c], &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != cells[c].size()) v = kNaN;
      }
      if (!std::isfinite(v))
        throw std::runtime_error("'" + file.string() + "' line " + std::to_string(row) + ": column " +
                                 header[c] + " is not a finite number");
      return v;
    };
    curve.steps.push_back(number(c_steps));
    curve.returns.push_back(number(c_return));
  }
  if (curve.returns.empty()) throw std::runtime_error("'" + file.string() + "' has no episodes");
  return curve;
}

// The seeds of a run folder: seed<k>/metrics.csv, in k order, or the folder's own metrics.csv.
std::vector<SeedCurve> read_run(const std::string& flag, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(flag + " '" + dir.string() + "': not a folder");
  std::vector<std::pair<long, fs::path>> seeds;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.size() > 4 && n.rfind("seed", 0) == 0 &&
        std::all_of(n.begin() + 4, n.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        fs::exists(entry.path() / "metrics.csv"))
      seeds.emplace_back(std::stol(n.substr(4)), entry.path());
  }
  std::sort(seeds.begin(), seeds.end());
  std::vector<SeedCurve> out;
  for (const auto& [k, p] : seeds) out.push_back(read_metrics(p / "metrics.csv", "seed " + std::to_string(k)));
  if (out.empty() && fs::exists(dir / "metrics.csv")) out.push_back(read_metrics(dir / "metrics.csv", "seed"));
  if (out.empty()) throw std::runtime_error(flag + " '" + dir.string() + "': no metrics.csv in it or in its seed<k>/ folders");
  return out;
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
    struct Algorithm {
      std::string label, flag, dir;
    };
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
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const std::vector<SeedCurve>& seeds = runs[r];
      // A common grid of 200 env-step points up to the shortest seed's end; at a step count, a
      // seed's value is that of its latest finished episode.
      double end = INFINITY;
      for (const SeedCurve& s : seeds) end = std::min(end, s.steps.back());
      std::vector<double> x, mean, lo, hi;
      std::vector<std::vector<double>> smooth;
      for (const SeedCurve& s : seeds) smooth.push_back(detail::moving_average(s.returns, cfg.window));
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
        x.push_back(at);
        mean.push_back(all ? sum / static_cast<double>(seeds.size()) : kNaN);
        lo.push_back(all ? a : kNaN);
        hi.push_back(all ? b : kNaN);
      }
      const std::string color = plot::palette()[r % plot::palette().size()];
      const std::string label = algorithms[r].label + ", " + std::to_string(seeds.size()) + " seed" +
                                (seeds.size() > 1 ? "s (band: min–max)" : "");
      ax.band(x, lo, hi, {.color = color, .opacity = 0.18});
      ax.line(x, mean, {.label = label, .color = color, .width = 2.2});
      std::printf("  %-14s", algorithms[r].label.c_str());
      for (std::size_t k = 0; k < seeds.size(); ++k) {
        std::string at = "not reached";
        for (std::size_t i = 0; i < smooth[k].size(); ++i)
          if (smooth[k][i] >= cfg.level) {
            at = std::to_string(static_cast<long>(seeds[k].steps[i]));
            break;
          }
        std::printf("  %s: %s", seeds[k].name.c_str(), at.c_str());
      }
      std::printf("\n");
    }
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
