// env_replay: put an environment in a given internal state, step it through given actions and
// print every transition with 17 significant digits, so that a run can be compared number by
// number with Gymnasium (set env.unwrapped.state, call step, print with repr).
//
// Exit status: 0 success, 1 runtime error (e.g. a bad action), 2 usage error.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/env.hpp"

namespace {

constexpr const char* usage =
    "usage: env_replay --env cartpole|pendulum|CartPole-v1|Pendulum-v1 --state x1,x2,...\n"
    "                  [--elapsed N] (--actions a1,a2,... | --actions-file FILE)\n"
    "\n"
    "Sets the environment's internal state (CartPole: x,x_dot,theta,theta_dot; Pendulum:\n"
    "th,thdot) with N steps already elapsed (default 0), applies the actions in order and\n"
    "prints CSV: step (elapsed steps after the transition), internal state after the step,\n"
    "observation, reward, terminated, truncated. Numbers are printed with %.17g. In\n"
    "--actions-file, actions are separated by commas or whitespace. A value may also be\n"
    "given as --flag=value (useful for values that start with '-').\n"
    "Exit status: 0 ok, 1 runtime error (e.g. a bad action), 2 usage error.\n";

// A command-line mistake: reported in one line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string env;
  std::string state;
  std::string actions;
  bool have_actions = false;
  int elapsed = 0;
};

double parse_number(const std::string& text, const std::string& flag) {
  double v = 0.0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw UsageError("malformed number '" + text + "' in " + flag);
  return v;
}

// Numbers separated by commas (and, for files, whitespace).
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

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read --actions-file '" + path + "'");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Options parse_args(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") { std::fputs(usage, stdout); std::exit(0); }
    // Both "--flag value" and "--flag=value" (the latter for values starting with '-').
    std::string value;
    const auto eq = flag.find('=');
    const bool inline_value = flag.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag != "--env" && flag != "--state" && flag != "--elapsed" && flag != "--actions" &&
        flag != "--actions-file")
      throw UsageError("unknown flag '" + flag + "' (see --help)");
    if (!inline_value) {
      if (i + 1 >= argc) throw UsageError("missing value after " + flag);
      value = argv[++i];
    }
    if (flag == "--env") opt.env = value;
    else if (flag == "--state") opt.state = value;
    else if (flag == "--elapsed") {
      const double n = parse_number(value, flag);
      if (!(n >= 0 && n < 1e9) || n != std::floor(n))
        throw UsageError("malformed --elapsed '" + value + "'");
      opt.elapsed = static_cast<int>(n);
    } else {
      if (opt.have_actions) throw UsageError("give only one of --actions and --actions-file");
      opt.actions = flag == "--actions" ? value : read_file(value);
      opt.have_actions = true;
    }
  }
  if (opt.env.empty()) throw UsageError("missing --env");
  if (opt.state.empty()) throw UsageError("missing --state");
  if (!opt.have_actions) throw UsageError("missing --actions or --actions-file");
  return opt;
}

void print_header(const pgcpp::Env& env) {
  std::printf("step");
  for (const auto& n : env.spec().state_names) std::printf(",%s", n.c_str());
  for (const auto& n : env.spec().observation_names) std::printf(",obs_%s", n.c_str());
  std::printf(",reward,terminated,truncated\n");
}

void print_row(const pgcpp::Env& env, const pgcpp::StepResult& r) {
  std::printf("%d", env.elapsed_steps());
  for (double v : env.state()) std::printf(",%.17g", v);
  for (double v : r.observation) std::printf(",%.17g", v);
  std::printf(",%.17g,%d,%d\n", r.reward, r.terminated ? 1 : 0, r.truncated ? 1 : 0);
}

int run(const Options& opt) {
  std::unique_ptr<pgcpp::Env> env;
  try {
    env = pgcpp::make_env(opt.env);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("malformed --env: ") + e.what());
  }
  const std::vector<double> state = parse_list(opt.state, "--state");
  const std::vector<double> actions = parse_list(opt.actions, "--actions");
  const int act_dim = env->act_dim();
  if (actions.size() % static_cast<std::size_t>(act_dim) != 0)
    throw UsageError("the number of action values is not a multiple of " + std::to_string(act_dim));
  try {
    env->set_state(Eigen::Map<const Eigen::VectorXd>(state.data(), std::ssize(state)), opt.elapsed);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("malformed --state or --elapsed: ") + e.what());
  }
  print_header(*env);
  const int steps = static_cast<int>(actions.size()) / act_dim;
  for (int t = 0; t < steps; ++t) {
    const double* first = actions.data() + static_cast<std::ptrdiff_t>(t) * act_dim;
    const Eigen::VectorXd a = Eigen::Map<const Eigen::VectorXd>(first, act_dim);
    const pgcpp::StepResult r = env->step(a);
    print_row(*env, r);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "env_replay: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "env_replay: %s\n", e.what());
    return 1;
  }
}
