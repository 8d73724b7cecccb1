#include "experiment/cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "experiment/run.hpp"  // env_short_name

namespace pgcpp {

namespace {

char g_program[64] = "pgcpp";  // for the exit handler below, which cannot own a std::string

// Runs at exit, before stdio's own final flush (whose failure nobody would see): everything
// written to stdout must have reached it, else exit status 1 and one line on stderr.
void check_stdout_at_exit() {
  errno = 0;
  std::cout.flush();
  const bool flushed = std::fflush(stdout) == 0;
  const int error = errno;
  if (flushed && !std::ferror(stdout) && std::cout.good()) return;
  std::fprintf(stderr, "%s: cannot write to standard output%s%s%s\n", g_program, error ? " (" : "",
               error ? std::strerror(error) : "", error ? ")" : "");
  std::_Exit(1);
}

}  // namespace

Cli::Cli(std::string program, std::string description) : program_(std::move(program)), description_(std::move(description)) {
  static const bool registered = std::atexit(check_stdout_at_exit) == 0;
  (void)registered;
  std::snprintf(g_program, sizeof g_program, "%s", program_.c_str());
}

void Cli::add(Params& params) {
  for (ParamBase* p : params.all()) params_.push_back(p);
}

void Cli::note(const std::string& text) { notes_.push_back(text); }

void Cli::operands(std::string name, std::string help) {
  operands_name_ = std::move(name);
  operands_help_ = std::move(help);
}

std::string Cli::usage() const {
  std::ostringstream s;
  s << "usage: " << program_ << " [options]";
  if (!operands_name_.empty()) s << " " << operands_name_ << " [" << operands_name_ << "...]";
  s << "\n\n" << description_ << "\n\n";
  if (!operands_name_.empty()) s << "arguments:\n  " << operands_name_ << "  " << operands_help_ << "\n\n";
  s << "options:\n";
  for (const ParamBase* p : params_) {
    std::string left = "  " + p->flag() + (p->is_switch() ? "" : " <value>");
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    s << left << p->help();
    if (!p->is_switch()) {
      s << " (default: " << (p->text().empty() ? "\"\"" : p->text());
      if (!p->env_defaults_text().empty()) s << "; " << p->env_defaults_text();
      if (!p->range_text().empty()) s << "; " << p->range_text();
      s << ")";
    }
    s << "\n";
  }
  s << "  --help                    print this help and exit\n";
  for (const std::string& n : notes_) s << "\n" << n << "\n";
  return s.str();
}

void Cli::usage_error(const std::string& message) const {
  std::cerr << program_ << ": " << message << " (see --help)\n";
  std::exit(2);
}

void Cli::require(bool ok, const std::string& message) const {
  if (!ok) usage_error(message);
}

bool Cli::given(const std::string& flag) const {
  for (const std::string& g : given_)
    if (g == flag) return true;
  return false;
}

ParamBase* Cli::find(const std::string& flag) const {
  for (ParamBase* p : params_)
    if (p->flag() == flag) return p;
  return nullptr;
}

// The environment's own defaults (ParamBase::use_env_default) for every flag not given, where the
// program has an --env flag.
void Cli::use_env_defaults() {
  const ParamBase* env = find("--env");
  if (!env || env->text().empty()) return;
  const std::string name = env_short_name(env->text());
  for (ParamBase* p : params_)
    if (!given(p->flag())) p->use_env_default(name);
}

std::string shown_value(const std::string& text) {
  std::string s;
  for (char c : text.substr(0, 80)) s += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  return "'" + s + (text.size() > 80 ? "...'" : "'");
}

void Cli::parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      if (has_value) usage_error(arg + " takes no value, got " + shown_value(value));
      std::cout << usage();
      std::exit(0);
    }
    if (!operands_name_.empty() && !arg.empty() && arg[0] != '-') {
      operand_values_.push_back(argv[i]);  // argv[i] whole: an operand may contain '='
      continue;
    }
    ParamBase* p = find(arg);
    if (!p) usage_error("unknown option " + shown_value(arg));
    if (given(arg)) usage_error(arg + " is given twice");
    if (p->is_switch()) {
      if (has_value) usage_error(arg + " takes no value, got " + shown_value(value));
    } else if (!has_value) {
      if (i + 1 >= argc) usage_error("missing value for " + arg);
      value = argv[++i];
    }
    if (std::string expected = p->parse(value); !expected.empty())
      usage_error("invalid value " + shown_value(value) + " for " + arg + ": expected " + expected);
    given_.push_back(arg);
  }
  use_env_defaults();
  // Defaults are checked too: a demo that changed one must still be in range.
  for (const ParamBase* p : params_)
    if (std::string why = p->check(); !why.empty()) usage_error(p->flag() + " " + shown_value(p->text()) + " is " + why);
}

}  // namespace pgcpp
