// Replaces every global allocation function so a test can count the allocations made by the
// calling thread. Include it in exactly one translation unit of a test binary (it defines the
// replacements). Valgrind substitutes its own allocator, so these counts are not seen under it.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

namespace test_support {

/// Allocations made by this thread so far, and the size of the last one.
inline thread_local std::size_t thread_allocations = 0;
inline thread_local std::size_t last_allocation_size = 0;

/// How many allocations `f` makes on this thread.
template <class F>
std::size_t allocations_of(F&& f) {
    const std::size_t before = thread_allocations;
    std::forward<F>(f)();
    return thread_allocations - before;
}

namespace detail {
inline void* counted_malloc(std::size_t size) noexcept {
    ++thread_allocations;
    last_allocation_size = size;
    return std::malloc(size == 0 ? 1 : size);
}
inline void* counted_aligned(std::size_t size, std::align_val_t align) noexcept {
    ++thread_allocations;
    last_allocation_size = size;
    const auto a = static_cast<std::size_t>(align);
    return std::aligned_alloc(a, (size + a - 1) / a * a);
}
inline void* or_throw(void* p) {
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
} // namespace detail
} // namespace test_support

// GCC cannot see that these replace the global pair and warns that free() meets operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
    return test_support::detail::or_throw(test_support::detail::counted_malloc(size));
}
void* operator new[](std::size_t size) {
    return test_support::detail::or_throw(test_support::detail::counted_malloc(size));
}
void* operator new(std::size_t size, std::align_val_t align) {
    return test_support::detail::or_throw(test_support::detail::counted_aligned(size, align));
}
void* operator new[](std::size_t size, std::align_val_t align) {
    return test_support::detail::or_throw(test_support::detail::counted_aligned(size, align));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return test_support::detail::counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return test_support::detail::counted_malloc(size);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
