// offpolicy_compare's input: the learning curves of finished run_experiment runs (experiment/run.hpp),
// read back from their metrics.csv files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pgcpp::offpolicy_compare {

// One seed's finished episodes: env steps at each episode's end, and its return.
struct SeedCurve {
  std::string name;  // "seed <k>", or "seed" for a single-seed folder
  std::vector<double> steps, returns;
};

// Larger than any run's metrics.csv (under 100 bytes an episode: the longest run the demos allow,
// 10^9 env steps of 200-step Pendulum episodes, writes under 500 MB), small enough that a wrong
// file never fills the memory.
inline constexpr std::uintmax_t kMaxMetricsBytes = std::uintmax_t{1} << 30;

// The seeds of a run folder: seed<k>/metrics.csv, in k order, or the folder's own metrics.csv.
// Throws std::runtime_error, naming `flag` and the folder or file (on one line: control characters
// in a name are escaped), when there is none, a seed<k> number is out of range, or one is not a
// regular file of at most kMaxMetricsBytes or is malformed (a missing env_steps or return column,
// a cell that is not a finite number, no rows).
std::vector<SeedCurve> read_run(const std::string& flag, const std::filesystem::path& dir);

}  // namespace pgcpp::offpolicy_compare
