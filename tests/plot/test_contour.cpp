// Marching squares against level sets known in closed form.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "plot/contour.hpp"

using namespace pgcpp::plot;

namespace {

struct Sampled {
  std::vector<double> xs, ys, z;
  double h;  // grid spacing
};

// f sampled on an n x n grid over [a, b]^2.
Sampled sample(const std::function<double(double, double)>& f, double a, double b, int n) {
  Sampled s;
  s.h = (b - a) / (n - 1);
  for (int i = 0; i < n; ++i) s.xs.push_back(a + s.h * i);
  s.ys = s.xs;
  for (double y : s.ys)
    for (double x : s.xs) s.z.push_back(f(x, y));
  return s;
}

double shoelace_area(const Polyline& p) {
  double twice = 0.0;
  for (std::size_t i = 0; i < p.x.size(); ++i) {
    std::size_t j = (i + 1) % p.x.size();
    twice += p.x[i] * p.y[j] - p.x[j] * p.y[i];
  }
  return twice / 2;
}

}  // namespace

TEST_CASE("the level set x^2 + y^2 = r^2 is one closed curve within h^2/(8r) of the circle") {
  const double r = 1.2;
  Sampled s = sample([](double x, double y) { return x * x + y * y; }, -2, 2, 81);
  std::vector<Polyline> lines = contour_lines(s.xs, s.ys, s.z, r * r);
  REQUIRE(lines.size() == 1);
  const Polyline& c = lines[0];
  REQUIRE(c.x.size() > 20);
  CHECK(c.x.front() == c.x.back());  // closed: the walk came back to its first edge
  CHECK(c.y.front() == c.y.back());
  // Along a grid edge f'' = 2, so linear interpolation misses f by at most h^2/4, and the
  // crossing found has r^2 - h^2/4 <= |p|^2 <= r^2 (f is convex: interpolation overestimates).
  const double tol = r - std::sqrt(r * r - s.h * s.h / 4) + 1e-12;
  double swept = 0.0;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    CHECK(std::abs(std::hypot(c.x[i], c.y[i]) - r) <= tol);
    if (i > 0)
      swept += std::remainder(std::atan2(c.y[i], c.x[i]) - std::atan2(c.y[i - 1], c.x[i - 1]),
                              2 * std::numbers::pi);
  }
  CHECK(std::abs(swept) == doctest::Approx(2 * std::numbers::pi));  // once round, no backtracking
}

TEST_CASE("two wells give two closed curves, a plane gives one open straight line") {
  Sampled wells = sample([](double x, double y) { return std::pow(x * x - 1, 2) + y * y; }, -2, 2, 61);
  std::vector<Polyline> loops = contour_lines(wells.xs, wells.ys, wells.z, 0.1);
  REQUIRE(loops.size() == 2);
  for (const Polyline& l : loops) CHECK(l.x.front() == l.x.back());

  Sampled plane = sample([](double x, double) { return x; }, -1, 1, 21);
  std::vector<Polyline> cut = contour_lines(plane.xs, plane.ys, plane.z, 0.33);
  REQUIRE(cut.size() == 1);
  for (double x : cut[0].x) CHECK(x == doctest::Approx(0.33));  // f linear: interpolation exact
  CHECK(cut[0].y.size() == 21);                                 // one point per horizontal edge
  CHECK(std::min(cut[0].y.front(), cut[0].y.back()) == -1);     // runs edge to edge of the grid
  CHECK(std::max(cut[0].y.front(), cut[0].y.back()) == 1);
}

TEST_CASE("a saddle cell is resolved by its centre value") {
  // f = x y on one cell: corners (-1,-1) and (1,1) are +1, the others -1; the centre is 0.
  std::vector<double> xs{-1, 1}, ys{-1, 1}, z{1, -1, -1, 1};
  // Level -0.5: the centre is above, like the (+) corners, so the (+) region connects through
  // the middle and the two lines cut off the (-) corners (1,-1) and (-1,1).
  std::vector<Polyline> lines = contour_lines(xs, ys, z, -0.5);
  REQUIRE(lines.size() == 2);
  for (const Polyline& l : lines) {
    REQUIRE(l.x.size() == 2);
    double mx = (l.x[0] + l.x[1]) / 2, my = (l.y[0] + l.y[1]) / 2;
    CHECK(mx * my < 0);  // the midpoint lies in the quadrant of a (-) corner
  }
  // Level +0.5: the centre is below, so the lines cut off the (+) corners instead.
  for (const Polyline& l : contour_lines(xs, ys, z, 0.5)) CHECK((l.x[0] + l.x[1]) * (l.y[0] + l.y[1]) > 0);
}

TEST_CASE("cells with a NaN corner are skipped, breaking the line there") {
  Sampled plane = sample([](double x, double) { return x; }, -1, 1, 21);
  plane.z[10 * 21 + 10] = std::numeric_limits<double>::quiet_NaN();  // the grid point (x=0, y=0)
  std::vector<Polyline> cut = contour_lines(plane.xs, plane.ys, plane.z, 0.03);
  CHECK(cut.size() == 2);
  for (const Polyline& l : cut)
    for (double x : l.x) CHECK(std::isfinite(x));
}

TEST_CASE("the super-level region of -(x^2 + y^2) at -r^2 has the disk's area, up to O(h^2)") {
  const double r = 1.3;
  Sampled s = sample([](double x, double y) { return -(x * x + y * y); }, -2, 2, 41);
  double area = 0.0;
  for (const Polyline& p : superlevel_region(s.xs, s.ys, s.z, -r * r)) {
    double a = shoelace_area(p);
    // All pieces counter-clockwise, so one nonzero-filled path is their union. (Zero area: a
    // cell that touches the level at a single corner, where z == -r^2 on the grid.)
    CHECK(a >= 0);
    area += a;
  }
  // Boundary error: crossings within h^2/(8r) of the circle, chords of length <= h sqrt(2)
  // sag at most h^2/(4r); times the perimeter 2 pi r.
  double bound = 2 * std::numbers::pi * r * (s.h * s.h / (8 * r) + s.h * s.h / (4 * r));
  CHECK(std::abs(area - std::numbers::pi * r * r) <= bound);
  // Below every value: the whole grid, as one rectangle per row.
  double whole = 0.0;
  for (const Polyline& p : superlevel_region(s.xs, s.ys, s.z, -std::numeric_limits<double>::infinity()))
    whole += shoelace_area(p);
  CHECK(whole == doctest::Approx(16.0));
}

TEST_CASE("a z of the wrong size throws") {
  std::vector<double> xs{0, 1, 2}, ys{0, 1};
  CHECK_THROWS_AS(contour_lines(xs, ys, {1, 2, 3}, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(superlevel_region(xs, ys, {1, 2, 3, 4, 5, 6, 7}, 0.5), std::invalid_argument);
  CHECK(contour_lines({0}, {0}, {1}, 0.5).empty());  // a single point has no cells
}
