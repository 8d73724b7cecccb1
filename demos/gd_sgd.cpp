// Section 3.1 — Gradient-based optimization.  Equations (3.1)-(3.11), Theorems 3.1-3.4.
//
// GD and SGD, run with the library's optimizers (autodiff/optim.hpp), on two functions whose
// L, mu, minimizer theta* and minimum f* are known exactly (chapter3/3_1_gradient_optimization.hpp):
//   (a) a smooth convex function that is NOT strongly convex (flat bottom, linear tails),
//         f(theta) = sum_i w_i psi(u_i^T (theta - theta*)),  psi(x) = 4/3 (log cosh x - tanh(x)^2/2),
//       L = max w_i, f* = 0, and ||grad f|| bounded, so G^2 of Theorem 3.3 holds on all of R^2;
//   (b) a strongly convex quadratic f(theta) = 1/2 (theta - theta*)^T A (theta - theta*) with the
//       eigenvalues of A equal to mu and L (flags).
// Each iterate curve is drawn next to the bound the book states for it; the SGD expectations are
// estimated over --runs seeded runs. Then Section 3.1.4's three refinements on the same functions:
// momentum, adaptive step sizes (AdaGrad, RMSProp, Adam) and a second-order method (Newton's,
// with the Hessian from the autodiff's second derivatives, pure and with a backtracking line
// search); and the two graphs the book leaves as TODOs: the kinds of stationary points (Section
// 3.1.2.1) and GD vs SGD paths over a convex function at the same step size (Section 3.1.3).
//
//   gd_sgd [--mu 1] [--L 4] [--steps 1000] [--sgd-steps 2000] [--alpha 0.05] [--sigma 1]
//          [--runs 200] [--seed 0] [--out runs/gd_sgd] [--quiet]
//
// Writes five SVG figures to --out (see the list at the end of main) and prints each theorem's
// worst ratio of iterate to bound, which Theorems 3.1-3.4 say is at most 1. Sizes are bounded at
// parse time (--runs x (--sgd-steps + 1) <= 4e6 keeps the SGD runs' matrices under 130 MB); a
// result that overflows (e.g. SGD with alpha_0 = 1/mu far above 2/L) stops the program with exit
// status 1 and one line, rather than a figure or a line showing inf or nan.
//
// The bounds, step sizes and test functions are chapter3/3_1_gradient_optimization.hpp's; each
// figure is drawn by a gd_sgd_*.cpp file next to this one (gd_sgd_figures.hpp lists them).
#include <cstdio>
#include <string>
#include <vector>

#include "experiment/cli.hpp"
#include "experiment/program.hpp"
#include "gd_sgd_figures.hpp"

using namespace pgcpp;
using namespace pgcpp::gd_sgd;

int main(int argc, char** argv) {
  Config cfg;
  Cli cli("gd_sgd", "Section 3.1: GD and SGD against the bounds of Theorems 3.1-3.4, Section 3.1.4's optimizers, "
                    "stationary points and GD vs SGD paths. Writes SVG figures.");
  cli.add(cfg);
  cli.note("GD step sizes are the theorems' own (fractions of 1/L, 2/(mu+L)); SGD uses --alpha for (3.9), "
           "||theta_0 - theta*|| / (G sqrt(k+1)) for (3.10) and 1/(mu (k+1)) for (3.11).");
  cli.parse(argc, argv);
  cli.require(cfg.L >= cfg.mu, "need --mu <= --L, got --mu " + cfg.mu.text() + " and --L " + cfg.L.text());
  // Four runs x (K + 1) matrices of doubles per SGD experiment.
  cli.require(static_cast<double>(cfg.runs) * (cfg.sgd_steps + 1.0) <= 4e6,
              "need --runs x (--sgd-steps + 1) <= 4000000, got --runs " + cfg.runs.text() + " and --sgd-steps " +
                  cfg.sgd_steps.text());
  return run_program(cli, [&] {
    make_output_dir(cfg.out(), "--out");

    // (a) convex, L-smooth, not strongly convex: weights L and L/4 along axes tilted by 30 degrees.
    const FlatBottom convex((VectorD(2) << cfg.L, cfg.L / 4).finished(), kAngle, kThetaStar);
    // (b) mu-strongly convex and L-smooth: eigenvalues L and mu.
    const Quadratic quad((VectorD(2) << cfg.L, cfg.mu).finished(), kAngle, kThetaStar);

    std::vector<std::string> written;
    written.push_back(stationary_points_figure(cfg));
    written.push_back(gd_figure(cfg, convex, quad));
    written.push_back(sgd_figure(cfg, convex, quad));
    written.push_back(paths_figure(cfg, convex, quad));
    written.push_back(optimizers_figure(cfg, convex, quad));
    for (const auto& f : written) std::printf("wrote %s\n", f.c_str());
    return 0;
  });
}
