// Test cases that need double precision, and how the float build (-DPGCPP_FLOAT=ON) leaves them out.
//
// A check that cannot hold in float is declared
//   TEST_CASE("..." * NEEDS_DOUBLE("why"))
// where `why` says what needs double: central finite differences (their truncation O(h^2) and
// rounding O(eps/h) are both ~1e-3 in float, as large as the errors they are meant to find),
// Hessian-vector products against differences of gradients, identities or theorem bounds checked
// to ~1e-12, integrals against a density whose atanh loses all digits near the box's edges.
// The case runs in the double build; in the float build doctest skips it (the executable counts it
// as skipped), and tests/CMakeLists.txt adds one ctest entry per executable, reported as Skipped,
// whose output lists the cases left out (`ctest -V -R needs-double`). Checks that only need their
// tolerance scaled with Scalar's epsilon are not marked: they run in both builds.
#pragma once

#include <doctest/doctest.h>

#include <type_traits>

#include "core/scalar.hpp"

namespace pgcpp::test {

inline constexpr bool kFloatBuild = std::is_same_v<Scalar, float>;

}  // namespace pgcpp::test

#define NEEDS_DOUBLE(why)                                                                       \
  doctest::test_suite("needs-double") * doctest::skip(::pgcpp::test::kFloatBuild) * \
      doctest::description(why)
