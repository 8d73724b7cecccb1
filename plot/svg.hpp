// A minimal SVG canvas: the drawing primitives every figure of pgcpp is made of.
//
// Pixel coordinates, origin at the top-left, y downwards (as in SVG). Every number written is
// checked: a non-finite coordinate throws std::invalid_argument instead of reaching the file,
// where it would make the whole document unreadable to most viewers.
#pragma once

#include <string>
#include <vector>

namespace pgcpp::plot {

struct Style {
  std::string stroke = "none";  // any SVG colour
  std::string fill = "none";
  double stroke_width = 1.0;
  double opacity = 1.0;
  std::string dash = "";  // SVG stroke-dasharray, "" = solid
};

class SvgCanvas {
 public:
  SvgCanvas(double width, double height);  // pixels; white background

  void rect(double x, double y, double w, double h, const Style& s);
  void line(double x1, double y1, double x2, double y2, const Style& s);
  void circle(double cx, double cy, double r, const Style& s);
  // Fewer than two points (polyline) or three points (polygon) draw nothing.
  void polyline(const std::vector<double>& xs, const std::vector<double>& ys, const Style& s);
  void polygon(const std::vector<double>& xs, const std::vector<double>& ys, const Style& s);
  // Several sub-paths as one element: filled with the nonzero rule, touching pieces of one
  // region leave no anti-aliasing seams between them (used for filled contours).
  void path(const std::vector<std::vector<double>>& xs, const std::vector<std::vector<double>>& ys,
            bool closed, const Style& s);
  // (x, y) is the baseline point; the text is XML-escaped. "_{...}" and "^{...}" set what the
  // braces hold as a subscript / superscript (see text_runs). A text that shows a non-finite
  // number -- the word nan, inf or infinity, as printf writes them -- throws
  // std::invalid_argument: a figure must not report "G² = inf" as if it were a result.
  void text(double x, double y, const std::string& s, double size = 12.0, const std::string& anchor = "start",
            const std::string& color = "#222", double rotate_deg = 0.0);

  void begin_group(const std::string& attributes = "");  // <g ...>, attributes verbatim
  void end_group();                                      // throws std::logic_error if none is open
  void raw(const std::string& svg_fragment);             // escape hatch (e.g. <animate>), verbatim

  double width() const;
  double height() const;
  std::string str() const;                   // full <svg> document; groups left open are closed here
  void save(const std::string& path) const;  // throws std::runtime_error naming the path on failure

 private:
  void shape(const std::string& open_tag, const Style& s);
  double width_;
  double height_;
  std::string body_;
  int open_groups_ = 0;
};

std::string escape_xml(const std::string&);

// A text split at its markup: "θ̄_{K}" is {"θ̄", 0}, {"K", -1}; "G^{2}" is {"G", 0}, {"2", +1}.
// Braces do not nest; a "_{" or "^{" without its "}" is literal text.
struct TextRun {
  std::string text;
  int shift = 0;  // -1 subscript, 0 baseline, +1 superscript
};
std::vector<TextRun> text_runs(const std::string& s);
// True when s contains nan, inf or infinity (any case) as a word of its own.
bool shows_non_finite(const std::string& s);

// A coordinate as written to the file (at most two decimals); throws std::invalid_argument
// if `v` is not finite.
std::string svg_number(double v);

}  // namespace pgcpp::plot
