// Marching squares on a rectilinear grid: level lines and filled super-level regions of a
// sampled function, in data coordinates (the plotting layer maps them to pixels).
//
// Grid convention everywhere: xs (nx values, increasing), ys (ny values, increasing), and z
// row-major ny x nx, z[j * nx + i] = f(xs[i], ys[j]). Cells with a non-finite corner are left
// out, so a NaN hole in z becomes a hole in the plot. Sizes that do not match throw
// std::invalid_argument.
#pragma once

#include <vector>

namespace pgcpp::plot {

struct Polyline {
  std::vector<double> x, y;
};

// The level set {f = level}, linearly interpolated along cell edges and joined into polylines.
// A closed curve comes back as a polyline whose last point equals its first. Saddle cells are
// resolved by the value at the cell centre (mean of the corners).
std::vector<Polyline> contour_lines(const std::vector<double>& xs, const std::vector<double>& ys,
                                    const std::vector<double>& z, double level);

// The region {f >= level} as closed polygons, all with the same orientation (so drawn as one
// nonzero-filled path they make a seamless union): the clipped part of every boundary cell,
// plus one rectangle per horizontal run of cells entirely inside.
std::vector<Polyline> superlevel_region(const std::vector<double>& xs, const std::vector<double>& ys,
                                        const std::vector<double>& z, double level);

}  // namespace pgcpp::plot
