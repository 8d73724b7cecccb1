// Pieces of experiment/run.cpp shared between its files; not for algorithms.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "chapter3/common/params.hpp"  // detail::number_text, detail::json_string
#include "experiment/run.hpp"

namespace pgcpp::detail {

// CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID); NaN if the clock fails.
double thread_cpu_seconds();

// A JSON number, or null when v is not finite (JSON has no NaN).
std::string json_number(double v);

// An ordered JSON object written with two-space indentation.
class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& json_value);
  std::string str(int indent = 0) const;
  void save(const std::filesystem::path& path) const;  // throws std::runtime_error naming the path

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};
std::string json_array(const std::vector<std::string>& json_values);

inline constexpr int kRecentEpisodes = 20;  // final_return, the curves' moving average

// The progress line of one experiment (all its seeds), on stderr.
class Progress {
 public:
  Progress(std::string label, std::vector<std::uint64_t> seeds, Budget budget, bool quiet);
  // Called by the RunLog of seed `slot` (rate-limited there); redraws when it is time.
  void update(int slot, long iteration, long env_steps, long episodes, double recent_return);
  void done(int slot);
  // Draws the final state and ends the line.
  void finish();
  // How often a RunLog should call update.
  static constexpr std::chrono::milliseconds kPublishEvery{100};

 private:
  struct Slot {
    long iteration = 0, env_steps = 0, episodes = 0;
    double recent_return = 0.0;
    bool has_return = false, done = false;
  };
  using Clock = std::chrono::steady_clock;
  std::string line() const;
  double fraction(const Slot& s) const;
  void draw(bool final);

  std::string label_;
  std::vector<std::uint64_t> seeds_;
  Budget budget_;
  bool quiet_, tty_;
  std::vector<Slot> slots_;
  std::mutex mutex_;
  Clock::time_point start_, last_draw_;
  bool drawn_ = false;
  std::size_t last_width_ = 0;
};

// Files written per seed and at the top of a multi-seed run.
void write_curve(const std::filesystem::path& path, const std::string& title, CurveX x_axis,
                 const RunLog& log, const ExperimentSpec& spec);
struct SeedCurve {
  std::vector<double> returns;
  std::vector<long> end_steps;
};
void write_aggregate_curve(const std::filesystem::path& path, const std::string& title, CurveX x_axis,
                           const std::vector<SeedCurve>& seeds, const ExperimentSpec& spec);

}  // namespace pgcpp::detail
