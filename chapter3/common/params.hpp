// Hyperparameters declared once: name, default, help text and valid range in one line, from
// which the command line (experiment/cli.hpp), its checks, --help and summary.json all
// come. CleanRL's `Args` dataclass is the model.
//
//   struct ReinforceConfig : Params {
//     Param<int>    batch{this, "--batch", 20, "N, trajectories per update", {1, 100'000}};
//     Param<double> lr{this, "--lr", 2.5e-3, "alpha, Adam step size", Range<double>::open_closed(0, 10)};
//   };
//   ReinforceConfig cfg;
//   cfg.batch = 5;                    // assign as the plain value
//   int n = cfg.batch;                // reads as the plain value (cfg.batch() where a template needs it)
//   for (ParamBase* p : cfg.all())    // in declaration order: flag, help, text, json, check
//
// A default that differs per environment is declared with the parameter, after its range:
//     Param<long> episodes{this, "--episodes", 2000, "budget in episodes", {1, 10'000'000}, {{"pendulum", 300}}};
// The command line applies it to the flags not given (experiment/cli.hpp), and --help lists it.
//
// A config is copyable: its list of parameters is kept as offsets from the config object, so a
// copy lists its own members; a copy of a derived config as its base lists the base's members. The types are int, long, std::uint64_t, double, bool (a switch:
// presence sets true), std::string (free text or one of a list of choices) and std::vector<int>
// (layer sizes, "128,128").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace pgcpp {

class Params;

// The untyped face of one hyperparameter.
class ParamBase {
 public:
  const std::string& flag() const { return flag_; }  // "--lr-critic"
  const std::string& help() const { return help_; }
  std::string key() const;                           // "lr_critic": its name in summary.json
  virtual std::string text() const = 0;              // the value as typed on a command line
  virtual std::string json() const = 0;              // the value as JSON
  virtual std::string range_text() const = 0;        // "[1, 100000]", "(0, 10]", "auto|return|rtg", ""
  // Sets the value from command-line text; returns "" or what was expected ("an integer in [1, 100]").
  virtual std::string parse(const std::string& text) = 0;
  // "" if the value is valid, else why not ("out of range [0, 1]").
  virtual std::string check() const = 0;
  virtual bool is_switch() const { return false; }
  // Sets the value to its default for the environment `env` ("pendulum") if it declares one;
  // returns whether it did.
  virtual bool use_env_default(const std::string& env) = 0;
  // The per-environment defaults as "pendulum: 300", "" if none.
  virtual std::string env_defaults_text() const = 0;

 protected:
  ParamBase(Params* owner, std::string flag, std::string help);
  // A copy sits at the same offset in its own config and registers there (so a config copied
  // as its base, e.g. MbpoConfig as SacConfig, lists only the members it has).
  ParamBase(const ParamBase& other);
  // Assignment copies a value, never an identity: the flag, help and place stay this member's
  // (so `cfg.lr_critic = cfg.lr_alpha = 1e-2` sets two values and renames nothing).
  ParamBase& operator=(const ParamBase&) { return *this; }
  ~ParamBase() = default;

 private:
  std::string flag_, help_;
  std::ptrdiff_t offset_ = 0;  // from the owning Params
};

// A closed interval by default; open at either end where said.
template <class T>
struct Range {
  T lo{}, hi{};
  bool open_lo = false, open_hi = false;
  static Range open_closed(T lo, T hi) { return {lo, hi, true, false}; }
  bool contains(const T& v) const {
    return (open_lo ? v > lo : v >= lo) && (open_hi ? v < hi : v <= hi);
  }
};

// The allowed texts of a string parameter; empty = any text.
using Choices = std::vector<std::string>;

// Defaults that differ per environment, by the environment's short name: {{"pendulum", 300}}.
template <class T>
using EnvDefaults = std::vector<std::pair<std::string, T>>;

namespace detail {
std::string range_text(double lo, double hi, bool open_lo, bool open_hi, bool integer);
std::string number_text(double v);  // shortest text that reads back to v
std::string json_string(const std::string& s);
std::string parse_number(const std::string& text, double& out);  // "" or "a finite number"
std::string parse_integer(const std::string& text, long long& out);
std::string parse_unsigned(const std::string& text, unsigned long long& out);
std::string sizes_text(const std::vector<int>& v);                // {128, 128} -> "128,128"
std::string parse_sizes(const std::string& text, std::vector<int>& out);
// The one splitter of every comma-separated list flag (--hidden, gae's --lambdas, env_replay's
// --state and --actions): false for an empty text or an empty element ("64,", ",64", "64,,64").
bool split_list(const std::string& text, std::vector<std::string>& items);

// use_env_default and env_defaults_text of every Param<T>, written once; `text` shows a value.
template <class T>
bool use_env_default(const EnvDefaults<T>& per_env, const std::string& env, T& value) {
  for (const auto& [name, v] : per_env)
    if (name == env) {
      value = v;
      return true;
    }
  return false;
}
template <class T, class Text>
std::string env_defaults_text(const EnvDefaults<T>& per_env, Text text) {
  std::string s;
  for (const auto& [name, v] : per_env) s += (s.empty() ? "" : "; ") + name + ": " + text(v);
  return s;
}
}  // namespace detail

template <class T>
class Param;

// Numbers: int, long, std::uint64_t, double.
template <class T>
class Param final : public ParamBase {
 public:
  Param(Params* owner, std::string flag, T value, std::string help, Range<T> range, EnvDefaults<T> per_env = {})
      : ParamBase(owner, std::move(flag), std::move(help)), value(value), range(range), per_env(std::move(per_env)) {}
  Param(const Param&) = default;
  Param& operator=(const Param& other) { return *this = other.value; }
  Param& operator=(const T& v) {
    value = v;
    return *this;
  }
  operator const T&() const { return value; }
  const T& operator()() const { return value; }

  std::string text() const override {
    if constexpr (std::is_floating_point_v<T>) return detail::number_text(static_cast<double>(value));
    else return std::to_string(value);
  }
  std::string json() const override { return text(); }
  std::string range_text() const override {
    return detail::range_text(static_cast<double>(range.lo), static_cast<double>(range.hi), range.open_lo,
                              range.open_hi, !std::is_floating_point_v<T>);
  }
  std::string parse(const std::string& s) override;
  std::string check() const override { return range.contains(value) ? "" : "out of range " + range_text(); }
  bool use_env_default(const std::string& env) override { return detail::use_env_default(per_env, env, value); }
  std::string env_defaults_text() const override {
    return detail::env_defaults_text(per_env, [](const T& v) {
      if constexpr (std::is_floating_point_v<T>) return detail::number_text(static_cast<double>(v));
      else return std::to_string(v);
    });
  }

  T value;
  Range<T> range;
  EnvDefaults<T> per_env;
};

template <class T>
std::string Param<T>::parse(const std::string& s) {
  const std::string expected = (std::is_floating_point_v<T> ? "a finite number in " : "an integer in ") + range_text();
  if constexpr (std::is_floating_point_v<T>) {
    double v = 0;
    if (!detail::parse_number(s, v).empty()) return expected;
    value = static_cast<T>(v);
  } else if constexpr (std::is_unsigned_v<T>) {
    unsigned long long v = 0;
    if (!detail::parse_unsigned(s, v).empty() || v > static_cast<unsigned long long>(range.hi)) return expected;
    value = static_cast<T>(v);
  } else {
    long long v = 0;
    if (!detail::parse_integer(s, v).empty() || v < static_cast<long long>(range.lo) ||
        v > static_cast<long long>(range.hi))
      return expected;
    value = static_cast<T>(v);
  }
  return check().empty() ? "" : expected;
}

// A switch: absent = false, present = true.
template <>
class Param<bool> final : public ParamBase {
 public:
  Param(Params* owner, std::string flag, bool value, std::string help)
      : ParamBase(owner, std::move(flag), std::move(help)), value(value) {}
  Param(const Param&) = default;
  Param& operator=(const Param& other) { return *this = other.value; }
  Param& operator=(bool v) {
    value = v;
    return *this;
  }
  operator bool() const { return value; }
  bool operator()() const { return value; }
  std::string text() const override { return value ? "true" : "false"; }
  std::string json() const override { return text(); }
  std::string range_text() const override { return ""; }
  std::string parse(const std::string&) override {
    value = true;
    return "";
  }
  std::string check() const override { return ""; }
  bool is_switch() const override { return true; }
  bool use_env_default(const std::string&) override { return false; }  // a switch is off unless given
  std::string env_defaults_text() const override { return ""; }
  bool value;
};

// Text: free, or one of `choices`.
template <>
class Param<std::string> final : public ParamBase {
 public:
  Param(Params* owner, std::string flag, std::string value, std::string help, Choices choices = {},
        EnvDefaults<std::string> per_env = {})
      : ParamBase(owner, std::move(flag), std::move(help)),
        value(std::move(value)),
        choices(std::move(choices)),
        per_env(std::move(per_env)) {}
  Param(const Param&) = default;
  Param& operator=(const Param& other) { return *this = other.value; }
  Param& operator=(const std::string& v) {
    value = v;
    return *this;
  }
  operator const std::string&() const { return value; }
  const std::string& operator()() const { return value; }
  std::string text() const override { return value; }
  std::string json() const override { return detail::json_string(value); }
  std::string range_text() const override;
  std::string parse(const std::string& s) override;
  std::string check() const override;
  bool use_env_default(const std::string& env) override { return detail::use_env_default(per_env, env, value); }
  std::string env_defaults_text() const override {
    return detail::env_defaults_text(per_env, [](const std::string& v) { return v; });
  }
  std::string value;
  Choices choices;
  EnvDefaults<std::string> per_env;
};

// Layer sizes "128,128": 1 to max_layers entries, each in [1, max_width].
template <>
class Param<std::vector<int>> final : public ParamBase {
 public:
  static constexpr int max_layers = 8, max_width = 4096;
  Param(Params* owner, std::string flag, std::vector<int> value, std::string help,
        EnvDefaults<std::vector<int>> per_env = {})
      : ParamBase(owner, std::move(flag), std::move(help)), value(std::move(value)), per_env(std::move(per_env)) {}
  Param(const Param&) = default;
  Param& operator=(const Param& other) { return *this = other.value; }
  Param& operator=(const std::vector<int>& v) {
    value = v;
    return *this;
  }
  operator const std::vector<int>&() const { return value; }
  const std::vector<int>& operator()() const { return value; }
  std::string text() const override { return detail::sizes_text(value); }
  std::string json() const override { return detail::json_string(text()); }
  std::string range_text() const override;
  std::string parse(const std::string& s) override { return detail::parse_sizes(s, value); }
  std::string check() const override;
  bool use_env_default(const std::string& env) override { return detail::use_env_default(per_env, env, value); }
  std::string env_defaults_text() const override { return detail::env_defaults_text(per_env, detail::sizes_text); }
  std::vector<int> value;
  EnvDefaults<std::vector<int>> per_env;
};

// The base of every config struct: lists its Param members in declaration order.
class Params {
 public:
  std::vector<ParamBase*> all();
  std::vector<const ParamBase*> all() const;
  // The member declared with this flag, or nullptr.
  const ParamBase* find(const std::string& flag) const;
  // The first invalid member as "--flag value is out of range ...", or "".
  std::string first_error() const;

 protected:
  Params() = default;
  // The members register themselves as they are copied (ParamBase's copy constructor).
  Params(const Params&) {}
  // Same type, same members: the offsets already describe this object.
  Params& operator=(const Params&) { return *this; }
  ~Params() = default;

 private:
  friend class ParamBase;
  std::vector<std::ptrdiff_t> offsets_;
};

}  // namespace pgcpp
