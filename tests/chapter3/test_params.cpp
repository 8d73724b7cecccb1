// Hyperparameters declared once (chapter3/common/params.hpp): the declaration is the flag, the
// range check, the --help text and the summary.json entry.
#include <doctest/doctest.h>

#include <string>

#include "chapter3/3_3_4_off_policy_ac.hpp"
#include "chapter3/common/params.hpp"
#include "experiment/cli.hpp"
#include "experiment/run.hpp"

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

namespace {
struct Derived : Config {
  Param<int> extra{this, "--extra", 3, "extra", {0, 10}};
};
}  // namespace

// A config copied as its base (MbpoConfig -> the SacConfig an agent keeps) lists the base's members
// only. Fails if the copy took the derived config's list: it would point past the copied object.
TEST_CASE("a derived config copied as its base lists the base's members, inside the copy") {
  Derived d;
  d.batch = 11;
  const Config sliced = d;
  REQUIRE(sliced.all().size() == 6);
  CHECK(sliced.all()[0] == static_cast<const ParamBase*>(&sliced.batch));
  CHECK(sliced.all()[0]->text() == "11");
  for (const ParamBase* p : sliced.all()) {
    const char* at = reinterpret_cast<const char*>(p);
    CHECK(at >= reinterpret_cast<const char*>(&sliced));
    CHECK(at < reinterpret_cast<const char*>(&sliced) + sizeof(Config));
  }
  CHECK(d.all().size() == 7);
}

namespace {
struct PerEnvConfig : Params {
  Param<long> episodes{this, "--episodes", 2000, "budget", {1, 10'000}, {{"pendulum", 300}}};
  Param<double> lr{this, "--lr", 1e-3, "alpha", Range<double>::open_closed(0, 1), {{"pendulum", 3e-4}}};
  Param<std::string> act{this, "--act", "tanh", "activation", {"tanh", "relu"}, {{"pendulum", "relu"}}};
  Param<std::vector<int>> hidden{this, "--hidden", {64}, "sizes", {{"pendulum", {32, 32}}}};
  Param<int> plain{this, "--plain", 1, "no per-environment default", {0, 10}};
};
}  // namespace

// Per-environment defaults (EnvDefaults): declared with the parameter, applied only for their
// environment, shown by env_defaults_text. Fails if a default leaked to another environment or the
// text lost a value.
TEST_CASE("a per-environment default applies to its environment only and is listed for --help") {
  PerEnvConfig c;
  for (ParamBase* p : c.all()) p->use_env_default("cartpole");
  CHECK(c.episodes == 2000);
  CHECK(c.lr == 1e-3);
  CHECK(c.act() == "tanh");
  for (ParamBase* p : c.all()) p->use_env_default("pendulum");
  CHECK(c.episodes == 300);
  CHECK(c.lr == 3e-4);
  CHECK(c.act() == "relu");
  CHECK(c.hidden() == std::vector<int>{32, 32});
  CHECK(c.plain == 1);
  CHECK(c.episodes.env_defaults_text() == "pendulum: 300");
  CHECK(c.lr.env_defaults_text() == "pendulum: 3e-04");  // number_text: shortest round-trip form
  CHECK(c.hidden.env_defaults_text() == "pendulum: 32,32");
  CHECK(c.plain.env_defaults_text() == "");
}

// The command line gives every flag not on it its environment's default (Examples 3.5 and 3.6 of
// off_policy_ac); a flag given keeps its value. Fails if the defaults overwrote a given flag, were
// applied for CartPole too, or were applied after the range check (never to a given value).
TEST_CASE("the command line applies the environment's defaults to the flags not given, and --help lists them") {
  RunOptions run("off_policy_ac");
  OffPolicyConfig cfg;
  Cli cli("off_policy_ac", "test");
  cli.add(run);
  cli.add(cfg);
  const char* argv[] = {"off_policy_ac", "--env", "Pendulum-v1", "--lr-actor", "0.01", "--episodes", "7"};
  cli.parse(7, argv);
  CHECK(cfg.lr_actor == 0.01);  // given
  CHECK(cfg.episodes == 7);     // given
  CHECK(cfg.lr_critic == 3e-4);  // Example 3.6
  CHECK(cfg.buffer == 300'000);
  CHECK(cfg.actor_activation() == "relu");
  CHECK(cfg.solved == -250);
  CHECK(cfg.batch_size == 64);  // no per-environment default: the flag's own

  RunOptions run2("off_policy_ac");
  OffPolicyConfig cartpole;
  Cli cli2("off_policy_ac", "test");
  cli2.add(run2);
  cli2.add(cartpole);
  const char* argv2[] = {"off_policy_ac"};
  cli2.parse(1, argv2);
  CHECK(cartpole.lr_critic == 1e-3);  // Example 3.5
  CHECK(cartpole.buffer == 200'000);
  CHECK(cartpole.episodes == 2000);
  CHECK(cartpole.actor_activation() == "tanh");
  CHECK(cli2.usage().find("alpha_psi, Adam step size of Q (default: 0.001; pendulum: 3e-04; (0, 1])") !=
        std::string::npos);
}

// Assigning one parameter to another copies the value only. Fails if the flag or the member's place
// came along: `cfg.lr_actor = cfg.lr_critic = x` once renamed --lr-actor and broke the next copy.
TEST_CASE("assigning a parameter to another copies its value, never its flag or place") {
  OffPolicyConfig cfg;
  cfg.lr_actor = cfg.lr_critic = 0.25;
  CHECK(cfg.lr_actor == 0.25);
  CHECK(cfg.lr_actor.flag() == "--lr-actor");
  CHECK(cfg.lr_critic.flag() == "--lr-critic");
  const OffPolicyConfig copy = cfg;
  REQUIRE(copy.all().size() == cfg.all().size());
  for (std::size_t i = 0; i < copy.all().size(); ++i) {
    CHECK(copy.all()[i]->flag() == cfg.all()[i]->flag());
    CHECK(copy.all()[i]->text() == cfg.all()[i]->text());
    const char* at = reinterpret_cast<const char*>(copy.all()[i]);
    CHECK(at >= reinterpret_cast<const char*>(&copy));
    CHECK(at < reinterpret_cast<const char*>(&copy) + sizeof(copy));
  }
}
