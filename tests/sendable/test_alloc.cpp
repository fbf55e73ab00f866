// Allocation behaviour: one allocation per value (control block and value together), none for
// copies, and only amortised vector growth for parking (no hash maps, no per-rc allocations).
// This binary replaces the global operator new to count allocations made by the current thread.
#include "catch.hpp"

#include <sendable/sendable.hpp>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace {
thread_local std::size_t allocation_count = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++allocation_count;
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {
/// Allocations made by `f` on this thread.
template <class F>
std::size_t allocations_of(F&& f) {
  const std::size_t before = allocation_count;
  std::forward<F>(f)();
  return allocation_count - before;
}
}  // namespace

TEST_CASE("one allocation per value and none per copy", "[send_rc][alloc]") {
  sendable::send_rc<std::array<int, 4>> rc;
  REQUIRE(allocations_of([&] { rc = sendable::make_send_rc<std::array<int, 4>>(); }) == 1);
  REQUIRE(allocations_of([&] { rc = sendable::send_rc<std::array<int, 4>>(std::array<int, 4>{1, 2, 3, 4}); }) == 1);
  sendable::send_rc<std::array<int, 4>> copy;
  REQUIRE(allocations_of([&] { copy = rc; }) == 0);
  REQUIRE(copy.use_count() == 2);
  copy.reset();
  REQUIRE(allocations_of([&] { (void)sendable::try_unwrap(std::move(rc)); }) == 0);
  REQUIRE(rc == nullptr);  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("migration allocates only the registry's vector", "[pre_send][alloc]") {
  constexpr std::size_t n = 4096;
  std::vector<sendable::send_rc<int>> rcs;
  for (std::size_t i = 0; i < n; ++i) {
    rcs.push_back(sendable::make_send_rc<int>(static_cast<int>(i)));
    rcs.push_back(rcs.back());
  }
  sendable::pre_send ps;
  bool ready = false;
  const std::size_t parking = allocations_of([&] {
    for (auto& rc : rcs) {
      ps.park(rc);
      ready = ps.is_ready();
    }
  });
  REQUIRE(ready);
  REQUIRE(parking <= 20);  // geometric growth of one vector of n pointers: about log2(n) + 1
  sendable::post_send token;
  REQUIRE(allocations_of([&] { token = std::move(ps).ready(); }) == 0);
  REQUIRE(allocations_of([&] { std::move(token).unpark(); }) == 0);
  REQUIRE(*rcs[2 * n - 1] == static_cast<int>(n - 1));
}
