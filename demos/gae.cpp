// gae: Section 3.3.3's on-policy actor–critic with generalized advantage estimation on
// CartPole-v1 (Example 3.4; Fig. 3.9 and 3.10). The algorithm is in chapter3/3_3_3_gae.cpp, its
// hyperparameters in GaeConfig; this file only turns them into runs.
//
//   gae                                        lambda = 0.95, Example 3.4: Fig. 3.9, 3.10
//   gae --lambdas 0,0.5,0.9,0.95,1 --seeds 5   the lambda sweep (our extra figure): one experiment
//                                              per lambda in OUT/lambda<value>/, and
//                                              OUT/lambda_sweep.svg, mean and min-max band over seeds
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>

#include "chapter3/3_3_3_gae.hpp"
#include "experiment/demo.hpp"
#include "experiment/program.hpp"
#include "plot/plot.hpp"

using namespace pgcpp;

namespace {

struct SweepOptions : Params {
  Param<std::string> lambdas{this, "--lambdas", "",
                             "the lambda sweep: comma-separated lambdas in [0, 1], one experiment each (see below)"};
};

// The same one-line error as every list flag's (detail::split_list): "0.5," and "0.5,,1" are refused.
std::vector<double> parse_lambdas(const Cli& cli, const std::string& text) {
  const std::string invalid = "invalid value " + shown_value(text) + " for --lambdas: expected ";
  std::vector<std::string> items;
  cli.require(detail::split_list(text, items), invalid + "comma-separated numbers in [0, 1]");
  std::vector<double> out;
  for (const std::string& item : items) {
    double v = 0;
    cli.require(detail::parse_number(item, v).empty() && v >= 0 && v <= 1, invalid + "comma-separated numbers in [0, 1]");
    out.push_back(v);
  }
  cli.require(out.size() <= 20, invalid + "1 to 20 values");
  return out;
}

// Every run's episode returns, by (index of its lambda, seed): the seeds train in parallel threads.
struct SweepReturns {
  std::mutex mutex;
  std::size_t current = 0;  // index of the lambda being run
  std::map<std::pair<std::size_t, std::uint64_t>, std::vector<double>> returns;
  void add(std::uint64_t seed, std::vector<double> r) {
    const std::lock_guard<std::mutex> lock(mutex);
    returns[{current, seed}] = std::move(r);
  }
};

// One line per lambda: the mean over seeds of the 20-episode moving average, with its min-max
// band, over the episodes every seed reached.
void draw_sweep(const std::string& path, const std::vector<double>& lambdas, const SweepReturns& sweep, int seeds) {
  plot::Figure fig(1, 1, 900, 500);
  fig.title("Actor–critic with GAE on CartPole-v1: the λ sweep (" + std::to_string(seeds) + " seeds)");
  plot::Axes& ax = fig.panel();
  for (std::size_t k = 0; k < lambdas.size(); ++k) {
    std::vector<std::vector<double>> curves;
    std::size_t n = SIZE_MAX;
    for (const auto& [key, r] : sweep.returns)
      if (key.first == k) {
        curves.push_back(detail::moving_average(r, 20));
        n = std::min(n, r.size());
      }
    if (curves.empty() || n == 0) continue;
    std::vector<double> x(n), mean(n), lo(n, INFINITY), hi(n, -INFINITY);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = static_cast<double>(i + 1);
      for (const auto& c : curves) {
        mean[i] += c[i] / static_cast<double>(curves.size());
        lo[i] = std::min(lo[i], c[i]);
        hi[i] = std::max(hi[i], c[i]);
      }
    }
    const std::string color = plot::palette()[k % plot::palette().size()];
    ax.band(x, lo, hi, {.color = color, .opacity = 0.12});
    ax.line(x, mean, {.label = "λ = " + detail::number_text(lambdas[k]), .color = color, .width = 2.0});
  }
  ax.hline(475, {.label = "solved (475)"}).xlabel("episode").ylabel("episode return (20-episode moving average)");
  fig.save(path);
}

// One experiment per lambda into <base>/lambda<value>/, each with the whole budget (no early stop
// unless --solved is given, so that the curves cover the same episodes), then the sweep figure.
int run_sweep(const Cli& cli, const RunOptions& run, GaeConfig& cfg, ExperimentSpec& spec,
              const std::vector<double>& lambdas, const TrainFn& train, SweepReturns& sweep) {
  if (!cli.given("--episodes")) cfg.episodes = 1500;
  if (!cli.given("--solved")) cfg.solved = 0;
  spec.budget.episodes = cfg.episodes;
  const std::uint64_t last = run.seed() + static_cast<std::uint64_t>(run.seeds() - 1);
  std::string base = run.out();
  if (base.empty()) base = "runs/gae-lambda-sweep-cartpole-seeds" + std::to_string(run.seed()) + "-" + std::to_string(last);
  // An earlier sweep's lambda<value>/ folders (and only what runs wrote) go first: they would pass
  // for this sweep's. The manifest lists this sweep's folders before they are written.
  make_output_dir(base, run.out().empty() ? "output folder" : "--out");
  remove_previous_outputs(base);
  std::vector<std::string> folders;
  for (double lambda : lambdas) folders.push_back("lambda" + detail::number_text(lambda) + "/");
  record_outputs(base, folders);
  int status = 0;
  for (sweep.current = 0; sweep.current < lambdas.size(); ++sweep.current) {
    cfg.lambda_ = lambdas[sweep.current];
    RunOptions one = run;
    one.out = base + "/lambda" + detail::number_text(lambdas[sweep.current]);
    spec.figure = "Actor–critic with GAE, λ = " + detail::number_text(lambdas[sweep.current]);
    status = std::max(status, run_experiment(one, spec, train, restore_policy));
  }
  draw_sweep(base + "/lambda_sweep.svg", lambdas, sweep, run.seeds());
  record_outputs(base, {"lambda_sweep.svg"});
  if (!run.quiet()) std::cout << "lambda sweep: " << base << "/lambda_sweep.svg\n";
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  RunOptions run("gae");
  only_env(run, "cartpole", "CartPole-v1");
  GaeConfig cfg;
  SweepOptions sweep_options;
  Cli cli("gae", "On-policy actor-critic with GAE (Section 3.3.3, Example 3.4) on CartPole-v1.");
  cli.add(run);
  cli.add(cfg);
  cli.add(sweep_options);
  cli.note("Defaults are Example 3.4's settings from the course's example script (pi and V 4-128-128 tanh, Adam "
           "1e-3 each, gamma 0.99, lambda 0.95, 20 episodes per update, lambda-return targets held fixed for 20 "
           "critic steps, GAE recomputed and normalized, one actor step, clip 1.0, at most 3000 episodes, stop at a "
           "100-episode average of 475). One difference: an episode cut by the time limit bootstraps from V at its "
           "last state; the script treats the limit as terminal.");
  cli.note("The lambda sweep (--lambdas 0,0.5,0.9,0.95,1 --seeds 5) runs one experiment per lambda into "
           "OUT/lambda<value>/ (OUT: --out, default runs/gae-lambda-sweep-cartpole-seeds<N>-<M>) and draws "
           "OUT/lambda_sweep.svg. Every lambda runs its whole budget, --episodes (default 1500 in a sweep), with no "
           "early stop unless --solved is given, so that the curves cover the same episodes.");
  cli.parse(argc, argv);
  check_run_flags(cli, run);
  cli.require(sweep_options.lambdas().empty() || run.load().empty(), "--lambdas trains: it cannot be combined with --load");
  ExperimentSpec spec = demo_spec("Fig. 3.9 — Actor–critic with GAE", "Fig. 3.10 — Policy rollout (actor–critic with GAE)",
                                  {"policy_loss", "value_loss"}, {.episodes = cfg.episodes}, cfg, {475});

  return run_program(cli, [&] {
    SweepReturns sweep;
    auto train = [&](std::uint64_t seed, RunLog& log) {
      Rng rng(seed);
      std::unique_ptr<Env> env = make_env(run.env);
      auto [policy, value] = policy_and_value(*env, cfg.hidden, rng);
      train_gae(cfg, *env, *policy, value, rng, [&](long k, const std::vector<Trajectory>& batch, const GaeStats& stats) {
        log.set_loss("policy_loss", stats.actor_loss);
        log.set_loss("value_loss", stats.critic_loss);
        log.batch(k, batch);
      });
      sweep.add(seed, log.returns());
      return policy_result(policy);
    };
    if (sweep_options.lambdas().empty()) return run_experiment(run, spec, train, restore_policy);
    return run_sweep(cli, run, cfg, spec, parse_lambdas(cli, sweep_options.lambdas), train, sweep);
  });
}
