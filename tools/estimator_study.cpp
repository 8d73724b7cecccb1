// estimator_study: bias and variance of a policy-gradient estimator against the exact gradient on a
// small random MDP solved exactly — the gallery's claims 2 and 3 (tools/estimator_study.hpp holds
// the estimators and says what each measures).
//
//   estimator_study --study gae  --lambdas 0,0.5,0.9,0.95,1 --out runs/gae_bias
//       GAE (3.35), (3.37) from a critic V_hat = V^pi + eps (--critic-error: the SD of eps over states,
//       in units of the SD of V^pi): bias ||mean g - grad J|| and tr Cov g per trajectory, for each lambda
//   estimator_study --study clip --clips 0.5,1,2,5,10 --out runs/clip_bias
//       the clipped-ratio estimator of (3.43) with the exact advantage: exact bias and tr Cov for each c,
//       and without clipping
//
// Prints one table row per lambda or c and writes estimator_study.svg (bias and variance panels).
// It lives in tools/: a study of two estimators, not the demo of a section.
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "chapter3/common/params.hpp"
#include "estimator_study.hpp"
#include "experiment/program.hpp"
#include "experiment/run.hpp"
#include "plot/plot.hpp"

using namespace pgcpp;
using namespace pgcpp::estimator_study;

namespace {

std::vector<double> parse_list(const Cli& cli, const std::string& flag, const std::string& text, double lo, double hi) {
  const std::string invalid = "invalid value " + shown_value(text) + " for " + flag + ": expected 1 to 20 comma-separated "
                              "numbers in [" + detail::number_text(lo) + ", " + detail::number_text(hi) + "]";
  std::vector<std::string> items;
  cli.require(detail::split_list(text, items) && !items.empty() && items.size() <= 20, invalid);
  std::vector<double> out;
  for (const std::string& item : items) {
    double v = 0;
    cli.require(detail::parse_number(item, v).empty() && v >= lo && v <= hi, invalid);
    out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  struct Config : Params {
    Param<std::string> study{this, "--study", "gae", "gae: GAE's lambda (3.3.3); clip: the clipped ratio of (3.43) (3.3.4)",
                             {"gae", "clip"}};
    Param<std::string> lambdas{this, "--lambdas", "0,0.5,0.9,0.95,1", "--study gae: the lambdas, comma-separated in [0, 1]"};
    Param<std::string> clips{this, "--clips", "0.5,1,1.5,2,3,5", "--study clip: the clip levels c, comma-separated in (0, 1e6]"};
    Param<int> trajectories{this, "--trajectories", 20000, "--study gae: trajectories N (the same for every lambda)",
                            {2, 10'000'000}};
    Param<double> critic_error{this, "--critic-error", 0.5,
                               "--study gae: SD of the critic's error eps(s) over states, in units of the SD of V^pi", {0, 100}};
    Param<int> states{this, "--states", 6, "states of the random MDP", {2, 1000}};
    Param<int> actions{this, "--actions", 3, "actions of the random MDP", {2, 100}};
    Param<double> gamma{this, "--gamma", 0.9, "discount gamma", {0, 0.999}};
    Param<int> seed{this, "--seed", 7, "seed of the MDP, the policies, the critic's error and the sampling", {0, 1'000'000'000}};
    Param<std::string> out{this, "--out", "runs/estimator_study", "output folder (estimator_study.svg)"};
  } cfg;
  Cli cli("estimator_study",
          "Bias and variance of a policy-gradient estimator against the exact gradient on a random MDP solved exactly: "
          "GAE for a sweep of lambda (3.3.3), or the clipped importance ratio of (3.43) for a sweep of c (3.3.4).");
  cli.add(cfg);
  cli.note("The policy pi is tabular softmax with theta ~ N(0, 1); for --study clip the behavior mu is another, "
           "theta_mu ~ N(0, 1.5^2). GAE's trajectories are cut at T with gamma^T <= 1e-6 and bootstrap V_hat(s_T).");
  cli.parse(argc, argv);
  const bool gae = cfg.study() == "gae";
  const std::vector<double> lambdas = parse_list(cli, "--lambdas", cfg.lambdas(), 0, 1);  // both checked,
  const std::vector<double> clips = parse_list(cli, "--clips", cfg.clips(), 1e-9, 1e6);    // whichever runs
  const std::vector<double>& xs = gae ? lambdas : clips;
  return run_program(cli, [&] {
    make_output_dir(cfg.out(), "--out");
    Rng rng(static_cast<std::uint64_t>(cfg.seed()));
    const TabularMdp mdp = random_mdp({.states = cfg.states(), .actions = cfg.actions(), .gamma = cfg.gamma(),
                                       .seed = static_cast<std::uint64_t>(cfg.seed())});
    auto random_theta = [&](double sd) {
      MatrixD theta(mdp.S, mdp.A);
      for (int i = 0; i < theta.size(); ++i) theta(i) = sd * rng.normal();
      return theta;
    };
    const MatrixD pi = softmax_policy(random_theta(1.0));
    std::vector<BiasVariance> rows;
    double no_clip_var = 0;
    if (gae) {
      const VectorD V = mdp.V(pi);
      const double sd_V = std::sqrt((V.array() - V.mean()).square().mean());
      VectorD V_hat = V;
      for (int s = 0; s < mdp.S; ++s) V_hat(s) += cfg.critic_error() * sd_V * rng.normal();
      const MatrixD grad_J = pg_lemma::value_form_gradient(mdp, pi);  // (3.20), exact
      const int T = pg_lemma::horizon_for(mdp.gamma, 1e-6);
      std::vector<Path> paths;
      for (int i = 0; i < cfg.trajectories(); ++i) paths.push_back(sample_path(mdp, pi, T, rng));
      rows = gae_study(paths, pi, V_hat, mdp.gamma, xs, grad_J);
      std::printf("GAE on a random MDP (%d states, %d actions, gamma %g), critic error SD %g x SD(V) = %.3f, "
                  "%d trajectories of %d steps; ||grad J|| = %.4f\n", mdp.S, mdp.A, mdp.gamma, cfg.critic_error(),
                  cfg.critic_error() * sd_V, cfg.trajectories(), T, grad_J.norm());
      std::printf("  lambda     bias ||mean g - grad J||   SE of it   bias/SE   tr Cov g (one trajectory)\n");
      for (std::size_t i = 0; i < xs.size(); ++i)
        std::printf("  lambda %-6g bias %.5f  SE %.5f  bias/SE %6.2f  variance %.5f\n", xs[i], rows[i].bias,
                    rows[i].bias_se, rows[i].bias / rows[i].bias_se, rows[i].tr_cov);
    } else {
      const MatrixD mu = softmax_policy(random_theta(1.5));
      MatrixD target;
      const BiasVariance none = clipped_ratio_exact(mdp, pi, mu, std::numeric_limits<double>::infinity(), &target);
      no_clip_var = none.tr_cov;
      for (double c : xs) rows.push_back(clipped_ratio_exact(mdp, pi, mu, c));
      const double rho_max = (pi.array() / mu.array()).maxCoeff();
      std::printf("clipped ratio min(rho, c) on a random MDP (%d states, %d actions, gamma %g), exact advantage; "
                  "largest rho = %.3f; ||target|| = %.4f\n", mdp.S, mdp.A, mdp.gamma, rho_max, target.norm());
      for (std::size_t i = 0; i < xs.size(); ++i)
        std::printf("  c %-8g bias %.6f  variance %.6f\n", xs[i], rows[i].bias, rows[i].tr_cov);
      std::printf("  c inf      bias %.6f  variance %.6f\n", none.bias, none.tr_cov);
    }

    plot::Figure fig(1, 2, 1000, 400);
    fig.title(gae ? "GAE: bias and variance of the gradient estimate against lambda (exact MDP, inexact critic)"
                  : "Clipped importance ratio (3.43): exact bias and variance against c");
    std::vector<double> bias, var, lo, hi;
    for (const BiasVariance& r : rows) {
      bias.push_back(r.bias);
      var.push_back(r.tr_cov);
      lo.push_back(std::max(0.0, r.bias - 2 * r.bias_se));
      hi.push_back(r.bias + 2 * r.bias_se);
    }
    const std::string x_label = gae ? "lambda" : "clip c";
    plot::Axes& b = fig.panel(0, 0);
    if (gae) b.band(xs, lo, hi, {.opacity = 0.18});
    b.line(xs, bias, {.label = gae ? "||mean g - grad J|| (band: ± 2 SE)" : "||E g - g*||", .width = 2, .marker_size = 3})
        .xlabel(x_label)
        .ylabel("bias");
    if (!gae) b.hline(0, {.label = "no clipping: 0"});
    plot::Axes& v = fig.panel(0, 1);
    v.line(xs, var, {.label = "tr Cov g", .width = 2, .marker_size = 3}).xlabel(x_label).ylabel("variance");
    if (!gae) v.hline(no_clip_var, {.label = "no clipping"});
    const std::filesystem::path out = cfg.out();
    remove_previous_outputs(out);
    fig.save((out / "estimator_study.svg").string());
    record_outputs(out, {"estimator_study.svg"});
    std::printf("  -> %s/estimator_study.svg\n", out.string().c_str());
    return 0;
  });
}
