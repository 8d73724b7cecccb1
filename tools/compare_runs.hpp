// compare's input: the seeds of finished runs (experiment/run.hpp), read back from their run
// folders. A seed is a folder holding metrics.csv (one row per episode) and summary.json (written
// last: its presence means the seed finished); a run folder is one seed, or holds seed<k>/ folders
// (what a program writes with --seeds K).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pgcpp::compare {

// One finished seed: what its summary.json says and its learning curve.
struct Seed {
  std::filesystem::path dir;
  std::uint64_t seed = 0;
  std::string algorithm, env, scalar;
  // summary.json's "hyperparameters", key and value as JSON text (a string without its quotes),
  // in the file's order.
  std::vector<std::pair<std::string, std::string>> hyperparameters;
  std::vector<double> x;        // each episode's end on the x axis (see read_run), non-decreasing
  std::vector<double> returns;  // each episode's return (or read_run's y_column)
};

// Larger than any run's metrics.csv (under 100 bytes an episode: the longest run the demos allow,
// 10^9 env steps of 200-step Pendulum episodes, writes under 500 MB), small enough that a wrong
// file never fills the memory. A summary.json is a few kB.
inline constexpr std::uintmax_t kMaxMetricsBytes = std::uintmax_t{1} << 30;
inline constexpr std::uintmax_t kMaxSummaryBytes = std::uintmax_t{1} << 20;

// The seeds of run folder `dir`: its seed<k>/ folders in k order, or the folder itself. x is the
// metrics.csv column `x_column` ("env_steps", "cpu_seconds"), or the episode number 1, 2, ... when
// x_column is empty. Seeds that the folder's own summary.json lists as failed_seeds (a multi-seed
// run whose seed stopped on an error) are left out, their folders added to `skipped`.
//
// Throws std::runtime_error, on one line naming the folder or file (control characters in a name
// escaped), when: dir is not a folder; it holds no metrics.csv, neither itself nor in a seed<k>/;
// a seed<k> number does not fit 64 bits; a seed has no summary.json (it did not finish); a file is
// not a regular file of bounded size (a FIFO, a device, /dev/zero behind a link); metrics.csv
// lacks the return or x column, has a cell that is not a finite number, x decreasing, or no rows;
// summary.json is not a JSON object with algorithm, env, seed and hyperparameters, or its seed is
// not its folder's k; the seeds of one folder differ in algorithm, environment or hyperparameters.
// y_column: the metrics.csv column read into `returns` ("return", or e.g. "kl", "entropy": a
// quantity logged once per update is repeated on each of its episodes' rows).
std::vector<Seed> read_run(const std::filesystem::path& dir, const std::string& x_column,
                           std::vector<std::filesystem::path>& skipped, const std::string& y_column = "return");

// A path as an error message shows it: quoted, on one line (a newline written as \n, other
// control characters as \xNN).
std::string shown(const std::filesystem::path& path);

}  // namespace pgcpp::compare
