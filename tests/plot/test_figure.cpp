// The plotting layer: limits, colour cycle, non-finite data and log axes, clipping, legend,
// and well-formed output.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "plot/plot.hpp"
#include "tests/plot/xml_check.hpp"

using namespace pgcpp::plot;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t count(const std::string& doc, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t i = doc.find(what); i != std::string::npos; i = doc.find(what, i + 1)) ++n;
  return n;
}

// The value of attribute `name` in each element whose tag starts with `open` (e.g. "<circle").
std::vector<double> attribute(const std::string& doc, const std::string& open, const std::string& name) {
  std::vector<double> out;
  for (std::size_t i = doc.find(open); i != std::string::npos; i = doc.find(open, i + 1)) {
    std::string el = doc.substr(i, doc.find('>', i) - i);
    std::size_t a = el.find(" " + name + "=\"");
    if (a != std::string::npos) out.push_back(std::stod(el.substr(a + name.size() + 3)));
  }
  return out;
}

// All numbers in the points="..." of every polyline.
std::vector<double> polyline_numbers(const std::string& doc) {
  std::vector<double> out;
  for (std::size_t i = doc.find("<polyline points=\""); i != std::string::npos;
       i = doc.find("<polyline points=\"", i + 1)) {
    std::size_t start = i + 18, end = doc.find('"', start);
    std::string pts = doc.substr(start, end - start);
    for (char& c : pts)
      if (c == ',') c = ' ';
    std::size_t pos = 0;
    while (pos < pts.size()) {
      std::size_t used = 0;
      out.push_back(std::stod(pts.substr(pos), &used));
      pos += used;
    }
  }
  return out;
}

struct Rect {
  double x, y, w, h;
  bool contains(double px, double py) const { return px >= x && px <= x + w && py >= y && py <= y + h; }
};
// The legend's box (the only rect stroked #bbb) and the plot box (stroked #444, 1 px, the last
// such rect with a nonzero size before the legend).
Rect rect_stroked(const std::string& doc, const std::string& stroke) {
  std::size_t at = doc.rfind("stroke=\"" + stroke + "\"");
  REQUIRE(at != std::string::npos);
  const std::size_t open = doc.rfind("<rect", at);
  const std::string el = doc.substr(open, doc.find('>', open) - open + 1);
  return {attribute(el, "<rect", "x")[0], attribute(el, "<rect", "y")[0], attribute(el, "<rect", "width")[0],
          attribute(el, "<rect", "height")[0]};
}
// Pixels of every polyline (sampled along each segment) and every circle centre.
std::vector<std::pair<double, double>> drawn_points(const std::string& doc) {
  std::vector<std::pair<double, double>> pts;
  for (std::size_t i = doc.find("<polyline points=\""); i != std::string::npos; i = doc.find("<polyline points=\"", i + 1)) {
    const std::string el = doc.substr(i, doc.find('>', i) - i + 1);
    const std::vector<double> v = polyline_numbers(el);
    for (std::size_t k = 2; k + 1 < v.size(); k += 2)
      for (int t = 0; t <= 50; ++t)
        pts.push_back({v[k - 2] + (v[k] - v[k - 2]) * t / 50.0, v[k - 1] + (v[k + 1] - v[k - 1]) * t / 50.0});
  }
  const std::vector<double> cx = attribute(doc, "<circle", "cx"), cy = attribute(doc, "<circle", "cy");
  for (std::size_t k = 0; k < cx.size(); ++k) pts.push_back({cx[k], cy[k]});
  return pts;
}
int inside(const Rect& r, const std::vector<std::pair<double, double>>& pts) {
  int n = 0;
  for (auto [x, y] : pts) n += r.contains(x, y);
  return n;
}

}  // namespace

TEST_CASE("automatic limits: data range plus 4 %, contour grid exactly, log axes skip x <= 0") {
  Axes ax;
  CHECK(ax.x_limits() == std::array<double, 2>{0, 1});  // empty
  ax.line({0, 10}, {-1, 1});
  CHECK(ax.x_limits()[0] == doctest::Approx(-0.4));
  CHECK(ax.x_limits()[1] == doctest::Approx(10.4));
  ax.hline(3.0);  // reference lines are kept in view
  CHECK(ax.y_limits()[1] > 3.0);
  ax.xlim(2, 5);
  CHECK(ax.x_limits() == std::array<double, 2>{2, 5});
  CHECK_THROWS_AS(ax.xlim(5, 2), std::invalid_argument);
  CHECK_THROWS_AS(ax.ylim(0, kNaN), std::invalid_argument);

  Axes logy;
  logy.log_y().line({1, 2, 3, 4}, {-5, 0, 1e-2, 1e2});
  auto [lo, hi] = logy.y_limits();
  CHECK(lo < 1e-2);
  CHECK(lo > 1e-3);  // 4 % of 4 decades below 1e-2, not pulled towards the skipped values
  CHECK(hi > 1e2);

  Axes flat;
  flat.line({0, 1}, {5, 5});
  CHECK(flat.y_limits()[0] < 5);
  CHECK(flat.y_limits()[1] > 5);

  Axes land;
  land.contour({-1, 0, 1}, {0, 2}, {1, 0, 1, 2, 1, 2}, {0.5}).path({-3, 3}, {5, 5});
  CHECK(land.x_limits() == std::array<double, 2>{-1, 1});  // the grid frames the panel
  CHECK(land.y_limits() == std::array<double, 2>{0, 2});
}

TEST_CASE("data map linearly into the panel (log axes: in log10 of the data)") {
  Figure fig(1, 1, 400, 300);
  fig.panel().xlim(0, 10).ylim(0, 10).markers({0, 5, 10}, {0, 5, 10});
  std::string doc = fig.str();
  std::vector<double> cx = attribute(doc, "<circle", "cx"), cy = attribute(doc, "<circle", "cy");
  REQUIRE(cx.size() == 3);
  CHECK(cx[1] == doctest::Approx((cx[0] + cx[2]) / 2).epsilon(1e-3));
  CHECK(cy[1] == doctest::Approx((cy[0] + cy[2]) / 2).epsilon(1e-3));
  CHECK(cy[0] > cy[2]);  // larger y is higher up

  Figure logfig(1, 1, 400, 300);
  logfig.panel().log_x().xlim(1, 100).ylim(0, 1).markers({1, 10, 100}, {0.5, 0.5, 0.5});
  std::vector<double> lx = attribute(logfig.str(), "<circle", "cx");
  REQUIRE(lx.size() == 3);
  CHECK(lx[1] == doctest::Approx((lx[0] + lx[2]) / 2).epsilon(1e-3));
}

TEST_CASE("NaN, infinities and (on a log axis) non-positive values break a line") {
  Figure fig(1, 2, 600, 300);
  fig.panel(0, 0).line({0, 1, 2, 3, 4, 5}, {0, 1, kNaN, 3, std::numeric_limits<double>::infinity(), 5});
  fig.panel(0, 1).log_y().line({0, 1, 2, 3, 4}, {1, 10, -1, 100, 1000});
  std::string doc = fig.str();
  // Pieces of two or more points are drawn: {0,1} on the left; {0,1} and {3,4} on the right.
  CHECK(count(doc, "<polyline") == 3);
  CHECK(count(doc, "nan") == 0);
  CHECK(count(doc, "inf") == 0);
  CHECK(pgcpp::plot::test::xml_problem(doc) == "");
}

TEST_CASE("extreme finite values neither overflow the limits nor reach the file") {
  Figure fig;
  fig.panel().line({0, 1, 2, 3}, {-1.7e308, 1.0, 2.0, 1.7e308}).markers({1e308}, {1});
  std::string doc;
  CHECK_NOTHROW(doc = fig.str());
  CHECK(pgcpp::plot::test::xml_problem(doc) == "");
  Figure bad;
  bad.panel().xlim(0, 10).log_x().line({1, 2}, {1, 2});
  CHECK_THROWS_AS(bad.str(), std::invalid_argument);  // a log axis cannot start at 0
}

TEST_CASE("a band is split where any of x, lo, hi is not finite") {
  Figure fig;
  fig.panel().band({0, 1, 2, 3, 4}, {0, 0, 0, kNaN, 0}, {1, 1, 1, 1, 1}).band({0, 1}, {0, 0}, {2, 2});
  CHECK(count(fig.str(), "<polygon") == 2);  // {0,1,2} of the first; the lone point 4 is not an area
}

TEST_CASE("far-off points are clipped to the panel, not written as huge coordinates") {
  Figure fig(1, 1, 400, 300);
  fig.panel().xlim(0, 1).ylim(0, 1).line({0, 0.5, 1}, {0.5, 1e12, 0.5});
  std::vector<double> nums = polyline_numbers(fig.str());
  REQUIRE(!nums.empty());
  for (double v : nums) CHECK((v >= 0 && v <= 400));
}

TEST_CASE("colour cycle: a band takes the colour of the line that follows it") {
  Figure fig;
  fig.panel().band({0, 1}, {0, 0}, {1, 1}).line({0, 1}, {0.5, 0.5}).line({0, 1}, {0.2, 0.2});
  std::string doc = fig.str();
  CHECK(count(doc, "fill=\"" + palette()[0] + "\"") == 1);    // the band
  CHECK(count(doc, "stroke=\"" + palette()[0] + "\"") == 1);  // the first line
  CHECK(count(doc, "stroke=\"" + palette()[1] + "\"") == 1);  // the second line
}

TEST_CASE("legend: labelled series only, escaped, placed in a corner free of data") {
  Figure fig(1, 1, 400, 300);
  Axes& ax = fig.panel();
  ax.line({0, 1}, {0, 1}, {.label = "mean <return> & std"}).line({0, 1}, {0.5, 0.5});
  std::string doc = fig.str();
  CHECK(count(doc, "mean &lt;return&gt; &amp; std") == 1);
  CHECK(pgcpp::plot::test::xml_problem(doc) == "");
  // The diagonal and the horizontal line leave only the top-left corner free.
  std::size_t at = doc.find("stroke=\"#bbb\"");
  REQUIRE(at != std::string::npos);
  std::string box = doc.substr(doc.rfind("<rect", at), at - doc.rfind("<rect", at));
  std::vector<double> x = attribute(box, "<rect", "x"), y = attribute(box, "<rect", "y");
  CHECK(x[0] < 200);
  CHECK(y[0] < 150);

  Figure none;
  none.panel().line({0, 1}, {0, 1}, {.label = "hidden"}).legend(Corner::none);
  CHECK(count(none.str(), "hidden") == 0);
}

TEST_CASE("a full figure is well-formed: titles, labels, log axis, contours, colorbar, path") {
  std::vector<double> gx, gy, z;
  for (int i = 0; i <= 30; ++i) gx.push_back(-1 + i / 15.0), gy.push_back(-1 + i / 15.0);
  for (double y : gy)
    for (double x : gx) z.push_back(x * x + 3 * y * y);
  Figure fig(1, 3, 1200, 400);
  fig.title("Figure <3.2> & friends");
  fig.panel(0, 0).title("returns").xlabel("episode").ylabel("return").line({0, 1, 2}, {0, 5, 3},
                                                                           {.label = "a"});
  fig.panel(0, 1).log_y().minor_ticks(false).line({1, 2, 3}, {1e-3, 1e-1, 10});
  fig.panel(0, 2)
      .contour(gx, gy, z, contour_levels(z, 6), {.filled = true, .colorbar = true, .colorbar_label = "J"})
      .path({-0.8, -0.3, 0.0}, {0.9, 0.2, 0.0}, {.label = "iterates"})
      .text(0.1, 0.1, "θ*");
  std::string doc = fig.str();
  CHECK(pgcpp::plot::test::xml_problem(doc) == "");
  CHECK(count(doc, "Figure &lt;3.2&gt; &amp; friends") == 1);
  CHECK(count(doc, "10⁻³") == 1);
  CHECK(count(doc, "<path") == contour_levels(z, 6).size() + 1);  // one filled region per band
  CHECK_THROWS_AS(fig.panel(1, 0), std::out_of_range);
  CHECK_THROWS_AS(Figure(0, 1), std::invalid_argument);
}

TEST_CASE("contour_levels are nice values strictly inside the range of z") {
  std::vector<double> levels = contour_levels({0.0, 1.0, kNaN, 0.37}, 5);
  REQUIRE(levels.size() == 4);
  for (std::size_t k = 0; k < 4; ++k) CHECK(levels[k] == doctest::Approx(0.2 * static_cast<double>(k + 1)));
  CHECK(contour_levels({1.0, 1.0}, 5).empty());
}

TEST_CASE("viridis runs from dark purple to yellow") {
  CHECK(viridis(0.0) == "#440154");
  CHECK(viridis(1.0) == "#fde725");
  CHECK(viridis(kNaN) == "#440154");
}

// Fig. 3.2's layout: a learning curve rising to the 475 "solved" line and staying there. Both top
// corners would hide the line's ends, the bottom left the curve's start: the legend must take the
// bottom right, and cover no data.
TEST_CASE("legend (best): over a learning curve and its 475 line it takes the one free place") {
  std::vector<double> ep, ret;
  for (int i = 0; i <= 200; ++i) ep.push_back(5 * i), ret.push_back(std::min(500.0, 20 + 3.0 * i));
  Figure fig(1, 1, 640, 420);
  Axes& ax = fig.panel();
  ax.line(ep, ret, {.label = "moving average of the episode return"});
  ax.hline(475, {.label = "solved (475)", .dash = ""});  // solid, so it is drawn as one line
  const std::string doc = fig.str();
  const Rect legend = rect_stroked(doc, "#bbb"), box = rect_stroked(doc, "#444");
  CHECK(legend.x > box.x + box.w / 2);  // right half
  CHECK(legend.y > box.y + box.h / 2);  // bottom half
  CHECK(inside(legend, drawn_points(doc)) == 0);
  const std::size_t ref = doc.find("stroke=\"#555\"");  // the reference line's default colour
  REQUIRE(ref != std::string::npos);
  const std::size_t open = doc.rfind("<line", ref);
  const double y475 = attribute(doc.substr(open, ref - open), "<line", "y1")[0];
  CHECK((y475 < legend.y || y475 > legend.y + legend.h));
}

TEST_CASE("legend (best): with no free place inside it goes outside right and the plot box narrows") {
  std::vector<double> x, y;
  for (int i = 0; i <= 20; ++i)
    for (int j = 0; j <= 20; ++j) x.push_back(i), y.push_back(j);
  Figure inside_fig(1, 1, 600, 400), outside_fig(1, 1, 600, 400);
  inside_fig.panel().markers(x, y).legend(Corner::top_right);
  inside_fig.panel().line({0, 20}, {0, 20}, {.label = "a label"});
  outside_fig.panel().markers(x, y);
  outside_fig.panel().line({0, 20}, {0, 20}, {.label = "a label"});
  const std::string in_doc = inside_fig.str(), out_doc = outside_fig.str();
  const Rect in_box = rect_stroked(in_doc, "#444"), out_box = rect_stroked(out_doc, "#444");
  const Rect in_legend = rect_stroked(in_doc, "#bbb"), out_legend = rect_stroked(out_doc, "#bbb");
  CHECK(inside(in_legend, drawn_points(in_doc)) > 0);  // an explicit corner is obeyed, data or not
  CHECK(inside(out_legend, drawn_points(out_doc)) == 0);
  CHECK(out_legend.x >= out_box.x + out_box.w);
  CHECK(out_legend.x + out_legend.w <= 600);
  CHECK(out_box.w < in_box.w - out_legend.w);
  CHECK(pgcpp::plot::test::xml_problem(out_doc) == "");
}

TEST_CASE("titles longer than their figure or panel shrink to fit instead of running off the edges") {
  // 80 characters at 16 px would need ~770 px of the figure's 600; 45 at 13.5 px ~365 of a 300 px panel.
  const std::string fig_title(80, 'x'), panel_title(45, 'y');
  Figure fig(1, 2, 600, 300);
  fig.title(fig_title);
  fig.panel(0, 0).title(panel_title).line({0, 1}, {0, 1});
  const std::string doc = fig.str();
  int titles = 0;
  for (const std::string& title : {fig_title, panel_title}) {
    const std::size_t i = doc.find(">" + title + "<");
    REQUIRE(i != std::string::npos);
    const std::size_t open = doc.rfind("<text", i);
    const std::string el = doc.substr(open, i - open + 1);
    const double size = attribute(el, "<text", "font-size")[0], x = attribute(el, "<text", "x")[0];
    const double half = 0.6 * size * static_cast<double>(title.size()) / 2;  // the layout's own width estimate
    CHECK(x - half >= 0);
    CHECK(x + half <= (titles == 0 ? 600 : 300));
    ++titles;
  }
  CHECK(titles == 2);
}

TEST_CASE("sub- and superscript markup in labels and legends reaches the SVG as tspans") {
  Figure fig(1, 1, 500, 300);
  fig.panel().line({1, 2}, {1, 2}, {.label = "E f(θ̄_{K}) − f*"}).ylabel("G^{2}").log_y();
  const std::string doc = fig.str();
  CHECK(count(doc, "θ̄<tspan dy=\"3.3\" font-size=\"7.7\">K</tspan><tspan dy=\"-3.3\">) − f*</tspan>") == 1);
  CHECK(count(doc, "G<tspan dy=\"-5.6") == 1);  // raised by 0.45 of the 12.5 px label
  CHECK(count(doc, "font-size=\"8.75\">2</tspan>") == 1);
  CHECK(count(doc, "_{") == 0);
  CHECK(pgcpp::plot::test::xml_problem(doc) == "");
}

TEST_CASE("a figure whose text shows nan or inf refuses to render, naming the text") {
  Figure fig;
  fig.panel().line({0, 1}, {0, 1}, {.label = "G² = inf"});
  CHECK_THROWS_WITH_AS(fig.str(), doctest::Contains("G² = inf"), std::invalid_argument);
  Figure ok;
  ok.panel().line({0, 1}, {0, 1}, {.label = "infinite horizon, Info"}).title("γ → 1");
  CHECK_NOTHROW(ok.str());
}
