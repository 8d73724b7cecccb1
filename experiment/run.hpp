// The one way every RL demo of Chapter 3 runs, reports and draws. An algorithm writes only its
// algorithm, as a function of the seed that fills a RunLog and returns its trained policy:
//
//   int main(int argc, char** argv) {
//     RunOptions run("reinforce");
//     ReinforceConfig cfg;                            // struct ReinforceConfig : Params { Param<...> ... };
//     Cli cli("reinforce", "Minibatch REINFORCE (Section 3.2.3), Example 3.1.");
//     cli.add(run);                                   // --env --seed --seeds --out --quiet --load
//     cli.add(cfg);                                   // every hyperparameter, declared once in cfg
//     cli.parse(argc, argv);                          // exit 2 on a bad flag or an out-of-range value
//     check_run_flags(cli, run);
//     ExperimentSpec spec{.figure = "Fig. 3.3 — Minibatch REINFORCE",
//                         .loss_columns = {"policy_loss"},
//                         .budget = {.episodes = cfg.episodes},
//                         .hyperparameters = &cfg};   // written whole into summary.json
//     return run_experiment(run, spec, [&](std::uint64_t seed, RunLog& log) {
//       ... after each update:  log.set_loss("policy_loss", loss); log.batch(k, trajectories);
//       return policy_result(policy);                 // experiment/demo.hpp
//     });
//   }
//
// A loss given to set_loss that is not finite stops training there: set_loss throws
// "iteration 12: policy_loss is nan", the rows so far stay in metrics.csv, and the run exits 1.
//
// Outputs, in --out DIR (default runs/<algorithm>-<env>-seed<N>/, env as "cartpole"/"pendulum"):
//   metrics.csv       one row per finished episode, written and flushed as training goes:
//                       env_steps,episode,return,length[,<loss columns>...]
//                     episode counts from 1; a loss column holds the value most recently given
//                     to set_loss (empty before the first). Numbers are written in the shortest
//                     form that reads back to the same double, and nothing depends on the wall
//                     clock: the same seed and build give the same file, byte for byte.
  //   timing.csv        one row per finished episode, beside metrics.csv: episode,cpu_seconds (the
//                     seed's CPU time when the episode ended, from the start of its training; for
//                     `compare --x cpu_seconds`). The one output that differs between runs of the
//                     same seed: it is kept out of metrics.csv so that metrics.csv stays the same.
//   summary.json      at the end: algorithm, env, seed, env_steps, episodes, wall_seconds,
//                     final_return (mean of the last 20 training episodes), eval_return_mean,
//                     eval_return_std (population std) over 20 episodes of the final policy's
//                     mode action from env seeds evaluation_seed(seed) + i, eval_returns (each
//                     episode's, so that seeds run apart can be aggregated exactly), eval_length_mean,
//                     architecture, parameter_count, scalar, hyperparameters {...}.
//   curve.svg         return of every training episode (faint) and its moving average over 20
//                     episodes, against episodes or env steps, titled "<figure>, <env id>".
//   policy.safetensors  the final policy, safetensors format (experiment/policy_file.hpp).
//   rollout.svg       filmstrip of the first evaluation episode; rollout_anim.svg: its animation.
// With --seeds K (K > 1): seeds N..N+K-1 train in parallel threads, each writing the files above
// in DIR/seed<s>/ (DIR defaults to runs/<algorithm>-<env>-seeds<N>-<N+K-1>/); DIR itself gets the
// aggregate summary.json (means over seeds and per-seed lists) and curve.svg (mean over seeds
// of the moving averages, with a min–max band).
//
// A cluster runs the seeds of one experiment as separate jobs: `--seed s --out DIR/seed<s>` for
// each s writes the same seed<s>/ files as one --seeds K run (metrics.csv byte for byte; each
// seed's summary.json lists its evaluation returns, eval_returns), and then `--seeds K --out DIR
// --aggregate` (with the same hyperparameters) trains nothing: it reads DIR/seed<s>/summary.json
// and metrics.csv and writes DIR's summary.json and curve.svg as the --seeds K run would have
// (wall_seconds: the longest seed's). A seed folder without summary.json is a failed seed (listed
// in failed_seeds; exit 1); a summary made with other hyperparameters, another algorithm,
// environment or seed is an error (exit 1), never mixed in.
//
//
// Every folder a run writes in also gets .pgcpp_outputs, the list of the files and folders (ending
// in '/') the run wrote there. The next run into that folder deletes exactly those first, so that
// an earlier run's results never pass for this one's, and nothing else: not a file the run did not
// write, not anything behind a symbolic link (see remove_previous_outputs).
//
// With --load FILE, nothing is trained: the saved policy is rebuilt by the algorithm's
// `restore` function, evaluated, and its summary.json + rollouts written to --out (default: the
// folder holding FILE, with the summary as eval_summary.json so the training summary is kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "autodiff/autodiff.hpp"
#include "chapter3/common/params.hpp"
#include "chapter3/common/rollout.hpp"
#include "experiment/cli.hpp"
#include "experiment/policy_file.hpp"

namespace pgcpp {

// ---------------------------------------------------------------------------------------------
// Command line

// The flags every RL demo shares, declared once. A demo narrows --env's choices to what it
// supports (run.env.choices = {...}) before cli.add(run), so --help lists only what works.
struct RunOptions : Params {
  explicit RunOptions(std::string algorithm_name) : algorithm(std::move(algorithm_name)) {}
  std::string algorithm;  // names the run folder and the summary; not a flag
  Param<std::string> env{this, "--env", "cartpole", "environment (short name or Gymnasium id)",
                         {"cartpole", "pendulum", "CartPole-v1", "Pendulum-v1"}};
  Param<std::uint64_t> seed{this, "--seed", 1, "random seed (the first one with --seeds)", {0, 1'000'000'000}};
  Param<int> seeds{this, "--seeds", 1, "number of seeds N, N+1, ... trained in parallel threads and aggregated",
                   {1, 64}};
  Param<std::string> out{this, "--out", "",
                         "output folder (\"\" = runs/<algorithm>-<env>-seed<N>, or -seeds<N>-<M> with --seeds)"};
  Param<bool> quiet{this, "--quiet", false, "no progress line and no report, only errors"};
  Param<std::string> load{this, "--load", "", "evaluate and draw a saved policy file instead of training"};
  Param<bool> aggregate{this, "--aggregate", false,
                        "train nothing: write --out's summary.json and curve.svg from the seed<s>/ folders that "
                        "single-seed runs (--seed s --out OUT/seed<s>) wrote, as --seeds K does"};
};

// After cli.parse: exits 2 (through cli.require) for --load with --seeds > 1, and for --aggregate
// without --out, with --seeds 1 or with --load; then rewrites
// run.env as the Gymnasium id ("CartPole-v1"). With --load and no --env, run.env is left empty
// (the environment comes from the policy file).
void check_run_flags(const Cli& cli, RunOptions& run);

// "cartpole" / "pendulum" for either spelling; throws std::invalid_argument otherwise.
std::string env_short_name(const std::string& env);

// ---------------------------------------------------------------------------------------------
// What the algorithm declares up front

// Known limits of a run, used only for the progress line's ETA (0 = no limit of that kind; the
// ETA follows whichever given limit is nearest to being reached). On-policy episode budgets set
// `episodes`, off-policy step budgets `env_steps`.
struct Budget {
  long episodes = 0;
  long env_steps = 0;
};

enum class CurveX { episodes, env_steps };

struct ExperimentSpec {
  std::string figure = "";                // "Fig. 3.3 — Minibatch REINFORCE"; the env id is appended
  std::string rollout_figure = "";        // "Fig. 3.4 — Policy rollout (Minibatch REINFORCE)"
  CurveX x_axis = CurveX::episodes;
  std::vector<std::string> loss_columns = {};  // extra metrics.csv columns, e.g. {"policy_loss", "value_loss"}
  Budget budget = {};
  const Params* hyperparameters = nullptr;  // the demo's config: written whole into summary.json
  // A dashed reference line on the curve (e.g. 475, the book's "solved"); NaN = none.
  double reference_return = std::numeric_limits<double>::quiet_NaN();
  std::string reference_label = "solved";
};

// ---------------------------------------------------------------------------------------------
// During training

namespace detail {
class Progress;
class Experiment;
// Trailing moving average, m_i = mean(x_{max(0, i-w+1)} .. x_i): how every learning curve of a run
// (and compare's: experiment/curves.hpp) is smoothed.
std::vector<double> moving_average(const std::vector<double>& x, int window);
}  // namespace detail

// The record of one training run (one seed). Not shared between threads: each seed has its own.
class RunLog {
 public:
  // Creates (truncating) `metrics_csv` and writes its header. Throws std::runtime_error naming
  // the file if it cannot be opened. A RunLog made this way draws no progress line.
  explicit RunLog(const std::filesystem::path& metrics_csv, std::vector<std::string> loss_columns = {});
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  // Latest value of a declared loss column; written with every following episode row.
  // Throws std::invalid_argument for a column not declared in ExperimentSpec::loss_columns.
  void set_loss(const std::string& column, double value);
  // One finished training episode: appends its metrics.csv row and flushes it to the file.
  // env_steps = total environment steps taken so far, this episode's included.
  void episode(long env_steps, double episode_return, int length);
  // Reports where training is; redraws the progress line at most a few times per second (every
  // 5 s as plain lines when stderr is not a terminal). Cheap enough to call every env step.
  void progress(long iteration, long env_steps);

  long episodes() const { return static_cast<long>(returns_.size()); }
  long env_steps() const { return env_steps_; }
  // Mean return of the last n episodes (fewer if fewer exist); NaN before the first episode.
  // E.g. the book's early stop: if (log.recent_return(100) >= 475) break;
  double recent_return(int n = 20) const;
  const std::vector<double>& returns() const { return returns_; }
  const std::vector<long>& episode_end_steps() const { return end_steps_; }  // env_steps of each row
  // The folder of metrics.csv, where this seed's outputs go (for an algorithm's extra figures).
  std::filesystem::path dir() const;

  // Also write timing.csv (episode,cpu_seconds) at `timing_csv`: the calling thread's CPU time
  // since `cpu_start` (detail::thread_cpu_seconds) at each episode's end. Throws like the constructor.
  void time_episodes(const std::filesystem::path& timing_csv, double cpu_start);

  // One batch of finished trajectories after update `iteration` (from 0): a metrics.csv row per
  // trajectory, then the progress line.
  void batch(long iteration, const std::vector<Trajectory>& trajectories);

 private:
  friend class detail::Experiment;
  struct File;
  std::unique_ptr<File> file_;
  std::unique_ptr<File> timing_;  // timing.csv, when time_episodes was called
  double cpu_start_ = 0;
  std::vector<std::string> loss_columns_;
  std::vector<std::string> loss_text_;  // latest values as written ("" before the first)
  std::vector<double> returns_;
  std::vector<long> end_steps_;
  long env_steps_ = 0;
  long iteration_ = 0;
  detail::Progress* progress_ = nullptr;  // owned by run_experiment
  int slot_ = 0;
  std::chrono::steady_clock::time_point next_publish_{};
};

// ---------------------------------------------------------------------------------------------
// After training

using ActFn = std::function<Eigen::VectorXd(const Eigen::VectorXd& obs)>;

struct TrainResult {
  ad::ParameterSet parameters = {};  // the policy's theta, saved to policy.safetensors
  std::string architecture = "";  // what `restore` needs to rebuild it, e.g. policy->describe()
  ActFn act = {};               // the deterministic action (mode) for evaluation and rollouts
};

struct Evaluation {
  std::vector<double> returns;   // one per episode
  std::vector<int> lengths;
  // The first episode, for drawing: states s_0..s_T (Env::state(), T + 1 entries) and the
  // actions a_0..a_{T-1}.
  std::vector<Eigen::VectorXd> states;
  std::vector<Eigen::VectorXd> actions;
  double mean() const;
  double stddev() const;  // population standard deviation
};

// Runs `episodes` episodes of `act` (without recording autodiff graphs); episode i starts from
// env.reset(seed + i) and ends at termination or the time limit.
Evaluation evaluate(const std::string& env_name, const ActFn& act, int episodes = 20,
                    std::uint64_t seed = 1'000'000);

// The evaluation env seeds of training seed s start here: disjoint from the small seeds the
// demos train with, and 1000 apart per training seed.
std::uint64_t evaluation_seed(std::uint64_t train_seed);

// Writes rollout.svg (filmstrip) and rollout_anim.svg (animation) of ev's recorded episode in dir.
void draw_rollout(const std::string& env_name, const Evaluation& ev, const std::filesystem::path& dir,
                  const std::string& title);

// ---------------------------------------------------------------------------------------------
// The outputs of a run, and only they, are replaced by the next run into the same folder

// The manifest's name in each folder a run writes in. One name a line, relative to that folder,
// a folder's ending in '/' (it has a manifest of its own), after a '#' comment line.
inline constexpr const char* kOutputsManifest = ".pgcpp_outputs";

// Deletes what dir/.pgcpp_outputs lists, then the manifest: a listed file only if it is still a
// regular file; a listed folder only if it is a real folder (never a symbolic link), after
// removing what its own manifest lists, and only if it is empty then. Lines that are not a plain
// name (a path with '/', "..", an absolute path) are ignored. No manifest: nothing is deleted.
void remove_previous_outputs(const std::filesystem::path& dir);

// Adds `names` (files, or folders ending in '/') to dir/.pgcpp_outputs, keeping what it lists.
// Throws std::runtime_error naming the file if it cannot be written.
void record_outputs(const std::filesystem::path& dir, const std::vector<std::string>& names);

// ---------------------------------------------------------------------------------------------
// The whole experiment

using TrainFn = std::function<TrainResult(std::uint64_t seed, RunLog& log)>;
// Rebuilds the policy described by a loaded policy.safetensors and returns its mode action; throws
// (e.g. std::invalid_argument) if the architecture is not one this algorithm makes.
using RestoreFn = std::function<ActFn(const PolicyFile& policy)>;

// Trains every seed (in parallel threads when run.seeds > 1), then evaluates, saves and draws as
// described at the top of this file, and prints where the files went (unless quiet). Returns
// the process exit status: 0, or 1 if a seed's training threw (its message is printed; the
// rows it wrote stay in its metrics.csv; other seeds still finish and are reported) or finished
// no episode (the budget ended inside the first: there is no return to report, and the seed
// fails with "the budget ended before the first episode finished (...); raise --steps"). With
// run.load set, evaluates that file through `restore` instead (exit 2 if restore is empty).
int run_experiment(const RunOptions& run, const ExperimentSpec& spec, const TrainFn& train,
                   const RestoreFn& restore = {});

}  // namespace pgcpp
