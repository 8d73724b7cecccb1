// Invalid arguments throw a ShapeError whose message names the op and the shapes involved.
#include <doctest/doctest.h>

#include "autodiff/autodiff.hpp"

using namespace pgcpp;
using namespace pgcpp::ad;

namespace {
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "(no exception)";
}
Var zeros(int r, int c) { return Var(Matrix::Zero(r, c), true); }
}  // namespace

TEST_CASE("shape mismatches name the op and both shapes") {
  const std::string m = message_of([] { (void)matmul(zeros(2, 3), zeros(4, 5)); });
  CHECK(m.find("matmul") != std::string::npos);
  CHECK(m.find("2x3") != std::string::npos);
  CHECK(m.find("4x5") != std::string::npos);
  const std::string a = message_of([] { (void)(zeros(2, 3) + zeros(3, 2)); });
  CHECK(a.find("add") != std::string::npos);
  CHECK(a.find("2x3") != std::string::npos);
  CHECK(a.find("3x2") != std::string::npos);
  CHECK(message_of([] { (void)affine(zeros(2, 3), zeros(3, 4), zeros(1, 3)); }).find("bias 1x3") != std::string::npos);
}

TEST_CASE("invalid arguments throw instead of crashing") {
  CHECK_THROWS_AS((void)pick(zeros(2, 3), {0, 3}), ShapeError);
  CHECK_THROWS_AS((void)pick(zeros(2, 3), {0}), ShapeError);
  CHECK_THROWS_AS((void)slice_cols(zeros(2, 3), 2, 2), ShapeError);
  CHECK_THROWS_AS((void)concat_cols({zeros(2, 1), zeros(3, 1)}), ShapeError);
  CHECK_THROWS_AS((void)concat_cols({}), ShapeError);
  CHECK_THROWS_AS((void)sum(zeros(2, 2), 2), ShapeError);
  CHECK_THROWS_AS((void)clamp(zeros(2, 2), 1.0, -1.0), ShapeError);
  CHECK_THROWS_AS((void)where(Matrix::Zero(1, 2), zeros(2, 2), zeros(2, 2)), ShapeError);
  CHECK_THROWS_AS((void)broadcast_to(zeros(2, 3), 4, 3), ShapeError);
  CHECK_THROWS_AS(backward(zeros(2, 2)), ShapeError);              // not a scalar
  CHECK_THROWS_AS((void)grad(zeros(1, 2), {zeros(1, 2)}), ShapeError);
  CHECK_THROWS_AS((void)zeros(2, 2).item(), ShapeError);
  Rng rng(1);
  Mlp net({4, 8, 2}, Activation::Tanh, rng);
  CHECK_THROWS_AS((void)net(zeros(5, 3)), ShapeError);
}
