// Axis scales and ticks: data -> pixel mapping, 1-2-5 linear ticks, decade log ticks, labels.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "plot/ticks.hpp"

using namespace pgcpp::plot;

TEST_CASE("a linear scale maps the limits onto the pixel interval, affinely") {
  Scale x{.lo = 0, .hi = 10, .p0 = 100, .p1 = 300};
  CHECK(x(0) == 100);
  CHECK(x(10) == 300);
  CHECK(x(2.5) == doctest::Approx(150));
  CHECK(x(-5) == doctest::Approx(0));              // outside the limits still maps (clipping is done later)
  Scale y{.lo = -1, .hi = 1, .p0 = 400, .p1 = 0};  // SVG y points down
  CHECK(y(1) == 0);
  CHECK(y(0) == doctest::Approx(200));
  CHECK(y.inverse(y(0.3)) == doctest::Approx(0.3));
}

TEST_CASE("a log scale spaces decades equally and has no place for non-positive values") {
  Scale s{.lo = 1, .hi = 1000, .p0 = 0, .p1 = 300, .log = true};
  CHECK(s(10) == doctest::Approx(100));
  CHECK(s(100) == doctest::Approx(200));
  CHECK(s(std::sqrt(10.0)) == doctest::Approx(50));
  CHECK(std::isnan(s(0.0)));
  CHECK(std::isnan(s(-3.0)));
  CHECK(std::isnan(s(std::numeric_limits<double>::infinity())));
  CHECK(std::isnan(s(std::numeric_limits<double>::quiet_NaN())));
  CHECK(s.inverse(s(42.0)) == doctest::Approx(42.0));
}

TEST_CASE("nice_step returns 1, 2 or 5 x 10^k") {
  CHECK(nice_step(10, 5) == doctest::Approx(2));
  CHECK(nice_step(1, 5) == doctest::Approx(0.2));
  CHECK(nice_step(7, 6) == doctest::Approx(1));
  CHECK(nice_step(0.03, 6) == doctest::Approx(0.005));
  CHECK(nice_step(3000, 6) == doctest::Approx(500));
}

TEST_CASE("linear ticks: multiples of a 1-2-5 step, inside the limits, never drifting") {
  Ticks t = linear_ticks(0, 1, 5);
  REQUIRE(t.major.size() == 6);
  for (std::size_t k = 0; k < t.major.size(); ++k) CHECK(t.major[k] == 0.2 * static_cast<double>(k));
  CHECK(t.labels == std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
  CHECK(t.minor.empty());

  // Property over many ranges: every tick inside [lo, hi], a 1-2-5 step, a reasonable count.
  for (double lo : {-7.3, -0.004, 0.0, 3.0, 1234.5})
    for (double span : {1e-3, 0.37, 1.0, 42.0, 9e5})
      for (int target : {3, 6, 9}) {
        Ticks u = linear_ticks(lo, lo + span, target);
        REQUIRE(u.major.size() >= 2);
        CHECK(u.major.size() <= static_cast<std::size_t>(2 * target + 1));
        CHECK(u.labels.size() == u.major.size());
        double step = u.major[1] - u.major[0];
        double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
        CHECK((std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
               std::abs(mantissa - 5) < 1e-6));
        CHECK(u.major.front() >= lo - 1e-9 * span);
        CHECK(u.major.back() <= lo + span + 1e-9 * span);
      }
}

TEST_CASE("linear tick labels: exact zero, typographic minus, powers of ten for huge values") {
  Ticks t = linear_ticks(-0.3, 0.3, 6);
  CHECK(t.labels == std::vector<std::string>{"−0.3", "−0.2", "−0.1", "0.0", "0.1", "0.2", "0.3"});
  CHECK(linear_ticks(0, 3000, 6).labels.back() == "3000");
  CHECK(format_ticks({0, 2e6, 4e6}, 2e6) == std::vector<std::string>{"0", "2×10⁶", "4×10⁶"});
  CHECK(format_ticks({1e6, 1.5e6}, 5e5) == std::vector<std::string>{"10⁶", "1.5×10⁶"});
  CHECK(format_ticks({-2e-4, 2e-4}, 2e-4) == std::vector<std::string>{"−2×10⁻⁴", "2×10⁻⁴"});
  CHECK_THROWS_AS(linear_ticks(1, 1), std::invalid_argument);
  CHECK_THROWS_AS(linear_ticks(0, std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST_CASE("log ticks: one major per decade, 2..9 x 10^k as minor ticks") {
  Ticks t = log_ticks(1e-3, 1e2, 6);
  REQUIRE(t.major.size() == 6);
  for (int k = -3; k <= 2; ++k)
    CHECK(t.major[static_cast<std::size_t>(k + 3)] == doctest::Approx(std::pow(10.0, k)));
  CHECK(t.labels.front() == "10⁻³");
  CHECK(t.labels.back() == "10²");
  CHECK(t.minor.size() == 5 * 8);  // 8 minor ticks in each of the 5 whole decades
  CHECK(format_decade(0) == "10⁰");
  CHECK(format_decade(-12) == "10⁻¹²");
}

TEST_CASE("log ticks over many decades: every n-th decade, aligned to 10^0, the rest minor") {
  Ticks t = log_ticks(1e-12, 1e12, 6);
  CHECK(t.major.size() <= 7);
  CHECK(t.major.size() >= 3);
  bool has_one = false;
  for (double v : t.major) has_one = has_one || v == 1.0;
  CHECK(has_one);
  CHECK(t.major.size() + t.minor.size() == 25);  // every decade is a tick of one kind
}

TEST_CASE("log ticks within one decade fall back to 1-2-5, then to linear ticks") {
  Ticks t = log_ticks(2, 30, 6);
  REQUIRE(t.major.size() == 4);
  CHECK(t.major[0] == doctest::Approx(2));
  CHECK(t.major[1] == doctest::Approx(5));
  CHECK(t.major[2] == doctest::Approx(10));
  CHECK(t.major[3] == doctest::Approx(20));
  CHECK(t.labels == std::vector<std::string>{"2", "5", "10", "20"});
  Ticks narrow = log_ticks(2, 4.5, 6);  // only "2" of 1-2-5 is inside: linear ticks instead
  CHECK(narrow.major.size() >= 2);
  CHECK(narrow.major.front() >= 2);
  CHECK(narrow.major.back() <= 4.5);
  CHECK_THROWS_AS(log_ticks(0, 10), std::invalid_argument);
  CHECK_THROWS_AS(log_ticks(-1, 10), std::invalid_argument);
}
