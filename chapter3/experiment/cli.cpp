#include "chapter3/experiment/cli.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace pgcpp {

namespace {

template <class T>
std::string text_of(const T& v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Whole-string integer parse: "12x", "" and out-of-range values fail.
template <class T>
bool parse_integer(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool parse_real(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

}  // namespace

Cli::Cli(std::string program, std::string description) : program_(std::move(program)), description_(std::move(description)) {}

void Cli::add(const std::string& name, Target target, const std::string& help) {
  std::string def = std::visit([](auto* p) {
    if constexpr (std::is_same_v<decltype(p), bool*>) return std::string();
    else return text_of(*p);
  }, target);
  options_.push_back({name, help, def, target});
}

void Cli::option(const std::string& name, int& value, const std::string& help) { add(name, &value, help); }
void Cli::option(const std::string& name, long& value, const std::string& help) { add(name, &value, help); }
void Cli::option(const std::string& name, std::uint64_t& value, const std::string& help) { add(name, &value, help); }
void Cli::option(const std::string& name, double& value, const std::string& help) { add(name, &value, help); }
void Cli::option(const std::string& name, float& value, const std::string& help) { add(name, &value, help); }
void Cli::option(const std::string& name, std::string& value, const std::string& help) { add(name, &value, help); }
void Cli::flag(const std::string& name, bool& value, const std::string& help) { add(name, &value, help); }
void Cli::note(const std::string& text) { notes_.push_back(text); }

std::string Cli::usage() const {
  std::ostringstream s;
  s << "usage: " << program_ << " [options]\n\n" << description_ << "\n\noptions:\n";
  for (const Option& o : options_) {
    const bool is_flag = std::holds_alternative<bool*>(o.target);
    std::string left = "  " + o.name + (is_flag ? "" : " <value>");
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    s << left << o.help;
    if (!is_flag) s << " (default: " << (o.default_text.empty() ? "\"\"" : o.default_text) << ")";
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

bool Cli::given(const std::string& name) const {
  for (const std::string& g : given_)
    if (g == name) return true;
  return false;
}

void Cli::assign(const Option& o, const std::string& text) const {
  const std::string bad = "invalid value '" + text + "' for " + o.name;
  std::visit([&](auto* p) {
    using T = std::remove_pointer_t<decltype(p)>;
    if constexpr (std::is_same_v<T, std::string>) {
      *p = text;
    } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
      double v;
      if (!parse_real(text, v)) usage_error(bad + " (expected a finite number)");
      *p = static_cast<T>(v);
    } else if constexpr (std::is_same_v<T, bool>) {
      *p = true;
    } else {
      if (!parse_integer(text, *p)) usage_error(bad + " (expected an integer)");
    }
  }, o.target);
}

void Cli::parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
      std::exit(0);
    }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Option* match = nullptr;
    for (const Option& o : options_)
      if (o.name == arg) match = &o;
    if (!match) usage_error("unknown option '" + arg + "'");
    if (std::holds_alternative<bool*>(match->target)) {
      if (has_value) usage_error(arg + " takes no value");
      *std::get<bool*>(match->target) = true;
    } else {
      if (!has_value) {
        if (i + 1 >= argc) usage_error("missing value for " + arg);
        value = argv[++i];
      }
      assign(*match, value);
    }
    given_.push_back(arg);
  }
}

}  // namespace pgcpp
