// env_replay: put an environment in a given internal state, step it through given actions and
// print every transition with 17 significant digits, so that a run can be compared number by
// number with Gymnasium (set env.unwrapped.state, call step, print with repr).
//
// Exit status: 0 success, 1 runtime error (a bad action, a non-finite result, an unwritable
// stdout), 2 usage error.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiment/cli.hpp"
#include "experiment/program.hpp"
#include "envs/env.hpp"

namespace {

using namespace pgcpp;

struct Config : Params {
  Param<std::string> env{this, "--env", "", "environment", {"cartpole", "pendulum", "CartPole-v1", "Pendulum-v1"}};
  Param<std::string> state{this, "--state", "",
                           "internal state x1,x2,... (CartPole: x,x_dot,theta,theta_dot; Pendulum: th,thdot)"};
  Param<int> elapsed{this, "--elapsed", 0, "steps already elapsed (for the time limit)", {0, 1'000'000'000}};
  Param<std::string> actions{this, "--actions", "", "actions a1,a2,... in order"};
  Param<std::string> actions_file{this, "--actions-file", "",
                                  "a file of actions separated by commas or whitespace (at most 16 MiB)"};
};

constexpr std::uintmax_t kMaxActionsFile = 16u << 20;

// A command-line mistake found after parsing: reported in one line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double parse_number(const std::string& text, const std::string& flag) {
  double v = 0.0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v))
  {
    std::string shown = text.substr(0, 40);
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    throw UsageError("malformed number '" + shown + "' in " + flag + " (expected a finite number)");
  }
  return v;
}

// A command-line list: numbers separated by commas, none empty ("1,", "1,,2" are refused, as by
// every list flag: detail::split_list).
std::vector<double> parse_flag_list(const std::string& text, const std::string& flag) {
  std::vector<std::string> items;
  if (!detail::split_list(text, items))
    throw UsageError("invalid value " + shown_value(text) + " for " + flag + ": expected comma-separated numbers");
  std::vector<double> values;
  for (const std::string& item : items) values.push_back(parse_number(item, flag));
  return values;
}

// A file of numbers separated by commas or whitespace.
std::vector<double> parse_list(const std::string& text, const std::string& flag) {
  std::vector<double> values;
  std::string token;
  auto flush = [&] {
    if (!token.empty()) values.push_back(parse_number(token, flag));
    token.clear();
  };
  for (char ch : text) {
    if (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') flush();
    else token += ch;
  }
  flush();
  if (values.empty()) throw UsageError("no numbers in " + flag);
  return values;
}

// Only regular files of bounded size: a directory, a FIFO or /dev/zero would fail or never end.
std::string read_actions_file(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string who = "--actions-file '" + path + "': ";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw UsageError(who + "no such file");
  if (!fs::is_regular_file(st)) throw UsageError(who + "not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxActionsFile) throw UsageError(who + "larger than 16 MiB");
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) throw std::runtime_error(who + "cannot read it");
  return text;
}

// The CSV on stdout: a write error (a full disk, a closed pipe) is an error, not a short file.
void put(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::ferror(stdout))
    throw std::runtime_error("cannot write to stdout");
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, ",%.17g", v);
  return buf;
}

void print_header(const Env& env) {
  std::string line = "step";
  for (const auto& n : env.spec().state_names) line += "," + n;
  for (const auto& n : env.spec().observation_names) line += ",obs_" + n;
  put(line + ",reward,terminated,truncated\n");
}

void print_row(const Env& env, const StepResult& r) {
  std::string line = std::to_string(env.elapsed_steps());
  for (double v : env.state()) line += number(v);
  for (double v : r.observation) line += number(v);
  line += number(r.reward) + "," + (r.terminated ? "1" : "0") + "," + (r.truncated ? "1" : "0") + "\n";
  put(line);
}

bool finite(const Env& env, const StepResult& r) {
  return env.state().allFinite() && r.observation.allFinite() && std::isfinite(r.reward);
}

int replay(const Cli& cli, const Config& cfg) {
  cli.require(!cfg.env().empty(), "missing --env");
  cli.require(!cfg.state().empty(), "missing --state");
  cli.require(cli.given("--actions") != cli.given("--actions-file"), "give exactly one of --actions and --actions-file");
  const std::unique_ptr<Env> env = make_env(cfg.env);
  const std::vector<double> state = parse_flag_list(cfg.state, "--state");
  const std::vector<double> actions = cli.given("--actions")
                                          ? parse_flag_list(cfg.actions, "--actions")
                                          : parse_list(read_actions_file(cfg.actions_file),
                                                       "--actions-file '" + cfg.actions_file() + "'");
  const int act_dim = env->act_dim();
  if (actions.size() % static_cast<std::size_t>(act_dim) != 0)
    throw UsageError("the number of action values is not a multiple of " + std::to_string(act_dim));
  try {
    env->set_state(Eigen::Map<const Eigen::VectorXd>(state.data(), std::ssize(state)), cfg.elapsed);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("malformed --state or --elapsed: ") + e.what());
  }
  print_header(*env);
  const int steps = static_cast<int>(actions.size()) / act_dim;
  for (int t = 0; t < steps; ++t) {
    const double* first = actions.data() + static_cast<std::ptrdiff_t>(t) * act_dim;
    const Eigen::VectorXd a = Eigen::Map<const Eigen::VectorXd>(first, act_dim);
    const StepResult r = env->step(a);
    if (!finite(*env, r))
      throw std::runtime_error("step " + std::to_string(t + 1) +
                               ": the state, observation or reward is not finite (--state too large for float arithmetic)");
    print_row(*env, r);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  Cli cli("env_replay",
          "Sets an environment's internal state, applies the given actions in order and prints CSV: step (elapsed "
          "steps after the transition), internal state after the step, observation, reward, terminated, truncated, "
          "numbers with %.17g (to compare with Gymnasium number by number). A value may also be given as "
          "--flag=value (for values that start with '-').");
  cli.add(cfg);
  cli.parse(argc, argv);
  return run_program(cli, [&] {
    try {
      return replay(cli, cfg);
    } catch (const UsageError& e) {
      cli.usage_error(e.what());
    }
  });
}
