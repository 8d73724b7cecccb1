#include "chapter3/common/update_error.hpp"

#include <stdexcept>
#include <string>

namespace pgcpp {

void rethrow_at_update(long k, const std::exception& e) {
  const std::string what = e.what();
  if (what.rfind("update ", 0) == 0) throw std::runtime_error(what);
  throw std::runtime_error("update " + std::to_string(k + 1) + ": " + what);
}

}  // namespace pgcpp
