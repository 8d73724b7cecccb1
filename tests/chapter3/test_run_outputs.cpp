// The run outputs every RL demo shares (experiment/run.hpp, policy_file.hpp): metrics.csv
// as training goes, summary.json, the figures, policy.safetensors, the command line, and determinism.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

#include "experiment/run.hpp"
#include "envs/env.hpp"
#include "tests/plot/xml_check.hpp"

using namespace pgcpp;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE_MESSAGE(f, "cannot read " << p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A fresh folder per test under the temporary directory, removed at exit unless
// PGCPP_KEEP_TEST_OUTPUT is set (to look at the files).
const fs::path scratch_root = fs::temp_directory_path() / ("pgcpp_test_run_outputs_" + std::to_string(::getpid()));
struct RemoveScratch {
  ~RemoveScratch() {
    std::error_code ec;
    if (!std::getenv("PGCPP_KEEP_TEST_OUTPUT")) fs::remove_all(scratch_root, ec);
  }
} remove_scratch;

fs::path scratch(const std::string& name) {
  fs::path p = scratch_root / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// ---- Minimal CSV and JSON checks ----

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
    cells.push_back(line.substr(start, comma - start));
  cells.push_back(line.substr(start));
  return cells;
}

// Every line complete (ends in '\n') and as wide as the header.
Csv parse_csv(const std::string& text) {
  REQUIRE_MESSAGE((!text.empty() && text.back() == '\n'), "the last line of metrics.csv is incomplete");
  Csv csv;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  csv.header = split(line);
  while (std::getline(in, line)) {
    csv.rows.push_back(split(line));
    REQUIRE(csv.rows.back().size() == csv.header.size());
  }
  return csv;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// A JSON value parser that keeps, for the top-level object, each key's raw value text.
class Json {
 public:
  explicit Json(const std::string& s) : s_(s) {}
  std::map<std::string, std::string> object() {
    std::map<std::string, std::string> out;
    ws();
    expect('{');
    ws();
    if (peek() == '}') { ++i_; return out; }
    while (true) {
      ws();
      const std::string key = string();
      ws();
      expect(':');
      ws();
      const std::size_t start = i_;
      value();
      out[key] = s_.substr(start, i_ - start);
      ws();
      if (peek() == ',') { ++i_; continue; }
      expect('}');
      return out;
    }
  }
  void value() {
    ws();
    const char c = peek();
    if (c == '{') { object(); return; }
    if (c == '[') {
      ++i_;
      ws();
      if (peek() == ']') { ++i_; return; }
      while (true) {
        value();
        ws();
        if (peek() == ',') { ++i_; continue; }
        expect(']');
        return;
      }
    }
    if (c == '"') { string(); return; }
    for (const char* lit : {"true", "false", "null"})
      if (s_.compare(i_, std::strlen(lit), lit) == 0) { i_ += std::strlen(lit); return; }
    const std::size_t start = i_;
    while (i_ < s_.size() && std::strchr("+-0123456789.eE", s_[i_])) ++i_;
    if (!is_number(s_.substr(start, i_ - start))) throw std::runtime_error("bad JSON value at " + std::to_string(start));
  }
  void end() {
    ws();
    if (i_ != s_.size()) throw std::runtime_error("trailing text after the JSON value");
  }

 private:
  char peek() const {
    if (i_ >= s_.size()) throw std::runtime_error("unexpected end of JSON");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) throw std::runtime_error(std::string("expected '") + c + "' at " + std::to_string(i_));
    ++i_;
  }
  void ws() { while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_; }
  std::string string() {
    expect('"');
    std::string out;
    while (peek() != '"') {
      if (s_[i_] == '\\') ++i_;
      out += s_[i_++];
    }
    ++i_;
    return out;
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

std::map<std::string, std::string> parse_json_file(const fs::path& p) {
  const std::string text = read(p);
  Json j(text);
  auto obj = j.object();
  j.end();
  return obj;
}

// ---- A tiny fake algorithm: uniformly random actions, a made-up loss per "iteration" ----

struct FakeConfig : Params {
  Param<double> lr{this, "--lr", 2.5e-3, "step size", {0, 1}};
  Param<int> batch{this, "--batch", 4, "batch", {1, 10}};
  Param<std::string> network{this, "--network", "none \"quoted\"", "network"};
  Param<bool> clip{this, "--clip", true, "clip"};
};
const FakeConfig kFakeConfig;

ExperimentSpec fake_spec() {
  return {.figure = "Test figure",
          .loss_columns = {"policy_loss", "value_loss"},
          .budget = {.episodes = 12},
          .hyperparameters = &kFakeConfig};
}

// Random actions for `episodes` episodes; losses set after every 4th episode; throws after
// `throw_after` episodes when > 0.
TrainFn fake_train(const std::string& env_name, int episodes, int throw_after = 0) {
  return [=](std::uint64_t seed, RunLog& log) {
    Rng rng(seed);
    std::unique_ptr<Env> env = make_env(env_name);
    long steps = 0;
    for (int k = 1; k <= episodes; ++k) {
      env->reset(rng);
      double ret = 0;
      int length = 0;
      for (bool over = false; !over; ++length) {
        Eigen::VectorXd a(1);
        a[0] = env->discrete() ? static_cast<double>(rng.uniform_int(2)) : rng.uniform(-2, 2);
        StepResult r = env->step(a);
        ret += r.reward;
        over = r.terminated || r.truncated;
      }
      steps += length;
      log.episode(steps, ret, length);
      if (k % 4 == 0) {
        log.set_loss("policy_loss", rng.normal());
        log.set_loss("value_loss", 1.0 / (k - 1));
      }
      log.progress(k, steps);
      if (throw_after > 0 && k >= throw_after) throw std::runtime_error("interrupted on purpose");
    }
    ad::Var theta(Matrix::Constant(3, 2, 0.25));
    const bool discrete = env->discrete();
    return TrainResult{ad::ParameterSet({theta}), "fake 3x2",
                       [discrete](const Eigen::VectorXd& s) {
                         return Eigen::VectorXd::Constant(1, discrete ? (s[2] + s[3] > 0 ? 1.0 : 0.0) : -s[2]);
                       }};
  };
}

RunOptions fake_options(const fs::path& out, int seeds = 1, std::uint64_t seed = 3, std::string algorithm = "fake") {
  RunOptions run(std::move(algorithm));
  run.out = out.string();
  run.seed = seed;
  run.seeds = seeds;
  run.quiet = true;
  return run;
}

int run_example(const std::string& args) {
  const std::string cmd = std::string(RUN_OUTPUTS_EXAMPLE) + " " + args + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("a run writes metrics.csv, summary.json, curve, rollouts and policy.safetensors that parse") {
  const fs::path out = scratch("single");
  REQUIRE(run_experiment(fake_options(out), fake_spec(), fake_train("cartpole", 12)) == 0);

  const Csv csv = parse_csv(read(out / "metrics.csv"));
  CHECK(csv.header == std::vector<std::string>{"env_steps", "episode", "return", "length", "policy_loss", "value_loss"});
  REQUIRE(csv.rows.size() == 12);
  long previous_steps = 0;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const auto& r = csv.rows[i];
    CHECK(r[1] == std::to_string(i + 1));
    CHECK(std::stol(r[0]) == previous_steps + std::stol(r[3]));  // env_steps accumulates lengths
    previous_steps = std::stol(r[0]);
    CHECK(r[2] == r[3]);  // CartPole: +1 per step
    // Losses are empty before the first update (after episode 4's row), then hold the latest.
    if (i < 4) CHECK((r[4].empty() && r[5].empty()));
    else CHECK((is_number(r[4]) && is_number(r[5])));
  }
  CHECK(csv.rows[4][5] == "0.3333333333333333");    // 1/3, set after episode 4: shortest round-trip text
  CHECK(csv.rows[7][5] == "0.3333333333333333");    // still the latest at episode 8
  CHECK(csv.rows[11][5] == "0.14285714285714285");  // 1/7, set after episode 8

  // timing.csv: a row per metrics.csv row, the same episode numbers, CPU seconds that never
  // decrease (bug: a row written before metrics.csv's or skipped, a clock that restarts per row).
  const Csv timing = parse_csv(read(out / "timing.csv"));
  CHECK(timing.header == std::vector<std::string>{"episode", "cpu_seconds"});
  REQUIRE(timing.rows.size() == csv.rows.size());
  double previous_cpu = 0;
  for (std::size_t i = 0; i < timing.rows.size(); ++i) {
    CHECK(timing.rows[i][0] == csv.rows[i][1]);
    REQUIRE(is_number(timing.rows[i][1]));
    CHECK(std::stod(timing.rows[i][1]) >= previous_cpu);
    previous_cpu = std::stod(timing.rows[i][1]);
  }

  const auto summary = parse_json_file(out / "summary.json");
  for (const char* key : {"algorithm", "env", "seed", "env_steps", "episodes", "wall_seconds", "cpu_seconds", "final_return",
                          "eval_return_mean", "eval_return_std", "hyperparameters", "architecture", "parameter_count"})
    CHECK_MESSAGE(summary.count(key), "summary.json lacks " << key);
  CHECK(summary.at("algorithm") == "\"fake\"");
  CHECK(summary.at("env") == "\"CartPole-v1\"");
  CHECK(summary.at("seed") == "3");
  CHECK(summary.at("episodes") == "12");
  CHECK(summary.at("env_steps") == std::to_string(previous_steps));
  CHECK(summary.at("parameter_count") == "6");
  double last_sum = 0;  // final_return: mean of the last 20 (here all 12) training episodes
  for (const auto& r : csv.rows) last_sum += std::stod(r[2]);
  CHECK(std::stod(summary.at("final_return")) == doctest::Approx(last_sum / 12).epsilon(1e-12));
  const std::string hp = summary.at("hyperparameters");
  CHECK(hp.find("\"lr\": 0.0025") != std::string::npos);
  CHECK(hp.find("\"batch\": 4") != std::string::npos);
  CHECK(hp.find("\"network\": \"none \\\"quoted\\\"\"") != std::string::npos);
  CHECK(hp.find("\"clip\": true") != std::string::npos);

  for (const char* svg : {"curve.svg", "rollout.svg", "rollout_anim.svg"}) {
    const std::string doc = read(out / svg);
    CHECK_MESSAGE(plot::test::xml_problem(doc) == "", svg);
    CHECK(doc.find("<svg") != std::string::npos);
  }
  CHECK(read(out / "curve.svg").find("Test figure, CartPole-v1") != std::string::npos);

  const PolicyFile policy = load_policy_file((out / "policy.safetensors").string());
  CHECK(policy.architecture == "fake 3x2");
  CHECK(policy.env == "CartPole-v1");
  CHECK(policy.theta.size() == 6);
  CHECK(policy.theta.cwiseEqual(Scalar(0.25)).all());
  CHECK(policy.algorithm == "fake");
  CHECK(policy.seed == 3);
}

TEST_CASE("evaluate uses the mode action, separate env seeds, and records the first episode") {
  // Always push right: CartPole falls over in a few steps, the same way for the same seed.
  const ActFn right = [](const Eigen::VectorXd&) { return Eigen::VectorXd::Constant(1, 1.0); };
  const Evaluation a = evaluate("CartPole-v1", right, 5, 100);
  const Evaluation b = evaluate("cartpole", right, 5, 100);
  REQUIRE(a.returns.size() == 5);
  CHECK(a.returns == b.returns);
  CHECK(a.states.size() == static_cast<std::size_t>(a.lengths[0]) + 1);
  CHECK(a.actions.size() == static_cast<std::size_t>(a.lengths[0]));
  CHECK(a.returns[0] == a.lengths[0]);
  CHECK(a.mean() >= 5);
  CHECK(evaluation_seed(1) != evaluation_seed(2));
  CHECK(evaluation_seed(2) - evaluation_seed(1) >= 20);  // seeds' evaluation episodes never overlap

  // Pendulum ends only by the time limit: 200 steps.
  const ActFn zero = [](const Eigen::VectorXd&) { return Eigen::VectorXd::Zero(1); };
  const Evaluation p = evaluate("pendulum", zero, 2, 7);
  CHECK(p.lengths == std::vector<int>{200, 200});
  CHECK(p.returns[0] < 0);
  CHECK_THROWS_AS(evaluate("pendulum", zero, 0, 7), std::invalid_argument);
}

// The final state of an episode has no action; the animation draws none there (it once threw on
// Pendulum's NaN torque, and run_draw held the last action over as a workaround).
TEST_CASE("draw_rollout: the final state, which has no action, is drawn without one") {
  const ActFn push = [](const Eigen::VectorXd&) { return Eigen::VectorXd::Constant(1, 1.5); };
  const Evaluation ev = evaluate("pendulum", push, 1, 200);
  REQUIRE(ev.states.size() == ev.actions.size() + 1);
  const fs::path out = scratch("draw_rollout");
  REQUIRE_NOTHROW(draw_rollout("pendulum", ev, out, "Pendulum"));
  const std::string anim = read(out / "rollout_anim.svg");
  CHECK(plot::test::xml_problem(anim) == "");
  // The torque gauge's width keyframes: one per state, full for 1.5 N m, empty in the last.
  const auto at = anim.find("values=\"", anim.find("attributeName=\"width\""));
  REQUIRE(at != std::string::npos);
  const std::string values = anim.substr(at + 8, anim.find('"', at + 8) - at - 8);
  CHECK(static_cast<std::size_t>(std::count(values.begin(), values.end(), ';')) + 1 == ev.states.size());
  CHECK(values.substr(values.rfind(';') + 1) == "0");
  CHECK(values.substr(0, values.find(';')) != "0");
  CHECK(plot::test::xml_problem(read(out / "rollout.svg")) == "");
}

TEST_CASE("an interrupted run leaves a valid metrics.csv with every finished episode") {
  const fs::path out = scratch("interrupted");
  CHECK(run_experiment(fake_options(out), fake_spec(), fake_train("cartpole", 12, 7)) == 1);
  const Csv csv = parse_csv(read(out / "metrics.csv"));
  CHECK(csv.header.size() == 6);
  CHECK(csv.rows.size() == 7);
  CHECK(!fs::exists(out / "summary.json"));  // a summary means a completed run
  CHECK(!fs::exists(out / "policy.safetensors"));

  // Killed mid-run (the example program throws from inside its loop and exits 1).
  const fs::path out2 = scratch("interrupted_example");
  CHECK(run_example("--quiet --episodes 50 --fail-after 9 --out " + out2.string()) == 1);
  CHECK(parse_csv(read(out2 / "metrics.csv")).rows.size() == 9);

  // Killed by a signal at an arbitrary moment: every row on disk is still a whole line.
  const fs::path out3 = scratch("killed");
  const std::string cmd = "timeout -s KILL 0.3 " + std::string(RUN_OUTPUTS_EXAMPLE) +
                          " --quiet --env pendulum --episodes 1000000 --out " + out3.string() + " >/dev/null 2>&1";
  CHECK(std::system(cmd.c_str()) != 0);
  const Csv killed = parse_csv(read(out3 / "metrics.csv"));
  CHECK(killed.rows.size() > 0);
  CHECK(killed.rows.back()[3] == "200");
}

TEST_CASE("the same seed gives a byte-identical metrics.csv, also with --seeds in threads") {
  const fs::path a = scratch("det_a"), b = scratch("det_b"), c = scratch("det_c");
  REQUIRE(run_experiment(fake_options(a, 1, 4), fake_spec(), fake_train("cartpole", 12)) == 0);
  REQUIRE(run_experiment(fake_options(b, 2, 3), fake_spec(), fake_train("cartpole", 12)) == 0);
  REQUIRE(run_experiment(fake_options(c, 2, 3), fake_spec(), fake_train("cartpole", 12)) == 0);
  CHECK(read(b / "seed3" / "metrics.csv") == read(c / "seed3" / "metrics.csv"));
  CHECK(read(b / "seed4" / "metrics.csv") == read(c / "seed4" / "metrics.csv"));
  CHECK(read(b / "seed3" / "metrics.csv") != read(b / "seed4" / "metrics.csv"));
  // A seed's run does not depend on the other seeds next to it.
  CHECK(read(a / "metrics.csv") == read(b / "seed4" / "metrics.csv"));

  const auto agg = parse_json_file(b / "summary.json");
  CHECK(agg.at("seeds") == "[3, 4]");
  CHECK(agg.at("failed_seeds") == "[]");
  CHECK(agg.at("episodes") == "24");
  CHECK(agg.at("eval_episodes") == "40");
  for (const char* key : {"final_return", "eval_return_mean", "eval_return_std", "wall_seconds", "per_seed"})
    CHECK_MESSAGE(agg.count(key), "aggregate summary.json lacks " << key);
  CHECK(plot::test::xml_problem(read(b / "curve.svg")) == "");
  for (const char* f : {"summary.json", "curve.svg", "policy.safetensors", "rollout.svg", "rollout_anim.svg"})
    CHECK_MESSAGE(fs::exists(b / "seed4" / f), f);

  // The example program end to end: same flags, same file.
  const fs::path e1 = scratch("det_e1"), e2 = scratch("det_e2");
  REQUIRE(run_example("--quiet --episodes 30 --seeds 2 --out " + e1.string()) == 0);
  REQUIRE(run_example("--quiet --episodes 30 --seeds 2 --out " + e2.string()) == 0);
  CHECK(read(e1 / "seed2" / "metrics.csv") == read(e2 / "seed2" / "metrics.csv"));
}

// summary.json without its wall_seconds line (the one number that differs between two runs).
std::string without_wall_seconds(const std::string& json) {
  std::istringstream in(json);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"wall_seconds\"") == std::string::npos) out += line + "\n";
  return out;
}

// Bugs: --aggregate pooling the evaluation from per-seed means (last digits differ), taking a
// seed's env_steps from its last metrics row (a step budget ends inside an episode), reading the
// wrong metrics.csv column, or dropping a seed.
TEST_CASE("--aggregate of seeds run one by one writes the summary.json and curve.svg of one --seeds K run") {
  const fs::path k = scratch("agg_k"), apart = scratch("agg_apart");
  const std::string flags = " --quiet --env pendulum --episodes 40 --steps 1050 --seed 2 ";
  REQUIRE(run_example(flags + "--seeds 3 --out " + k.string()) == 0);
  for (int s = 2; s <= 4; ++s)
    REQUIRE(run_example(" --quiet --env pendulum --episodes 40 --steps 1050 --seed " + std::to_string(s) +
                        " --out " + (apart / ("seed" + std::to_string(s))).string()) == 0);
  REQUIRE(run_example(flags + "--seeds 3 --aggregate --out " + apart.string()) == 0);
  for (int s = 2; s <= 4; ++s) {
    const fs::path seed = "seed" + std::to_string(s);
    CHECK(read(k / seed / "metrics.csv") == read(apart / seed / "metrics.csv"));
  }
  CHECK(parse_json_file(apart / "seed3" / "summary.json").at("env_steps") == "1050");  // 5 episodes and 50 steps
  CHECK(read(k / "curve.svg") == read(apart / "curve.svg"));
  CHECK(without_wall_seconds(read(k / "summary.json")) == without_wall_seconds(read(apart / "summary.json")));
  CHECK(read(k / kOutputsManifest) == read(apart / kOutputsManifest));

  // A seed that did not finish is a failed seed, as in a --seeds K run: listed, not averaged, exit 1.
  fs::remove(apart / "seed4" / "summary.json");
  CHECK(run_example(flags + "--seeds 3 --aggregate --out " + apart.string()) == 1);
  const auto partial = parse_json_file(apart / "summary.json");
  CHECK(partial.at("failed_seeds") == "[4]");
  CHECK(partial.at("eval_episodes") == "40");
}

// Bug: --aggregate mixing in seeds that ran with other settings (or of another algorithm/seed).
TEST_CASE("--aggregate refuses seed folders made with other hyperparameters, and needs --out and --seeds > 1") {
  const fs::path out = scratch("agg_other");
  for (int s = 1; s <= 2; ++s)
    REQUIRE(run_example("--quiet --episodes 10 --seed " + std::to_string(s) + " --out " +
                        (out / ("seed" + std::to_string(s))).string()) == 0);
  CHECK(run_example("--quiet --episodes 10 --sigma 0.3 --seeds 2 --aggregate --out " + out.string()) == 1);
  CHECK(!fs::exists(out / "summary.json"));
  fs::copy(out / "seed1", out / "seed3");  // seed 1's results in seed 3's folder
  CHECK(run_example("--quiet --episodes 10 --seed 2 --seeds 2 --aggregate --out " + out.string()) == 1);
  CHECK(!fs::exists(out / "summary.json"));
  CHECK(run_example("--quiet --episodes 10 --seeds 2 --aggregate --out " + out.string()) == 0);
  CHECK(run_example("--quiet --episodes 10 --seeds 2 --aggregate") == 2);
  CHECK(run_example("--quiet --episodes 10 --aggregate --out " + out.string()) == 2);
}

TEST_CASE("a multi-seed run against env steps, on Pendulum, draws the aggregate curve") {
  const fs::path out = scratch("pendulum");
  ExperimentSpec spec = fake_spec();
  spec.x_axis = CurveX::env_steps;
  spec.reference_return = -250;
  RunOptions run = fake_options(out, 3);
  run.env = "Pendulum-v1";
  REQUIRE(run_experiment(run, spec, fake_train("pendulum", 3)) == 0);
  const std::string curve = read(out / "curve.svg");
  CHECK(plot::test::xml_problem(curve) == "");
  CHECK(curve.find("3 seeds") != std::string::npos);
  CHECK(parse_json_file(out / "seed5" / "summary.json").at("env_steps") == "600");
}

TEST_CASE("bad command lines exit 2 with a message, --help exits 0") {
  CHECK(run_example("--bogus") == 2);
  CHECK(run_example("--env mountaincar") == 2);
  CHECK(run_example("--seeds 0") == 2);
  CHECK(run_example("--seed -1") == 2);
  CHECK(run_example("--episodes") == 2);
  CHECK(run_example("--help") == 0);
  // In-process: a bad RunOptions is a usage error too.
  RunOptions acrobot = fake_options("", 1);
  acrobot.env = "acrobot";
  CHECK(run_experiment(acrobot, fake_spec(), fake_train("cartpole", 1)) == 2);
  CHECK(run_experiment(fake_options("", 1, 3, ""), fake_spec(), fake_train("cartpole", 1)) == 2);
  CHECK(run_experiment(fake_options("", 0), fake_spec(), fake_train("cartpole", 1)) == 2);
}

TEST_CASE("--load evaluates a saved policy without training") {
  const fs::path out = scratch("load");
  REQUIRE(run_example("--quiet --episodes 40 --out " + out.string()) == 0);
  const auto trained = parse_json_file(out / "summary.json");
  REQUIRE(run_example("--quiet --load " + (out / "policy.safetensors").string()) == 0);
  const auto loaded = parse_json_file(out / "eval_summary.json");
  CHECK(loaded.at("eval_return_mean") == trained.at("eval_return_mean"));  // same policy, same env seeds
  CHECK(run_example("--quiet --env pendulum --load " + (out / "policy.safetensors").string()) == 2);  // wrong env
  CHECK(run_example("--quiet --load " + (out / "missing.safetensors").string()) == 1);
  // Issue 9: --load /dev/zero hung; a device or a folder is a runtime error naming it.
  CHECK(run_example("--quiet --load /dev/zero") == 1);
  CHECK(run_example("--quiet --load " + out.string()) == 1);
}

TEST_CASE("RunLog rejects undeclared or clashing loss columns") {
  const fs::path out = scratch("runlog");
  RunLog log(out / "m.csv", {"a"});
  CHECK_THROWS_AS(log.set_loss("b", 1.0), std::invalid_argument);
  CHECK_THROWS_AS(RunLog(out / "n.csv", {"return"}), std::invalid_argument);
  CHECK_THROWS_AS(RunLog(out / "n.csv", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(RunLog(out / "n.csv", {"a,b"}), std::invalid_argument);
  CHECK_THROWS_AS(RunLog(out / "no_such_dir" / "m.csv"), std::runtime_error);
  CHECK(std::isnan(log.recent_return()));
  log.episode(10, 10.0, 10);
  log.episode(30, 20.0, 20);
  CHECK(log.recent_return(1) == 20.0);
  CHECK(log.recent_return() == 15.0);
  CHECK(read(out / "m.csv") == "env_steps,episode,return,length,a\n10,1,10,10,\n30,2,20,20,\n");
}

// ---- A rerun into the same folder replaces what the earlier run wrote, and nothing else ----

namespace {

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  REQUIRE_MESSAGE(f, "cannot write " << p);
}

// Runs `cmd` with stderr captured; returns {exit status, stderr}.
std::pair<int, std::string> run_capturing_stderr(const std::string& cmd, const fs::path& err) {
  const int status = std::system((cmd + " >/dev/null 2>" + err.string()).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read(err)};
}

// A demo next to run_outputs_example (same bin folder), or "" if it was not built.
std::string demo_path(const std::string& name) {
  const fs::path p = fs::path(RUN_OUTPUTS_EXAMPLE).parent_path() / name;
  return fs::exists(p) ? p.string() : std::string();
}

}  // namespace

// Bug: the stale-output removal followed a seed<k> symbolic link out of --out and deleted a file there.
TEST_CASE("a rerun never deletes through a seed<k> symbolic link") {
  const fs::path root = scratch("rerun_symlink"), d = root / "D", v = root / "V";
  fs::create_directories(v);
  write_text(v / "metrics.csv", "mine\n");
  write_text(v / "summary.json", "{}\n");
  // A fresh --out holding the link (the audit's case), then a folder whose seed1/ an earlier run
  // wrote and the user replaced by a link since.
  fs::create_directories(d);
  fs::create_directory_symlink(v, d / "seed1");
  REQUIRE(run_example("--quiet --episodes 5 --seeds 2 --seed 5 --out " + d.string()) == 0);
  CHECK(read(v / "metrics.csv") == "mine\n");
  CHECK(read(v / "summary.json") == "{}\n");
  const fs::path e = root / "E";
  REQUIRE(run_example("--quiet --episodes 5 --seeds 2 --seed 1 --out " + e.string()) == 0);
  fs::remove_all(e / "seed1");
  fs::create_directory_symlink(v, e / "seed1");
  REQUIRE(run_example("--quiet --episodes 5 --seeds 2 --seed 5 --out " + e.string()) == 0);
  CHECK(read(v / "metrics.csv") == "mine\n");
  CHECK(read(v / "summary.json") == "{}\n");
  CHECK(fs::is_symlink(e / "seed1"));
  CHECK(!fs::exists(e / "seed2"));  // the earlier run's own folder is gone
  CHECK(fs::exists(e / "seed5" / "summary.json"));
}

// Bug: the stale-output removal deleted by name (metrics.csv, summary.json, ... in every seed<k>/)
// files that no run had written, e.g. a user's own seed7/ folder.
TEST_CASE("a rerun deletes only files a run wrote in that folder, listed in its .pgcpp_outputs") {
  const fs::path u = scratch("rerun_foreign");
  fs::create_directories(u / "seed7");
  write_text(u / "seed7" / "metrics.csv", "mine\n");
  write_text(u / "eval_summary.json", "mine\n");
  write_text(u / "notes.txt", "mine\n");
  REQUIRE(run_example("--quiet --episodes 5 --out " + u.string()) == 0);
  REQUIRE(run_example("--quiet --episodes 5 --seeds 2 --out " + u.string()) == 0);  // replaces the one-seed run
  CHECK(read(u / "seed7" / "metrics.csv") == "mine\n");
  CHECK(read(u / "eval_summary.json") == "mine\n");
  CHECK(read(u / "notes.txt") == "mine\n");
  CHECK(!fs::exists(u / "metrics.csv"));  // the one-seed run's, listed in its manifest
  CHECK(!fs::exists(u / "policy.safetensors"));
  CHECK(read(u / ".pgcpp_outputs").find("seed2/\n") != std::string::npos);
  // A manifest line that is not a plain name in its folder is ignored, never followed.
  write_text(u / ".pgcpp_outputs", "# test\n../rerun_foreign_outside\nseed7/metrics.csv\n/etc/passwd\nseed1/\n");
  fs::create_directories(u.parent_path() / "rerun_foreign_outside");
  remove_previous_outputs(u);
  CHECK(fs::exists(u.parent_path() / "rerun_foreign_outside"));
  CHECK(read(u / "seed7" / "metrics.csv") == "mine\n");
  CHECK(!fs::exists(u / "seed1"));  // listed, and empty once its own listed files were gone
  CHECK(!fs::exists(u / ".pgcpp_outputs"));
}

// Bug: files an algorithm adds to a seed's folder (npg's kl.svg) were not on the stale list, so a
// rerun that does not write them left the earlier run's behind.
TEST_CASE("a rerun removes an earlier run's extra files and seed folders, and a killed run's rows") {
  const fs::path out = scratch("rerun_extra");
  TrainFn with_figure = [](std::uint64_t seed, RunLog& log) {
    write_text(log.dir() / "extra.svg", "<svg/>\n");
    return fake_train("cartpole", 3)(seed, log);
  };
  REQUIRE(run_experiment(fake_options(out, 2, 3), fake_spec(), with_figure) == 0);
  REQUIRE(fs::exists(out / "seed3" / "extra.svg"));
  REQUIRE(run_experiment(fake_options(out, 1, 3), fake_spec(), fake_train("cartpole", 3)) == 0);
  CHECK(!fs::exists(out / "seed3"));
  CHECK(!fs::exists(out / "seed4"));
  CHECK(!fs::exists(out / "extra.svg"));
  REQUIRE(run_experiment(fake_options(out, 1, 3), fake_spec(), with_figure) == 0);
  CHECK(fs::exists(out / "extra.svg"));
  // A failed run's files (metrics.csv, extra.svg) are listed too, and go with the next run.
  CHECK(run_experiment(fake_options(out, 1, 3), fake_spec(), fake_train("cartpole", 3, 1)) == 1);
  CHECK(!fs::exists(out / "extra.svg"));
  CHECK(!fs::exists(out / "summary.json"));
  const fs::path failed = out / "failed";
  CHECK(run_experiment(fake_options(failed, 2, 3), fake_spec(), [](std::uint64_t, RunLog& log) -> TrainResult {
          write_text(log.dir() / "extra.svg", "<svg/>\n");
          throw std::runtime_error("on purpose");
        }) == 1);
  REQUIRE(run_experiment(fake_options(failed, 1, 3), fake_spec(), fake_train("cartpole", 3)) == 0);
  CHECK(!fs::exists(failed / "seed3"));
  CHECK(!fs::exists(failed / "seed4"));
  // --load adds its files to the folder's list: the next training run replaces them.
  REQUIRE(run_example("--quiet --episodes 5 --out " + out.string()) == 0);
  REQUIRE(run_example("--quiet --load " + (out / "policy.safetensors").string()) == 0);
  REQUIRE(fs::exists(out / "eval_summary.json"));
  REQUIRE(run_example("--quiet --episodes 5 --out " + out.string()) == 0);
  CHECK(!fs::exists(out / "eval_summary.json"));
}

// Bug: gae's lambda<value>/ folders were not on the stale list: a sweep over fewer lambdas into
// the same --out kept the earlier sweep's folders (and npg's kl.svg stayed after a reinforce run).
TEST_CASE("gae: a second lambda sweep into the same folder removes the first one's lambda folders") {
  const std::string gae = demo_path("gae"), npg = demo_path("npg"), reinforce = demo_path("reinforce");
  if (gae.empty() || npg.empty() || reinforce.empty()) {
    MESSAGE("gae, npg or reinforce not built next to run_outputs_example: skipped");
    return;
  }
  const fs::path out = scratch("rerun_gae");
  auto run = [](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
  REQUIRE(run(gae + " --quiet --lambdas 0,0.5,1 --episodes 20 --out " + out.string()) == 0);
  REQUIRE(fs::exists(out / "lambda0" / "metrics.csv"));
  write_text(out / "lambda1" / "mine.txt", "mine\n");
  REQUIRE(run(gae + " --quiet --lambdas 0.5 --episodes 20 --out " + out.string()) == 0);
  CHECK(!fs::exists(out / "lambda0"));
  CHECK(fs::exists(out / "lambda0.5" / "summary.json"));
  CHECK(fs::exists(out / "lambda_sweep.svg"));
  CHECK(read(out / "lambda1" / "mine.txt") == "mine\n");  // not ours: kept, and its folder with it
  CHECK(!fs::exists(out / "lambda1" / "metrics.csv"));

  const fs::path kl = scratch("rerun_kl");
  REQUIRE(run(npg + " --quiet --env-steps 2000 --out " + kl.string()) == 0);
  REQUIRE(fs::exists(kl / "kl.svg"));
  REQUIRE(run(reinforce + " --quiet --episodes 20 --batch 10 --out " + kl.string()) == 0);
  CHECK(!fs::exists(kl / "kl.svg"));
}

// Bug: a budget that ended inside the first episode exited 0 with "final_return": null and
// "env_steps": 0 in summary.json, a result that is none.
TEST_CASE("a budget that ends before the first episode finishes is an error, not an empty result") {
  const fs::path out = scratch("no_episode");
  const TrainFn none = [](std::uint64_t, RunLog& log) {
    log.progress(1, 150);
    ad::Var theta(Matrix::Zero(4, 1));
    return TrainResult{ad::ParameterSet({theta}), "none", [](const Eigen::VectorXd&) { return Eigen::VectorXd::Zero(1); }};
  };
  CHECK(run_experiment(fake_options(out), fake_spec(), none) == 1);
  CHECK(!fs::exists(out / "summary.json"));
  CHECK(!fs::exists(out / "policy.safetensors"));
  CHECK(run_experiment(fake_options(out / "seeds", 2), fake_spec(), none) == 1);
  CHECK(!fs::exists(out / "seeds" / "summary.json"));

  const auto [status, err] = run_capturing_stderr(std::string(RUN_OUTPUTS_EXAMPLE) + " --quiet --steps 5 --out " +
                                                      (out / "example").string(), out / "stderr.txt");
  CHECK(status == 1);
  CHECK(err.find("the budget ended before the first episode finished (5 env steps); raise --steps") !=
        std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);  // one line
  CHECK(!fs::exists(out / "example" / "summary.json"));
  // A budget that ends inside a later episode is a normal run of the finished ones.
  REQUIRE(run_example("--quiet --steps 100 --out " + (out / "later").string()) == 0);
  const auto summary = parse_json_file(out / "later" / "summary.json");
  CHECK(summary.at("final_return") != "null");
}
