// The command line of every pgcpp executable, made from the Params its configs declare
// (chapter3/common/params.hpp): each member is a flag, its default and range are in --help, and
// its range is checked after parsing.
//
//   ReinforceConfig cfg;
//   Cli cli("reinforce", "Minibatch REINFORCE (Section 3.2.3) on CartPole-v1.");
//   cli.add(run);                    // --env --seed --seeds --out --quiet --load
//   cli.add(cfg);                    // --batch --lr --gamma ...
//   cli.parse(argc, argv);
//   cli.require(cfg.k_max >= cfg.check_every, "--k-max must be >= --check-every");
//
// After the flags are read, each flag not given takes its environment's default where it declares
// one (Param's EnvDefaults) and the program has --env. --help (or -h) prints every flag with its
// default, per-environment defaults and range, and exits 0. A usage error exits
// with status 2 after one line on stderr that names the flag and the value: an unknown flag, a
// missing or malformed value, a value out of its declared range, a failed require.
//
// A program that takes operands (compare's run folders) declares them with operands(); every
// argument that does not start with '-' is then one, in order. Without that, such an argument is
// an unknown option, as before.
//
// Standard output is checked when the program ends (main returns or exit() is called, --help
// included): if what was written to it (a report, --help) could not all be written, e.g. to a full
// disk or /dev/full, the program says so in one line on stderr and exits with status 1.
#pragma once

#include <string>
#include <vector>

#include "chapter3/common/params.hpp"

namespace pgcpp {

// A command-line value as messages show it: quoted, cut to 80 characters, control characters
// (a newline) as '?', so that the message stays one line.
std::string shown_value(const std::string& text);

class Cli {
 public:
  Cli(std::string program, std::string description);

  // Every member of `params` becomes a flag (declaration order); `params` must outlive parse.
  void add(Params& params);
  // Extra paragraph for --help (e.g. where defaults differ from the book, and why).
  void note(const std::string& text);
  // Accept operands (arguments not starting with '-'), shown in --help as `name...` with `help`.
  void operands(std::string name, std::string help);

  void parse(int argc, const char* const* argv);
  // After parse: exit 2 with "program: message" unless ok (for combinations of flags).
  void require(bool ok, const std::string& message) const;
  [[noreturn]] void usage_error(const std::string& message) const;
  bool given(const std::string& flag) const;  // was the flag on the command line?
  const std::vector<std::string>& operand_values() const { return operand_values_; }  // after parse
  const std::string& program() const { return program_; }
  std::string usage() const;

 private:
  ParamBase* find(const std::string& flag) const;
  void use_env_defaults();

  std::string program_, description_;
  std::vector<std::string> notes_;
  std::vector<ParamBase*> params_;
  std::vector<std::string> given_;
  std::string operands_name_, operands_help_;
  std::vector<std::string> operand_values_;
};

}  // namespace pgcpp
