// Replaces the global operator new/delete of polyhost_bench with versions that
// count the calling thread's allocations (alloc_counter.h). Everything else is
// forwarded to malloc/free, as libstdc++'s own operators do.
//
// The counter is thread_local, so the store's writer thread does not disturb a
// count taken on the benchmark thread, and an increment is one add to a TLS slot
// (no atomic): the other subcommands are not slowed measurably.
//
// Because libstdc++.so references operator new, the linker exports these
// definitions from the executable, so the host code linked in *and* plugins
// loaded with dlopen (which call operator new through their PLT) both reach them.
// Plain malloc calls (C plugins, C libraries such as SQLite) are not counted.
#include "alloc_counter.h"

#include <cstdlib>
#include <new>

namespace polyhost::bench {
namespace {
thread_local uint64_t t_allocations = 0;
thread_local uint64_t t_deallocations = 0;

void* Allocate(std::size_t size) {
  ++t_allocations;
  if (size == 0) size = 1;
  for (;;) {
    if (void* p = std::malloc(size)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* AllocateAligned(std::size_t size, std::align_val_t align) {
  ++t_allocations;
  if (size == 0) size = 1;
  std::size_t a = static_cast<std::size_t>(align);
  if (a < sizeof(void*)) a = sizeof(void*);
  for (;;) {
    void* p = nullptr;
    if (posix_memalign(&p, a, size) == 0) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void Release(void* p) noexcept {
  if (p == nullptr) return;
  ++t_deallocations;
  std::free(p);
}
}  // namespace

uint64_t ThreadAllocations() { return t_allocations; }
uint64_t ThreadDeallocations() { return t_deallocations; }

}  // namespace polyhost::bench

using polyhost::bench::Allocate;
using polyhost::bench::AllocateAligned;
using polyhost::bench::Release;

void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t align) { return AllocateAligned(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return AllocateAligned(size, align); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try {
    return AllocateAligned(size, align);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try {
    return AllocateAligned(size, align);
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, std::size_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { Release(p); }
