// run_outputs_example: the smallest program that uses experiment/run.hpp, for its tests and
// as a template for a demo. Not an algorithm of the book: random-search hill climbing on a linear
// policy (CartPole: push right iff theta . s > 0; Pendulum: torque clip(theta . s, -2, 2)), which
// keeps a perturbation theta + sigma eps whenever its episode return is at least the best so far.
#include <algorithm>
#include <stdexcept>

#include "experiment/run.hpp"
#include "envs/env.hpp"

using namespace pgcpp;

namespace {

struct Config : Params {
  Param<long> episodes{this, "--episodes", 60, "training budget in episodes", {1, 1'000'000}};
  Param<double> sigma{this, "--sigma", 0.5, "perturbation scale", Range<double>::open_closed(0, 100)};
  Param<long> steps{this, "--steps", 0, "budget in env steps (0 = none), which may end inside an episode",
                    {0, 1'000'000'000}};
  Param<long> fail_after{this, "--fail-after", 0, "throw after this many episodes (0 = never)", {0, 1'000'000}};
  Param<std::string> policy{this, "--policy", "linear", "policy class", {"linear"}};
};

Eigen::VectorXd linear_action(const Vector& theta, bool discrete, const Eigen::VectorXd& s) {
  const double u = theta.cast<double>().dot(s);
  return Eigen::VectorXd::Constant(1, discrete ? (u > 0 ? 1.0 : 0.0) : std::clamp(u, -2.0, 2.0));
}

std::string architecture(const Env& env) {
  return std::string(env.discrete() ? "linear-threshold " : "linear-clip ") + std::to_string(env.obs_dim());
}

}  // namespace

int main(int argc, char** argv) {
  RunOptions run("hill-climbing");
  Config cfg;
  Cli cli("run_outputs_example", "Random-search hill climbing on a linear policy: an example of the run outputs.");
  cli.add(run);
  cli.add(cfg);
  cli.parse(argc, argv);
  check_run_flags(cli, run);

  ExperimentSpec spec{.figure = "Hill climbing (not in the book)",
                      .rollout_figure = "Policy rollout (hill climbing)",
                      .loss_columns = {"best_return", "sigma"},
                      .budget = {.episodes = cfg.episodes, .env_steps = cfg.steps},
                      .hyperparameters = &cfg};
  if (run.env() == "CartPole-v1") spec.reference_return = 475;

  auto train = [&](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(run.env);
    const bool discrete = env->discrete();
    ad::Var theta(Matrix::Zero(env->obs_dim(), 1));
    Vector best = Vector::Zero(env->obs_dim());
    double best_return = -1e300;
    long env_steps = 0;
    for (long k = 1; k <= cfg.episodes; ++k) {
      Vector candidate = best;
      for (Eigen::Index i = 0; i < candidate.size(); ++i) candidate[i] += static_cast<Scalar>(cfg.sigma * rng.normal());
      Eigen::VectorXd s = env->reset(rng);
      double episode_return = 0;
      int length = 0;
      bool budget_over = false;
      for (bool over = false; !over; ++length) {
        if ((budget_over = cfg.steps > 0 && env_steps + length >= cfg.steps)) break;
        StepResult r = env->step(linear_action(candidate, discrete, s));
        episode_return += r.reward;
        s = r.observation;
        over = r.terminated || r.truncated;
      }
      env_steps += length;
      if (budget_over) {  // it ended inside this episode, which is not a finished one
        log.progress(k, env_steps);
        break;
      }
      if (episode_return >= best_return) {
        best_return = episode_return;
        best = candidate;
      }
      log.set_loss("best_return", best_return);
      log.set_loss("sigma", cfg.sigma);
      log.episode(env_steps, episode_return, length);
      log.progress(k, env_steps);
      if (cfg.fail_after > 0 && k >= cfg.fail_after) throw std::runtime_error("stopped on purpose (--fail-after)");
    }
    theta.mutable_value() = best;
    return TrainResult{ad::ParameterSet({theta}), architecture(*env),
                       [best, discrete](const Eigen::VectorXd& s) { return linear_action(best, discrete, s); }};
  };

  auto restore = [](const PolicyFile& f) -> ActFn {
    const std::unique_ptr<Env> env = make_env(f.env);
    if (f.architecture != architecture(*env) || f.theta.size() != env->obs_dim())
      throw std::invalid_argument("not a policy of this example: '" + f.architecture + "'");
    const bool discrete = env->discrete();
    return [theta = f.theta, discrete](const Eigen::VectorXd& s) { return linear_action(theta, discrete, s); };
  };

  return run_experiment(run, spec, train, restore);
}
