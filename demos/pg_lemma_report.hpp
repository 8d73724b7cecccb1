// The demo pg_lemma's table and figure (Section 3.2.2): what its main() (pg_lemma.cpp) computed,
// printed and drawn. The estimators and their comparison are chapter3/3_2_2_pg_lemma.hpp's.
#pragma once

#include <cstdint>
#include <string>

#include "chapter3/3_2_2_pg_lemma.hpp"

namespace pgcpp::pg_lemma {

// How the comparison was run, as the table and the figure name it.
struct Setting {
  std::uint64_t seed;
  int T, reps, max_trajectories;
};

// The exact quantities the estimators are compared with.
struct Exact {
  double J;                 // J(theta) = rho^T V^pi (3.15)
  MatrixD grad_J, grad_fd;  // grad J by the value form (3.20), and by central differences of J
  VectorD V, b_star;        // the baselines: V^pi and b* of (3.28)
};

// Prints the MDP, the check of grad J, the baselines, mean ||g_N - grad J|| per N, and tr Cov.
void print_tables(const TabularMdp& mdp, const Setting& setting, const Exact& exact, const EstimatorComparison& c);

// <out>/pg_lemma.svg: error against N, and N times the mean squared error (= tr Cov for an
// unbiased estimator) against N. Returns the file written.
std::string draw_figure(const std::string& out, const TabularMdp& mdp, const Setting& setting,
                        const EstimatorComparison& c);

}  // namespace pgcpp::pg_lemma
