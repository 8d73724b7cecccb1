// Figures for the demos: panels of line plots, scatter, mean ± spread bands, log axes and
// contour plots, written as self-contained SVG (plot/svg.hpp) with no external tools.
//
//   Figure fig(1, 2, 1000, 420);
//   fig.title("REINFORCE on CartPole");
//   Axes& ax = fig.panel(0, 0);
//   ax.band(episode, mean_minus_std, mean_plus_std).line(episode, mean, {.label = "minibatch"});
//   ax.hline(475, {.label = "solved"}).xlabel("episode").ylabel("return");
//   fig.panel(0, 1).log_y().line(step, loss);
//   fig.save("reinforce.svg");
//
// Data conventions: a NaN or infinite value breaks a line (and a band) into separate pieces
// and is never written to the file; on a log axis, values <= 0 are treated the same way
// (skipped), since they have no position there. Data are clipped to the panel's box (text
// annotations are not).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "plot/contour.hpp"
#include "plot/svg.hpp"
#include "plot/ticks.hpp"

namespace pgcpp::plot {

// Default colour cycle: Okabe & Ito's colour-blind-safe palette, yellow left out (too faint
// on white).
const std::vector<std::string>& palette();

// Sequential colormap viridis (perceptually uniform, readable in grey): t in [0, 1] -> "#rrggbb".
std::string viridis(double t);

// Option structs are meant for designated initializers, e.g. {.label = "GAE", .width = 2}:
// fields must then be named in the order declared here.
struct LineOpts {
  std::string label = "";  // legend entry when non-empty
  std::string color = "";  // "" = next colour of the cycle
  double width = 1.8;
  std::string dash = "";  // SVG stroke-dasharray, "" = solid
  double opacity = 1.0;
  double marker_size = 0.0;  // > 0: also a dot of this radius at every point
};

struct MarkerOpts {
  std::string label = "";
  std::string color = "";  // "" = next colour of the cycle
  double size = 3.0;       // radius in pixels
  bool filled = true;      // false: a coloured ring with a white inside
  double opacity = 1.0;
};

struct BandOpts {
  std::string label = "";
  // "" = the colour the *next* line will get, without using it up: band(...) then line(...)
  // draws a mean ± spread pair in one colour.
  std::string color = "";
  double opacity = 0.2;
};

struct RefLineOpts {
  std::string label = "";
  std::string color = "#555";
  double width = 1.2;
  std::string dash = "5 4";
};

struct TextOpts {
  double size = 11.0;
  std::string anchor = "start";  // "start" | "middle" | "end"
  std::string color = "#222";
};

struct ContourOpts {
  bool filled = false;     // paint the bands between levels with the colormap
  std::string color = "";  // level lines; "" = colormap per level (dark grey when filled)
  double width = 1.0;
  bool colorbar = false;  // a colour key to the right of the panel
  std::string colorbar_label = "";
};

// Where the legend goes. `best` (the default) takes the first of the four corners, then the
// middles of the four sides, then of a 10 x 10 grid of positions (nearest the top right first),
// where the legend box covers no data (lines, markers, reference lines, text, bands); failing
// that, the same search allowing it over translucent bands only; when every place inside covers
// some line, marker or text, the
// legend goes outside, to the right of the plot box, which narrows to make room. The other
// values place it exactly there, covering data or not.
enum class Corner { best, top_right, top_left, bottom_right, bottom_left, outside_right, none };

namespace detail {
struct Series {
  enum class Kind { line, markers, band, hline, vline } kind = Kind::line;
  std::vector<double> x = {}, y = {}, hi = {};  // band: y is the lower edge; hline/vline: one value
  std::string label = "", color = "", dash = "";
  double width = 1.0, opacity = 1.0, marker = 0.0;
  bool filled = true;
  bool mark_ends = false;  // iterate paths: ring at the start, large dot at the end
};
struct Note {
  double x, y;
  std::string text;
  TextOpts opts;
};
struct Contour {
  std::vector<double> x, y, z, levels;
  ContourOpts opts;
};
}  // namespace detail

class Axes {
 public:
  Axes& line(const std::vector<double>& xs, const std::vector<double>& ys, const LineOpts& o = {});
  Axes& markers(const std::vector<double>& xs, const std::vector<double>& ys, const MarkerOpts& o = {});
  // A line with a dot at every point, a ring at the start and a larger dot at the end: the path
  // of an optimizer's iterates. marker_size 0 means 2.2.
  Axes& path(const std::vector<double>& xs, const std::vector<double>& ys, const LineOpts& o = {});
  // The area between lo and hi (e.g. mean ± std over seeds).
  Axes& band(const std::vector<double>& xs, const std::vector<double>& lo, const std::vector<double>& hi,
             const BandOpts& o = {});
  Axes& hline(double y, const RefLineOpts& o = {});
  Axes& vline(double x, const RefLineOpts& o = {});
  Axes& text(double x, double y, const std::string& s, const TextOpts& o = {});  // data coordinates
  // Level lines of z (row-major ny x nx over the grid xs x ys, see contour.hpp) at `levels`
  // (any order; non-finite ones dropped), coloured by rank on viridis; with .filled, the bands
  // between levels are painted too. Drawn beneath the panel's other data, and the grid's extent
  // becomes the panel's limits unless xlim/ylim are set.
  Axes& contour(const std::vector<double>& xs, const std::vector<double>& ys, const std::vector<double>& z,
                const std::vector<double>& levels, const ContourOpts& o = {});

  // Text anywhere in a figure (titles, labels, legend entries, notes) may use "_{...}" and
  // "^{...}" for sub- and superscripts, e.g. "θ̄_{K}", "G^{2}"; a text showing nan or inf
  // throws when the figure is drawn (plot/svg.hpp).
  Axes& title(const std::string& s);
  Axes& xlabel(const std::string& s);
  Axes& ylabel(const std::string& s);
  // Both throw std::invalid_argument unless lo < hi; on a log axis limits must also be > 0
  // (checked when drawn, since log_x/log_y may come later).
  Axes& xlim(double lo, double hi);
  Axes& ylim(double lo, double hi);
  Axes& log_x(bool on = true);
  Axes& log_y(bool on = true);
  Axes& minor_ticks(bool on);  // on log axes; default on
  Axes& grid(bool on);         // light lines at the major ticks; default on
  Axes& legend(Corner where);  // default Corner::best: a place that hides no data (see Corner)

  // Limits as they will be drawn: the ones set; else the extent of the contour grids, if any;
  // else the data's range with a 4 % margin. An empty axis shows [0, 1] ([1, 10] if log).
  std::array<double, 2> x_limits() const;
  std::array<double, 2> y_limits() const;

  // Draws the panel into the cell (x, y, w, h) of the canvas.
  void draw(SvgCanvas& canvas, double x, double y, double w, double h) const;

 private:
  friend class Figure;
  double top_inset() const;  // room between the cell's edges and the plot box
  double bottom_inset() const;
  double left_inset(double plot_height) const;
  void draw(SvgCanvas& canvas, double x, double y, double w, double h, double top, double bottom,
            double left) const;
  std::string take_color(const std::string& requested);
  std::array<double, 2> limits(bool x_axis) const;

  std::vector<detail::Series> series_;
  std::vector<detail::Note> notes_;
  std::vector<detail::Contour> contours_;
  std::string title_, xlabel_, ylabel_;
  bool xlim_set_ = false, ylim_set_ = false;
  std::array<double, 2> xlim_{0, 1}, ylim_{0, 1};
  bool log_x_ = false, log_y_ = false, minor_ = true, grid_ = true;
  Corner legend_ = Corner::best;
  std::size_t next_color_ = 0;
};

// Contour levels at nice values (1-2-5 steps) strictly inside the finite range of z.
std::vector<double> contour_levels(const std::vector<double>& z, int about_n);

// A grid of panels, rows x cols, in a width x height pixel canvas.
class Figure {
 public:
  Figure(int rows = 1, int cols = 1, double width = 640, double height = 420);
  Axes& panel(int row = 0, int col = 0);  // throws std::out_of_range
  Figure& title(const std::string& s);
  SvgCanvas render() const;  // for adding raw SVG (e.g. animation) before saving
  std::string str() const;
  void save(const std::string& path) const;  // throws std::runtime_error naming the path

 private:
  int rows_, cols_;
  double width_, height_;
  std::string title_;
  std::vector<Axes> panels_;
};

}  // namespace pgcpp::plot
