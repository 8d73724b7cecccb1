// run_experiment: command line, per-seed training threads, evaluation, and the files of a run.
#include "experiment/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <sys/stat.h>  // lstat: which files of a folder this run wrote
#include <time.h>      // clock_gettime(CLOCK_THREAD_CPUTIME_ID): the seed's own CPU time


#include "experiment/program.hpp"
#include "experiment/run_internal.hpp"
#include "envs/env.hpp"

namespace pgcpp {

namespace fs = std::filesystem;
using detail::json_number;
using detail::json_string;
using detail::JsonObject;

// CPU time of the calling thread: a seed's training runs on one thread, so this is its cost on
// one core, whatever else shares the machine (wall_seconds is not, on a loaded machine).
double detail::thread_cpu_seconds() {
  timespec t{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return std::nan("");
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

namespace {

using detail::thread_cpu_seconds;
constexpr int kEvalEpisodes = 20;
constexpr int kMaxSeeds = 64;  // RunOptions::seeds' range

// Reading back a summary.json that JsonObject wrote (for --aggregate): the members of the top
// object, each as its raw JSON text, so that a value compares with what JsonObject would write.
std::size_t skip_json_value(const std::string& t, std::size_t i, const std::string& who) {
  int depth = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '"') {
      for (++i; i < t.size() && t[i] != '"'; ++i)
        if (t[i] == '\\') ++i;
      if (i >= t.size()) break;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;
      --depth;
    } else if (c == ',' && depth == 0) {
      return i;
    }
  }
  throw std::runtime_error(who + ": not a complete JSON object");
}

std::string trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::map<std::string, std::string> json_members_of(const std::string& text, const std::string& who) {
  std::map<std::string, std::string> out;
  const std::string t = trim(text);
  if (t.size() < 2 || t.front() != '{' || t.back() != '}') throw std::runtime_error(who + ": not a JSON object");
  std::size_t i = 1;
  while (true) {
    i = t.find_first_not_of(" \t\r\n", i);
    if (i == std::string::npos || t[i] == '}') break;
    std::size_t k = i + 1;  // the key: a string without escapes (JsonObject's keys are names)
    while (t[i] == '"' && k < t.size() && t[k] != '"' && t[k] != '\\') ++k;
    const std::size_t sep = t[i] == '"' && k < t.size() && t[k] == '"' ? t.find_first_not_of(" \t\r\n", k + 1)
                                                                        : std::string::npos;
    if (sep == std::string::npos || t[sep] != ':') throw std::runtime_error(who + ": not a JSON object");
    const std::string key = t.substr(i + 1, k - i - 1);
    const std::size_t end = skip_json_value(t, sep + 1, who);
    out[key] = trim(t.substr(sep + 1, end - sep - 1));
    i = end + 1;
    if (t[end] == '}') break;
  }
  return out;
}

std::map<std::string, std::string> read_json_members(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return json_members_of(std::string(std::istreambuf_iterator<char>(in), {}), path.string());
}
std::map<std::string, std::string> read_json_members(const std::string& text) { return json_members_of(text, "JSON"); }

// The items of a flat JSON array of numbers, as text.
std::vector<std::string> json_array_items(const std::string& raw) {
  const std::string t = trim(raw);
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') throw std::runtime_error("not a JSON array: " + raw);
  std::vector<std::string> items;
  const std::string body = t.substr(1, t.size() - 2);
  if (trim(body).empty()) return items;
  for (std::size_t b = 0, e; b <= body.size(); b = e + 1) {
    e = body.find(',', b);
    if (e == std::string::npos) e = body.size();
    items.push_back(trim(body.substr(b, e - b)));
  }
  return items;
}

// A JSON string's text (what detail::json_string writes) back to the string.
std::string json_unquote(const std::string& raw) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') throw std::runtime_error("not a JSON string: " + raw);
  std::string out;
  for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    const char c = raw[++i];
    if (c == 'n') out += '\n';
    else if (c == 't') out += '\t';
    else if (c == 'r') out += '\r';
    else if (c == 'u' && i + 4 < raw.size()) {
      out += static_cast<char>(std::stoi(raw.substr(i + 1, 4), nullptr, 16));
      i += 4;
    } else out += c;
  }
  return out;
}
}  // namespace

// ---- Command line ----

void check_run_flags(const Cli& cli, RunOptions& run) {
  cli.require(run.load().empty() || run.seeds == 1, "--load evaluates one policy: --seeds must be 1, got " +
                                                        std::to_string(run.seeds()));
  cli.require(!run.aggregate() || run.load().empty(), "--aggregate trains nothing and loads nothing: drop --load");
  cli.require(!run.aggregate() || run.seeds() > 1, "--aggregate combines seeds: --seeds must be > 1, got " +
                                                        std::to_string(run.seeds()));
  cli.require(!run.aggregate() || !run.out().empty(), "--aggregate reads OUT/seed<s>/: give --out OUT");
  if (!run.load().empty() && !cli.given("--env")) {
    run.env = "";  // taken from the policy file
    return;
  }
  try {
    run.env = make_env(run.env)->name();
  } catch (const std::invalid_argument& e) {
    cli.usage_error(std::string("--env: ") + e.what());
  }
}

std::string env_short_name(const std::string& env) {
  const std::string id = make_env(env)->name();  // throws std::invalid_argument for unknown names
  std::string s = id.substr(0, id.find("-v"));
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// ---- Evaluation ----

double Evaluation::mean() const {
  if (returns.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (double r : returns) s += r;
  return s / static_cast<double>(returns.size());
}

double Evaluation::stddev() const {
  if (returns.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double m = mean();
  double s = 0;
  for (double r : returns) s += (r - m) * (r - m);
  return std::sqrt(s / static_cast<double>(returns.size()));
}

std::uint64_t evaluation_seed(std::uint64_t train_seed) { return 1'000'000'000ull + 1000ull * train_seed; }

Evaluation evaluate(const std::string& env_name, const ActFn& act, int episodes, std::uint64_t seed) {
  if (episodes < 1) throw std::invalid_argument("evaluate: episodes must be >= 1, got " + std::to_string(episodes));
  if (!act) throw std::invalid_argument("evaluate: no act function");
  ad::NoGrad no_grad;  // evaluation never differentiates: build no graphs
  std::unique_ptr<Env> env = make_env(env_name);
  Evaluation ev;
  for (int i = 0; i < episodes; ++i) {
    const bool record = i == 0;
    Eigen::VectorXd obs = env->reset(seed + static_cast<std::uint64_t>(i));
    if (record) ev.states.push_back(env->state());
    double episode_return = 0;
    int length = 0;
    for (bool over = false; !over;) {
      const Eigen::VectorXd action = act(obs);
      StepResult r = env->step(action);
      episode_return += r.reward;
      ++length;
      obs = std::move(r.observation);
      over = r.terminated || r.truncated;
      if (record) {
        ev.actions.push_back(action);
        ev.states.push_back(env->state());
      }
    }
    ev.returns.push_back(episode_return);
    ev.lengths.push_back(length);
  }
  return ev;
}

// ---- The experiment ----

namespace detail {

class Experiment {
 public:
  Experiment(const RunOptions& run, const ExperimentSpec& spec) : run_(run), spec_(spec) {}

  int train(const TrainFn& train);
  int evaluate_saved(const RestoreFn& restore);
  int aggregate();

 private:
  struct Outcome {
    std::uint64_t seed = 0;
    fs::path dir;
    bool ok = false;
    std::string error;
    long env_steps = 0, episodes = 0;
    double wall_seconds = 0, cpu_seconds = 0, final_return = 0;
    std::vector<double> returns;
    std::vector<long> end_steps;
    Evaluation eval;
    std::string architecture;
    long parameter_count = 0;
  };

  using Clock = std::chrono::steady_clock;

  fs::path top_folder() const;
  std::string seeds_label() const;
  std::vector<Outcome> outcomes_in(const fs::path& top) const;
  void train_seeds(const TrainFn& train, std::vector<Outcome>& outcomes);
  void train_seed(int slot, const TrainFn& train, Outcome& o);
  void read_seed(Outcome& o) const;
  std::string no_episode_message(long env_steps) const;
  bool write_aggregate(const std::vector<Outcome>& outcomes, const fs::path& top, const std::string& label,
                       int failures, double wall_seconds) const;
  void report_aggregate(const std::vector<Outcome>& outcomes, const fs::path& top, const std::string& label,
                        int failures) const;
  JsonObject seed_summary(const Outcome& o) const;
  JsonObject aggregate_summary(const std::vector<Outcome>& outcomes, double wall_seconds) const;
  JsonObject common_tail(JsonObject j) const;
  std::string curve_title() const { return spec_.figure.empty() ? run_.algorithm + ", " + run_.env() : spec_.figure + ", " + run_.env(); }
  std::string rollout_title() const {
    return (spec_.rollout_figure.empty() ? "Policy rollout (" + run_.algorithm + ")" : spec_.rollout_figure) + ", " + run_.env();
  }
  void report(const Outcome& o) const;

  RunOptions run_;
  const ExperimentSpec& spec_;
  std::unique_ptr<Progress> progress_;
};

const char* const kSeedFiles[] = {"summary.json", "curve.svg", kPolicyFileName, "rollout.svg", "rollout_anim.svg"};

// The regular files directly in a folder, each with what tells a rewrite apart (a new inode from
// write_file_atomically's rename, or a new modification time): taken before a seed trains, so
// that afterwards the files it wrote are known, also those an algorithm adds (npg's kl.svg).
class FolderSnapshot {
 public:
  explicit FolderSnapshot(const fs::path& dir) : dir_(dir), before_(files()) {}
  // The files written since the snapshot, sorted.
  std::vector<std::string> written() const {
    std::vector<std::string> out;
    for (const auto& [name, stamp] : files()) {
      const auto it = before_.find(name);
      if (it == before_.end() || it->second != stamp) out.push_back(name);
    }
    return out;
  }

 private:
  struct Stamp {
    ino_t inode = 0;
    long long mtime_ns = 0;
    bool operator!=(const Stamp& o) const { return inode != o.inode || mtime_ns != o.mtime_ns; }
  };
  std::map<std::string, Stamp> files() const {
    std::map<std::string, Stamp> out;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
      struct stat st {};
      const std::string name = entry.path().filename().string();
      if (name == kOutputsManifest || ::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out[name] = {st.st_ino, static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec};
    }
    return out;
  }
  fs::path dir_;
  std::map<std::string, Stamp> before_;
};

std::string list_files(const fs::path& dir) {
  std::string s = dir.string() + "/ (metrics.csv";
  for (const char* f : kSeedFiles) s += std::string(", ") + f;
  return s + ")";
}

// A manifest line names one entry of its own folder: "name" or "name/", nothing else.
bool plain_name(const std::string& entry) {
  const std::string name = !entry.empty() && entry.back() == '/' ? entry.substr(0, entry.size() - 1) : entry;
  return !name.empty() && name != "." && name != ".." && name != kOutputsManifest &&
         name.find_first_of(std::string("/\\\0\n\r", 5)) == std::string::npos;
}

std::vector<std::string> read_manifest(const fs::path& dir) {
  std::vector<std::string> names;
  std::ifstream in(dir / kOutputsManifest);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#' && plain_name(line)) names.push_back(line);
  return names;
}

void Experiment::train_seed(int slot, const TrainFn& train, Outcome& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu_seconds();
  std::unique_ptr<FolderSnapshot> before;
  try {
    fs::create_directories(o.dir);
    // Outputs of an earlier run in this folder would look like results of this one.
    remove_previous_outputs(o.dir);
    before = std::make_unique<FolderSnapshot>(o.dir);
    RunLog log(o.dir / "metrics.csv", spec_.loss_columns);
    log.time_episodes(o.dir / "timing.csv", cpu0);
    record_outputs(o.dir, {"metrics.csv", "timing.csv"});  // now, so that even a killed run's rows are replaced next time
    log.progress_ = progress_.get();
    log.slot_ = slot;
    TrainResult result;
    try {
      result = train(o.seed, log);
    } catch (...) {
      progress_->done(slot);
      throw;
    }
    o.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    o.cpu_seconds = thread_cpu_seconds() - cpu0;
    progress_->update(slot, log.iteration_, log.env_steps(), log.episodes(), log.recent_return(kRecentEpisodes));
    progress_->done(slot);
    // No episode, no return: a summary with final_return null would pass for a result.
    if (log.episodes() == 0) throw std::runtime_error(no_episode_message(log.env_steps()));
    o.env_steps = log.env_steps();
    o.episodes = log.episodes();
    o.final_return = log.recent_return(kRecentEpisodes);
    o.returns = log.returns();
    o.end_steps = log.episode_end_steps();
    if (!result.act) throw std::logic_error("the train function returned no act function");

    o.eval = pgcpp::evaluate(run_.env(), result.act, kEvalEpisodes, evaluation_seed(o.seed));
    PolicyFile policy{result.architecture, run_.env(), result.parameters.flatten(), run_.algorithm, o.seed};
    o.architecture = result.architecture;
    o.parameter_count = static_cast<long>(policy.theta.size());
    save_policy_file((o.dir / kPolicyFileName).string(), policy);
    write_curve(o.dir / "curve.svg", curve_title(), spec_.x_axis, log, spec_);
    draw_rollout(run_.env(), o.eval, o.dir, rollout_title());
    record_outputs(o.dir, before->written());
    seed_summary(o).save(o.dir / "summary.json");  // last: its presence means the run completed
    record_outputs(o.dir, {"summary.json"});
    o.ok = true;
  } catch (const std::exception& e) {
    o.error = e.what();
  } catch (...) {
    o.error = "unknown exception";
  }
  if (!o.ok && before) {  // what a failed run wrote (metrics.csv, an algorithm's figure so far)
    try {
      record_outputs(o.dir, before->written());
    } catch (const std::exception& e) {
      o.error += std::string("; ") + e.what();
    }
  }
}

// Why a seed that finished no episode fails, naming the budget's flag when the spec's step budget
// is one of the hyperparameters (sac's --steps, npg's --env-steps).
std::string Experiment::no_episode_message(long env_steps) const {
  const long budget = spec_.budget.env_steps;
  std::string flag;
  if (spec_.hyperparameters && budget > 0)
    for (const char* f : {"--env-steps", "--steps"})
      if (const ParamBase* p = spec_.hyperparameters->find(f); p && p->json() == std::to_string(budget)) {
        flag = f;
        break;
      }
  const long steps = std::max(env_steps, budget);
  if (flag.empty())
    return "training ended before the first episode finished" +
           (steps > 0 ? " (" + std::to_string(steps) + " env steps)" : std::string()) +
           ": there is no return to report";
  return "the budget ended before the first episode finished (" + std::to_string(steps) + " env step" +
         (steps == 1 ? "" : "s") + "); raise " + flag;
}

JsonObject Experiment::common_tail(JsonObject j) const {
  JsonObject h;
  if (spec_.hyperparameters)
    for (const ParamBase* p : spec_.hyperparameters->all()) h.add(p->key(), p->json());
  j.add("scalar", json_string(sizeof(Scalar) == 8 ? "double" : "float"));
  j.add("hyperparameters", h.str(2));
  return j;
}

JsonObject Experiment::seed_summary(const Outcome& o) const {
  JsonObject j;
  j.add("algorithm", json_string(run_.algorithm))
      .add("env", json_string(run_.env()))
      .add("seed", std::to_string(o.seed))
      .add("env_steps", std::to_string(o.env_steps))
      .add("episodes", std::to_string(o.episodes))
      .add("wall_seconds", json_number(std::round(o.wall_seconds * 1000) / 1000))
      .add("cpu_seconds", json_number(std::round(o.cpu_seconds * 1000) / 1000))
      .add("final_return", json_number(o.final_return))
      .add("eval_return_mean", json_number(o.eval.mean()))
      .add("eval_return_std", json_number(o.eval.stddev()))
      .add("eval_episodes", std::to_string(o.eval.returns.size()))
      .add("eval_seed_first", std::to_string(evaluation_seed(o.seed)))
      .add("eval_returns", [&] {
        std::vector<std::string> r;
        for (double v : o.eval.returns) r.push_back(json_number(v));
        return json_array(r);
      }())
      .add("architecture", json_string(o.architecture))
      .add("parameter_count", std::to_string(o.parameter_count));
  return common_tail(std::move(j));
}

JsonObject Experiment::aggregate_summary(const std::vector<Outcome>& outcomes, double wall_seconds) const {
  std::vector<std::string> seeds, failed, per_seed;
  long env_steps = 0, episodes = 0;
  double final_sum = 0, final_sq = 0;
  int n = 0;
  Evaluation all;  // every evaluation episode of every seed
  std::string architecture;
  for (const Outcome& o : outcomes) {
    seeds.push_back(std::to_string(o.seed));
    if (!o.ok) {
      failed.push_back(std::to_string(o.seed));
      continue;
    }
    ++n;
    env_steps += o.env_steps;
    episodes += o.episodes;
    final_sum += o.final_return;
    final_sq += o.final_return * o.final_return;
    all.returns.insert(all.returns.end(), o.eval.returns.begin(), o.eval.returns.end());
    architecture = o.architecture;
    JsonObject s;
    s.add("seed", std::to_string(o.seed))
        .add("env_steps", std::to_string(o.env_steps))
        .add("episodes", std::to_string(o.episodes))
        .add("final_return", json_number(o.final_return))
        .add("eval_return_mean", json_number(o.eval.mean()))
        .add("eval_return_std", json_number(o.eval.stddev()));
    per_seed.push_back(s.str(4));
  }
  const double final_mean = n ? final_sum / n : NAN;
  const double final_std = n ? std::sqrt(std::max(0.0, final_sq / n - final_mean * final_mean)) : NAN;
  JsonObject j;
  j.add("algorithm", json_string(run_.algorithm))
      .add("env", json_string(run_.env()))
      .add("seed", std::to_string(run_.seed()))
      .add("seeds", json_array(seeds))
      .add("failed_seeds", json_array(failed))
      .add("env_steps", std::to_string(env_steps))
      .add("episodes", std::to_string(episodes))
      .add("wall_seconds", json_number(std::round(wall_seconds * 1000) / 1000))
      .add("final_return", json_number(final_mean))
      .add("final_return_std_across_seeds", json_number(final_std))
      .add("eval_return_mean", json_number(all.mean()))
      .add("eval_return_std", json_number(all.stddev()))
      .add("eval_episodes", std::to_string(all.returns.size()))
      .add("architecture", json_string(architecture))
      .add("per_seed", per_seed.empty() ? "[]" : "[\n    " + [&] {
             std::string s;
             for (std::size_t i = 0; i < per_seed.size(); ++i) s += (i ? ",\n    " : "") + per_seed[i];
             return s;
           }() + "\n  ]");
  return common_tail(std::move(j));
}

std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void Experiment::report(const Outcome& o) const {
  if (!o.ok) {
    std::error_code ec;
    const fs::path metrics = o.dir / "metrics.csv";
    std::cerr << run_.algorithm << " " << run_.env() << " seed " << o.seed << " failed: " << o.error
              << (fs::exists(metrics, ec) ? " (metrics so far: " + metrics.string() + ")" : std::string()) << "\n";
    return;
  }
  if (run_.quiet()) return;
  std::cout << run_.algorithm << " " << run_.env() << " seed " << o.seed << ": " << o.episodes << " episodes, "
            << o.env_steps << " env steps, " << fixed(o.wall_seconds, 1) << " s (" << fixed(o.cpu_seconds, 1)
            << " s CPU) | final return("
            << kRecentEpisodes << ") " << fixed(o.final_return, 1) << " | evaluation " << fixed(o.eval.mean(), 1)
            << " ± " << fixed(o.eval.stddev(), 1) << " over " << o.eval.returns.size() << " episodes\n"
            << "  -> " << list_files(o.dir) << "\n";
}

// The run's folder: --out, else runs/<algorithm>-<env>-seed<s> (or -seeds<first>-<last>).
fs::path Experiment::top_folder() const {
  const int k = run_.seeds();
  const std::string env = env_short_name(run_.env());
  const std::uint64_t last = run_.seed() + static_cast<std::uint64_t>(k - 1);
  return run_.out().empty()
             ? fs::path("runs") / (run_.algorithm + "-" + env +
                                   (k == 1 ? "-seed" + std::to_string(run_.seed())
                                           : "-seeds" + std::to_string(run_.seed()) + "-" + std::to_string(last)))
             : fs::path(run_.out());
}

// "<algorithm> <env> seed <s>", or "... seeds <first>-<last>": the progress line's and the
// aggregate messages' label.
std::string Experiment::seeds_label() const {
  const int k = run_.seeds();
  const std::uint64_t last = run_.seed() + static_cast<std::uint64_t>(k - 1);
  return run_.algorithm + " " + run_.env() +
         (k == 1 ? " seed " + std::to_string(run_.seed())
                 : " seeds " + std::to_string(run_.seed()) + "-" + std::to_string(last));
}

// One outcome per seed, each with its folder: `top` itself for one seed, top/seed<s> for several.
std::vector<Experiment::Outcome> Experiment::outcomes_in(const fs::path& top) const {
  const int k = run_.seeds();
  std::vector<Outcome> outcomes(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) {
    Outcome& o = outcomes[static_cast<std::size_t>(i)];
    o.seed = run_.seed() + static_cast<std::uint64_t>(i);
    o.dir = k == 1 ? top : top / ("seed" + std::to_string(o.seed));
  }
  return outcomes;
}

// One seed on this thread; several on one thread each. Each seed owns its RNGs, RunLog and
// files: what it writes never depends on scheduling.
void Experiment::train_seeds(const TrainFn& train, std::vector<Outcome>& outcomes) {
  const int k = static_cast<int>(outcomes.size());
  if (k == 1) {
    train_seed(0, train, outcomes[0]);
    return;
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < k; ++i) {
    try {
      threads.emplace_back([&, i] { train_seed(i, train, outcomes[static_cast<std::size_t>(i)]); });
    } catch (const std::system_error& e) {  // e.g. a thread limit: the seeds not started fail
      for (int j = i; j < k; ++j) {
        outcomes[static_cast<std::size_t>(j)].error = std::string("cannot start a thread: ") + e.what();
        progress_->done(j);
      }
      break;
    }
  }
  for (std::thread& t : threads) t.join();
}

// The files of a multi-seed run at its top (summary.json, curve.svg over the seeds that
// finished) and, unless --quiet, their one-line report. False, said on stderr, if writing failed.
bool Experiment::write_aggregate(const std::vector<Outcome>& outcomes, const fs::path& top, const std::string& label,
                                 int failures, double wall_seconds) const {
  try {
    std::vector<SeedCurve> curves;
    for (const Outcome& o : outcomes)
      if (o.ok) curves.push_back({o.returns, o.end_steps});
    aggregate_summary(outcomes, wall_seconds).save(top / "summary.json");
    write_aggregate_curve(top / "curve.svg", curve_title(), spec_.x_axis, curves, spec_);
    if (!run_.quiet()) report_aggregate(outcomes, top, label, failures);
  } catch (const std::exception& e) {
    std::cerr << label << ": writing the aggregate files failed: " << e.what() << "\n";
    return false;
  }
  return true;
}

void Experiment::report_aggregate(const std::vector<Outcome>& outcomes, const fs::path& top, const std::string& label,
                                  int failures) const {
  double final_sum = 0;
  Evaluation all;
  for (const Outcome& o : outcomes)
    if (o.ok) {
      final_sum += o.final_return;
      all.returns.insert(all.returns.end(), o.eval.returns.begin(), o.eval.returns.end());
    }
  std::cout << label << ": mean final return(" << kRecentEpisodes << ") "
            << fixed(final_sum / static_cast<double>(run_.seeds() - failures), 1) << " | evaluation "
            << fixed(all.mean(), 1) << " ± " << fixed(all.stddev(), 1) << " over " << all.returns.size()
            << " episodes\n  -> " << top.string() << "/ (summary.json, curve.svg; per seed: seed<s>/)\n";
}

int Experiment::train(const TrainFn& train) {
  const auto t0 = Clock::now();
  const int k = run_.seeds();
  const fs::path top = top_folder();
  std::vector<Outcome> outcomes = outcomes_in(top);
  std::vector<std::uint64_t> seeds;
  for (const Outcome& o : outcomes) seeds.push_back(o.seed);
  const std::string label = seeds_label();
  progress_ = std::make_unique<Progress>(k == 1 ? label : label + " (means)", seeds, spec_.budget, run_.quiet());

  make_output_dir(top, run_.out().empty() ? "output folder" : "--out");
  remove_previous_outputs(top);
  std::unique_ptr<FolderSnapshot> before;
  if (k > 1) {
    before = std::make_unique<FolderSnapshot>(top);
    std::vector<std::string> seed_dirs;
    for (const Outcome& o : outcomes) seed_dirs.push_back(o.dir.filename().string() + "/");
    record_outputs(top, seed_dirs);
  }
  train_seeds(train, outcomes);
  progress_->finish();

  int failures = 0;
  for (const Outcome& o : outcomes) {
    report(o);
    failures += !o.ok;
  }
  const bool aggregate_ok = k == 1 || failures == k ||
                            write_aggregate(outcomes, top, label, failures,
                                            std::chrono::duration<double>(Clock::now() - t0).count());
  if (before) record_outputs(top, before->written());
  return aggregate_ok && failures == 0 ? 0 : 1;
}

// --aggregate: the seeds ran as separate single-seed runs into top/seed<s>/; read them back and
// write what train() writes at the top. Every number read is one that train() would have held
// (metrics.csv and summary.json hold doubles in their shortest round-trip form), so the files
// are the same except wall_seconds.
int Experiment::aggregate() {
  const fs::path top = top_folder();
  std::vector<Outcome> outcomes = outcomes_in(top);
  int failures = 0;
  double wall = 0;
  for (Outcome& o : outcomes) {
    read_seed(o);
    failures += !o.ok;
    wall = std::max(wall, o.wall_seconds);
    report(o);
  }
  if (failures == run_.seeds())
    throw std::runtime_error("--aggregate: no seed finished in " + top.string() + " (no seed<s>/summary.json)");
  std::vector<std::string> names;
  for (const Outcome& o : outcomes) names.push_back(o.dir.filename().string() + "/");
  record_outputs(top, names);
  const bool ok = write_aggregate(outcomes, top, seeds_label(), failures, wall);
  record_outputs(top, {"summary.json", "curve.svg"});
  return ok && failures == 0 ? 0 : 1;
}

// One seed's results from its folder; o.ok = false (with the reason) when it has no summary.json.
// Throws when the folder holds another experiment's results.
void Experiment::read_seed(Outcome& o) const {
  const fs::path summary_path = o.dir / "summary.json";
  std::error_code ec;
  if (!fs::is_regular_file(summary_path, ec)) {
    o.error = "no " + summary_path.string() + " (the seed did not finish)";
    return;
  }
  const std::map<std::string, std::string> s = read_json_members(summary_path);
  auto field = [&](const std::string& key) -> const std::string& {
    const auto it = s.find(key);
    if (it == s.end()) throw std::runtime_error(summary_path.string() + ": no \"" + key + "\"");
    return it->second;
  };
  auto number = [&](const std::string& key) {
    const std::string& t = field(key);
    if (t == "null") return std::numeric_limits<double>::quiet_NaN();
    double v = 0;
    if (!detail::parse_number(t, v).empty()) throw std::runtime_error(summary_path.string() + ": \"" + key + "\" is not a number");
    return v;
  };
  const std::string other = summary_path.string() + " was written by another experiment than this command: its ";
  if (field("algorithm") != json_string(run_.algorithm)) throw std::runtime_error(other + "algorithm is " + field("algorithm"));
  if (field("env") != json_string(run_.env())) throw std::runtime_error(other + "env is " + field("env"));
  if (field("seed") != std::to_string(o.seed)) throw std::runtime_error(other + "seed is " + field("seed"));
  JsonObject mine = common_tail(JsonObject{});
  if (field("hyperparameters") + field("scalar") != read_json_members(mine.str()).at("hyperparameters") +
                                                        read_json_members(mine.str()).at("scalar"))
    throw std::runtime_error(other + "hyperparameters (or scalar type) differ");
  o.env_steps = static_cast<long>(number("env_steps"));
  o.episodes = static_cast<long>(number("episodes"));
  o.wall_seconds = number("wall_seconds");
  o.cpu_seconds = number("cpu_seconds");
  o.final_return = number("final_return");
  o.architecture = json_unquote(field("architecture"));
  o.parameter_count = static_cast<long>(number("parameter_count"));
  for (const std::string& v : json_array_items(field("eval_returns"))) {
    double r = 0;
    if (!detail::parse_number(v, r).empty()) throw std::runtime_error(summary_path.string() + ": eval_returns holds " + v);
    o.eval.returns.push_back(r);
  }
  // The curve: env_steps (column 1) and return (column 3) of every metrics.csv row.
  const fs::path csv = o.dir / "metrics.csv";
  std::ifstream in(csv);
  if (!in) throw std::runtime_error("cannot read " + csv.string());
  std::string line;
  std::getline(in, line);
  if (line.rfind("env_steps,episode,return,length", 0) != 0) throw std::runtime_error(csv.string() + ": not a metrics.csv");
  for (long row = 2; std::getline(in, line); ++row) {
    const std::size_t c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
    double steps = 0, ret = 0;
    if (c3 == std::string::npos || !detail::parse_number(line.substr(0, c1), steps).empty() ||
        !detail::parse_number(line.substr(c2 + 1, c3 - c2 - 1), ret).empty())
      throw std::runtime_error(csv.string() + ": line " + std::to_string(row) + " is not a metrics row");
    o.end_steps.push_back(static_cast<long>(steps));
    o.returns.push_back(ret);
  }
  if (static_cast<long>(o.returns.size()) != o.episodes)
    throw std::runtime_error(csv.string() + " has " + std::to_string(o.returns.size()) + " rows, its summary.json " +
                             std::to_string(o.episodes) + " episodes");
  o.ok = true;
}

int Experiment::evaluate_saved(const RestoreFn& restore) {
  const std::string who = run_.algorithm + ": ";
  if (!restore) {
    std::cerr << who << "--load is not supported by this demo\n";
    return 2;
  }
  try {
    PolicyFile policy = load_policy_file(run_.load());
    const std::string file_env = make_env(policy.env)->name();
    if (!run_.env().empty() && run_.env() != file_env) {
      std::cerr << who << "'" << run_.load() << "' holds a policy for " << file_env << ", not " << run_.env() << "\n";
      return 2;
    }
    run_.env = file_env;
    const ActFn act = restore(policy);
    const Evaluation ev = pgcpp::evaluate(run_.env(), act, kEvalEpisodes, evaluation_seed(run_.seed()));
    const fs::path dir = run_.out().empty() ? fs::absolute(run_.load()).parent_path() : fs::path(run_.out());
    fs::create_directories(dir);
    draw_rollout(run_.env(), ev, dir, rollout_title());
    JsonObject j;
    j.add("algorithm", json_string(run_.algorithm))
        .add("env", json_string(run_.env()))
        .add("policy_file", json_string(run_.load()))
        .add("architecture", json_string(policy.architecture))
        .add("parameter_count", std::to_string(policy.theta.size()))
        .add("seed", std::to_string(run_.seed()))
        .add("eval_return_mean", json_number(ev.mean()))
        .add("eval_return_std", json_number(ev.stddev()))
        .add("eval_episodes", std::to_string(ev.returns.size()))
        .add("eval_seed_first", std::to_string(evaluation_seed(run_.seed())));
    j.save(dir / "eval_summary.json");
    record_outputs(dir, {"eval_summary.json", "rollout.svg", "rollout_anim.svg"});
    if (!run_.quiet())
      std::cout << run_.algorithm << " " << run_.env() << " " << run_.load() << ": evaluation " << fixed(ev.mean(), 1)
                << " ± " << fixed(ev.stddev(), 1) << " over " << ev.returns.size() << " episodes\n  -> "
                << dir.string() << "/ (eval_summary.json, rollout.svg, rollout_anim.svg)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << who << e.what() << "\n";
    return 1;
  }
}

}  // namespace detail

void remove_previous_outputs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const std::string& entry : detail::read_manifest(dir)) {
    const bool folder = entry.back() == '/';
    const fs::path p = dir / (folder ? entry.substr(0, entry.size() - 1) : entry);
    const fs::file_status st = fs::symlink_status(p, ec);  // a name now a symbolic link: left alone
    if (folder && fs::is_directory(st)) {
      remove_previous_outputs(p);
      fs::remove(p, ec);  // only if now empty: what else is in it is not ours
    } else if (!folder && fs::is_regular_file(st)) {
      fs::remove(p, ec);
    }
  }
  fs::remove(dir / kOutputsManifest, ec);
}

void record_outputs(const fs::path& dir, const std::vector<std::string>& names) {
  const std::vector<std::string> listed = detail::read_manifest(dir);
  std::set<std::string> all(listed.begin(), listed.end());
  for (const std::string& n : names)
    if (detail::plain_name(n)) all.insert(n);
  if (all.size() == listed.size() && fs::exists(dir / kOutputsManifest)) return;  // nothing new
  std::string text =
      "# pgcpp: the files and folders (ending in /) that runs wrote here. The next run into this folder deletes "
      "exactly these first (a folder only if it is empty then), never anything else.\n";
  for (const std::string& n : all) text += n + "\n";
  write_file_atomically(dir / kOutputsManifest, text);
}

int run_experiment(const RunOptions& run, const ExperimentSpec& spec, const TrainFn& train, const RestoreFn& restore) {
  ad::keep_freed_memory();  // large batches: see autodiff/memory.hpp
  RunOptions checked = run;
  const std::string who = (run.algorithm.empty() ? "run_experiment" : run.algorithm) + ": ";
  if (run.algorithm.empty() || run.algorithm.find_first_of("/\\ ") != std::string::npos) {
    std::cerr << who << "RunOptions::algorithm must be a non-empty name without '/', '\\' or spaces\n";
    return 2;
  }
  if (run.seeds() < 1 || run.seeds() > kMaxSeeds) {
    std::cerr << who << "seeds must be in [1, " << kMaxSeeds << "], got " << run.seeds() << "\n";
    return 2;
  }
  if (!checked.env().empty()) {
    try {
      checked.env = make_env(checked.env())->name();
    } catch (const std::invalid_argument& e) {
      std::cerr << who << e.what() << "\n";
      return 2;
    }
  }
  detail::Experiment experiment(checked, spec);
  if (!checked.load().empty()) return experiment.evaluate_saved(restore);
  if (checked.aggregate()) {
    try {
      return experiment.aggregate();
    } catch (const std::exception& e) {
      std::cerr << who << e.what() << "\n";
      return 1;
    }
  }
  if (checked.env().empty()) {
    std::cerr << who << "no environment given\n";
    return 2;
  }
  if (!train) {
    std::cerr << who << "no train function\n";
    return 2;
  }
  try {
    return experiment.train(train);
  } catch (const std::exception& e) {  // e.g. the output folder cannot be created
    std::cerr << who << e.what() << "\n";
    return 1;
  }
}

}  // namespace pgcpp
