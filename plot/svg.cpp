#include "plot/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace pgcpp::plot {

std::string escape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters other than tab/newline/CR are illegal in XML 1.0 even when
        // escaped, so they are dropped rather than corrupting the document.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

std::string svg_number(double v) {
  if (!std::isfinite(v)) throw std::invalid_argument("pgcpp::plot: non-finite coordinate in SVG output");
  // Two decimals are 1/100 px: below what any renderer shows, and keeps files small.
  char buf[400];  // DBL_MAX in %.2f is 312 characters
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

namespace {

std::string attr(const char* name, const std::string& value) {
  return std::string(" ") + name + "=\"" + escape_xml(value) + "\"";
}

std::string attr(const char* name, double value) { return attr(name, svg_number(value)); }

std::string points_attr(const std::vector<double>& xs, const std::vector<double>& ys) {
  if (xs.size() != ys.size()) throw std::invalid_argument("pgcpp::plot: xs and ys differ in length");
  std::string pts;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i) pts += ' ';
    pts += svg_number(xs[i]) + ',' + svg_number(ys[i]);
  }
  return pts;
}

}  // namespace

SvgCanvas::SvgCanvas(double width, double height) : width_(width), height_(height) {
  if (!(std::isfinite(width) && std::isfinite(height) && width > 0 && height > 0))
    throw std::invalid_argument("pgcpp::plot::SvgCanvas: size must be positive and finite");
}

// Every element is built completely before it is appended, so a throw (non-finite number)
// leaves the document as it was.
void SvgCanvas::shape(const std::string& open_tag, const Style& s) {
  std::string el = open_tag + attr("stroke", s.stroke) + attr("fill", s.fill);
  if (s.stroke != "none") el += attr("stroke-width", s.stroke_width);
  if (s.opacity != 1.0) el += attr("opacity", s.opacity);
  if (!s.dash.empty()) el += attr("stroke-dasharray", s.dash);
  body_ += el + "/>\n";
}

void SvgCanvas::rect(double x, double y, double w, double h, const Style& s) {
  shape("<rect" + attr("x", x) + attr("y", y) + attr("width", std::max(w, 0.0)) +
            attr("height", std::max(h, 0.0)),
        s);
}

void SvgCanvas::line(double x1, double y1, double x2, double y2, const Style& s) {
  shape("<line" + attr("x1", x1) + attr("y1", y1) + attr("x2", x2) + attr("y2", y2), s);
}

void SvgCanvas::circle(double cx, double cy, double r, const Style& s) {
  shape("<circle" + attr("cx", cx) + attr("cy", cy) + attr("r", r), s);
}

void SvgCanvas::polyline(const std::vector<double>& xs, const std::vector<double>& ys, const Style& s) {
  std::string pts = points_attr(xs, ys);
  if (xs.size() < 2) return;
  // Round joins: a jagged learning curve otherwise sprouts miter spikes at sharp turns.
  shape("<polyline" + attr("points", pts) + " stroke-linejoin=\"round\"", s);
}

void SvgCanvas::polygon(const std::vector<double>& xs, const std::vector<double>& ys, const Style& s) {
  std::string pts = points_attr(xs, ys);
  if (xs.size() < 3) return;
  shape("<polygon" + attr("points", pts), s);
}

void SvgCanvas::path(const std::vector<std::vector<double>>& xs, const std::vector<std::vector<double>>& ys,
                     bool closed, const Style& s) {
  if (xs.size() != ys.size()) throw std::invalid_argument("pgcpp::plot: path xs and ys differ in length");
  std::string d;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (xs[k].size() != ys[k].size())
      throw std::invalid_argument("pgcpp::plot: path xs and ys differ in length");
    for (std::size_t i = 0; i < xs[k].size(); ++i) {
      d += i == 0 ? 'M' : 'L';
      d += svg_number(xs[k][i]) + ',' + svg_number(ys[k][i]);
    }
    if (closed && !xs[k].empty()) d += 'Z';
  }
  if (d.empty()) return;
  shape("<path" + attr("d", d) + " stroke-linejoin=\"round\"", s);
}

std::vector<TextRun> text_runs(const std::string& s) {
  std::vector<TextRun> runs;
  auto add = [&](std::string text, int shift) {
    if (text.empty()) return;
    if (!runs.empty() && runs.back().shift == shift) runs.back().text += text;
    else runs.push_back({std::move(text), shift});
  };
  std::size_t i = 0, plain = 0;
  while (i + 1 < s.size()) {
    const std::size_t close = (s[i] == '_' || s[i] == '^') && s[i + 1] == '{' ? s.find('}', i + 2) : std::string::npos;
    if (close == std::string::npos) {
      ++i;
      continue;
    }
    add(s.substr(plain, i - plain), 0);
    add(s.substr(i + 2, close - i - 2), s[i] == '_' ? -1 : +1);
    i = plain = close + 1;
  }
  add(s.substr(plain), 0);
  return runs;
}

bool shows_non_finite(const std::string& s) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  for (std::size_t i = 0; i < s.size();) {
    if (!letter(s[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    std::string word;
    while (j < s.size() && letter(s[j])) word += static_cast<char>(s[j] | 0x20), ++j;  // lower case
    if (word == "nan" || word == "inf" || word == "infinity") return true;
    i = j;
  }
  return false;
}

void SvgCanvas::text(double x, double y, const std::string& s, double size, const std::string& anchor,
                     const std::string& color, double rotate_deg) {
  if (shows_non_finite(s))
    throw std::invalid_argument("pgcpp::plot: the text '" + s + "' shows a non-finite number; not drawn");
  std::string el = "<text" + attr("x", x) + attr("y", y) + attr("font-size", size) +
                   attr("text-anchor", anchor) + attr("fill", color);
  if (rotate_deg != 0.0)
    el += " transform=\"rotate(" + svg_number(rotate_deg) + ' ' + svg_number(x) + ' ' + svg_number(y) + ")\"";
  // Sub- and superscripts: 0.7 of the size, moved by dy relative to the previous run (so the
  // baseline is restored by the run after them).
  std::string content;
  double offset = 0.0;  // current baseline shift in pixels, + is down
  for (const TextRun& run : text_runs(s)) {
    const double target = run.shift < 0 ? 0.3 * size : run.shift > 0 ? -0.45 * size : 0.0;
    if (run.shift == 0 && offset == 0.0) {
      content += escape_xml(run.text);
      continue;
    }
    content += "<tspan";
    if (target != offset) content += attr("dy", target - offset);
    if (run.shift != 0) content += attr("font-size", 0.7 * size);
    content += '>' + escape_xml(run.text) + "</tspan>";
    offset = target;
  }
  body_ += el + '>' + content + "</text>\n";
}

void SvgCanvas::begin_group(const std::string& attributes) {
  body_ += attributes.empty() ? "<g>\n" : "<g " + attributes + ">\n";
  ++open_groups_;
}

void SvgCanvas::end_group() {
  if (open_groups_ == 0) throw std::logic_error("pgcpp::plot::SvgCanvas::end_group without begin_group");
  body_ += "</g>\n";
  --open_groups_;
}

void SvgCanvas::raw(const std::string& svg_fragment) { body_ += svg_fragment; }

double SvgCanvas::width() const { return width_; }
double SvgCanvas::height() const { return height_; }

std::string SvgCanvas::str() const {
  std::string w = svg_number(width_), h = svg_number(height_);
  std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w +
      "\" height=\"" + h + "\" viewBox=\"0 0 " + w + ' ' + h +
      "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
      "<rect x=\"0\" y=\"0\" width=\"" +
      w + "\" height=\"" + h + "\" fill=\"white\"/>\n";
  doc += body_;
  for (int i = 0; i < open_groups_; ++i) doc += "</g>\n";
  return doc + "</svg>\n";
}

void SvgCanvas::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("pgcpp::plot: cannot open '" + path + "' for writing");
  out << str();
  out.close();
  if (!out) throw std::runtime_error("pgcpp::plot: failed writing '" + path + "'");
}

}  // namespace pgcpp::plot
