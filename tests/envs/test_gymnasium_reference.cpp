// Bit-exact agreement with Gymnasium's step, on states chosen so that the rounding matters.
//
// Expected rows were printed by tests/envs/gymnasium_reference.py (numpy float64 scalars, as
// in Gymnasium) with %.17g, which round-trips doubles exactly. The states were searched for so
// that computing x**2 as x*x instead of through pow() (as Python does) changes the last bit.
#include <doctest/doctest.h>

#include <vector>

#include "envs/env.hpp"
#include "test_util.hpp"

using pgcpp::test::vec;

namespace {

struct Row {
  std::vector<double> state, observation;
  double reward;
  bool terminated;
};

void check_replay(const char* env_name, const Eigen::VectorXd& state,
                  const std::vector<double>& actions, const std::vector<Row>& expected) {
  auto env = pgcpp::make_env(env_name);
  env->set_state(state);
  for (std::size_t t = 0; t < actions.size(); ++t) {
    CAPTURE(t);
    const auto r = env->step(vec({actions[t]}));
    const Eigen::VectorXd s = env->state();
    for (std::size_t i = 0; i < expected[t].state.size(); ++i)
      CHECK(s[static_cast<Eigen::Index>(i)] == expected[t].state[i]);  // exact, not approximate
    for (std::size_t i = 0; i < expected[t].observation.size(); ++i)
      CHECK(r.observation[static_cast<Eigen::Index>(i)] == expected[t].observation[i]);
    CHECK(r.reward == expected[t].reward);
    CHECK(r.terminated == expected[t].terminated);
  }
}

}  // namespace

TEST_CASE("gymnasium reference: CartPole-v1 rounds exactly like Gymnasium") {
  // gymnasium_reference.py --env cartpole
  //   --state=0.07204669085935783,0.002919136125040772,-0.17368775624563462,-0.6438577538099426
  //   --actions=0,1,1
  const std::vector<std::vector<double>> s = {
      {0.07210507358185865, -0.18941127477865508, -0.18656491132183348, -0.41051063670433419},
      {0.068316848086285548, 0.0077976856049007948, -0.19477512405592015, -0.75572332963302014},
      {0.068472801798383567, 0.20499452927156794, -0.20988959064858057, -1.1028279663101614}};
  check_replay("CartPole-v1",
               vec({0.07204669085935783, 0.002919136125040772, -0.17368775624563462,
                    -0.6438577538099426}),
               {0, 1, 1},
               {{s[0], s[0], 1.0, false}, {s[1], s[1], 1.0, false}, {s[2], s[2], 1.0, true}});
}

TEST_CASE("gymnasium reference: Pendulum-v1 rounds exactly like Gymnasium") {
  // gymnasium_reference.py --env pendulum --state=6.817861236321711,4.5887842574030735
  //   --actions=-0.369092019661986,2.5,-7
  check_replay(
      "Pendulum-v1", vec({6.817861236321711, 4.5887842574030735}), {-0.369092019661986, 2.5, -7},
      {{{7.0636408424694741, 4.9155921229552568},
        {0.71059309566757389, 0.70360319242423441, 4.9155921229552568}, -2.3917086742220004, false},
       {{7.3508055683331461, 5.7432945172734327},
        {0.48221037566556263, 0.87605545121326478, 5.7432945172734327}, -3.0294154344906037, false},
       {{7.6558223736173154, 6.1003361056833816},
        {0.19686494783361594, 0.98043061575741686, 6.1003361056833816}, -4.4423562132399042,
        false}});
  // gymnasium_reference.py --env pendulum --state=-3.0,7.9 --actions=2,2,2  (speed clipped to 8)
  check_replay("Pendulum-v1", vec({-3.0, 7.9}), {2, 2, 2},
               {{{-2.6000000000000001, 8}, {-0.85688875336894732, -0.51550137182146416, 8},
                 -15.244999999999999, false},
                {{-2.2043313014433048, 7.9133739711339022},
                 {-0.59199742776441677, -0.80593985229687837, 7.9133739711339022}, -13.164, false},
                {{-1.8238853473477425, 7.6089190819112433},
                 {-0.25039576450993506, -0.96814356431031712, 7.6089190819112433},
                 -11.125225247224689, false}});
}
