// Counting heap allocations in a test executable: include in exactly one translation unit of it.
//
// Allocations are counted by replacing malloc/calloc/realloc (operator new and Eigen's aligned
// allocations go through malloc), which counts every heap allocation of the process. Under
// AddressSanitizer, which owns malloc, nothing is replaced and PGCPP_COUNT_ALLOCATIONS is 0:
// mark the counting tests `* doctest::skip(!PGCPP_COUNT_ALLOCATIONS)`.
#pragma once

#include <atomic>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define PGCPP_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PGCPP_COUNT_ALLOCATIONS 0
#endif
#endif
#if !defined(PGCPP_COUNT_ALLOCATIONS) && defined(__GLIBC__)
#define PGCPP_COUNT_ALLOCATIONS 1
#endif
#if !defined(PGCPP_COUNT_ALLOCATIONS)
#define PGCPP_COUNT_ALLOCATIONS 0
#endif

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

#if PGCPP_COUNT_ALLOCATIONS
// glibc's own allocator under its exported names; the definitions below count, then forward.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t n, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void __libc_free(void* p);

void* malloc(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
void free(void* p) { __libc_free(p); }
}
#endif

namespace {
// Heap allocations made while f runs.
template <class F>
long allocations(F&& f) {
  const long before = g_allocations.load();
  f();
  return g_allocations.load() - before;
}
}  // namespace
