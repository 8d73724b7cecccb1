#include "tools/bench/peers.hpp"

#include <ctime>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "chapter3/3_4_7_ppo.hpp"
#include "chapter3/3_4_8_sac.hpp"
#include "chapter3/3_4_9_ddpg.hpp"
#include "experiment/demo.hpp"
#include "experiment/run.hpp"

namespace pgcpp::bench {

namespace {

const char* kEnv = "Pendulum-v1";

const std::vector<PeerRow> kRows{
    {"sac64", "sac",
     {"--hidden", "64,64", "--batch-size", "100", "--steps", "10000", "--warmup", "100", "--update-every", "1",
      "--gradient-steps", "1", "--alpha", "0.5", "--lr-actor", "1e-3", "--lr-critic", "1e-3", "--lr-alpha", "1e-3"},
     "RLtools sac64"},
    {"sac256", "sac",
     {"--hidden", "256,256", "--batch-size", "256", "--steps", "10000", "--warmup", "256", "--update-every", "1",
      "--gradient-steps", "1"},
     "RLtools sac256"},
    // RLtools' PPO (src/rl/environments/pendulum/ppo/cpu/config.h) in our flags. Its actor outputs actions in
    // [-1, 1] that Pendulum multiplies by max torque 2, so its initial sigma 2 is sigma 4 in our torque units:
    // --log-std-init log 4. Separate Adams for pi and V without gradient clipping are one Adam on both
    // without clipping (Adam is per coordinate; pi and V share no parameter; the weight c_v then only rescales
    // V's gradient, which Adam undoes up to its epsilon). What remains different (see the report):
    // RLtools standardizes the advantages per minibatch (we: per batch), does not bootstrap at the time
    // limit (its GAE sets the truncated step's advantage to 0), charges the torque cost on the unclipped
    // action, initializes its layers its own way, and evaluates 1000 episodes.
    {"ppo", "ppo",
     {"--env-steps", "307200", "--envs", "4", "--steps", "1024", "--minibatch", "256", "--epochs", "2", "--gamma",
      "0.9", "--lambda", "0.95", "--epsilon", "0.2", "--activation", "relu", "--log-std-init", "1.3862943611198906",
      "--constant-lr", "--lr", "1e-3", "--max-grad-norm", "0", "--ent-coef", "0"},
     "RLtools ppo"},
    {"cleanrl_sac", "sac",
     {"--hidden", "256,256", "--batch-size", "256", "--steps", "10000", "--warmup", "5000", "--update-every", "1",
      "--gradient-steps", "1", "--lr-critic", "1e-3"},
     "CleanRL sac_continuous_action.py"},
    {"cleanrl_ddpg", "ddpg",
     {"--hidden", "256,256", "--batch-size", "256", "--steps", "10000", "--warmup", "1000", "--update-every", "1",
      "--gradient-steps", "1", "--actor-every", "2", "--lr-actor", "3e-4", "--lr-critic", "3e-4", "--noise",
      "gaussian", "--noise-sigma", "0.1"},
     "CleanRL ddpg_continuous_action.py"},
};

// The demo's command line on its config: Pendulum's per-environment defaults, then the flags.
void apply_flags(Params& cfg, const PeerRow& row) {
  for (ParamBase* p : cfg.all()) p->use_env_default("pendulum");
  for (std::size_t i = 0; i < row.flags.size(); ++i) {
    ParamBase* param = nullptr;
    for (ParamBase* p : cfg.all())
      if (p->flag() == row.flags[i]) param = p;
    if (param == nullptr) throw std::logic_error(row.name + ": " + row.program + " has no flag " + row.flags[i]);
    const std::string value = param->is_switch() ? "" : (i + 1 < row.flags.size() ? row.flags[++i] : "");
    if (const std::string why = param->parse(value); !why.empty())
      throw std::logic_error(row.name + ": " + row.flags[i] + " expects " + why);
  }
}

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Trained {
  double cpu_seconds = 0;
  long updates = 0;  // gradient steps of the critic (SAC, DDPG) or of pi and V together (PPO's minibatch steps)
  ActFn act;
};

Trained train_row(const PeerRow& row, std::uint64_t seed) {
  Trained out;
  Rng rng(seed);
  if (row.program == "sac") {
    SacConfig cfg;
    apply_flags(cfg, row);
    const double t0 = process_cpu_seconds();
    std::unique_ptr<Env> env = make_env(kEnv);
    SacAgent agent(cfg, env->spec(), rng);
    train_sac(cfg, *env, agent, rng, [&](long, double, int, const SacStats& s) { out.updates = s.updates; });
    out.cpu_seconds = process_cpu_seconds() - t0;
    out.act = policy_result(agent.policy()).act;
  } else if (row.program == "ddpg") {
    DdpgConfig cfg;
    apply_flags(cfg, row);
    const double t0 = process_cpu_seconds();
    std::unique_ptr<Env> env = make_env(kEnv);
    DdpgAgent agent(cfg, env->spec(), rng);
    train_ddpg(cfg, *env, agent, rng, [&](long, double, int, const DdpgStats& s) { out.updates = s.updates; });
    out.cpu_seconds = process_cpu_seconds() - t0;
    std::shared_ptr<const DeterministicActor> actor = agent.actor();
    out.act = [actor](const Eigen::VectorXd& s) { return actor->act(s); };
  } else {
    PpoConfig cfg;
    apply_flags(cfg, row);
    const double t0 = process_cpu_seconds();
    VecEnv envs(kEnv, cfg.envs);
    auto [policy, value] =
        policy_and_value(envs.env(0), cfg.hidden, rng, cfg.log_std_init, ad::parse_activation(cfg.activation));
    train_ppo(cfg, envs, *policy, value, rng, seed,
              [&](long, const OnPolicyBatch&, long, const PpoStats& s) { out.updates = s.gradient_steps; });
    out.cpu_seconds = process_cpu_seconds() - t0;
    out.act = policy_result(policy).act;
  }
  return out;
}

}  // namespace

const std::vector<PeerRow>& peer_rows() { return kRows; }

std::string select_peer_rows(const std::string& text, std::vector<PeerRow>& rows) {
  std::string names;
  for (const PeerRow& r : kRows) names += (names.empty() ? "" : ", ") + r.name;
  const std::string expected = "all, or comma-separated row names among " + names;
  rows.clear();
  if (text == "all") {
    rows = kRows;
    return "";
  }
  std::vector<std::string> items;
  if (!detail::split_list(text, items)) return expected;
  for (const std::string& item : items) {
    const PeerRow* found = nullptr;
    for (const PeerRow& r : kRows)
      if (r.name == item) found = &r;
    if (found == nullptr) return expected;
    rows.push_back(*found);
  }
  return "";
}

int run_peer_rows(const std::vector<PeerRow>& rows, std::uint64_t seed) {
  const char* scalar = sizeof(Scalar) == 8 ? "double" : "float";
  std::printf("peers on %s, seed %llu, scalar %s: CPU seconds of training (this process, user + system), updates per "
              "CPU second, evaluation return (mean and SD of 20 episodes of the deterministic policy, as the demos')\n",
              kEnv, static_cast<unsigned long long>(seed), scalar);
  std::printf("%-13s %8s %8s %10s %9s %7s %-7s  %s\n", "row", "cpu_s", "updates", "updates/s", "eval", "eval_sd",
              "scalar", "command (vs. peer)");
  std::fflush(stdout);
  for (const PeerRow& row : rows) {
    const Trained t = train_row(row, seed);
    const Evaluation ev = evaluate(kEnv, t.act, 20, evaluation_seed(seed));
    std::string command = row.program + " --env pendulum";
    for (const std::string& f : row.flags) command += " " + f;
    std::printf("%-13s %8.2f %8ld %10.1f %9.1f %7.1f %-7s  %s (vs. %s)\n", row.name.c_str(), t.cpu_seconds, t.updates,
                double(t.updates) / t.cpu_seconds, ev.mean(), ev.stddev(), scalar, command.c_str(), row.peer.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace pgcpp::bench
