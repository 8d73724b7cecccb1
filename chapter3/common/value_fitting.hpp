// Step 3 of NPG (Section 3.4.4) and TRPO (Section 3.4.6): fit the critic V_phi to the batch's
// lambda-return targets V_targ (3.39) by minibatch regression. (PPO, Section 3.4.7, fits V_phi
// inside its own joint loss instead; REINFORCE with a baseline, Section 3.2.4, fits its own.)
#pragma once

#include "autodiff/autodiff.hpp"

namespace pgcpp {

// `epochs` passes over the batch in shuffled minibatches of `minibatch` rows, one optimizer
// step each on 1/B sum (V_phi(s) - V_targ)^2, gradient norm clipped to max_norm (0 = none); the
// n mod B rows left over by a shuffle wait for the next epoch's. Returns the mean minibatch loss
// of the last epoch.
double fit_value_function(ad::Mlp& value, ad::Optimizer& optimizer, const Matrix& obs, const Matrix& target,
                          int epochs, int minibatch, Scalar max_norm, Rng& rng);

}  // namespace pgcpp
