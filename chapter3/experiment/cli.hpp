// Command-line flags shared by every pgcpp executable.
//
//   pgcpp::Cli cli("reinforce", "Minibatch REINFORCE (Section 3.2.3) on CartPole-v1.");
//   cli.option("--lr", cfg.lr, "policy step size alpha_theta");
//   cli.parse(argc, argv);
//
// --help prints every flag with its default and exits 0. An unknown flag, a missing or
// malformed value (not a number, not finite, trailing characters) prints one line naming it
// and exits with status 2, as does a failed cli.require(...) check.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace pgcpp {

class Cli {
 public:
  Cli(std::string program, std::string description);

  void option(const std::string& name, int& value, const std::string& help);
  void option(const std::string& name, long& value, const std::string& help);
  void option(const std::string& name, std::uint64_t& value, const std::string& help);
  void option(const std::string& name, double& value, const std::string& help);
  void option(const std::string& name, float& value, const std::string& help);
  void option(const std::string& name, std::string& value, const std::string& help);
  void flag(const std::string& name, bool& value, const std::string& help);  // presence sets true
  // Extra paragraph for --help (e.g. where defaults differ from the book, and why).
  void note(const std::string& text);

  void parse(int argc, const char* const* argv);
  // After parse: exit 2 with "program: message" unless ok (for ranges and combinations).
  void require(bool ok, const std::string& message) const;
  bool given(const std::string& name) const;  // was the flag on the command line?
  std::string usage() const;

 private:
  using Target = std::variant<int*, long*, std::uint64_t*, double*, float*, std::string*, bool*>;
  struct Option {
    std::string name, help, default_text;
    Target target;
  };
  void add(const std::string& name, Target target, const std::string& help);
  [[noreturn]] void usage_error(const std::string& message) const;
  void assign(const Option& o, const std::string& text) const;

  std::string program_, description_;
  std::vector<std::string> notes_;
  std::vector<Option> options_;
  std::vector<std::string> given_;
};

}  // namespace pgcpp
