#include "chapter3/experiment/demo.hpp"

#include <charconv>
#include <sstream>
#include <stdexcept>

namespace pgcpp {

TrainResult policy_result(std::shared_ptr<const Policy> policy) {
  return TrainResult{policy->parameters(), policy->describe(),
                     [policy](const Eigen::VectorXd& s) { return policy->act_mode(s); }};
}

std::unique_ptr<Policy> rebuild_policy(const std::string& architecture, const Vector& theta) {
  // "<kind> <sizes joined by '-'> <activation>"
  std::istringstream in(architecture);
  std::string kind, sizes_text, activation;
  in >> kind >> sizes_text >> activation;
  std::vector<int> sizes;
  std::stringstream sizes_in(sizes_text);
  for (std::string item; std::getline(sizes_in, item, '-');) {
    int n = 0;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (error != std::errc() || end != item.data() + item.size() || n < 1)
      throw std::invalid_argument("policy architecture '" + architecture + "': bad layer sizes");
    sizes.push_back(n);
  }
  if (kind != "categorical" || sizes.size() < 2)
    throw std::invalid_argument("policy architecture '" + architecture +
                                "' is not one this demo can rebuild (expected e.g. 'categorical 4-128-128-2 tanh')");
  Rng rng(0);  // the initial values are overwritten by theta
  auto policy = std::make_unique<CategoricalPolicy>(ad::Mlp(sizes, ad::parse_activation(activation), rng));
  ad::ParameterSet parameters = policy->parameters();
  if (parameters.count() != theta.size())
    throw std::invalid_argument("policy architecture '" + architecture + "' has " + std::to_string(parameters.count()) +
                                " parameters, the file holds " + std::to_string(theta.size()));
  parameters.unflatten(theta);
  return policy;
}

ActFn restore_policy(const PolicyFile& file) {
  std::shared_ptr<const Policy> policy = rebuild_policy(file.architecture, file.theta);
  return [policy](const Eigen::VectorXd& s) { return policy->act_mode(s); };
}

}  // namespace pgcpp
