#include "chapter3/common/segment_solved_rule.hpp"

namespace pgcpp {

bool SegmentSolvedRule::record(const Segment& segment) {
  if (window_ <= 0) return false;
  for (const Segment::Finished& f : segment.finished) {
    recent_.push_back(f.episode_return);
    if (static_cast<int>(recent_.size()) > window_) recent_.erase(recent_.begin());
  }
  if (static_cast<int>(recent_.size()) < window_) return false;
  double sum = 0;
  for (double r : recent_) sum += r;
  return sum / window_ >= target_;
}

}  // namespace pgcpp
