// The SVG canvas: escaping, well-formed output, non-finite numbers refused, save() errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "plot/svg.hpp"
#include "tests/plot/xml_check.hpp"

using namespace pgcpp::plot;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("escape_xml replaces the five markup characters and drops illegal control characters") {
  CHECK(escape_xml("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  CHECK(escape_xml(std::string("x\x01y\tz\n")) == "xy\tz\n");
  CHECK(escape_xml("θ ± π") == "θ ± π");  // UTF-8 passes through untouched
}

TEST_CASE("svg_number writes at most two decimals and no negative zero") {
  CHECK(svg_number(1.0) == "1");
  CHECK(svg_number(3.14159) == "3.14");
  CHECK(svg_number(-2.5) == "-2.5");
  CHECK(svg_number(-0.001) == "0");
  CHECK(svg_number(1e300).size() == 301);  // written in full, not truncated
  CHECK_THROWS_AS(svg_number(kNaN), std::invalid_argument);
}

TEST_CASE("a canvas with every primitive is well-formed XML and its text is escaped") {
  SvgCanvas cv(200, 100);
  Style s{.stroke = "#123", .fill = "none", .stroke_width = 2, .opacity = 0.5, .dash = "4 2"};
  cv.rect(1, 2, 3, 4, s);
  cv.line(0, 0, 10, 10, s);
  cv.circle(5, 5, 2, s);
  cv.polyline({0, 1, 2}, {0, 1, 0}, s);
  cv.polygon({0, 1, 2}, {0, 1, 0}, s);
  cv.path({{0, 1, 2}, {3, 4, 5}}, {{0, 1, 0}, {0, 1, 0}}, true, s);
  cv.begin_group("font-weight=\"bold\"");
  cv.text(10, 20, "R < 475 & \"solved\"", 12, "middle", "#222", -90);
  cv.end_group();
  std::string doc = cv.str();
  CHECK(pgcpp::plot::test::xml_problem(doc) == "");
  CHECK(doc.find("R &lt; 475 &amp; &quot;solved&quot;") != std::string::npos);
  CHECK(doc.find("stroke-dasharray=\"4 2\"") != std::string::npos);
  CHECK(doc.find("rotate(-90 10 20)") != std::string::npos);
  CHECK(cv.width() == 200);
  CHECK(cv.height() == 100);
}

TEST_CASE("groups: end_group without begin_group throws, groups left open are closed by str()") {
  SvgCanvas cv(10, 10);
  CHECK_THROWS_AS(cv.end_group(), std::logic_error);
  cv.begin_group();
  cv.begin_group("opacity=\"0.5\"");
  CHECK(pgcpp::plot::test::xml_problem(cv.str()) == "");
}

TEST_CASE("non-finite coordinates throw and leave the document unchanged") {
  SvgCanvas cv(10, 10);
  std::string before = cv.str();
  CHECK_THROWS_AS(cv.rect(kNaN, 0, 1, 1, {}), std::invalid_argument);
  CHECK_THROWS_AS(cv.line(0, 0, kInf, 0, {}), std::invalid_argument);
  CHECK_THROWS_AS(cv.circle(0, 0, -kInf, {}), std::invalid_argument);
  CHECK_THROWS_AS(cv.polyline({0, 1, 2}, {0, kNaN, 2}, {}), std::invalid_argument);
  CHECK_THROWS_AS(cv.polygon({0, 1, kInf}, {0, 1, 2}, {}), std::invalid_argument);
  CHECK_THROWS_AS(cv.path({{0, kNaN}}, {{0, 1}}, false, {}), std::invalid_argument);
  CHECK_THROWS_AS(cv.text(1, 1, "x", 12, "start", "#222", kNaN), std::invalid_argument);
  CHECK_THROWS_AS(cv.line(0, 0, 1, 1, {.stroke = "red", .stroke_width = kNaN}), std::invalid_argument);
  CHECK(cv.str() == before);
  CHECK_THROWS_AS(SvgCanvas(kNaN, 10), std::invalid_argument);
  CHECK_THROWS_AS(SvgCanvas(10, 0), std::invalid_argument);
}

TEST_CASE("polyline and polygon refuse xs and ys of different lengths") {
  SvgCanvas cv(10, 10);
  CHECK_THROWS_AS(cv.polyline({0, 1}, {0}, {}), std::invalid_argument);
  CHECK_THROWS_AS(cv.polygon({0, 1, 2}, {0, 1}, {}), std::invalid_argument);
}

TEST_CASE("save writes str() to the file, and names the path when it cannot") {
  SvgCanvas cv(10, 10);
  cv.circle(5, 5, 2, {.fill = "red"});
  std::string path = (std::filesystem::temp_directory_path() / "pgcpp_plot_save_test.svg").string();
  cv.save(path);
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  CHECK(content.str() == cv.str());
  std::remove(path.c_str());

  std::string bad = "/nonexistent-dir-pgcpp/figure.svg";
  try {
    cv.save(bad);
    FAIL("save to an unwritable path did not throw");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(bad) != std::string::npos);
  }
}

TEST_CASE("text markup: _{...} and ^{...} become shifted, smaller tspans, unmatched braces stay literal") {
  const std::vector<TextRun> runs = text_runs("θ̄_{K} and G^{2}_{k}");
  REQUIRE(runs.size() == 5);
  CHECK(runs[0].text == "θ̄");
  CHECK(runs[1].text == "K");
  CHECK(runs[1].shift == -1);
  CHECK(runs[2].text == " and G");
  CHECK(runs[3].shift == +1);  // "2"
  CHECK(runs[4].shift == -1);  // "k"
  CHECK(text_runs("a_{b").size() == 1);
  CHECK(text_runs("a_{b")[0].text == "a_{b");
  CHECK(text_runs("x_1 value_loss")[0].text == "x_1 value_loss");  // bare underscores are text
  SvgCanvas c(100, 50);
  c.text(10, 20, "Q_{f} = 4", 10);
  const std::string doc = c.str();
  CHECK(doc.find(">Q<tspan dy=\"3\" font-size=\"7\">f</tspan><tspan dy=\"-3\"> = 4</tspan></text>") != std::string::npos);
  CHECK(pgcpp::plot::test::xml_problem(doc) == "");
}

TEST_CASE("text that shows nan or inf throws and leaves the document unchanged, words containing them do not") {
  for (const char* bad : {"G² = inf", "loss nan", "-nan", "return = -inf", "NaN", "x = Infinity", "1e3 (inf)"}) {
    CAPTURE(bad);
    CHECK(shows_non_finite(bad));
    SvgCanvas c(100, 50);
    const std::string before = c.str();
    CHECK_THROWS_AS(c.text(1, 2, bad), std::invalid_argument);
    CHECK(c.str() == before);
  }
  for (const char* good : {"infinite horizon", "Info", "finance", "nano", "sinf", "G² = 1.5", "γ = 0.99"}) {
    CAPTURE(good);
    CHECK_FALSE(shows_non_finite(good));
  }
}
