// Hyperparameters declared once (chapter3/common/params.hpp): the declaration is the flag, the
// range check, the --help text and the summary.json entry.
#include <doctest/doctest.h>

#include "chapter3/common/params.hpp"

using namespace pgcpp;

namespace {
struct Config : Params {
  Param<int> batch{this, "--batch", 20, "N", {1, 100}};
  Param<double> lr{this, "--lr", 0.5, "alpha", Range<double>::open_closed(0, 1)};
  Param<std::uint64_t> seed{this, "--seed", 1, "seed", {0, 1000}};
  Param<bool> quiet{this, "--quiet", false, "quiet"};
  Param<std::string> kind{this, "--kind", "a", "kind", {"a", "b"}};
  Param<std::vector<int>> hidden{this, "--hidden", {128, 128}, "sizes"};
};
}  // namespace

TEST_CASE("a config lists its members in declaration order, and a copy lists its own") {
  Config a;
  a.batch = 7;
  Config b = a;   // copy construction
  b.batch = 9;    // must change b's member, not a's
  REQUIRE(b.all().size() == 6);
  CHECK(b.all()[0]->text() == "9");
  CHECK(a.all()[0]->text() == "7");
  CHECK(b.all()[0] == static_cast<ParamBase*>(&b.batch));
  Config c;
  c = b;          // assignment keeps c's own list
  CHECK(c.all()[0] == static_cast<ParamBase*>(&c.batch));
  CHECK(c.batch == 9);
  CHECK(c.all()[5]->flag() == "--hidden");
}

TEST_CASE("parse accepts exactly the declared range, with open ends open") {
  Config c;
  ParamBase& batch = *c.all()[0];
  ParamBase& lr = *c.all()[1];
  CHECK(batch.parse("1") == "");
  CHECK(batch.parse("100") == "");
  CHECK(batch.parse("0") != "");          // below [1, 100]
  CHECK(batch.parse("101") != "");        // above
  CHECK(batch.parse("99999999999999999999") != "");  // overflows long long
  CHECK(batch.parse("5x") != "");
  CHECK(batch.parse("") != "");
  CHECK(c.batch == 100);                  // a rejected text leaves the value as it was
  CHECK(lr.parse("1") == "");             // (0, 1]: 1 is in
  CHECK(lr.parse("0") != "");             // 0 is out
  CHECK(lr.parse("nan") != "");
  CHECK(lr.parse("1e999") != "");
  CHECK(c.all()[2]->parse("-1") != "");   // unsigned: no sign
  CHECK(c.all()[4]->parse("c") != "");
  CHECK(c.all()[5]->parse("64,32") == "");
  CHECK(c.hidden().size() == 2);
  CHECK(c.all()[5]->parse("64,") != "");
  CHECK(c.all()[5]->parse("5000") != "");
}

TEST_CASE("text, JSON and range text are what --help and summary.json show") {
  Config c;
  CHECK(c.all()[1]->range_text() == "(0, 1]");
  CHECK(c.all()[0]->range_text() == "[1, 100]");
  CHECK(c.all()[4]->range_text() == "a|b");
  CHECK(c.all()[4]->json() == "\"a\"");
  CHECK(c.all()[5]->json() == "\"128,128\"");
  CHECK(c.all()[3]->json() == "false");
  CHECK(c.all()[1]->key() == "lr");
  c.lr = 2.0;  // set in code, out of range: the check names it
  CHECK(c.first_error() == "--lr 2 is out of range (0, 1]");
}
