// Allocation counting for polyhost_bench: alloc_counter.cc replaces the global
// operator new/delete of the whole benchmark binary (host code and dlopen'ed
// plugins included) with versions that count per thread.
//
//   const uint64_t before = ThreadAllocations();
//   ... timed loop ...
//   const uint64_t allocations = ThreadAllocations() - before;
#pragma once

#include <cstdint>

namespace polyhost::bench {

// operator new calls (every form) made by the calling thread so far.
uint64_t ThreadAllocations();
// operator delete calls with a non-null pointer made by the calling thread so far.
uint64_t ThreadDeallocations();

}  // namespace polyhost::bench
