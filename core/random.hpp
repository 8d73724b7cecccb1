// Seeded random numbers used everywhere in pgcpp (initialization, sampling, environments).
//
// Distributions are written out here instead of using <random>'s distributions, whose
// algorithms are implementation-defined: a fixed seed gives the same numbers with any
// standard library. The engine is std::mt19937_64, whose output sequence the standard fixes.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>
#include <stdexcept>

namespace pgcpp {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

  void seed(std::uint64_t s) { engine_.seed(s); has_spare_ = false; }
  std::uint64_t next_u64() { return engine_(); }

  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform on [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [0, n); rejection sampling keeps it exactly uniform.
  std::uint64_t uniform_int(std::uint64_t n) {
    if (n == 0) throw std::invalid_argument("Rng::uniform_int: n must be positive");
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do { x = engine_(); } while (x >= limit);
    return x % n;
  }

  // Standard normal by the Box–Muller transform (the second value is kept for the next call).
  double normal() {
    if (has_spare_) { has_spare_ = false; return spare_; }
    double u1;
    do { u1 = uniform(); } while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(angle);
    has_spare_ = true;
    return r * std::cos(angle);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  // Index drawn with probability proportional to weights[i] (weights >= 0, not all zero).
  template <class Weights>
  int categorical(const Weights& weights) {
    double total = 0.0;
    for (auto w : weights) total += static_cast<double>(w);
    if (!(total > 0.0) || !std::isfinite(total))
      throw std::invalid_argument("Rng::categorical: weights must be finite, non-negative, not all zero");
    double u = uniform() * total;
    int i = 0, last = 0;
    for (auto w : weights) {
      if (w > 0) last = i;
      u -= static_cast<double>(w);
      if (u < 0.0) return i;
      ++i;
    }
    return last;  // rounding left u >= 0: the last index with positive weight
  }

  // A new, independent stream (for per-thread or per-environment generators).
  Rng split() { return Rng(engine_() ^ 0x9E3779B97F4A7C15ull); }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace pgcpp
