// When the on-policy demos of Section 3.4 (NPG 3.4.4, TRPO 3.4.6, PPO 3.4.7) stop early: the
// REINFORCE scripts' rule (SolvedRule, chapter3/common/rollout.hpp) over VecEnv segments, whose
// episodes end anywhere in the copies.
#pragma once

#include <vector>

#include "chapter3/common/segment.hpp"

namespace pgcpp {

// record() is true once the last `window` episodes finished so far average at least `target`;
// window 0 never stops.
class SegmentSolvedRule {
 public:
  SegmentSolvedRule(double target, int window) : target_(target), window_(window) {}
  bool record(const Segment& segment);

 private:
  double target_;
  int window_;
  std::vector<double> recent_;  // the last `window` returns, oldest first
};

}  // namespace pgcpp
