// ppo_clip_objective: Fig. 3.16 of Section 3.4.7.2, the clipped objective of one sample,
//   L^CLIP(r, A) = min(r A, clip(r, 1 - eps, 1 + eps) A)                                  (3.58)
// against the ratio r for A > 0 and A < 0, computed by the same clipped_surrogate that PPO trains
// with (chapter3/3_4_7_ppo.cpp), with its derivative dL/dr from the autodiff underneath: A inside
// the clip range, 0 past 1 + eps (A > 0) or below 1 - eps (A < 0), the flat "profitable" sides of
// the book's case analysis. The book borrows the figure from the PPO paper.
//
//   ppo_clip_objective [--epsilon 0.2] [--out runs/ppo_clip_objective] [--quiet]
#include <cstdio>
#include <string>
#include <vector>

#include "chapter3/3_4_7_ppo.hpp"
#include "experiment/cli.hpp"
#include "experiment/program.hpp"
#include "plot/plot.hpp"

using namespace pgcpp;
namespace plot = pgcpp::plot;

namespace {

struct Config : Params {
  Param<double> epsilon{this, "--epsilon", 0.2, "epsilon, the clip range of (3.58)", Range<double>::open_closed(0, 0.9)};
  Param<std::string> out{this, "--out", "runs/ppo_clip_objective", "directory for fig_3_16.svg"};
  Param<bool> quiet{this, "--quiet", false, "print nothing but errors"};
};

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  Cli cli("ppo_clip_objective", "Fig. 3.16 (Section 3.4.7.2): PPO's clipped objective L^CLIP(r, A) (3.58) and its "
                                "derivative in r, for A > 0 and A < 0, from the objective code PPO trains with.");
  cli.add(cfg);
  cli.parse(argc, argv);
  return run_program(cli, [&] {
    make_output_dir(cfg.out(), "--out");
    const auto eps = static_cast<Scalar>(cfg.epsilon);
    const int n = 401;
    Matrix r_grid(n, 1);
    std::vector<double> r(n);
    for (int i = 0; i < n; ++i) {
      r[static_cast<std::size_t>(i)] = 2.0 * i / (n - 1);
      r_grid(i, 0) = static_cast<Scalar>(r[static_cast<std::size_t>(i)]);
    }
    plot::Figure fig(2, 2, 900, 640);
    char eps_text[32];
    std::snprintf(eps_text, sizeof eps_text, "%g", cfg.epsilon());
    fig.title(std::string("Fig. 3.16 — PPO's clipped objective for one sample, epsilon = ") + eps_text);
    int col = 0;
    for (Scalar A : {Scalar(1), Scalar(-1)}) {
      ad::Var ratio(r_grid, true);
      const ad::Var L = clipped_surrogate(ratio, Matrix::Constant(n, 1, A), eps);
      const Matrix dL = ad::grad(ad::sum(L), {ratio})[0].value();
      std::vector<double> l(n), d(n);
      for (int i = 0; i < n; ++i) {
        l[static_cast<std::size_t>(i)] = static_cast<double>(L.value()(i, 0));
        d[static_cast<std::size_t>(i)] = static_cast<double>(dL(i, 0));
      }
      const std::string side = A > 0 ? "A > 0" : "A < 0";
      plot::Axes& top = fig.panel(0, col);
      top.line(r, l, {.label = "L^CLIP(r, A), A = " + std::string(A > 0 ? "+1" : "-1"), .width = 2.2})
          .vline(1 - cfg.epsilon(), {.label = "1 - eps"})
          .vline(1 + cfg.epsilon(), {.label = "1 + eps", .dash = "2 3"})
          .vline(1.0, {.color = "#bbb", .dash = "1 3"})
          .title(side)
          .xlabel("r = pi_theta(a|s) / pi_theta_k(a|s)")
          .ylabel("L^CLIP");
      plot::Axes& bottom = fig.panel(1, col);
      bottom.line(r, d, {.label = "dL^CLIP/dr (autodiff)", .width = 2.2})
          .vline(1 - cfg.epsilon(), {})
          .vline(1 + cfg.epsilon(), {.dash = "2 3"})
          .ylim(-1.3, 1.3)
          .xlabel("r")
          .ylabel("dL^CLIP/dr");
      ++col;
    }
    const std::string path = (std::filesystem::path(cfg.out()) / "fig_3_16.svg").string();
    write_file_atomically(path, fig.str());
    if (!cfg.quiet) std::printf("Fig. 3.16 -> %s\n", path.c_str());
    return 0;
  });
}
