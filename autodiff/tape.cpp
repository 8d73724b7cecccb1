// Where nodes and their matrices come from and go back to (the memory note of var.hpp).
//
// Each thread keeps a free list of released nodes and a pool of released matrix buffers, by
// size. A training loop builds graphs of the same shapes step after step, so from its second
// step on every node and every matrix comes from these: a steady-state step allocates nothing.
// Both are bounded (kMaxFreeNodes, kMaxPooledScalars), so that a program whose shapes keep
// changing (episodes of varying lengths) does not hoard buffers it will not reuse: a matrix that
// would exceed the bound empties the pool, which then refills with the shapes in use.
#include <algorithm>
#include <utility>

#include "autodiff/var.hpp"

namespace pgcpp::ad {

namespace {

constexpr std::size_t kMaxFreeNodes = 1 << 16;
constexpr Eigen::Index kMaxPooledScalars = Eigen::Index(1) << 23;  // 64 MiB of doubles

struct Bucket {
  Eigen::Index size;
  std::vector<Matrix> free;
};

struct Pools {
  std::vector<Node*> free_nodes;
  std::vector<Bucket> buckets;  // a handful of sizes per program: a linear search is fastest
  Eigen::Index pooled_scalars = 0;
  ~Pools();
};

// Thread-exit order: a Var that outlives this thread's pools (a static, another thread_local)
// is released straight to the heap. The flag is trivially destructible, so it stays readable.
thread_local bool t_pools_gone = false;
thread_local Pools t_pools;

Pools::~Pools() {
  t_pools_gone = true;
  for (Node* n : free_nodes) delete n;
}

}  // namespace

// Leaves m empty: its buffer goes to the pool, or back to the heap when the pool cannot take it.
void give_matrix(Matrix&& m) {
  Matrix buffer = std::move(m);
  const Eigen::Index size = buffer.size();
  if (size == 0 || t_pools_gone || size > kMaxPooledScalars) return;
  Pools& p = t_pools;
  if (p.pooled_scalars + size > kMaxPooledScalars) {
    p.buckets.clear();
    p.pooled_scalars = 0;
  }
  auto it = std::find_if(p.buckets.begin(), p.buckets.end(), [&](const Bucket& b) { return b.size == size; });
  if (it == p.buckets.end()) it = p.buckets.insert(p.buckets.end(), Bucket{size, {}});
  it->free.push_back(std::move(buffer));
  p.pooled_scalars += size;
}

Matrix take_matrix(Eigen::Index rows, Eigen::Index cols) {
  Matrix m;
  const Eigen::Index size = rows * cols;
  if (size > 0 && !t_pools_gone) {
    Pools& p = t_pools;
    for (Bucket& b : p.buckets)
      if (b.size == size && !b.free.empty()) {
        m = std::move(b.free.back());
        b.free.pop_back();
        p.pooled_scalars -= size;
        break;
      }
  }
  m.resize(rows, cols);  // keeps the buffer: the size is the same
  return m;
}

// A node with one reference and default contents.
Var make_node() {
  Node* n = nullptr;
  if (!t_pools_gone && !t_pools.free_nodes.empty()) {
    n = t_pools.free_nodes.back();
    t_pools.free_nodes.pop_back();
  } else {
    n = new Node;
    n->parents.reserve(3);  // every op but concat_cols has at most 3 inputs
  }
  n->refs = 1;
  return Var(n);
}

// The last reference is gone: return the node's matrices to the pool, drop its references to
// other nodes (which may release them in turn) and put it on the free list. Its parents' and
// index vectors keep their capacity for the next op that reuses the node.
void Var::drop() {
  Node* n = node_;
  node_ = nullptr;
  if (!n || --n->refs > 0) return;
  give_matrix(std::move(n->value));
  give_matrix(std::move(n->grad));
  give_matrix(std::move(n->payload.mask));
  n->parents.clear();
  n->payload.held = Var();
  n->payload.index.clear();
  n->adjoint = Var();
  n->backward = nullptr;
  n->op = "leaf";
  n->requires_grad = false;
  if (t_pools_gone || t_pools.free_nodes.size() >= kMaxFreeNodes) delete n;
  else t_pools.free_nodes.push_back(n);
}

// Both read other's node before dropping this one: other may live inside the node dropped.
Var& Var::operator=(const Var& other) noexcept {
  Node* incoming = other.node_;
  if (incoming) ++incoming->refs;
  drop();
  node_ = incoming;
  return *this;
}

Var& Var::operator=(Var&& other) noexcept {
  Node* incoming = other.node_;
  other.node_ = nullptr;
  drop();
  node_ = incoming;
  return *this;
}

}  // namespace pgcpp::ad
