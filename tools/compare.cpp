// compare: any finished runs on one figure — episode return (or, with --y, another column of
// metrics.csv such as PPO's per-update kl or SAC's entropy) against env steps, episodes or CPU
// seconds, one curve per group of runs: the mean over the group's seeds of each seed's moving
// average, with the min–max band over seeds, exactly as a run's own multi-seed curve.svg is drawn
// (experiment/curves.hpp computes both).
//
//   sac --seeds 5 --out runs/sac && ddpg --seeds 5 --out runs/ddpg
//   compare --out runs/cmp runs/sac runs/ddpg                          # legend: sac, ddpg
//   compare --out runs/cmp runs/sac-a0.05 runs/sac-a1                  # legend: sac alpha=0.05, sac alpha=1
//   compare --out runs/cmp "SAC (3.4.8.2)=runs/sac" "DDPG (3.4.9)=runs/ddpg"   # labels of your own
//
// A RUN is a run folder (experiment/run.hpp: metrics.csv and summary.json, or seed<k>/ folders
// holding them), optionally LABEL=DIR. Runs with the same label, or unlabelled runs of the same
// algorithm with the same hyperparameters (summary.json), form one group: their seeds are pooled
// (a seed twice in a group is an error). An unlabelled group's legend is its algorithm and the
// hyperparameters in which it differs from the other groups of that algorithm. Every run must be
// of one environment. Outputs in --out: comparison.svg, comparison.csv (the plotted mean, min and
// max of each group at each x) and .pgcpp_outputs (experiment/run.hpp).
//
// It lives in tools/, not demos/: it is not the demo of a section of the book; the gallery runs it
// like any executable of build/bin (scripts/gallery_cards.py, job "offpolicy_compare"). The run
// folders are read by compare_runs.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <stdexcept>

#include "compare_runs.hpp"
#include "experiment/curves.hpp"
#include "experiment/program.hpp"
#include "experiment/run.hpp"
#include "plot/plot.hpp"

using namespace pgcpp;
using namespace pgcpp::compare;
namespace fs = std::filesystem;

namespace {

struct Group {
  std::string label;      // given (LABEL=DIR), or "" until the legend is made
  bool labelled = false;
  std::string algorithm;  // of its first seed
  std::vector<std::pair<std::string, std::string>> hyperparameters;  // of its first seed, plus "scalar"
  std::vector<Seed> seeds;
};

// The hyperparameters that identify a run's settings: summary.json's, and the scalar type.
std::vector<std::pair<std::string, std::string>> settings_of(const Seed& s) {
  auto h = s.hyperparameters;
  h.emplace_back("scalar", s.scalar);
  std::sort(h.begin(), h.end());
  return h;
}

// "sac alpha=0.05": the algorithm and the settings in which a group differs from another unlabelled
// group of the same algorithm (a setting missing in one group differs too).
void make_legends(std::vector<Group>& groups) {
  for (Group& g : groups) {
    if (g.labelled) continue;
    std::string label = g.algorithm;
    for (const auto& [key, value] : g.hyperparameters) {
      bool differs = false;
      for (const Group& o : groups)
        if (!o.labelled && o.algorithm == g.algorithm && &o != &g) {
          const auto it = std::find_if(o.hyperparameters.begin(), o.hyperparameters.end(),
                                       [&](const auto& kv) { return kv.first == key; });
          differs = differs || it == o.hyperparameters.end() || it->second != value;
        }
      if (differs) label += " " + key + "=" + value;
    }
    g.label = label;
  }
}

// A field of comparison.csv, quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
std::string csv_number(double v) { return std::isfinite(v) ? detail::number_text(v) : ""; }

}  // namespace

int main(int argc, char** argv) {
  struct Config : Params {
    Param<std::string> x{this, "--x", "env_steps", "the x axis: env steps, the episode number, or the seed's CPU seconds (timing.csv)",
                         {"env_steps", "episodes", "cpu_seconds"}};
    Param<std::string> y{this, "--y", "return",
                         "the y axis: metrics.csv's return, or another column it logs (e.g. kl, entropy, alpha: a "
                         "quantity of each update, on the rows of that update's episodes)"};
    Param<int> smooth{this, "--smooth", 20,
                      "episodes in each seed's trailing moving average (1: none; 20 as in every run's curve.svg)",
                      {1, 100'000}};
    Param<std::string> reference{this, "--reference", "", "a dashed line at this value of --y, e.g. -200 (\"\": none)"};
    Param<std::string> title{this, "--title", "", "figure title (\"\": \"Episode return on <env>\")"};
    Param<std::string> out{this, "--out", "runs/compare", "output folder (comparison.svg, comparison.csv)"};
  } cfg;
  Cli cli("compare",
          "Finished runs on one figure: episode return against env steps, episodes or CPU seconds; one curve per "
          "group of runs, the mean over its seeds of their moving averages with the min-max band.");
  cli.add(cfg);
  cli.operands("RUN", "a run folder (metrics.csv and summary.json, or seed<k>/ folders holding them), or LABEL=DIR "
                      "(an argument that is not an existing folder is split at its first '=')");
  cli.note("Groups: runs with the same LABEL, or unlabelled runs of one algorithm with the same hyperparameters "
           "(their summary.json), pool their seeds. The legend of an unlabelled group is its algorithm and the "
           "hyperparameters that differ between the groups of that algorithm, e.g. \"sac alpha=0.05\". Every run must "
           "be of the same environment. Curves as in every run's curve.svg (experiment/curves.hpp): each seed's "
           "trailing moving average over --smooth episodes; on the env_steps and cpu_seconds axes 200 evenly spaced "
           "points up to the longest seed's end, a seed holding its last value after it stopped; mean and min-max "
           "over the group's seeds. --x cpu_seconds reads each seed's timing.csv (its CPU time at every episode's end, "
           "kept apart from metrics.csv, which is the same byte for byte for the same seed).");
  cli.note("Example: sac --seeds 5 --out runs/sac; ddpg --seeds 5 --out runs/ddpg; compare --out runs/cmp runs/sac "
           "runs/ddpg.");
  cli.parse(argc, argv);
  double reference = std::numeric_limits<double>::quiet_NaN();
  if (!cfg.reference().empty()) {
    std::size_t used = 0;
    try {
      reference = std::stod(cfg.reference(), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    cli.require(used == cfg.reference().size() && std::isfinite(reference),
                "--reference '" + cfg.reference() + "' is not a finite number");
  }
  return run_program(cli, [&] {
    if (cli.operand_values().empty()) {
      make_output_dir(cfg.out(), "--out");  // a bad --out is named first, whatever else is wrong
      cli.usage_error("give at least one RUN folder");
    }
    const std::string x_column = cfg.x() == "episodes" ? "" : cfg.x();

    // Read every run and put its seeds in their group.
    std::vector<Group> groups;
    std::vector<fs::path> read_dirs;  // every RUN and seed folder
    std::string env;                  // every run's environment: the first seed's
    fs::path env_file;
    for (const std::string& arg : cli.operand_values()) {
      std::string label;
      fs::path dir = arg;
      std::error_code ec;
      if (const auto eq = arg.find('='); !fs::is_directory(dir, ec) && eq != std::string::npos) {
        label = arg.substr(0, eq);
        dir = arg.substr(eq + 1);
        if (label.empty()) throw std::runtime_error("run " + shown(arg) + ": an empty LABEL");
      }
      std::vector<fs::path> skipped;
      std::vector<Seed> seeds = read_run(dir, x_column, skipped, cfg.y());
      read_dirs.push_back(dir);
      for (const fs::path& s : skipped)
        std::printf("left out %s: its run's summary.json lists it as failed\n", shown(s).c_str());
      for (Seed& s : seeds) {
        if (env.empty()) env = s.env, env_file = s.dir / "summary.json";
        if (s.env != env)
          throw std::runtime_error(shown(s.dir / "summary.json") + " is a run on " + s.env + ", " + shown(env_file) +
                                   " on " + env + ": one figure compares runs of one environment");
        auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
          return label.empty() ? !g.labelled && g.algorithm == s.algorithm && g.hyperparameters == settings_of(s)
                               : g.labelled && g.label == label;
        });
        if (it == groups.end()) {
          groups.push_back({label, !label.empty(), s.algorithm, settings_of(s), {}});
          it = groups.end() - 1;
        }
        if (it->algorithm != s.algorithm)
          throw std::runtime_error("run " + shown(arg) + ": label '" + label + "' groups runs of " + it->algorithm +
                                   " and " + s.algorithm + " (give each algorithm its own label)");
        for (const Seed& o : it->seeds)
          if (o.seed == s.seed)
            throw std::runtime_error("seed " + std::to_string(s.seed) + " is in " + shown(o.dir) + " and in " +
                                     shown(s.dir) + ", one group (" + (label.empty() ? s.algorithm : label) +
                                     "): give each run its own LABEL=DIR, or leave one out");
        read_dirs.push_back(s.dir);
        it->seeds.push_back(std::move(s));
      }
    }
    // --out must not be a folder read: writing there first replaces what its manifest lists.
    for (const fs::path& p : read_dirs) {
      std::error_code ec;
      if (fs::equivalent(cfg.out(), p, ec))
        throw std::runtime_error("--out " + shown(cfg.out()) + " is the run folder " + shown(p) +
                                 ": the comparison would replace the run's outputs; write it elsewhere");
    }
    make_output_dir(cfg.out(), "--out");  // only now: a bad RUN leaves no folder behind
    make_legends(groups);

    const CurveGrid grid = cfg.x() == "episodes" ? CurveGrid::per_episode : CurveGrid::points;
    plot::Figure fig(1, 1, 900, 520);
    const bool returns = cfg.y() == "return";
    const std::string y_name = returns ? "episode return" : cfg.y();
    fig.title(cfg.title().empty() ? (returns ? "Episode return on " : cfg.y() + " on ") + env : cfg.title());
    plot::Axes& ax = fig.panel();
    std::string csv = "group,label,seeds," + cfg.x() + ",mean,min,max\n";
    std::printf("%s: %zu group%s, %s against %s, %d-episode moving average\n", env.c_str(), groups.size(),
                groups.size() == 1 ? "" : "s", cfg.y().c_str(), cfg.x().c_str(), cfg.smooth());
    for (std::size_t k = 0; k < groups.size(); ++k) {
      const Group& g = groups[k];
      std::vector<SeedReturns> curves;
      std::string seed_list;
      for (const Seed& s : g.seeds) {
        curves.push_back({s.x, s.returns});
        if (!seed_list.empty()) seed_list += ',';
        seed_list += std::to_string(s.seed);
      }
      const CurveBand band = curve_band(curves, grid, cfg.smooth);
      const std::string color = plot::palette()[k % plot::palette().size()];
      const std::size_t n = g.seeds.size();
      ax.band(band.x, band.lo, band.hi, {.color = color, .opacity = 0.18});
      ax.line(band.x, band.mean,
              {.label = g.label + ", " + std::to_string(n) + " seed" + (n > 1 ? "s (band: min–max)" : ""),
               .color = color, .width = 2.2});
      for (std::size_t i = 0; i < band.x.size(); ++i)
        csv += std::to_string(k + 1) + "," + csv_field(g.label) + "," + csv_field(seed_list) + "," + csv_number(band.x[i]) + "," +
               csv_number(band.mean[i]) + "," + csv_number(band.lo[i]) + "," + csv_number(band.hi[i]) + "\n";
      // The report: the last point, and where the mean first reaches the reference line.
      std::printf("  %-32s seeds %s: mean %.1f at %s %g", g.label.c_str(), seed_list.c_str(), band.mean.back(),
                  cfg.x().c_str(), band.x.back());
      if (std::isfinite(reference)) {
        const auto it = std::find_if(band.mean.begin(), band.mean.end(), [&](double m) { return m >= reference; });
        if (it == band.mean.end()) std::printf("; never reaches %g", reference);
        else std::printf("; reaches %g at %g", reference, band.x[static_cast<std::size_t>(it - band.mean.begin())]);
      }
      std::printf("\n");
    }
    if (std::isfinite(reference)) ax.hline(reference, {.label = (returns ? "return " : cfg.y() + " ") + detail::number_text(reference)});
    const std::string x_label = cfg.x() == "episodes" ? "episode" : cfg.x() == "env_steps" ? "environment steps"
                                                                                            : "CPU seconds of the seed";
    ax.xlabel(x_label)
        .ylabel(cfg.smooth() == 1 ? y_name
                                  : y_name + " (" + std::to_string(cfg.smooth()) + "-episode moving average)")
        .legend(plot::Corner::best);

    const fs::path out = cfg.out();
    remove_previous_outputs(out);
    fig.save((out / "comparison.svg").string());
    write_file_atomically(out / "comparison.csv", csv);
    record_outputs(out, {"comparison.svg", "comparison.csv"});
    std::printf("  -> %s/ (comparison.svg, comparison.csv)\n", out.string().c_str());
    return 0;
  });
}
