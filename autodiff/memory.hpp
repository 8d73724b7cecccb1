// Memory policy for large batches.
#pragma once

namespace pgcpp::ad {

// glibc serves blocks above its mmap threshold (128 KiB to 32 MiB, adapting) with fresh pages
// from the kernel and unmaps them on free, and trims the heap's top likewise. A batch of 50
// CartPole episodes is up to 25000 rows, so every layer's activations are megabytes: each
// forward and backward pass then page-faults in zeroed memory again, measured at half of
// reinforce_baseline's run time spent in the kernel. This keeps freed memory in the process for
// reuse; the cost is that the peak working set stays resident until exit. A no-op elsewhere
// than glibc. run_experiment (experiment/run.hpp) and the benchmark call it.
void keep_freed_memory();

}  // namespace pgcpp::ad
