// offpolicy_compare's input: the learning curves of finished run_experiment runs (experiment/run.hpp),
// read back from their metrics.csv files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pgcpp::offpolicy_compare {

// One seed's finished episodes: env steps at each episode's end, and its return.
struct SeedCurve {
  std::string name;  // "seed <k>", or "seed" for a single-seed folder
  std::vector<double> steps, returns;
};

// The seeds of a run folder: seed<k>/metrics.csv, in k order, or the folder's own metrics.csv.
// Throws std::runtime_error, naming `flag` and the folder or file, when there is none or one is
// malformed (a missing env_steps or return column, a cell that is not a finite number, no rows).
std::vector<SeedCurve> read_run(const std::string& flag, const std::filesystem::path& dir);

}  // namespace pgcpp::offpolicy_compare
