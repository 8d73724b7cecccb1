#include <stdexcept>

#include "envs/cartpole.hpp"
#include "envs/env.hpp"
#include "envs/pendulum.hpp"

namespace pgcpp {

std::unique_ptr<Env> make_env(const std::string& name) {
  if (name == "cartpole" || name == "CartPole-v1") return std::make_unique<CartPole>();
  if (name == "pendulum" || name == "Pendulum-v1") return std::make_unique<Pendulum>();
  throw std::invalid_argument("make_env: unknown environment '" + name +
                              "'; valid names: cartpole, CartPole-v1, pendulum, Pendulum-v1");
}

}  // namespace pgcpp
