// Where training stopped, in an error's message: the training loops of NPG (Section 3.4.4), TRPO
// (3.4.6) and PPO (3.4.7) rethrow a failure of update k with its number.
#pragma once

#include <exception>

namespace pgcpp {

// An exception from update k (counted from 0) rethrown as std::runtime_error "update k+1: what",
// the numbering of RunLog::set_loss's messages, unless its message already names the update: a
// failure deep inside (a CG breakdown, a non-finite action) then says where training stopped.
[[noreturn]] void rethrow_at_update(long k, const std::exception& e);

}  // namespace pgcpp
