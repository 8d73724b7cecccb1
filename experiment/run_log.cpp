// RunLog (metrics.csv as training goes), the progress line, and the small text formats
// (numbers, JSON) that every run output shares.
#include <sys/ioctl.h>  // terminal width
#include <unistd.h>     // isatty

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "experiment/program.hpp"
#include "experiment/run_internal.hpp"

namespace pgcpp {

namespace detail {

std::string json_number(double v) { return std::isfinite(v) ? number_text(v) : "null"; }

JsonObject& JsonObject::add(const std::string& key, const std::string& json_value) {
  items_.emplace_back(key, json_value);
  return *this;
}

std::string JsonObject::str(int indent) const {
  if (items_.empty()) return "{}";
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  std::string out = "{\n";
  for (std::size_t i = 0; i < items_.size(); ++i) {
    out += pad + json_string(items_[i].first) + ": " + items_[i].second;
    out += i + 1 < items_.size() ? ",\n" : "\n";
  }
  return out + std::string(static_cast<std::size_t>(indent), ' ') + "}";
}

void JsonObject::save(const std::filesystem::path& path) const { write_file_atomically(path, str() + "\n"); }

std::string json_array(const std::vector<std::string>& json_values) {
  std::string out = "[";
  for (std::size_t i = 0; i < json_values.size(); ++i) out += (i ? ", " : "") + json_values[i];
  return out + "]";
}

std::vector<double> moving_average(const std::vector<double>& x, int window) {
  std::vector<double> m(x.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sum += x[i];
    if (i >= static_cast<std::size_t>(window)) sum -= x[i - static_cast<std::size_t>(window)];
    const std::size_t n = std::min(i + 1, static_cast<std::size_t>(window));
    m[i] = sum / static_cast<double>(n);
  }
  return m;
}

// ---- Progress line ----

namespace {

// 950, 21.4k, 1.23M: short enough for one terminal line.
std::string compact(double v) {
  char buf[32];
  const double a = std::abs(v);
  if (a < 1e4) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (a < 1e6) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  return buf;
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

Progress::Progress(std::string label, std::vector<std::uint64_t> seeds, Budget budget, bool quiet)
    : label_(std::move(label)),
      seeds_(std::move(seeds)),
      budget_(budget),
      quiet_(quiet),
      tty_(::isatty(::fileno(stderr)) != 0),
      slots_(seeds_.size()),
      start_(Clock::now()),
      last_draw_(start_) {}

double Progress::fraction(const Slot& s) const {
  double f = 0.0;
  if (budget_.episodes > 0) f = std::max(f, static_cast<double>(s.episodes) / static_cast<double>(budget_.episodes));
  if (budget_.env_steps > 0) f = std::max(f, static_cast<double>(s.env_steps) / static_cast<double>(budget_.env_steps));
  return std::min(f, 1.0);
}

std::string Progress::line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double k = static_cast<double>(slots_.size());
  long min_iteration = slots_[0].iteration;
  double steps = 0, episodes = 0, ret_sum = 0, ret_min = INFINITY, ret_max = -INFINITY, eta = 0;
  int with_return = 0, finished = 0;
  for (const Slot& s : slots_) {
    min_iteration = std::min(min_iteration, s.iteration);
    steps += static_cast<double>(s.env_steps);
    episodes += static_cast<double>(s.episodes);
    if (s.has_return) {
      ++with_return;
      ret_sum += s.recent_return;
      ret_min = std::min(ret_min, s.recent_return);
      ret_max = std::max(ret_max, s.recent_return);
    }
    finished += s.done;
    const double f = s.done ? 1.0 : fraction(s);
    eta = std::max(eta, f > 0 ? elapsed * (1 - f) / f : INFINITY);
  }
  // With several seeds: steps, episodes and return are means over the seeds (the label says
  // so), the return's range across seeds in brackets, the speed is the total.
  const bool many = slots_.size() > 1;
  std::string out = label_ + " | iter " + std::to_string(min_iteration) + " | " + compact(steps / k) + " steps | " +
                    compact(episodes / k) + " episodes";
  if (with_return > 0) {
    out += " | return(" + std::to_string(kRecentEpisodes) + ") " + fixed1(ret_sum / with_return);
    if (many) out += " [" + compact(ret_min) + ", " + compact(ret_max) + "]";
  }
  if (budget_.episodes > 0 || budget_.env_steps > 0)
    out += finished == static_cast<int>(slots_.size()) ? " | " + duration(elapsed) : " | ETA " + duration(eta);
  if (elapsed > 0) out += " | " + compact(steps / elapsed) + " steps/s";
  if (many) out += " | " + std::to_string(finished) + "/" + std::to_string(slots_.size()) + " done";
  return out;
}

void Progress::draw(bool final) {
  std::string text = line();
  if (tty_) {
    // A redrawn line must fit the terminal: drop the label (the command says it), then cut.
    winsize ws{};
    const std::size_t columns =
        ::ioctl(::fileno(stderr), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : std::size_t(120);
    if (text.size() >= columns && text.size() > label_.size() + 3) text = text.substr(label_.size() + 3);
    if (text.size() >= columns) text.resize(columns - 1);
    // Redraw in place; pad over the rest of a longer previous line.
    std::string padded = text;
    if (padded.size() < last_width_) padded.append(last_width_ - padded.size(), ' ');
    last_width_ = text.size();
    std::fprintf(stderr, "\r%s%s", padded.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::update(int slot, long iteration, long env_steps, long episodes, double recent_return) {
  if (quiet_) return;
  std::lock_guard lock(mutex_);
  Slot& s = slots_[static_cast<std::size_t>(slot)];
  s.iteration = iteration;
  s.env_steps = env_steps;
  s.episodes = episodes;
  s.has_return = std::isfinite(recent_return);
  if (s.has_return) s.recent_return = recent_return;
  const auto now = Clock::now();
  const auto every = tty_ ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
  if (now - last_draw_ < every) return;
  last_draw_ = now;
  draw(false);
}

void Progress::done(int slot) {
  std::lock_guard lock(mutex_);
  slots_[static_cast<std::size_t>(slot)].done = true;
}

void Progress::finish() {
  if (quiet_) return;
  std::lock_guard lock(mutex_);
  // A run that failed before its first episode says so in one line of its own, without this one.
  const bool started = std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.episodes > 0; });
  if (started || drawn_) draw(true);
}

}  // namespace detail

// ---- RunLog ----

struct RunLog::File {
  std::filesystem::path path;
  std::ofstream out;
};

RunLog::RunLog(const std::filesystem::path& metrics_csv, std::vector<std::string> loss_columns)
    : file_(std::make_unique<File>()), loss_columns_(std::move(loss_columns)), loss_text_(loss_columns_.size()) {
  std::string header = "env_steps,episode,return,length";
  for (std::size_t i = 0; i < loss_columns_.size(); ++i) {
    const std::string& c = loss_columns_[i];
    const bool clash = c == "env_steps" || c == "episode" || c == "return" || c == "length" ||
                       std::find(loss_columns_.begin(), loss_columns_.begin() + static_cast<long>(i), c) !=
                           loss_columns_.begin() + static_cast<long>(i);
    if (c.empty() || c.find_first_of(",\"\n\r") != std::string::npos || clash)
      throw std::invalid_argument("RunLog: bad or repeated loss column name '" + c + "'");
    header += "," + c;
  }
  file_->path = metrics_csv;
  file_->out.open(metrics_csv, std::ios::trunc);
  if (!file_->out) throw std::runtime_error("cannot open '" + metrics_csv.string() + "' for writing");
  header += "\n";
  file_->out.write(header.data(), static_cast<std::streamsize>(header.size()));
  file_->out.flush();
}

RunLog::~RunLog() = default;

void RunLog::time_episodes(const std::filesystem::path& timing_csv, double cpu_start) {
  timing_ = std::make_unique<File>();
  timing_->path = timing_csv;
  timing_->out.open(timing_csv, std::ios::trunc);
  if (!timing_->out) throw std::runtime_error("cannot open '" + timing_csv.string() + "' for writing");
  timing_->out << "episode,cpu_seconds\n";
  timing_->out.flush();
  cpu_start_ = cpu_start;
}

void RunLog::set_loss(const std::string& column, double value) {
  for (std::size_t i = 0; i < loss_columns_.size(); ++i)
    if (loss_columns_[i] == column) {
      // Training on a non-finite loss only spreads NaN through theta: stop at this update.
      if (!std::isfinite(value))
        throw std::runtime_error("update " + std::to_string(iteration_ + 1) + ": " + column + " is " +
                                 detail::number_text(value));
      loss_text_[i] = detail::number_text(value);
      return;
    }
  throw std::invalid_argument("RunLog::set_loss: '" + column +
                              "' is not one of the loss columns declared in ExperimentSpec::loss_columns");
}

void RunLog::episode(long env_steps, double episode_return, int length) {
  env_steps_ = env_steps;
  returns_.push_back(episode_return);
  end_steps_.push_back(env_steps);
  // One write per complete row, then a flush: a run killed at any moment leaves whole lines.
  std::string row = std::to_string(env_steps) + "," + std::to_string(returns_.size()) + "," +
                    detail::number_text(episode_return) + "," + std::to_string(length);
  for (const std::string& t : loss_text_) row += "," + t;
  row += "\n";
  file_->out.write(row.data(), static_cast<std::streamsize>(row.size()));
  file_->out.flush();
  if (!file_->out) throw std::runtime_error("cannot write to '" + file_->path.string() + "'");
  if (timing_) {
    // Milliseconds are enough for a curve, and keep the file small.
    const double cpu = std::round((detail::thread_cpu_seconds() - cpu_start_) * 1000) / 1000;
    const std::string timing_row = std::to_string(returns_.size()) + "," + detail::number_text(cpu) + "\n";
    timing_->out.write(timing_row.data(), static_cast<std::streamsize>(timing_row.size()));
    timing_->out.flush();
    if (!timing_->out) throw std::runtime_error("cannot write to '" + timing_->path.string() + "'");
  }
  progress(iteration_, env_steps);
}

std::filesystem::path RunLog::dir() const { return file_->path.parent_path(); }

void RunLog::batch(long iteration, const std::vector<Trajectory>& trajectories) {
  for (const Trajectory& tau : trajectories) episode(env_steps_ + tau.length(), tau.total_reward(), tau.length());
  progress(iteration + 1, env_steps_);
}

void RunLog::progress(long iteration, long env_steps) {
  iteration_ = iteration;
  env_steps_ = env_steps;
  if (!progress_) return;
  // Rate-limit here, per thread, so the shared line's mutex is taken only ~10 times a second.
  const auto now = std::chrono::steady_clock::now();
  if (now < next_publish_) return;
  next_publish_ = now + detail::Progress::kPublishEvery;
  progress_->update(slot_, iteration_, env_steps_, episodes(), recent_return(detail::kRecentEpisodes));
}

double RunLog::recent_return(int n) const {
  if (returns_.empty() || n <= 0) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t k = std::min(returns_.size(), static_cast<std::size_t>(n));
  double sum = 0.0;
  for (std::size_t i = returns_.size() - k; i < returns_.size(); ++i) sum += returns_[i];
  return sum / static_cast<double>(k);
}

}  // namespace pgcpp
