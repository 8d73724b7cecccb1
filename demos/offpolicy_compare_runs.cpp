// offpolicy_compare's reading of run folders (declared in offpolicy_compare_runs.hpp).
#include "offpolicy_compare_runs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace pgcpp::offpolicy_compare {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A path as an error message shows it: quoted, on one line (control characters such as a newline
// in a folder's name written as \n or \xNN).
std::string shown(const fs::path& path) {
  std::string out = "'";
  for (const char ch : path.string()) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) {
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "'";
}

// metrics.csv: the env_steps and return columns, every row finite. Only a regular file of at most
// kMaxMetricsBytes is read: a FIFO would block the open forever, /dev/zero never ends.
SeedCurve read_metrics(const fs::path& file, const std::string& name) {
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);  // a symbolic link: what it points to
  if (!fs::is_regular_file(status)) throw std::runtime_error(shown(file) + " is not a regular file (a device, pipe or folder)");
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) throw std::runtime_error("cannot read the size of " + shown(file) + ": " + ec.message());
  if (size > kMaxMetricsBytes)
    throw std::runtime_error(shown(file) + " is too large: " + std::to_string(size) + " bytes (a metrics.csv here holds at most " +
                             std::to_string(kMaxMetricsBytes) + ")");
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + shown(file));
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(shown(file) + " is empty");
  std::vector<std::string> header;
  std::stringstream head(line);
  for (std::string cell; std::getline(head, cell, ',');) header.push_back(cell);
  const auto column = [&](const std::string& c) {
    const auto it = std::find(header.begin(), header.end(), c);
    if (it == header.end()) throw std::runtime_error(shown(file) + " has no '" + c + "' column");
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t c_steps = column("env_steps"), c_return = column("return");
  SeedCurve curve{name, {}, {}};
  // The bound holds even if the file grows while it is read.
  std::uintmax_t read = 0;
  for (long row = 2; std::getline(in, line); ++row) {
    read += line.size() + 1;
    if (read > kMaxMetricsBytes + 1)
      throw std::runtime_error(shown(file) + " grew beyond " + std::to_string(kMaxMetricsBytes) + " bytes while being read");
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
        throw std::runtime_error(shown(file) + " line " + std::to_string(row) + ": column " +
                                 header[c] + " is not a finite number");
      return v;
    };
    curve.steps.push_back(number(c_steps));
    curve.returns.push_back(number(c_return));
  }
  if (curve.returns.empty()) throw std::runtime_error(shown(file) + " has no episodes");
  return curve;
}

}  // namespace

std::vector<SeedCurve> read_run(const std::string& flag, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(flag + " " + shown(dir) + ": not a folder");
  std::vector<std::pair<long, fs::path>> seeds;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.size() > 4 && n.rfind("seed", 0) == 0 &&
        std::all_of(n.begin() + 4, n.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        fs::exists(entry.path() / "metrics.csv")) {
      long k = 0;
      const auto [end, error] = std::from_chars(n.data() + 4, n.data() + n.size(), k);
      if (error != std::errc() || end != n.data() + n.size())
        throw std::runtime_error(flag + " " + shown(dir) + ": the seed of folder " + shown(n) +
                                 " is too large (seeds go up to " + std::to_string(std::numeric_limits<long>::max()) + ")");
      seeds.emplace_back(k, entry.path());
    }
  }
  std::sort(seeds.begin(), seeds.end());
  std::vector<SeedCurve> out;
  for (const auto& [k, p] : seeds) out.push_back(read_metrics(p / "metrics.csv", "seed " + std::to_string(k)));
  if (out.empty() && fs::exists(dir / "metrics.csv")) out.push_back(read_metrics(dir / "metrics.csv", "seed"));
  if (out.empty())
    throw std::runtime_error(flag + " " + shown(dir) + ": no metrics.csv in it or in its seed<k>/ folders");
  return out;
}

}  // namespace pgcpp::offpolicy_compare
