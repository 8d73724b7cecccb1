#include "plot/contour.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <unordered_map>

namespace pgcpp::plot {

namespace {

struct Grid {
  const std::vector<double>& xs;
  const std::vector<double>& ys;
  const std::vector<double>& z;
  std::size_t nx, ny;
  double at(std::size_t i, std::size_t j) const { return z[j * nx + i]; }
};

Grid make_grid(const std::vector<double>& xs, const std::vector<double>& ys, const std::vector<double>& z) {
  if (z.size() != xs.size() * ys.size())
    throw std::invalid_argument("pgcpp::plot::contour: z must hold ys.size() * xs.size() values");
  return {xs, ys, z, xs.size(), ys.size()};
}

// An edge is named by its lower-left grid point and its direction. Its crossing is always
// interpolated from that end, so the two cells sharing an edge compute bit-identical points
// and the stitching below can join segments by edge id alone.
std::size_t horizontal(const Grid& g, std::size_t i, std::size_t j) { return 2 * (j * g.nx + i); }
std::size_t vertical(const Grid& g, std::size_t i, std::size_t j) { return 2 * (j * g.nx + i) + 1; }

std::array<double, 2> crossing(const Grid& g, std::size_t edge, double level) {
  std::size_t i = (edge / 2) % g.nx, j = (edge / 2) / g.nx;
  std::size_t i2 = (edge & 1) ? i : i + 1, j2 = (edge & 1) ? j + 1 : j;
  double za = g.at(i, j), zb = g.at(i2, j2);
  double t = (level - za) / (zb - za);  // za != zb: exactly one end is >= level
  return {g.xs[i] + t * (g.xs[i2] - g.xs[i]), g.ys[j] + t * (g.ys[j2] - g.ys[j])};
}

// One grid cell, corners counter-clockwise from bottom-left; edges[k] joins corner k to k+1.
struct Cell {
  std::array<double, 4> z;
  std::array<double, 4> x, y;
  std::array<std::size_t, 4> edges;
  bool finite = true;
};

Cell cell(const Grid& g, std::size_t i, std::size_t j) {
  Cell c;
  c.z = {g.at(i, j), g.at(i + 1, j), g.at(i + 1, j + 1), g.at(i, j + 1)};
  c.x = {g.xs[i], g.xs[i + 1], g.xs[i + 1], g.xs[i]};
  c.y = {g.ys[j], g.ys[j], g.ys[j + 1], g.ys[j + 1]};
  c.edges = {horizontal(g, i, j), vertical(g, i + 1, j), horizontal(g, i, j + 1), vertical(g, i, j)};
  for (double v : c.z) c.finite = c.finite && std::isfinite(v);
  return c;
}

using Segment = std::array<std::size_t, 2>;  // two edge ids

std::vector<Segment> cell_segments(const Grid& g, double level) {
  std::vector<Segment> segs;
  for (std::size_t j = 0; j + 1 < g.ny; ++j)
    for (std::size_t i = 0; i + 1 < g.nx; ++i) {
      Cell c = cell(g, i, j);
      if (!c.finite) continue;
      std::array<bool, 4> above;
      for (int k = 0; k < 4; ++k) above[k] = c.z[k] >= level;
      std::vector<std::size_t> cut;  // in edge order: bottom, right, top, left
      for (int k = 0; k < 4; ++k)
        if (above[k] != above[(k + 1) % 4]) cut.push_back(c.edges[k]);
      if (cut.size() == 2) {
        segs.push_back({cut[0], cut[1]});
      } else if (cut.size() == 4) {
        // Saddle: if the centre is on the bottom-left corner's side, that corner connects to the
        // top-right one through the middle and the lines cut off the other two corners.
        bool centre = (c.z[0] + c.z[1] + c.z[2] + c.z[3]) / 4.0 >= level;
        if (centre == above[0]) {
          segs.push_back({cut[0], cut[1]});
          segs.push_back({cut[2], cut[3]});
        } else {
          segs.push_back({cut[3], cut[0]});
          segs.push_back({cut[1], cut[2]});
        }
      }
    }
  return segs;
}

}  // namespace

std::vector<Polyline> contour_lines(const std::vector<double>& xs, const std::vector<double>& ys,
                                    const std::vector<double>& z, double level) {
  Grid g = make_grid(xs, ys, z);
  std::vector<Segment> segs = cell_segments(g, level);
  // Every edge touches at most two segments (the two cells that share it).
  std::unordered_map<std::size_t, std::vector<std::size_t>> at_edge;
  for (std::size_t s = 0; s < segs.size(); ++s)
    for (std::size_t e : segs[s]) at_edge[e].push_back(s);
  std::vector<bool> used(segs.size(), false);
  std::vector<Polyline> lines;
  auto walk = [&](std::size_t s, std::size_t edge) {
    Polyline p;
    auto add = [&](std::size_t e) {
      auto [x, y] = crossing(g, e, level);
      p.x.push_back(x);
      p.y.push_back(y);
    };
    add(edge);
    for (bool more = true; more;) {
      used[s] = true;
      edge = segs[s][0] == edge ? segs[s][1] : segs[s][0];
      add(edge);
      more = false;
      for (std::size_t t : at_edge[edge])
        if (!used[t]) s = t, more = true;
    }
    lines.push_back(std::move(p));
  };
  // Open curves first, each from one of its ends, so they come out whole; then closed loops.
  for (std::size_t s = 0; s < segs.size(); ++s)
    for (std::size_t e : segs[s])
      if (!used[s] && at_edge[e].size() == 1) walk(s, e);
  for (std::size_t s = 0; s < segs.size(); ++s)
    if (!used[s]) walk(s, segs[s][0]);
  return lines;
}

std::vector<Polyline> superlevel_region(const std::vector<double>& xs, const std::vector<double>& ys,
                                        const std::vector<double>& z, double level) {
  Grid g = make_grid(xs, ys, z);
  std::vector<Polyline> polys;
  for (std::size_t j = 0; j + 1 < g.ny; ++j) {
    // Cells wholly inside are merged into row runs: far fewer elements than one per cell.
    std::size_t run = g.nx;
    auto close_run = [&](std::size_t end) {
      if (run == g.nx) return;
      polys.push_back({{xs[run], xs[end], xs[end], xs[run]}, {ys[j], ys[j], ys[j + 1], ys[j + 1]}});
      run = g.nx;
    };
    for (std::size_t i = 0; i + 1 < g.nx; ++i) {
      Cell c = cell(g, i, j);
      std::array<bool, 4> above;
      int n_above = 0;
      for (int k = 0; k < 4; ++k) {
        above[k] = c.z[k] >= level;
        n_above += above[k];
      }
      if (c.finite && n_above == 4) {
        if (run == g.nx) run = i;
        continue;
      }
      close_run(i);
      if (!c.finite || n_above == 0) continue;
      // Walk the corners in order, keeping those inside and the crossing on each cut edge:
      // the cell clipped to {f >= level} (with linear interpolation along the edges).
      Polyline p;
      for (int k = 0; k < 4; ++k) {
        if (above[k]) p.x.push_back(c.x[k]), p.y.push_back(c.y[k]);
        if (above[k] != above[(k + 1) % 4]) {
          auto [x, y] = crossing(g, c.edges[k], level);
          p.x.push_back(x), p.y.push_back(y);
        }
      }
      polys.push_back(std::move(p));
    }
    close_run(g.nx - 1);
  }
  return polys;
}

}  // namespace pgcpp::plot
