#include "plot/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>

namespace pgcpp::plot {

const std::vector<std::string>& palette() {
  static const std::vector<std::string> colors = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                  "#E69F00", "#56B4E9", "#000000"};
  return colors;
}

std::string viridis(double t) {
  // viridis at t = 0, 1/8, ..., 1; linear interpolation between them is invisible at plot sizes.
  static const double anchors[9][3] = {{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
                                       {44, 114, 142}, {33, 145, 140}, {40, 174, 128},
                                       {94, 201, 98},  {173, 220, 48}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 8.0;
  int k = std::min(static_cast<int>(t), 7);
  double f = t - k;
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(anchors[k][c] + f * (anchors[k + 1][c] - anchors[k][c])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

std::vector<double> contour_levels(const std::vector<double>& z, int about_n) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : z)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo < hi)) return {};
  std::vector<double> levels;
  for (double v : linear_ticks(lo, hi, about_n).major)
    if (v > lo && v < hi) levels.push_back(v);
  return levels;
}

// ---------------------------------------------------------------------------------------------
// Adding data

using Kind = detail::Series::Kind;

namespace {

void check_lengths(const char* what, std::size_t a, std::size_t b) {
  if (a != b) throw std::invalid_argument(std::string("pgcpp::plot::Axes::") + what + ": lengths differ");
}

}  // namespace

std::string Axes::take_color(const std::string& requested) {
  if (!requested.empty()) return requested;
  return palette()[next_color_++ % palette().size()];
}

Axes& Axes::line(const std::vector<double>& xs, const std::vector<double>& ys, const LineOpts& o) {
  check_lengths("line", xs.size(), ys.size());
  series_.push_back({.kind = Kind::line,
                     .x = xs,
                     .y = ys,
                     .label = o.label,
                     .color = take_color(o.color),
                     .dash = o.dash,
                     .width = o.width,
                     .opacity = o.opacity,
                     .marker = o.marker_size});
  return *this;
}

Axes& Axes::markers(const std::vector<double>& xs, const std::vector<double>& ys, const MarkerOpts& o) {
  check_lengths("markers", xs.size(), ys.size());
  series_.push_back({.kind = Kind::markers,
                     .x = xs,
                     .y = ys,
                     .label = o.label,
                     .color = take_color(o.color),
                     .opacity = o.opacity,
                     .marker = o.size,
                     .filled = o.filled});
  return *this;
}

Axes& Axes::path(const std::vector<double>& xs, const std::vector<double>& ys, const LineOpts& o) {
  LineOpts with_dots = o;
  if (with_dots.marker_size <= 0.0) with_dots.marker_size = 2.2;
  line(xs, ys, with_dots);
  series_.back().mark_ends = true;
  return *this;
}

Axes& Axes::band(const std::vector<double>& xs, const std::vector<double>& lo, const std::vector<double>& hi,
                 const BandOpts& o) {
  check_lengths("band", xs.size(), lo.size());
  check_lengths("band", xs.size(), hi.size());
  std::string color = o.color.empty() ? palette()[next_color_ % palette().size()] : o.color;
  series_.push_back({.kind = Kind::band,
                     .x = xs,
                     .y = lo,
                     .hi = hi,
                     .label = o.label,
                     .color = color,
                     .opacity = o.opacity});
  return *this;
}

Axes& Axes::hline(double y, const RefLineOpts& o) {
  series_.push_back(
      {.kind = Kind::hline, .y = {y}, .label = o.label, .color = o.color, .dash = o.dash, .width = o.width});
  return *this;
}

Axes& Axes::vline(double x, const RefLineOpts& o) {
  series_.push_back(
      {.kind = Kind::vline, .x = {x}, .label = o.label, .color = o.color, .dash = o.dash, .width = o.width});
  return *this;
}

Axes& Axes::text(double x, double y, const std::string& s, const TextOpts& o) {
  notes_.push_back({x, y, s, o});
  return *this;
}

Axes& Axes::contour(const std::vector<double>& xs, const std::vector<double>& ys,
                    const std::vector<double>& z, const std::vector<double>& levels, const ContourOpts& o) {
  check_lengths("contour (z vs grid)", z.size(), xs.size() * ys.size());
  std::vector<double> sorted;
  for (double v : levels)
    if (std::isfinite(v)) sorted.push_back(v);
  std::sort(sorted.begin(), sorted.end());
  contours_.push_back({xs, ys, z, sorted, o});
  return *this;
}

Axes& Axes::title(const std::string& s) {
  title_ = s;
  return *this;
}
Axes& Axes::xlabel(const std::string& s) {
  xlabel_ = s;
  return *this;
}
Axes& Axes::ylabel(const std::string& s) {
  ylabel_ = s;
  return *this;
}
Axes& Axes::log_x(bool on) {
  log_x_ = on;
  return *this;
}
Axes& Axes::log_y(bool on) {
  log_y_ = on;
  return *this;
}
Axes& Axes::minor_ticks(bool on) {
  minor_ = on;
  return *this;
}
Axes& Axes::grid(bool on) {
  grid_ = on;
  return *this;
}
Axes& Axes::legend(Corner where) {
  legend_ = where;
  return *this;
}

Axes& Axes::xlim(double lo, double hi) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw std::invalid_argument("pgcpp::plot::Axes::xlim: need lo < hi");
  xlim_ = {lo, hi};
  xlim_set_ = true;
  return *this;
}

Axes& Axes::ylim(double lo, double hi) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw std::invalid_argument("pgcpp::plot::Axes::ylim: need lo < hi");
  ylim_ = {lo, hi};
  ylim_set_ = true;
  return *this;
}

// ---------------------------------------------------------------------------------------------
// Limits

std::array<double, 2> Axes::x_limits() const { return limits(true); }
std::array<double, 2> Axes::y_limits() const { return limits(false); }

std::array<double, 2> Axes::limits(bool x_axis) const {
  bool log = x_axis ? log_x_ : log_y_;
  std::array<double, 2> set = x_axis ? xlim_ : ylim_;
  if (x_axis ? xlim_set_ : ylim_set_) {
    if (log && set[0] <= 0.0) throw std::invalid_argument("pgcpp::plot::Axes: log axis limits must be > 0");
    return set;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  // Beyond 1e300 in size a value is left out of the limits (though drawn, clipped), so that
  // hi - lo cannot overflow to infinity.
  auto add = [&](const std::vector<double>& vs) {
    for (double v : vs)
      if (std::abs(v) <= 1e300 && (!log || v > 0.0)) lo = std::min(lo, v), hi = std::max(hi, v);
  };
  // A contour's grid sets the box by itself: the landscape fills the panel and paths drawn over
  // it are clipped to it, rather than leaving blank strips where a path strays off the grid.
  for (const auto& c : contours_) add(x_axis ? c.x : c.y);
  if (contours_.empty())
    for (const auto& s : series_) {  // reference lines too: a "solved" line should be in view
      add(x_axis ? s.x : s.y);
      if (!x_axis) add(s.hi);
    }
  if (lo > hi) return log ? std::array<double, 2>{1.0, 10.0} : std::array<double, 2>{0.0, 1.0};
  // Margins are taken in the axis's own (log or linear) coordinates, so they look equal.
  double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
  double pad = contours_.empty() ? 0.04 * (b - a) : 0.0;
  if (b - a == 0.0) pad = (a != 0.0 && !log) ? 0.1 * std::abs(a) : 0.5;
  a -= pad, b += pad;
  return log ? std::array<double, 2>{std::pow(10.0, a), std::pow(10.0, b)} : std::array<double, 2>{a, b};
}

// ---------------------------------------------------------------------------------------------
// Drawing helpers: pixel-space geometry, ticks, legend

namespace {

constexpr double kTickFont = 11.0, kLabelFont = 12.5, kTitleFont = 13.5, kTickLen = 5.0;

// Text is measured by estimate (no font metrics without a renderer): 0.6 em per character
// is a little wide for DejaVu/Helvetica digits, so layouts err on the side of room.
// Sub- and superscripts (svg.hpp's markup) count at their 0.7 size, their braces not at all;
// combining marks (U+0300-U+036F, as in θ̄) take no width of their own.
double text_width(const std::string& s, double size) {
  double w = 0.0;
  for (const TextRun& run : text_runs(s)) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < run.text.size(); ++i) {
      const auto c = static_cast<unsigned char>(run.text[i]);
      if ((c & 0xC0) == 0x80) continue;  // count UTF-8 code points, not bytes
      const bool combining = (c == 0xCC || (c == 0xCD && i + 1 < run.text.size() &&
                                                         static_cast<unsigned char>(run.text[i + 1]) < 0xB0));
      chars += !combining;
    }
    w += 0.6 * size * (run.shift == 0 ? 1.0 : 0.7) * static_cast<double>(chars);
  }
  return w;
}

double widest(const std::vector<std::string>& labels) {
  double w = 0.0;
  for (const auto& l : labels) w = std::max(w, text_width(l, kTickFont));
  return w;
}

struct Box {
  double left, top, right, bottom;
  bool contains(double x, double y) const { return x >= left && x <= right && y >= top && y <= bottom; }
};

struct Frame {
  Scale x, y;
  Box box;
};

// Liang–Barsky: clip the segment to the box in place; false if nothing of it is inside.
bool clip_segment(double& x0, double& y0, double& x1, double& y1, const Box& b) {
  double dx = x1 - x0, dy = y1 - y0;
  if (!std::isfinite(dx) || !std::isfinite(dy)) return false;
  double t0 = 0.0, t1 = 1.0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0 - b.left, b.right - x0, y0 - b.top, b.bottom - y0};
  for (int k = 0; k < 4; ++k) {
    if (p[k] == 0.0) {
      if (q[k] < 0.0) return false;
    } else if (p[k] < 0.0) {
      t0 = std::max(t0, q[k] / p[k]);
    } else {
      t1 = std::min(t1, q[k] / p[k]);
    }
  }
  if (t0 > t1) return false;
  double sx = x0, sy = y0;
  x0 = sx + t0 * dx, y0 = sy + t0 * dy;  // t0 == 0 leaves an inside start bit-identical
  x1 = sx + t1 * dx, y1 = sy + t1 * dy;
  return true;
}

// The drawable pieces of a pixel polyline: broken at non-finite points, clipped to the box.
// Clipping here (not with an SVG clipPath) keeps far-off points from writing huge numbers.
std::vector<Polyline> visible_runs(const Polyline& p, const Box& b) {
  std::vector<Polyline> runs;
  Polyline cur;
  auto flush = [&] {
    if (cur.x.size() >= 2) runs.push_back(cur);
    cur = {};
  };
  for (std::size_t i = 1; i < p.x.size(); ++i) {
    double x0 = p.x[i - 1], y0 = p.y[i - 1], x1 = p.x[i], y1 = p.y[i];
    bool finite = std::isfinite(x0) && std::isfinite(y0) && std::isfinite(x1) && std::isfinite(y1);
    if (!finite || !clip_segment(x0, y0, x1, y1, b)) {
      flush();
      continue;
    }
    if (cur.x.empty() || cur.x.back() != x0 || cur.y.back() != y0) {
      flush();
      cur.x = {x0}, cur.y = {y0};
    }
    cur.x.push_back(x1), cur.y.push_back(y1);
  }
  flush();
  return runs;
}

// Sutherland–Hodgman against one side of the box: keep coord <= bound (below) or >= bound.
Polyline clip_side(const Polyline& in, bool on_x, double bound, bool below) {
  Polyline out;
  const std::vector<double>& c = on_x ? in.x : in.y;
  auto inside = [&](std::size_t i) { return below ? c[i] <= bound : c[i] >= bound; };
  for (std::size_t i = 0, n = in.x.size(); i < n; ++i) {
    std::size_t j = (i + 1) % n;
    if (inside(i)) out.x.push_back(in.x[i]), out.y.push_back(in.y[i]);
    if (inside(i) != inside(j)) {
      double t = (bound - c[i]) / (c[j] - c[i]);
      out.x.push_back(in.x[i] + t * (in.x[j] - in.x[i]));
      out.y.push_back(in.y[i] + t * (in.y[j] - in.y[i]));
    }
  }
  return out;
}

Polyline clip_polygon(Polyline p, const Box& b) {
  for (double v : p.x)
    if (!std::isfinite(v)) return {};
  for (double v : p.y)
    if (!std::isfinite(v)) return {};
  p = clip_side(p, true, b.left, false);
  p = clip_side(p, true, b.right, true);
  p = clip_side(p, false, b.top, false);
  return clip_side(p, false, b.bottom, true);
}

Polyline to_pixels(const std::vector<double>& xs, const std::vector<double>& ys, const Frame& f) {
  Polyline p;
  for (std::size_t i = 0; i < xs.size(); ++i) p.x.push_back(f.x(xs[i])), p.y.push_back(f.y(ys[i]));
  return p;
}

Ticks ticks_for(const Scale& s, int target) {
  return s.log ? log_ticks(s.lo, s.hi, target) : linear_ticks(s.lo, s.hi, target);
}

// As many ticks as fit without labels touching: start from a density suited to the axis
// length and thin out until neighbouring labels have room.
Ticks fitted_ticks(const Scale& s, bool horizontal) {
  double length = std::abs(s.p1 - s.p0);
  for (int target = std::clamp(static_cast<int>(length / (horizontal ? 90.0 : 50.0)), 2, 10);; --target) {
    Ticks t = ticks_for(s, target);
    bool crowded = false;
    for (std::size_t i = 1; i < t.major.size(); ++i) {
      double gap = std::abs(s(t.major[i]) - s(t.major[i - 1]));
      double need =
          horizontal ? (text_width(t.labels[i], kTickFont) + text_width(t.labels[i - 1], kTickFont)) / 2 + 10
                     : kTickFont + 5;
      crowded = crowded || gap < need;
    }
    if (!crowded || target <= 2) return t;
  }
}

std::string band_color(std::size_t k, std::size_t n_levels) {
  return viridis(n_levels == 0 ? 0.5 : static_cast<double>(k) / static_cast<double>(n_levels));
}

std::string line_color(const detail::Contour& c, std::size_t k) {
  if (!c.opts.color.empty()) return c.opts.color;
  if (c.opts.filled) return "#222";
  // Stop short of viridis's yellow end, which is too faint as a thin line on white.
  std::size_t n = c.levels.size();
  return viridis(n <= 1 ? 0.0 : 0.85 * static_cast<double>(k) / static_cast<double>(n - 1));
}

void draw_contour(SvgCanvas& cv, const detail::Contour& c, const Frame& f) {
  std::size_t n = c.levels.size();
  if (c.opts.filled) {
    // Nested super-level regions painted bottom-up: {z >= -inf} (every finite cell), then
    // {z >= level_1}, ...; each region is one nonzero path, so its cells leave no seams.
    for (std::size_t k = 0; k <= n; ++k) {
      double level = k == 0 ? -std::numeric_limits<double>::infinity() : c.levels[k - 1];
      std::vector<std::vector<double>> xs, ys;
      for (const Polyline& poly : superlevel_region(c.x, c.y, c.z, level)) {
        Polyline p = clip_polygon(to_pixels(poly.x, poly.y, f), f.box);
        if (p.x.size() >= 3) xs.push_back(p.x), ys.push_back(p.y);
      }
      cv.path(xs, ys, true, {.fill = band_color(k, n)});
    }
  }
  double width = c.opts.filled && c.opts.color.empty() ? 0.6 : c.opts.width;
  double opacity = c.opts.filled && c.opts.color.empty() ? 0.45 : 1.0;
  for (std::size_t k = 0; k < n; ++k)
    for (const Polyline& line : contour_lines(c.x, c.y, c.z, c.levels[k]))
      for (const Polyline& run : visible_runs(to_pixels(line.x, line.y, f), f.box))
        cv.polyline(run.x, run.y, {.stroke = line_color(c, k), .stroke_width = width, .opacity = opacity});
}

std::string format_level(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  std::string s = buf;
  return s[0] == '-' ? "−" + s.substr(1) : s;
}

std::vector<std::string> level_labels(const detail::Contour& c) {
  std::vector<std::string> labels;
  for (double v : c.levels) labels.push_back(format_level(v));
  return labels;
}

double colorbar_width(const std::vector<detail::Contour>& contours) {
  for (const auto& c : contours)
    if (c.opts.colorbar)
      return 16 + 12 + 6 + widest(level_labels(c)) + (c.opts.colorbar_label.empty() ? 0 : kLabelFont + 10);
  return 0.0;
}

// Filled: one block per band between levels, labelled at the boundaries. Lines only: one
// block per level, labelled at its middle. Blocks are of equal height, so log-spaced levels
// read as well as linear ones.
void draw_colorbar(SvgCanvas& cv, const detail::Contour& c, const Box& b) {
  std::size_t n = c.levels.size();
  std::size_t blocks = c.opts.filled ? n + 1 : n;
  if (blocks == 0) return;
  double x = b.right + 16, w = 12, h = (b.bottom - b.top) / static_cast<double>(blocks);
  for (std::size_t k = 0; k < blocks; ++k)
    cv.rect(x, b.bottom - static_cast<double>(k + 1) * h, w, h,
            {.fill = c.opts.filled ? band_color(k, n) : line_color(c, k)});
  cv.rect(x, b.top, w, b.bottom - b.top, {.stroke = "#444", .stroke_width = 0.8});
  std::vector<std::string> labels = level_labels(c);
  std::size_t every = static_cast<std::size_t>(std::ceil((kTickFont + 3) / h));  // labels must not touch
  for (std::size_t k = 0; k < n; k += every) {
    double y = b.bottom - (c.opts.filled ? static_cast<double>(k + 1) : static_cast<double>(k) + 0.5) * h;
    cv.line(x + w, y, x + w + 3, y, {.stroke = "#444", .stroke_width = 0.8});
    cv.text(x + w + 6, y + 0.35 * kTickFont, labels[k], kTickFont, "start", "#333");
  }
  if (!c.opts.colorbar_label.empty())
    cv.text(x + w + 6 + widest(labels) + 6 + kLabelFont, (b.top + b.bottom) / 2, c.opts.colorbar_label,
            kLabelFont, "middle", "#222", -90);
}

void draw_series(SvgCanvas& cv, const detail::Series& s, const Frame& f) {
  const Box& b = f.box;
  switch (s.kind) {
    case Kind::band: {
      // One polygon per stretch where x, lo and hi are all drawable: hi forwards, lo backwards.
      for (std::size_t i = 0; i < s.x.size();) {
        std::size_t j = i;
        Polyline poly;
        for (; j < s.x.size() && std::isfinite(f.x(s.x[j]) + f.y(s.y[j]) + f.y(s.hi[j])); ++j)
          poly.x.push_back(f.x(s.x[j])), poly.y.push_back(f.y(s.hi[j]));
        for (std::size_t k = j; k > i; --k)
          poly.x.push_back(f.x(s.x[k - 1])), poly.y.push_back(f.y(s.y[k - 1]));
        Polyline clipped = j - i >= 2 ? clip_polygon(poly, b) : Polyline{};
        cv.polygon(clipped.x, clipped.y, {.fill = s.color, .opacity = s.opacity});
        i = j + 1;
      }
      return;
    }
    case Kind::hline: {
      double y = f.y(s.y[0]);
      if (std::isfinite(y) && y >= b.top && y <= b.bottom)
        cv.line(b.left, y, b.right, y, {.stroke = s.color, .stroke_width = s.width, .dash = s.dash});
      return;
    }
    case Kind::vline: {
      double x = f.x(s.x[0]);
      if (std::isfinite(x) && x >= b.left && x <= b.right)
        cv.line(x, b.top, x, b.bottom, {.stroke = s.color, .stroke_width = s.width, .dash = s.dash});
      return;
    }
    case Kind::line:
    case Kind::markers: break;
  }
  Polyline p = to_pixels(s.x, s.y, f);
  if (s.kind == Kind::line)
    for (const Polyline& run : visible_runs(p, b))
      cv.polyline(run.x, run.y,
                  {.stroke = s.color, .stroke_width = s.width, .opacity = s.opacity, .dash = s.dash});
  std::vector<std::size_t> shown;  // drawable points inside the box
  for (std::size_t i = 0; i < p.x.size(); ++i)
    if (std::isfinite(p.x[i]) && std::isfinite(p.y[i]) && b.contains(p.x[i], p.y[i])) shown.push_back(i);
  if (s.marker > 0.0) {
    Style dot = s.filled
                    ? Style{.fill = s.color, .opacity = s.opacity}
                    : Style{.stroke = s.color, .fill = "white", .stroke_width = 1.3, .opacity = s.opacity};
    for (std::size_t i : shown) cv.circle(p.x[i], p.y[i], s.marker, dot);
  }
  if (s.mark_ends && !shown.empty()) {
    std::size_t first = shown.front(), last = shown.back();
    cv.circle(p.x[first], p.y[first], 4.5, {.stroke = s.color, .fill = "white", .stroke_width = 1.8});
    cv.circle(p.x[last], p.y[last], 4.5, {.stroke = "white", .fill = s.color, .stroke_width = 1.2});
  }
}

// How much of the data a legend placed at `r` would hide: segments crossing it plus points and
// text notes in it, with a few pixels' margin (a line grazing the box's edge is hidden too).
// With `bands`, also the points of a 5 x 5 grid over the box that lie inside a band.
int covered(const std::vector<detail::Series>& series, const std::vector<detail::Note>& notes, const Frame& f,
            Box r, bool bands = false) {
  const double margin = 4;
  r = {r.left - margin, r.top - margin, r.right + margin, r.bottom + margin};
  int hits = 0;
  if (bands)
    for (const auto& s : series) {
      if (s.kind != Kind::band) continue;
      const Polyline lo = to_pixels(s.x, s.y, f), hi = to_pixels(s.x, s.hi, f);
      for (int i = 0; i <= 4; ++i)
        for (int j = 0; j <= 4; ++j) {
          const double px = r.left + (r.right - r.left) * i / 4.0, py = r.top + (r.bottom - r.top) * j / 4.0;
          for (std::size_t k = 1; k < lo.x.size(); ++k) {
            const double x0 = lo.x[k - 1], x1 = lo.x[k];
            if (!(std::isfinite(x0 + x1 + lo.y[k - 1] + lo.y[k] + hi.y[k - 1] + hi.y[k]) && x0 <= px && px <= x1 && x0 < x1))
              continue;
            const double t = (px - x0) / (x1 - x0);
            const double y_lo = lo.y[k - 1] + t * (lo.y[k] - lo.y[k - 1]), y_hi = hi.y[k - 1] + t * (hi.y[k] - hi.y[k - 1]);
            if (py >= std::min(y_lo, y_hi) && py <= std::max(y_lo, y_hi)) ++hits;
            break;
          }
        }
    }
  for (const auto& n : notes) {
    const double px = f.x(n.x), py = f.y(n.y), w = text_width(n.text, n.opts.size);
    const double left = n.opts.anchor == "middle" ? px - w / 2 : n.opts.anchor == "end" ? px - w : px;
    if (std::isfinite(px) && std::isfinite(py) && left <= r.right && left + w >= r.left && py >= r.top &&
        py - n.opts.size <= r.bottom)
      ++hits;
  }
  for (const auto& s : series) {
    if (s.kind == Kind::band) continue;  // translucent: text stays readable over it
    Polyline p = s.kind == Kind::hline   ? to_pixels({f.x.lo, f.x.hi}, {s.y[0], s.y[0]}, f)
                 : s.kind == Kind::vline ? to_pixels({s.x[0], s.x[0]}, {f.y.lo, f.y.hi}, f)
                                         : to_pixels(s.x, s.y, f);
    for (std::size_t i = 0; i < p.x.size(); ++i) {
      if (std::isfinite(p.x[i]) && std::isfinite(p.y[i]) && r.contains(p.x[i], p.y[i])) ++hits;
      if (i == 0 || s.kind == Kind::markers) continue;
      double x0 = p.x[i - 1], y0 = p.y[i - 1], x1 = p.x[i], y1 = p.y[i];
      if (std::isfinite(x0 + y0 + x1 + y1) && clip_segment(x0, y0, x1, y1, r)) ++hits;
    }
  }
  return hits;
}

void legend_sample(SvgCanvas& cv, const detail::Series& s, double x, double y) {
  switch (s.kind) {
    case Kind::band:
      cv.rect(x, y - 5, 22, 10, {.fill = s.color, .opacity = std::max(s.opacity, 0.3)});
      return;
    case Kind::markers: {
      double r = std::min(s.marker, 5.0);  // big scatter dots would overflow the legend row
      cv.circle(
          x + 11, y, r,
          s.filled ? Style{.fill = s.color} : Style{.stroke = s.color, .fill = "white", .stroke_width = 1.3});
      return;
    }
    default:
      cv.line(x, y, x + 22, y, {.stroke = s.color, .stroke_width = std::min(s.width, 3.0), .dash = s.dash});
      if (s.marker > 0.0) cv.circle(x + 11, y, s.marker, {.fill = s.color});
  }
}

// The legend's entries and size.
struct LegendLayout {
  std::vector<const detail::Series*> entries;
  double w = 0.0, h = 0.0;
};
constexpr double kLegendRow = 17, kLegendPad = 6, kLegendInset = 8, kLegendGap = 10;

LegendLayout legend_layout(const std::vector<detail::Series>& series) {
  LegendLayout l;
  double text_w = 0.0;
  for (const auto& s : series)
    if (!s.label.empty()) l.entries.push_back(&s), text_w = std::max(text_w, text_width(s.label, kTickFont));
  l.w = kLegendPad + 22 + 6 + text_w + kLegendPad;
  l.h = 2 * kLegendPad + kLegendRow * static_cast<double>(l.entries.size()) - 4;
  return l;
}

// Candidate places inside the box: the corners, then the middles of the sides, then a grid.
struct Place {
  double fx, fy;  // 0 = left/top, 0.5 = middle, 1 = right/bottom
};
Box legend_box(const Box& b, const LegendLayout& l, Place p) {
  const double x = b.left + kLegendInset + p.fx * (b.right - b.left - 2 * kLegendInset - l.w);
  const double y = b.top + kLegendInset + p.fy * (b.bottom - b.top - 2 * kLegendInset - l.h);
  return {x, y, x + l.w, y + l.h};
}
Place corner_place(Corner c) {
  switch (c) {
    case Corner::top_left: return {0, 0};
    case Corner::bottom_right: return {1, 1};
    case Corner::bottom_left: return {0, 1};
    default: return {1, 0};
  }
}

// Corner::best resolved: a place inside that covers nothing, else outside_right.
std::optional<Place> free_place(const std::vector<detail::Series>& series, const std::vector<detail::Note>& notes,
                                const Frame& f, const LegendLayout& l) {
  const Box& b = f.box;
  if (l.w + 2 * kLegendInset > b.right - b.left || l.h + 2 * kLegendInset > b.bottom - b.top) return std::nullopt;
  // First a place clear of everything, bands included; failing that, one over translucent bands
  // only (the data lines stay in view).
  for (bool bands : {true, false}) {
    for (Place p : {Place{1, 0}, Place{0, 0}, Place{1, 1}, Place{0, 1}, Place{0.5, 0}, Place{0.5, 1}, Place{1, 0.5},
                    Place{0, 0.5}})
      if (covered(series, notes, f, legend_box(b, l, p), bands) == 0) return p;
    // Then anywhere on a 10 x 10 grid of positions, nearest the top right first.
    std::optional<Place> best;
    double nearest = std::numeric_limits<double>::infinity();
    for (int i = 0; i <= 10; ++i)
      for (int j = 0; j <= 10; ++j) {
        const Place p{i / 10.0, j / 10.0};
        const double d = (1 - p.fx) * (1 - p.fx) + p.fy * p.fy;
        if (d < nearest && covered(series, notes, f, legend_box(b, l, p), bands) == 0) nearest = d, best = p;
      }
    if (best) return best;
  }
  return std::nullopt;
}

void draw_legend(SvgCanvas& cv, const LegendLayout& l, const Box& r) {
  const std::vector<const detail::Series*>& entries = l.entries;
  const double row = kLegendRow, pad = kLegendPad, w = l.w, h = l.h;
  cv.rect(r.left, r.top, w, h, {.stroke = "#bbb", .fill = "white", .stroke_width = 0.8, .opacity = 0.92});
  for (std::size_t i = 0; i < entries.size(); ++i) {
    double y = r.top + pad + row * (static_cast<double>(i) + 0.5) - 2;
    legend_sample(cv, *entries[i], r.left + pad, y);
    cv.text(r.left + pad + 28, y + 0.35 * kTickFont, entries[i]->label, kTickFont, "start", "#222");
  }
}

void draw_grid(SvgCanvas& cv, const Frame& f, const Ticks& xt, const Ticks& yt) {
  Style g{.stroke = "#e4e4e4", .stroke_width = 1.0};
  for (double v : xt.major)
    if (double x = f.x(v); std::isfinite(x)) cv.line(x, f.box.top, x, f.box.bottom, g);
  for (double v : yt.major)
    if (double y = f.y(v); std::isfinite(y)) cv.line(f.box.left, y, f.box.right, y, g);
}

void draw_axis_ticks(SvgCanvas& cv, const Frame& f, const Ticks& xt, const Ticks& yt, bool minor) {
  const Box& b = f.box;
  Style tick{.stroke = "#444", .stroke_width = 1.0};
  for (std::size_t i = 0; i < xt.major.size(); ++i) {
    double x = f.x(xt.major[i]);
    cv.line(x, b.bottom, x, b.bottom + kTickLen, tick);
    cv.text(x, b.bottom + kTickLen + 3 + 0.8 * kTickFont, xt.labels[i], kTickFont, "middle", "#333");
  }
  for (std::size_t i = 0; i < yt.major.size(); ++i) {
    double y = f.y(yt.major[i]);
    cv.line(b.left - kTickLen, y, b.left, y, tick);
    cv.text(b.left - kTickLen - 3, y + 0.35 * kTickFont, yt.labels[i], kTickFont, "end", "#333");
  }
  if (!minor) return;
  for (double v : xt.minor) cv.line(f.x(v), b.bottom, f.x(v), b.bottom + 3, tick);
  for (double v : yt.minor) cv.line(b.left - 3, f.y(v), b.left, f.y(v), tick);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The panel: layout first (margins depend on the tick labels), then layers bottom to top.

// Insets: the room between the panel's cell and its plot box. Figure aligns them, taking the
// largest top and bottom along each row and the largest left down each column.
double Axes::top_inset() const { return title_.empty() ? 12 : 30; }

double Axes::bottom_inset() const {
  return kTickLen + 3 + kTickFont + 10 + (xlabel_.empty() ? 0 : kLabelFont + 8);
}

double Axes::left_inset(double plot_height) const {
  auto [y0, y1] = y_limits();
  double label_w = widest(fitted_ticks(Scale{y0, y1, plot_height, 0.0, log_y_}, false).labels);
  return 10 + (ylabel_.empty() ? 0 : kLabelFont + 10) + label_w + 3 + kTickLen;
}

void Axes::draw(SvgCanvas& cv, double x, double y, double w, double h) const {
  double top = top_inset(), bottom = bottom_inset();
  draw(cv, x, y, w, h, top, bottom, left_inset(h - top - bottom));
}

void Axes::draw(SvgCanvas& cv, double x, double y, double w, double h, double top, double bottom,
                double left) const {
  auto [x0, x1] = x_limits();
  auto [y0, y1] = y_limits();
  const double bar_w = colorbar_width(contours_);
  Box b{x + left, y + top, x + w - 18 - bar_w, y + h - bottom};
  auto frame = [&](const Box& box) {
    return Frame{Scale{x0, x1, box.left, box.right, log_x_}, Scale{y0, y1, box.bottom, box.top, log_y_}, box};
  };
  // The legend: where asked, or (best) the first place that covers no data; outside, the plot
  // box narrows by the legend's width.
  const LegendLayout legend = legend_layout(series_);
  std::optional<Box> legend_at;
  if (!legend.entries.empty() && legend_ != Corner::none) {
    std::optional<Place> place;
    if (legend_ == Corner::best) place = free_place(series_, notes_, frame(b), legend);
    else if (legend_ != Corner::outside_right) place = corner_place(legend_);
    if (place) {
      legend_at = legend_box(b, legend, *place);
    } else {
      b.right = std::max(b.left + 40, b.right - legend.w - kLegendGap);
      const double lx = b.right + (bar_w > 0 ? bar_w + 4 : kLegendGap);
      legend_at = Box{lx, b.top, lx + legend.w, b.top + legend.h};
    }
  }
  Frame f = frame(b);
  const Scale &xs = f.x, &ys = f.y;
  Ticks yt = fitted_ticks(ys, false), xt = fitted_ticks(xs, true);

  if (grid_) draw_grid(cv, f, xt, yt);
  for (const auto& c : contours_) draw_contour(cv, c, f);
  for (const auto& s : series_) draw_series(cv, s, f);
  for (const auto& n : notes_)
    if (double px = xs(n.x), py = ys(n.y); std::isfinite(px) && std::isfinite(py))
      cv.text(px, py, n.text, n.opts.size, n.opts.anchor, n.opts.color);
  cv.rect(b.left, b.top, b.right - b.left, b.bottom - b.top, {.stroke = "#444", .stroke_width = 1.0});
  draw_axis_ticks(cv, f, xt, yt, minor_);
  for (const auto& c : contours_)
    if (c.opts.colorbar) {
      draw_colorbar(cv, c, b);
      break;
    }
  if (legend_at) draw_legend(cv, legend, *legend_at);

  double mid_x = (b.left + b.right) / 2, mid_y = (b.top + b.bottom) / 2;
  if (!xlabel_.empty())
    cv.text(mid_x, b.bottom + kTickLen + 3 + kTickFont + 8 + kLabelFont, xlabel_, kLabelFont, "middle",
            "#222");
  // At a fixed offset from the cell, so the y labels of a column line up like its boxes do.
  // (Rotated by -90 degrees, the glyphs extend from the baseline towards -x.)
  if (!ylabel_.empty()) cv.text(x + 10 + kLabelFont, mid_y, ylabel_, kLabelFont, "middle", "#222", -90);
  if (!title_.empty()) {
    // A title longer than its panel shrinks to fit (down to 9 px) rather than run off the sides.
    const double room = 2 * std::min(mid_x - x, x + w - mid_x) - 8;  // centred over the plot box
    const double size = std::clamp(kTitleFont * room / std::max(1.0, text_width(title_, kTitleFont)), 9.0, kTitleFont);
    cv.begin_group("font-weight=\"bold\"");
    cv.text(mid_x, y + 20, title_, size, "middle", "#111");
    cv.end_group();
  }
}

// ---------------------------------------------------------------------------------------------
// Figure

Figure::Figure(int rows, int cols, double width, double height)
    : rows_(rows), cols_(cols), width_(width), height_(height) {
  if (rows < 1 || cols < 1)
    throw std::invalid_argument("pgcpp::plot::Figure: need at least one row and column");
  panels_.resize(static_cast<std::size_t>(rows * cols));
  SvgCanvas check(width, height);  // validates the size now rather than at save time
}

Axes& Figure::panel(int row, int col) {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_)
    throw std::out_of_range("pgcpp::plot::Figure::panel: no such panel");
  return panels_[static_cast<std::size_t>(row * cols_ + col)];
}

Figure& Figure::title(const std::string& s) {
  title_ = s;
  return *this;
}

SvgCanvas Figure::render() const {
  SvgCanvas cv(width_, height_);
  double top = title_.empty() ? 0.0 : 34.0;
  if (!title_.empty()) {
    const double size = std::clamp(16.0 * (width_ - 16) / std::max(1.0, text_width(title_, 16.0)), 9.0, 16.0);
    cv.begin_group("font-weight=\"bold\"");
    cv.text(width_ / 2, 24, title_, size, "middle", "#111");
    cv.end_group();
  }
  double cw = width_ / cols_, ch = (height_ - top) / rows_;
  auto at = [&](int r, int c) -> const Axes& { return panels_[static_cast<std::size_t>(r * cols_ + c)]; };
  // Line the plot boxes up: one top and bottom inset per row, one left inset per column.
  std::vector<double> row_top(rows_, 0.0), row_bottom(rows_, 0.0), col_left(cols_, 0.0);
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c) {
      row_top[r] = std::max(row_top[r], at(r, c).top_inset());
      row_bottom[r] = std::max(row_bottom[r], at(r, c).bottom_inset());
    }
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c)
      col_left[c] = std::max(col_left[c], at(r, c).left_inset(ch - row_top[r] - row_bottom[r]));
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c)
      at(r, c).draw(cv, c * cw, top + r * ch, cw, ch, row_top[r], row_bottom[r], col_left[c]);
  return cv;
}

std::string Figure::str() const { return render().str(); }
void Figure::save(const std::string& path) const { render().save(path); }

}  // namespace pgcpp::plot
