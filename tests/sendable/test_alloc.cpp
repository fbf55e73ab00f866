// Allocation behaviour: one allocation per value (control block and value together), none for
// copies, and only amortised vector growth for parking (no hash maps, no per-rc allocations).
// This binary replaces the global operator new to count allocations made by the current thread.
#include "catch.hpp"

#include "support/counting_new.hpp"

#include <sendable/sendable.hpp>

#include <array>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

using test_support::allocations_of;

TEST_CASE("the allocation counter sees allocations", "[alloc]") {
    // Fails if something (e.g. valgrind) interposes operator new: the other counts would be meaningless.
    static int* volatile escaped = nullptr; // keeps the compiler from eliding the allocations
    REQUIRE(allocations_of([] {
                escaped = new int(1);
                delete escaped;
            }) == 1);
    REQUIRE(allocations_of([] {
                std::vector<int> v(3);
                escaped = v.data();
            }) == 1);
}

TEST_CASE("one allocation per value and none per copy", "[send_rc][alloc]") {
    sendable::send_rc<std::array<int, 4>> rc;
    REQUIRE(allocations_of([&] { rc = sendable::make_send_rc<std::array<int, 4>>(); }) == 1);
    REQUIRE(allocations_of([&] {
                rc = sendable::send_rc<std::array<int, 4>>(std::array<int, 4>{1, 2, 3, 4});
            }) == 1);
    sendable::send_rc<std::array<int, 4>> copy;
    REQUIRE(allocations_of([&] { copy = rc; }) == 0);
    REQUIRE(copy.use_count() == 2);
    copy.reset();
    REQUIRE(allocations_of([&] { (void)sendable::try_unwrap(std::move(rc)); }) == 0);
    REQUIRE(rc == nullptr); // NOLINT(bugprone-use-after-move)
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
    REQUIRE(parking <= 20); // geometric growth of one vector of n pointers: about log2(n) + 1
    sendable::post_send token;
    REQUIRE(allocations_of([&] { token = std::move(ps).ready(); }) == 0);
    REQUIRE(allocations_of([&] { std::move(token).unpark(); }) == 0);
    REQUIRE(*rcs[2 * n - 1] == static_cast<int>(n - 1));
}

TEST_CASE("reserve and the recycled registry buffer make parking allocation-free",
          "[pre_send][alloc]") {
    // A fresh thread starts with an empty cache.
    std::size_t first = 0;
    std::size_t second = 0;
    std::size_t reserved_parking = 0;
    std::size_t reserve_calls = 0;
    int total = 0;
    std::thread([&] {
        constexpr std::size_t n = 3000;
        std::vector<sendable::send_rc<int>> rcs;
        for (std::size_t i = 0; i < n; ++i) {
            rcs.push_back(sendable::make_send_rc<int>(1));
        }
        auto migrate = [&] {
            sendable::pre_send ps;
            const std::size_t parking = allocations_of([&] {
                for (auto& rc : rcs) {
                    ps.park(rc);
                }
            });
            std::move(ps).ready().unpark();
            return parking;
        };
        first = migrate();  // grows a vector
        second = migrate(); // reuses the first one's buffer
        {
            std::vector<sendable::send_rc<int>> more(rcs);
            more.insert(more.end(), rcs.begin(), rcs.end()); // 3 rcs per value, still n values
            for (std::size_t i = 0; i < n; ++i) {
                more.push_back(sendable::make_send_rc<int>(1)); // n more values: 2n in all
            }
            sendable::pre_send ps;
            reserve_calls = allocations_of([&] { ps.reserve(2 * n); });
            reserved_parking = allocations_of([&] {
                for (auto& rc : rcs) {
                    ps.park(rc);
                }
                for (auto& rc : more) {
                    ps.park(rc);
                }
            });
            std::move(ps).ready().unpark();
        }
        for (auto& rc : rcs) {
            total += *rc;
        }
    }).join();
    REQUIRE(first > 0);
    REQUIRE(second == 0);
    REQUIRE(reserve_calls == 1);
    REQUIRE(reserved_parking == 0);
    REQUIRE(total == 3000);
}
