// bench: the autodiff's cost against the same computation written by hand with plain Eigen.
//
// For each network, one iteration = forward + backward + Adam step on a fixed batch:
//   (a) 4-64-64-2 tanh MLP, batch 64, policy-gradient loss -mean(w_i log softmax(f(s_i))_{a_i})
//   (b) 3-256-256-1 ReLU MLP, batch 256, mean squared error
// The hand-written version preallocates every buffer and codes each derivative directly; the
// autodiff version is what the chapter's algorithms run. Reported: microseconds per iteration,
// GFLOP/s counting the matrix products only (2 N in out per product: 3 per layer, 2 for the
// first), and the ratio autodiff / hand-written, all measured in the same run (machines differ),
// in alternating blocks (machine load changes during a run, e.g. on a shared machine).
//
// Memory: the autodiff reuses a released graph's nodes and matrix buffers (autodiff/tape.cpp), so
// a warm iteration of (a) allocates nothing (tests/autodiff/test_tape.cpp checks it). With
// glibc's default settings, freed memory at the heap's top goes back to the kernel and is
// page-faulted back in, zeroed, when next used. The chapter's programs therefore tell glibc to
// keep freed memory (ad::keep_freed_memory(), autodiff/memory.hpp, called by run_experiment),
// and the benchmark measures under the same settings; --default-malloc measures under glibc's
// defaults instead.
//
// (c) one continuous SAC update (Section 3.4.8.2, steps 3-7: target, twin critics, actor,
// temperature, Polyak) at Example 3.8's width 256, batch 256, on Pendulum-v1's shapes: SacAgent::
// update (chapter3/3_4_8_sac.cpp) against the same update by hand (tools/bench/sac_hand.hpp).
// Its FLOPs count every matrix product either version forms; updates/s is 1 / (seconds per update).
// (d) one PPO-Clip minibatch update (Section 3.4.7, step 3) with the ppo demo's defaults: pi
// 4-64-64-2 and V 4-64-64-1 tanh, B = 256, clipped surrogate + value loss, global gradient clip,
// Adam: ppo_minibatch_loss + Optimizer::minimize (chapter3/3_4_7_ppo.cpp) against the same by hand.
// (e) one NPG Fisher-vector product (Section 3.4.4, step 5) on the npg demo's batch of 8 x 256
// CartPole states, pi 4-64-64-2 tanh, damping 0.1: FisherVectorProduct (the autodiff's
// Hessian-vector product of the mean KL) against J^T M J v by hand (tools/bench/ppo_npg_hand.hpp).
// --peers instead trains the peers' Pendulum-v1 configurations end to end (tools/bench/peers.hpp): RLtools'
// SAC at widths 64 and 256 and its PPO, CleanRL's SAC and DDPG; --rows picks some, --seed the seed.
// --clock cpu times each block by the thread's CPU time instead of the wall clock: on a shared
// machine that measures what one core does, while the wall clock also counts the time the
// thread waited for a core.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "chapter3/3_4_8_sac.hpp"
#include "experiment/cli.hpp"
#include "experiment/program.hpp"
#include "chapter3/3_4_7_ppo.hpp"
#include "chapter3/common/critic.hpp"
#include "chapter3/common/natural_gradient.hpp"
#include "tools/bench/fixtures.hpp"
#include "tools/bench/peers.hpp"
#include "tools/bench/sac_hand.hpp"
#include "tools/bench/ppo_npg_hand.hpp"

using namespace pgcpp;
using namespace pgcpp::ad;

namespace {

struct Spec {
  std::string name;
  std::vector<int> sizes;
  Activation act;
  int batch;
  bool policy_loss;
};

double flops_per_iteration(const Spec& s) {
  double f = 0;
  for (std::size_t l = 0; l + 1 < s.sizes.size(); ++l) f += (l == 0 ? 4.0 : 6.0) * s.batch * s.sizes[l] * s.sizes[l + 1];
  return f;
}


using clock_type = std::chrono::steady_clock;
bool g_cpu_clock = false;  // --clock cpu

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Seconds for `calls` calls of f.
double time_block(const std::function<void()>& f, int calls) {
  if (g_cpu_clock) {
    const double t0 = thread_cpu_seconds();
    for (int i = 0; i < calls; ++i) f();
    return thread_cpu_seconds() - t0;
  }
  const auto t0 = clock_type::now();
  for (int i = 0; i < calls; ++i) f();
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Number of calls of f that last at least min_block_seconds (the last sizing block warms up).
int block_size(const std::function<void()>& f, double min_block_seconds) {
  int calls = 1;
  while (time_block(f, calls) < min_block_seconds) calls *= 2;
  return calls;
}

// Median seconds per call of f and of g over 7 timed blocks each. Their blocks alternate, so
// that a change in machine load during the run affects both alike.
std::pair<double, double> time_per_call(const std::function<void()>& f, const std::function<void()>& g,
                                        double min_block_seconds) {
  const int calls_f = block_size(f, min_block_seconds), calls_g = block_size(g, min_block_seconds);
  std::vector<double> blocks_f, blocks_g;
  for (int r = 0; r < 7; ++r) {
    blocks_f.push_back(time_block(f, calls_f) / calls_f);
    blocks_g.push_back(time_block(g, calls_g) / calls_g);
  }
  auto median = [](std::vector<double>& v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {median(blocks_f), median(blocks_g)};
}

// ---- The hand-written version: plain Eigen, buffers reused, derivatives coded directly. ----
class HandWritten {
 public:
  HandWritten(const Spec& s, const Mlp& init, const Matrix& X, const Matrix& target, const std::vector<int>& actions)
      : spec_(s), X_(X), target_(target), actions_(actions) {
    const auto params = init.parameters().list();
    for (std::size_t l = 0; l + 1 < s.sizes.size(); ++l) {
      W_.push_back(params[2 * l].value());
      b_.push_back(params[2 * l + 1].value());
    }
    const std::size_t L = W_.size();
    H_.resize(L);
    A_.resize(L);
    dH_.resize(L);
    dA_.resize(L);
    dW_.resize(L);
    db_.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      H_[l].resize(s.batch, s.sizes[l + 1]);
      A_[l].resize(s.batch, s.sizes[l + 1]);
      dH_[l].resize(s.batch, s.sizes[l + 1]);
      dA_[l].resize(s.batch, s.sizes[l + 1]);
      mW_.push_back(Matrix::Zero(W_[l].rows(), W_[l].cols()));
      vW_.push_back(mW_.back());
      mb_.push_back(Matrix::Zero(1, b_[l].cols()));
      vb_.push_back(mb_.back());
    }
  }

  // The parameters in Mlp::parameters()' order: W and b of each layer.
  std::vector<Matrix> parameters() const {
    std::vector<Matrix> p;
    for (std::size_t l = 0; l < W_.size(); ++l) {
      p.push_back(W_[l]);
      p.push_back(b_[l]);
    }
    return p;
  }

  void iterate() {
    const std::size_t L = W_.size();
    const Scalar n = static_cast<Scalar>(spec_.batch);
    // forward
    for (std::size_t l = 0; l < L; ++l) {
      const Matrix& in = l == 0 ? X_ : A_[l - 1];
      H_[l].noalias() = in * W_[l];
      H_[l].rowwise() += b_[l].row(0);
      if (l + 1 < L) activate(H_[l], A_[l]);
    }
    // loss gradient dL/dY into dH_[L-1]
    Matrix& Y = H_[L - 1];
    if (spec_.policy_loss) {  // L = -1/n sum_i w_i log softmax(Y_i)_{a_i};  dY = w_i (softmax(Y_i) - e_{a_i}) / n
      auto& P = dH_[L - 1];
      P = (Y.colwise() - Y.rowwise().maxCoeff()).array().exp().matrix();
      P.array().colwise() /= P.array().rowwise().sum();
      for (int i = 0; i < spec_.batch; ++i) P(i, actions_[static_cast<std::size_t>(i)]) -= 1;
      P.array().colwise() *= target_.col(0).array() / n;
    } else {  // L = 1/n sum (Y - T)^2;  dY = 2 (Y - T) / n
      dH_[L - 1] = (2 / n) * (Y - target_);
    }
    // backward
    for (std::size_t l = L; l-- > 0;) {
      if (l + 1 < L) activation_grad(H_[l], A_[l], dA_[l], dH_[l]);
      const Matrix& in = l == 0 ? X_ : A_[l - 1];
      dW_[l].noalias() = in.transpose() * dH_[l];
      db_[l] = dH_[l].colwise().sum();
      if (l > 0) dA_[l - 1].noalias() = dH_[l] * W_[l].transpose();
    }
    // Adam
    ++k_;
    for (std::size_t l = 0; l < L; ++l) {
      adam(W_[l], dW_[l], mW_[l], vW_[l]);
      adam(b_[l], db_[l], mb_[l], vb_[l]);
    }
  }

 private:
  void activate(const Matrix& h, Matrix& a) const {
    if (spec_.act == Activation::Tanh) tanh_kernel(h.data(), a.data(), h.size());
    else a = h.cwiseMax(Scalar(0));
  }
  void activation_grad(const Matrix& h, const Matrix& a, const Matrix& da, Matrix& dh) const {
    if (spec_.act == Activation::Tanh) dh.array() = da.array() * (1 - a.array().square());
    else dh.array() = (h.array() > 0).select(da.array(), Scalar(0));
  }
  void adam(Matrix& theta, const Matrix& g, Matrix& m, Matrix& v) const {
    const Scalar b1 = Scalar(0.9), b2 = Scalar(0.999), lr = Scalar(1e-3), eps = Scalar(1e-8);
    m.array() = b1 * m.array() + (1 - b1) * g.array();
    v.array() = b2 * v.array() + (1 - b2) * g.array().square();
    const Scalar c1 = 1 - std::pow(b1, Scalar(k_)), c2 = 1 - std::pow(b2, Scalar(k_));
    theta.array() -= (lr / c1) * m.array() / ((v.array() / c2).sqrt() + eps);
  }

  Spec spec_;
  Matrix X_, target_;
  std::vector<int> actions_;
  std::vector<Matrix> W_, b_, H_, A_, dH_, dA_, dW_, db_, mW_, vW_, mb_, vb_;
  long k_ = 0;
};

// ---- The autodiff version: what the algorithms write. ----
struct Autodiff {
  Spec spec;
  Mlp net;
  Adam opt;
  Var X, target;
  std::vector<int> actions;
  Autodiff(const Spec& s, const Mlp& init, const Matrix& x, const Matrix& t, std::vector<int> a)
      : spec(s), net(init.clone()), opt(net.parameters(), StepSize::constant(Scalar(1e-3))), X(x), target(t), actions(std::move(a)) {}
  void iterate() {
    const Var y = net(X);
    const Var loss = spec.policy_loss ? -mean(pick(log_softmax(y), actions) * target) : mean(square(y - target));
    opt.zero_grad();
    backward(loss);
    opt.step();
  }
};

// (c): one SAC update, autodiff (SacAgent) against hand-written Eigen; returns the exit status.
int sac_row(int width, double seconds) {
  SacConfig cfg;
  cfg.hidden = std::vector<int>{width, width};
  const int B = cfg.batch_size;
  const std::unique_ptr<Env> env = make_env("Pendulum-v1");
  Rng init(1);
  SacAgent agent(cfg, env->spec(), init);
  bench::HandSac hand(agent.policy()->parameters(), agent.critic(1).parameters(), agent.critic(2).parameters(),
                      static_cast<Scalar>(cfg.alpha), B);
  // A fixed minibatch with Pendulum's shapes and ranges.
  Rng data(2);
  const ReplayBatch D = bench::pendulum_minibatch(B, data);
  // Both must do the same work: from the same start and the same draws, a few updates give the same
  // parameters up to rounding (observed: ~1e-16 in double, ~1e-7 in float), far below the 3e-4
  // that one Adam step moves a coordinate.
  Rng rng_ad(3), rng_hand(3);
  for (int k = 0; k < 3; ++k) {
    agent.update(D, rng_ad);
    hand.update(D, rng_hand);
  }
  const double diff = std::max({bench::max_difference(agent.policy()->parameters(), hand.actor()),
                                bench::max_difference(agent.critic(1).parameters(), hand.critic(1)),
                                bench::max_difference(agent.critic(2).parameters(), hand.critic(2)),
                                std::abs(std::log(agent.alpha()) - double(hand.log_alpha()))});
  if (!(diff <= 1e-5)) {
    std::fprintf(stderr, "(c) SAC update: hand-written and autodiff parameters differ by %g\n", diff);
    return 1;
  }
  Rng rng(4);
  const auto [t_hand, t_ad] = time_per_call([&] { hand.update(D, rng); }, [&] { agent.update(D, rng); }, seconds);
  const double f = hand.flops(B);
  char name[64];
  std::snprintf(name, sizeof name, "(c) SAC update, width %d, batch %d", width, B);
  std::printf("%-34s %12.1f %12.1f %10.2f %10.2f %7.2f\n", name, t_hand * 1e6, t_ad * 1e6, f / t_hand / 1e9, f / t_ad / 1e9,
              t_ad / t_hand);
  std::printf("    SAC updates/s: hand-written %.1f, autodiff %.1f (autodiff at %.0f%% of hand-written; %.0f MFLOP per update; "
              "clock: %s)\n", 1 / t_hand, 1 / t_ad, 100 * t_hand / t_ad, f / 1e6, g_cpu_clock ? "thread CPU time" : "wall");
  return 0;
}

void print_row(const char* name, double t_hand, double t_ad, double flops) {
  std::printf("%-34s %12.1f %12.1f %10.2f %10.2f %7.2f\n", name, t_hand * 1e6, t_ad * 1e6, flops / t_hand / 1e9,
              flops / t_ad / 1e9, t_ad / t_hand);
}

// (d): one PPO-Clip minibatch update, autodiff (ppo_minibatch_loss + minimize) against hand-written.
int ppo_row(double seconds) {
  PpoConfig cfg;
  const int B = cfg.minibatch;
  Rng init(1);
  const std::unique_ptr<CategoricalPolicy> policy = CategoricalPolicy::make(4, cfg.hidden, 2, Activation::Tanh, init);
  Mlp value = value_network(4, cfg.hidden, Activation::Tanh, init);
  bench::HandPpo hand(policy->parameters(), value.parameters(), B,
                      {static_cast<Scalar>(cfg.epsilon), static_cast<Scalar>(cfg.c_v),
                       static_cast<Scalar>(cfg.max_grad_norm), static_cast<Scalar>(cfg.lr)});
  ParameterSet theta_phi = policy->parameters();
  theta_phi.add(value.parameters());
  Adam adam(theta_phi, StepSize::constant(static_cast<Scalar>(cfg.lr)));
  // A fixed minibatch: CartPole-like states, actions and log pi_k of a nearby policy, A, V_targ.
  Rng data(2);
  const bench::PpoMinibatch m = bench::ppo_minibatch(*policy, B, data);
  const auto& [s, a, log_pi_k, A, v_targ, actions] = m;
  auto autodiff = [&] { adam.minimize(ppo_minibatch_loss(cfg, *policy, value, s, a, log_pi_k, A, v_targ, 0).J,
                                      static_cast<Scalar>(cfg.max_grad_norm)); };
  auto by_hand = [&] { hand.update(s, actions, log_pi_k, A, v_targ); };
  // The same work: from the same start, a few updates give the same parameters up to rounding
  // (observed ~1e-15 in double), far below the 1e-3 that one Adam step moves a coordinate.
  for (int k = 0; k < 3; ++k) autodiff(), by_hand();
  const double diff = std::max(bench::max_difference(policy->parameters(), hand.policy()),
                               bench::max_difference(value.parameters(), hand.value()));
  if (!(diff <= 1e-5)) {
    std::fprintf(stderr, "(d) PPO update: hand-written and autodiff parameters differ by %g\n", diff);
    return 1;
  }
  const auto [t_hand, t_ad] = time_per_call(by_hand, autodiff, seconds);
  print_row("(d) PPO-Clip update, 64-64, B 256", t_hand, t_ad, hand.flops(B));
  return 0;
}

// (e): one Fisher-vector product, autodiff Hessian-vector product against J^T M J v by hand.
int fvp_row(double seconds) {
  Rng init(3);
  const std::unique_ptr<CategoricalPolicy> policy = CategoricalPolicy::make(4, {64, 64}, 2, Activation::Tanh, init);
  const int N = 8 * 256;
  Matrix obs(N, 4);
  for (Eigen::Index i = 0; i < obs.size(); ++i) obs(i) = static_cast<Scalar>(init.uniform(-1, 1));
  const Scalar damping = Scalar(0.1);
  const FisherVectorProduct F(*policy, obs, damping);
  bench::HandFisher hand(policy->parameters(), obs, damping);
  Vector v(F.dim());
  for (Eigen::Index i = 0; i < v.size(); ++i) v(i) = static_cast<Scalar>(init.normal());
  // The same product: equal up to rounding (observed ~1e-15 relative in double).
  const double rel = double((F(v) - hand(v)).norm() / hand(v).norm());
  if (!(rel <= 1e-6)) {
    std::fprintf(stderr, "(e) Fisher-vector product: hand-written and autodiff differ by %g (relative)\n", rel);
    return 1;
  }
  Vector sink = v;
  const auto [t_hand, t_ad] = time_per_call([&] { sink = hand(v); }, [&] { sink = F(v); }, seconds);
  print_row("(e) NPG F v, 64-64, N 2048", t_hand, t_ad, hand.flops());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  struct Config : Params {
    Param<double> block_seconds{this, "--block-seconds", 0.2, "minimum length of one timed block",
                                Range<double>::open_closed(0, 60)};
    Param<bool> default_malloc{this, "--default-malloc", false,
                               "keep glibc's default malloc settings (the chapter's programs change them)"};
    Param<std::string> clock{this, "--clock", "wall", "time blocks by the wall clock or by the thread's CPU time",
                             {"wall", "cpu"}};
    Param<int> sac_width{this, "--sac-width", 256, "hidden width of (c)'s networks (Example 3.8: 256)", {1, 4096}};
    Param<bool> peers{this, "--peers", false,
                      "instead of (a)-(e): train the peers' Pendulum-v1 configurations end to end (RLtools, CleanRL)"};
    Param<std::string> rows{this, "--rows", "all",
                            "--peers: all, or comma-separated rows among sac64, sac256, ppo, cleanrl_sac, cleanrl_ddpg"};
    Param<std::uint64_t> seed{this, "--seed", 1, "--peers: the seed of every row", {0, 1'000'000'000}};
  } cfg;
  Cli cli("bench", "Autodiff forward+backward+Adam against hand-written Eigen (Section 3.1 machinery); with --peers, "
                   "the peers' Pendulum-v1 benchmark configurations trained end to end.");
  cli.add(cfg);
  cli.parse(argc, argv);
  std::vector<bench::PeerRow> peer_rows;
  if (const std::string expected = bench::select_peer_rows(cfg.rows, peer_rows); !expected.empty())
    cli.usage_error("invalid value " + shown_value(cfg.rows) + " for --rows: expected " + expected);
  cli.require(cfg.peers || (!cli.given("--rows") && !cli.given("--seed")), "--rows and --seed need --peers");
  if (cfg.peers) {
    if (!cfg.default_malloc) ad::keep_freed_memory();  // as run_experiment does for the demos
    return run_program(cli, [&] { return bench::run_peer_rows(peer_rows, cfg.seed); });
  }
  const double seconds = cfg.block_seconds;
  const bool default_malloc = cfg.default_malloc;
  g_cpu_clock = cfg.clock() == "cpu";
  if (!default_malloc) ad::keep_freed_memory();

  const std::vector<Spec> specs{{"(a) 4-64-64-2 tanh, batch 64", {4, 64, 64, 2}, Activation::Tanh, 64, true},
                                {"(b) 3-256-256-1 relu, batch 256", {3, 256, 256, 1}, Activation::ReLU, 256, false}};
  std::printf("scalar: %s, malloc: %s   (targets: ratio <= 3 for (a), <= 1.5 for (b))\n", sizeof(Scalar) == 8 ? "double" : "float",
              default_malloc ? "glibc defaults" : "keeps freed memory");
  std::printf("%-34s %12s %12s %10s %10s %7s\n", "network", "hand us/it", "autodiff us", "hand GF/s", "ad GF/s", "ratio");
  for (const Spec& s : specs) {
    Rng rng(1);
    Mlp init(s.sizes, s.act, rng);
    Matrix X(s.batch, s.sizes.front()), T(s.batch, 1);
    std::vector<int> actions(static_cast<std::size_t>(s.batch));
    for (Eigen::Index i = 0; i < X.size(); ++i) X(i) = static_cast<Scalar>(rng.uniform(-1, 1));
    for (Eigen::Index i = 0; i < T.size(); ++i) T(i) = static_cast<Scalar>(rng.uniform(-1, 1));
    for (int& a : actions) a = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(s.sizes.back())));
    HandWritten hand(s, init, X, T, actions);
    Autodiff autodiff(s, init, X, T, actions);
    // Both versions must do the same work: from the same start, a few iterations must give the
    // same parameters up to rounding (observed: 1e-15 in double, 1e-6 in float), far below the
    // 1e-3 that one Adam step moves a coordinate.
    for (int k = 0; k < 3; ++k) {
      hand.iterate();
      autodiff.iterate();
    }
    const std::vector<Matrix> hand_params = hand.parameters();
    const ParameterSet ad_params = autodiff.net.parameters();
    for (std::size_t i = 0; i < hand_params.size(); ++i) {
      const Scalar diff = (hand_params[i] - ad_params.list()[i].value()).cwiseAbs().maxCoeff();
      if (!(diff <= Scalar(1e-5))) {
        std::fprintf(stderr, "%s: hand-written and autodiff parameters %zu differ by %g\n", s.name.c_str(), i, double(diff));
        return 1;
      }
    }
    const auto [t_hand, t_ad] = time_per_call([&] { hand.iterate(); }, [&] { autodiff.iterate(); }, seconds);
    const double f = flops_per_iteration(s);
    std::printf("%-34s %12.1f %12.1f %10.2f %10.2f %7.2f\n", s.name.c_str(), t_hand * 1e6, t_ad * 1e6, f / t_hand / 1e9,
                f / t_ad / 1e9, t_ad / t_hand);
  }
  if (const int status = sac_row(cfg.sac_width, seconds); status != 0) return status;
  if (const int status = ppo_row(seconds); status != 0) return status;
  return fvp_row(seconds);
}
