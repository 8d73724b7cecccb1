// offpolicy_compare's reading of run folders (declared in offpolicy_compare_runs.hpp).
#include "offpolicy_compare_runs.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace pgcpp::offpolicy_compare {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

}  // namespace

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

}  // namespace pgcpp::offpolicy_compare
