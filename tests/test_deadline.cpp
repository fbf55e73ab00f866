// oneshot/detail/deadline.hpp: timeouts and deadlines to an optional steady-clock deadline, for
// every representation and period, at the edges of every range (min, max, NaN, infinities), with
// exact expected values (computed with exact rational arithmetic), and a randomized sweep checked
// against a reference and for monotonicity. Built under UBSan by the asan preset: any overflow or
// out-of-range conversion fails there.
#include "catch.hpp"

#include <oneshot/detail/deadline.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <ratio>
#include <type_traits>
#include <utility>

using oneshot::detail::deadline_after;
using oneshot::detail::deadline_at;
using oneshot::detail::max_timeout;
using oneshot::detail::steady_deadline;

namespace {
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using sys = std::chrono::system_clock;
template <class Rep, class Period = std::ratio<1>>
using dur = std::chrono::duration<Rep, Period>;
using std::chrono::nanoseconds;

/// A fixed steady "now" well inside the clock's range.
const steady::time_point now{nanoseconds(1'000'000'000'000)}; // 1000 s
/// A fixed system-clock "now": 1'700'000'000 s after the epoch (November 2023).
const sys::time_point sys_now{std::chrono::seconds(1'700'000'000)};

/// `now` plus `ns` nanoseconds, as the deadline the functions should return.
steady_deadline at_ns(long long ns) {
    return now + nanoseconds(ns);
}

using pico = std::pico;
using atto = std::atto;
using years = std::ratio<31'556'952>; // the average Gregorian year, as std::chrono::years
using gigaseconds = std::ratio<1'000'000'000>;
using thirds = std::ratio<1, 3>;
using big_den = std::ratio<1, 999'999'999'999'999'989>; // forces the long multiplication path
using huge = std::ratio<std::numeric_limits<std::intmax_t>::max()>;
using tiny = std::ratio<1, std::numeric_limits<std::intmax_t>::max()>;

constexpr double nan_d = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_d = std::numeric_limits<double>::infinity();

/// 100 years in nanoseconds.
constexpr long long max_timeout_ns = 100LL * 365 * 24 * 60 * 60 * 1'000'000'000;

/// A clock with an unsigned representation (subtraction would wrap).
struct unsigned_clock {
    using rep = unsigned long long;
    using period = std::milli;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<unsigned_clock>;
    static constexpr bool is_steady = false;
    static time_point now() noexcept { return time_point(duration(5'000)); }
};

/// A clock counting in double seconds whose now() may throw.
struct double_clock {
    using rep = double;
    using period = std::ratio<1>;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<double_clock>;
    static constexpr bool is_steady = false;
    static time_point now() { return time_point(duration(1'000.0)); }
};

} // namespace

// ---------------------------------------------------------------------------------------------
// deadline_after
// ---------------------------------------------------------------------------------------------

TEST_CASE("deadline_after: zero, negative and NaN timeouts expire at once", "[deadline]") {
    CHECK(deadline_after(nanoseconds(0), now) == now);
    CHECK(deadline_after(std::chrono::seconds(-1), now) == now);
    CHECK(deadline_after(dur<int>(0), now) == now);
    CHECK(deadline_after(dur<int>(-5), now) == now);
    CHECK(deadline_after(dur<unsigned>(0), now) == now);
    CHECK(deadline_after(dur<double>(0.0), now) == now);
    CHECK(deadline_after(dur<double>(-0.0), now) == now);
    CHECK(deadline_after(dur<double>(-1e-300), now) == now);
    CHECK(deadline_after(dur<double>(nan_d), now) == now);
    CHECK(deadline_after(dur<double>(-nan_d), now) == now);
    CHECK(deadline_after(dur<float, std::milli>(std::numeric_limits<float>::quiet_NaN()), now) ==
          now);
    CHECK(deadline_after(dur<double>(-inf_d), now) == now);
    CHECK(deadline_after(dur<long double>(-std::numeric_limits<long double>::infinity()), now) ==
          now);
    CHECK(deadline_after(dur<long long, pico>(-1), now) == now);
    CHECK(deadline_after(dur<int, huge>(-1), now) == now);
}

TEST_CASE("deadline_after: int seconds, int micro/nanoseconds and long long picoseconds convert "
          "exactly",
          "[deadline]") {
    // The "wait forever" limit is not computed in these types, so it cannot wrap.
    CHECK(deadline_after(dur<int>(1), now) == at_ns(1'000'000'000));
    CHECK(deadline_after(dur<int, std::micro>(1), now) == at_ns(1'000));
    CHECK(deadline_after(dur<int, std::nano>(1), now) == at_ns(1));
    CHECK(deadline_after(dur<int>(86'400), now) == at_ns(86'400'000'000'000));
    CHECK(deadline_after(dur<long long, pico>(1'000), now) == at_ns(1));
    CHECK(deadline_after(dur<long long, pico>(1'000'000'000'000), now) == at_ns(1'000'000'000));
    CHECK(deadline_after(std::chrono::milliseconds(250), now) == at_ns(250'000'000));
    CHECK(deadline_after(std::chrono::hours(1), now) == at_ns(3'600'000'000'000));
    CHECK(deadline_after(dur<double>(0.5), now) == at_ns(500'000'000));
    CHECK(deadline_after(dur<double, std::milli>(0.25), now) == at_ns(250'000));
    CHECK(deadline_after(dur<float>(2.0F), now) == at_ns(2'000'000'000));
    CHECK(deadline_after(dur<int, tiny>(std::numeric_limits<int>::max()), now) == at_ns(1));
    CHECK(deadline_after(dur<long long, tiny>(std::numeric_limits<long long>::max()), now) ==
          at_ns(1'000'000'000));
}

TEST_CASE("deadline_after rounds up to the steady tick", "[deadline]") {
    CHECK(deadline_after(dur<long long, pico>(1'500), now) == at_ns(2));
    CHECK(deadline_after(dur<long long, pico>(1'001), now) == at_ns(2));
    CHECK(deadline_after(dur<long long, pico>(999), now) == at_ns(1));
    CHECK(deadline_after(dur<double, std::nano>(1.25), now) == at_ns(2));
    CHECK(deadline_after(dur<int, thirds>(1), now) == at_ns(333'333'334));
    CHECK(deadline_after(dur<int, thirds>(3), now) == at_ns(1'000'000'000));
    CHECK(deadline_after(dur<long long, thirds>(3'000'000'000), now) ==
          at_ns(1'000'000'000'000'000'000));
    // Periods whose conversion needs the long multiplication (exact remainders beyond 64 bits).
    CHECK(deadline_after(dur<long long, big_den>(7), now) == at_ns(1));
    CHECK(deadline_after(dur<long long, big_den>(499'999'999'999'999'994), now) ==
          at_ns(500'000'000));
    CHECK(deadline_after(dur<long long, big_den>(999'999'999'999'999'988), now) ==
          at_ns(1'000'000'000));
    CHECK(deadline_after(dur<long long, big_den>(123'456'789'012'345'678), now) ==
          at_ns(123'456'790));
    CHECK(deadline_after(dur<long long, big_den>(999'999'999'999'999'989), now) ==
          at_ns(1'000'000'000));
}

TEST_CASE("deadline_after: small positive timeouts give a deadline strictly after now",
          "[deadline]") {
    const auto check = [](const steady_deadline& d) {
        REQUIRE(d.has_value());
        CHECK(*d > now);
        CHECK(*d == now + 1ns);
    };
    check(deadline_after(dur<long long, pico>(1), now));
    check(deadline_after(dur<long long, atto>(1), now));
    check(deadline_after(dur<std::uint8_t, pico>(1), now));
    check(deadline_after(dur<int, tiny>(1), now));
    check(deadline_after(dur<double>(1e-300), now));
    check(deadline_after(dur<double>(std::numeric_limits<double>::denorm_min()), now));
    check(deadline_after(dur<double>(std::numeric_limits<double>::min()), now));
    check(deadline_after(dur<float>(std::numeric_limits<float>::denorm_min()), now));
    // Valgrind computes long double in double precision, where this value is zero (and a zero
    // timeout rightly expires at once): check it where the machine sees it positive.
    const volatile long double long_double_min = std::numeric_limits<long double>::denorm_min();
    if (long_double_min > 0)
        check(
            deadline_after(dur<long double>(std::numeric_limits<long double>::denorm_min()), now));
    check(deadline_after(dur<double, pico>(0.001), now));
    check(deadline_after(dur<double, atto>(std::numeric_limits<double>::denorm_min()), now));
    check(deadline_after(dur<double, tiny>(1.0), now));
    check(deadline_after(nanoseconds(1), now));
}

TEST_CASE("deadline_after: beyond 100 years, +inf or past the steady clock there is no deadline",
          "[deadline]") {
    CHECK(deadline_after(max_timeout, now) == at_ns(max_timeout_ns));
    CHECK(deadline_after(nanoseconds(max_timeout_ns), now) == at_ns(max_timeout_ns));
    CHECK_FALSE(deadline_after(nanoseconds(max_timeout_ns + 1), now));
    CHECK_FALSE(deadline_after(max_timeout + std::chrono::seconds(1), now));
    CHECK(deadline_after(dur<int, gigaseconds>(3), now) == at_ns(3'000'000'000'000'000'000));
    CHECK_FALSE(deadline_after(dur<int, gigaseconds>(4), now));
    CHECK(deadline_after(dur<int, years>(99), now) == at_ns(3'124'138'248'000'000'000));
    CHECK_FALSE(deadline_after(dur<int, years>(101), now));
    CHECK_FALSE(deadline_after(dur<long long, huge>(1), now));
    CHECK_FALSE(deadline_after(dur<double>(inf_d), now));
    CHECK_FALSE(deadline_after(dur<double>(1e30), now));
    CHECK_FALSE(deadline_after(dur<double, atto>(1e40), now));
    CHECK_FALSE(deadline_after(dur<float, std::milli>(1e30F), now));
    CHECK(deadline_after(dur<double>(3.1536e9), now) == at_ns(max_timeout_ns));
    CHECK_FALSE(deadline_after(dur<double>(3.1536e9 + 1e-3), now));

    // Near the end of the steady clock's range: a deadline past it is no deadline.
    const steady::time_point late = steady::time_point::max() - 1s;
    CHECK(deadline_after(1s, late) == steady::time_point::max());
    CHECK_FALSE(deadline_after(1s + 1ns, late));
    CHECK_FALSE(deadline_after(dur<double>(2.0), late));
    CHECK(deadline_after(0s, late) == late);
    CHECK_FALSE(deadline_after(1ns, steady::time_point::max()));
    // And near its start, where `now` is negative.
    const steady::time_point early = steady::time_point::min();
    CHECK(deadline_after(max_timeout, early) == early + max_timeout);
    CHECK(deadline_after(nanoseconds::max(), early) == std::nullopt);
    CHECK(deadline_after(-1s, early) == early);
}

namespace {
/// deadline_after(D::min()) and deadline_after(D::max()) for one duration type: `expected_max_ns`
/// is the exact deadline after `now`, or -1 for none.
template <class D>
void check_min_max(long long expected_max_ns) {
    INFO("duration with rep size " << sizeof(typename D::rep) << ", period " << D::period::num
                                   << '/' << D::period::den);
    CHECK(deadline_after(D::min(), now) == now);
    CHECK(deadline_after(D::zero(), now) == now);
    if (expected_max_ns < 0)
        CHECK_FALSE(deadline_after(D::max(), now).has_value());
    else
        CHECK(deadline_after(D::max(), now) == at_ns(expected_max_ns));
}
} // namespace

TEST_CASE("deadline_after: min() and max() of many duration types", "[deadline]") {
    check_min_max<std::chrono::nanoseconds>(-1);
    check_min_max<std::chrono::microseconds>(-1);
    check_min_max<std::chrono::milliseconds>(-1);
    check_min_max<std::chrono::seconds>(-1);
    check_min_max<std::chrono::minutes>(-1);
    check_min_max<std::chrono::hours>(-1);
    check_min_max<dur<int>>(2'147'483'647'000'000'000);
    check_min_max<dur<int, std::micro>>(2'147'483'647'000);
    check_min_max<dur<int, std::nano>>(2'147'483'647);
    check_min_max<dur<short, std::milli>>(32'767'000'000);
    check_min_max<dur<std::int8_t>>(127'000'000'000);
    check_min_max<dur<std::uint8_t>>(255'000'000'000);
    check_min_max<dur<unsigned>>(-1);
    check_min_max<dur<unsigned long long, pico>>(18'446'744'073'709'552);
    check_min_max<dur<long long, pico>>(9'223'372'036'854'776);
    check_min_max<dur<unsigned long long, atto>>(18'446'744'074);
    check_min_max<dur<long long, atto>>(9'223'372'037);
    check_min_max<dur<int, gigaseconds>>(-1);
    check_min_max<dur<int, years>>(-1);
    check_min_max<dur<int, thirds>>(715'827'882'333'333'334);
    check_min_max<dur<long long, huge>>(-1);
    check_min_max<dur<long long, tiny>>(1'000'000'000);
    check_min_max<dur<double>>(-1);
    check_min_max<dur<float, std::milli>>(-1);
    check_min_max<dur<long double, std::nano>>(-1);
    check_min_max<dur<double, pico>>(-1);
}

#if defined(__SIZEOF_INT128__)
namespace {
__extension__ using int128 = __int128;
template <class Rep>
void check_wide_integer() {
    if constexpr (std::is_arithmetic_v<Rep>) {
        CHECK(deadline_after(dur<Rep, pico>(Rep{1}), now) == at_ns(1));
        CHECK(deadline_after(dur<Rep, std::milli>(Rep{1}), now) == at_ns(1'000'000));
        CHECK(deadline_after(dur<Rep, pico>(Rep{-1}), now) == now);
        CHECK_FALSE(deadline_after(dur<Rep, pico>(Rep{1} << 120), now));
        CHECK_FALSE(deadline_after(dur<Rep, pico>::max(), now));
        CHECK(deadline_after(dur<Rep, pico>::min(), now) == now);
    } else {
        SUCCEED("__int128 is not an arithmetic type in this language mode");
    }
}
} // namespace

TEST_CASE("deadline_after: 128-bit integer counts", "[deadline]") {
    check_wide_integer<int128>();
}
#endif

// ---------------------------------------------------------------------------------------------
// deadline_at on the steady clock
// ---------------------------------------------------------------------------------------------

namespace {
template <class Duration>
using steady_tp = std::chrono::time_point<steady, Duration>;
steady::time_point steady_ns(long long ns) {
    return steady::time_point(nanoseconds(ns));
}
} // namespace

TEST_CASE("deadline_at on the steady clock converts exactly", "[deadline]") {
    CHECK(deadline_at(now) == now);
    CHECK(deadline_at(steady_ns(-5)) == steady_ns(-5));
    CHECK(deadline_at(steady_tp<std::chrono::seconds>(5s)) == steady_ns(5'000'000'000));
    CHECK(deadline_at(steady_tp<dur<long long, pico>>(dur<long long, pico>(1'500))) ==
          steady_ns(2));
    CHECK(deadline_at(steady_tp<dur<long long, pico>>(dur<long long, pico>(-1'500))) ==
          steady_ns(-1));
    CHECK(deadline_at(steady_tp<dur<double>>(dur<double>(1.5))) == steady_ns(1'500'000'000));
    CHECK(deadline_at(steady_tp<dur<double>>(dur<double>(-1.5e-9))) == steady_ns(-1));
    CHECK(deadline_at(steady_tp<dur<long long, big_den>>(
              dur<long long, big_den>(-123'456'789'012'345'678))) == steady_ns(-123'456'789));
    CHECK(deadline_at(steady_tp<dur<long long, big_den>>(
              dur<long long, big_den>(123'456'789'012'345'678))) == steady_ns(123'456'790));
    CHECK(deadline_at(steady_tp<dur<int, thirds>>(dur<int, thirds>(-1))) ==
          steady_ns(-333'333'333));
}

TEST_CASE("deadline_at on the steady clock: min(), max(), infinities and NaN", "[deadline]") {
    // min() is in the past: it expires at once (it used to mean "wait forever").
    const steady_deadline min = deadline_at(steady::time_point::min());
    REQUIRE(min.has_value());
    CHECK(*min == steady::time_point::min());
    CHECK(*min <= steady::now());
    CHECK(deadline_at(steady::time_point::max()) == steady::time_point::max());

    CHECK_FALSE(deadline_at(steady_tp<std::chrono::seconds>::max()));
    CHECK(deadline_at(steady_tp<std::chrono::seconds>::min()) == steady::time_point::min());
    CHECK_FALSE(deadline_at(steady_tp<std::chrono::hours>::max()));
    CHECK(deadline_at(steady_tp<std::chrono::hours>::min()) == steady::time_point::min());
    CHECK(deadline_at(steady_tp<dur<int>>::max()) == steady_ns(2'147'483'647'000'000'000));
    CHECK(deadline_at(steady_tp<dur<int>>::min()) == steady_ns(-2'147'483'648'000'000'000));
    CHECK(deadline_at(steady_tp<dur<long long, pico>>::max()) == steady_ns(9'223'372'036'854'776));
    CHECK(deadline_at(steady_tp<dur<long long, pico>>::min()) == steady_ns(-9'223'372'036'854'775));
    CHECK(deadline_at(steady_tp<dur<unsigned>>::max()) == steady_ns(4'294'967'295'000'000'000));
    CHECK(deadline_at(steady_tp<dur<unsigned>>::min()) == steady_ns(0));
    CHECK_FALSE(deadline_at(steady_tp<dur<unsigned long long, std::nano>>::max()));
    CHECK_FALSE(deadline_at(steady_tp<dur<long long, huge>>::max()));
    CHECK(deadline_at(steady_tp<dur<long long, huge>>::min()) == steady::time_point::min());
    CHECK(deadline_at(steady_tp<dur<long long, huge>>(dur<long long, huge>(0))) == steady_ns(0));

    CHECK_FALSE(deadline_at(steady_tp<dur<double>>::max()));
    CHECK(deadline_at(steady_tp<dur<double>>::min()) == steady::time_point::min());
    CHECK_FALSE(deadline_at(steady_tp<dur<double>>(dur<double>(inf_d))));
    CHECK(deadline_at(steady_tp<dur<double>>(dur<double>(-inf_d))) == steady::time_point::min());
    CHECK(deadline_at(steady_tp<dur<double>>(dur<double>(nan_d))) == steady::time_point::min());
    CHECK(deadline_at(steady_tp<dur<double>>(dur<double>(-0.0))) == steady_ns(0));
    // The largest double below 2^63 ns converts; 2^63 ns does not fit.
    CHECK(deadline_at(steady_tp<dur<double, std::nano>>(
              dur<double, std::nano>(0x1.fffffffffffffp62))) == steady_ns(0x7ffffffffffffc00));
    CHECK_FALSE(deadline_at(steady_tp<dur<double, std::nano>>(dur<double, std::nano>(0x1p63))));
    CHECK(deadline_at(steady_tp<dur<double, std::nano>>(dur<double, std::nano>(-0x1p63))) ==
          steady::time_point::min());
}

// ---------------------------------------------------------------------------------------------
// deadline_at on other clocks
// ---------------------------------------------------------------------------------------------

namespace {
template <class Duration>
using sys_tp = std::chrono::time_point<sys, Duration>;
} // namespace

TEST_CASE("deadline_at on another clock measures the time left once", "[deadline]") {
    CHECK(deadline_at(sys_now + 5s, sys_now, now) == at_ns(5'000'000'000));
    CHECK(deadline_at(sys_now + 1ns, sys_now, now) == at_ns(1));
    CHECK(deadline_at(sys_now, sys_now, now) == now);
    CHECK(deadline_at(sys_now - 5s, sys_now, now) == now);
    CHECK(deadline_at(sys_now - 1ns, sys_now, now) == now);
    // Different durations on each side.
    const auto t_seconds = std::chrono::time_point_cast<std::chrono::seconds>(sys_now) + 3s;
    CHECK(deadline_at(t_seconds, sys_now, now) == at_ns(3'000'000'000));
    const sys_tp<dur<long long, pico>> t_ps(dur<long long, pico>(4'001));
    CHECK(deadline_at(t_ps, sys_tp<nanoseconds>(4ns), now) == at_ns(1));
    CHECK(deadline_at(t_ps, sys_tp<nanoseconds>(5ns), now) == now);
    CHECK(deadline_at(sys_tp<nanoseconds>(5ns), t_ps, now) == at_ns(1));
    // Periods whose common period does not fit in std::intmax_t (std::common_type would not
    // compile): computed in long double.
    const sys_tp<dur<long long, big_den>> t_big(dur<long long, big_den>(999'999'999'999'999'989));
    CHECK(deadline_at(t_big, sys_tp<nanoseconds>(0ns), now) == at_ns(1'000'000'000));
    CHECK(deadline_at(t_big, sys_tp<nanoseconds>(2s), now) == now);
    CHECK(deadline_at(sys_tp<nanoseconds>(2s), t_big, now) == at_ns(1'000'000'000));
    CHECK(deadline_at(sys_tp<dur<double>>(dur<double>(1'700'000'002.5)), sys_now, now) ==
          at_ns(2'500'000'000));
    // Time left beyond 100 years: no deadline.
    CHECK_FALSE(deadline_at(sys_now + max_timeout + 1s, sys_now, now));
    CHECK(deadline_at(sys_now + max_timeout, sys_now, now) == at_ns(max_timeout_ns));

    // A clock with an unsigned count: an earlier time does not wrap around.
    STATIC_REQUIRE_FALSE(unsigned_clock::is_steady || double_clock::is_steady);
    const unsigned_clock::time_point u_now(unsigned_clock::duration(5'000));
    CHECK(deadline_at(unsigned_clock::time_point(unsigned_clock::duration(4'000)), u_now, now) ==
          now);
    CHECK(deadline_at(unsigned_clock::time_point(unsigned_clock::duration(6'000)), u_now, now) ==
          at_ns(1'000'000'000));
    CHECK(deadline_at(unsigned_clock::time_point::min(), u_now, now) == now);
    CHECK_FALSE(deadline_at(unsigned_clock::time_point::max(), u_now, now));
}

TEST_CASE("deadline_at on another clock: min(), max(), infinities and NaN", "[deadline]") {
    // max() of a coarse time point is far ahead: no deadline (it used to expire at once).
    CHECK_FALSE(deadline_at(sys_tp<std::chrono::seconds>::max(), sys_now, now));
    CHECK_FALSE(deadline_at(sys_tp<std::chrono::hours>::max(), sys_now, now));
    CHECK_FALSE(deadline_at(sys::time_point::max(), sys_now, now));
    CHECK_FALSE(deadline_at(sys_tp<dur<double>>::max(), sys_now, now));
    CHECK_FALSE(deadline_at(sys_tp<dur<long long, huge>>::max(), sys_now, now));
    // min() is far behind: expires at once.
    CHECK(deadline_at(sys_tp<std::chrono::seconds>::min(), sys_now, now) == now);
    CHECK(deadline_at(sys_tp<std::chrono::hours>::min(), sys_now, now) == now);
    CHECK(deadline_at(sys::time_point::min(), sys_now, now) == now);
    CHECK(deadline_at(sys_tp<dur<double>>::min(), sys_now, now) == now);
    CHECK(deadline_at(sys_tp<dur<long long, huge>>::min(), sys_now, now) == now);
    // Fine time points whose max() is in 1970: already passed.
    CHECK(deadline_at(sys_tp<dur<long long, pico>>::max(), sys_now, now) == now);
    // 2038-01-19, 447'483'647 s after `sys_now`.
    CHECK(deadline_at(sys_tp<dur<int>>::max(), sys_now, now) == at_ns(447'483'647'000'000'000));
    CHECK(deadline_at(sys_tp<dur<int>>::min(), sys_now, now) == now);
    // Extreme readings of the clock itself.
    CHECK_FALSE(deadline_at(sys::time_point::max(), sys::time_point::min(), now));
    CHECK(deadline_at(sys::time_point::min(), sys::time_point::max(), now) == now);
    CHECK(deadline_at(sys::time_point::max(), sys::time_point::max(), now) == now);
    CHECK(deadline_at(sys::time_point::min(), sys::time_point::min(), now) == now);
    CHECK(deadline_at(sys_tp<std::chrono::seconds>::max(), sys::time_point::max(), now) ==
          std::nullopt);
    // Floating-point time points.
    CHECK_FALSE(deadline_at(sys_tp<dur<double>>(dur<double>(inf_d)), sys_now, now));
    CHECK(deadline_at(sys_tp<dur<double>>(dur<double>(-inf_d)), sys_now, now) == now);
    CHECK(deadline_at(sys_tp<dur<double>>(dur<double>(nan_d)), sys_now, now) == now);
    const double_clock::time_point d_now(double_clock::duration(1'000.0));
    CHECK(deadline_at(double_clock::time_point(double_clock::duration(1'000.5)), d_now, now) ==
          at_ns(500'000'000));
    CHECK(deadline_at(double_clock::time_point(double_clock::duration(inf_d)),
                      double_clock::time_point(double_clock::duration(inf_d)), now) == now);
    CHECK(deadline_at(double_clock::time_point(double_clock::duration(1.0)),
                      double_clock::time_point(double_clock::duration(nan_d)), now) == now);
}

// ---------------------------------------------------------------------------------------------
// The overloads that read the clocks
// ---------------------------------------------------------------------------------------------

TEST_CASE("deadline_after and deadline_at read the clocks once", "[deadline]") {
    STATIC_REQUIRE(noexcept(deadline_after(std::declval<std::chrono::seconds>())));
    STATIC_REQUIRE(noexcept(deadline_after(std::declval<dur<double>>(), now)));
    STATIC_REQUIRE(noexcept(deadline_at(std::declval<sys::time_point>())));
    STATIC_REQUIRE(noexcept(deadline_at(std::declval<steady::time_point>())));
    STATIC_REQUIRE(noexcept(deadline_at(std::declval<unsigned_clock::time_point>())));
    STATIC_REQUIRE(noexcept(deadline_at(std::declval<double_clock::time_point>(),
                                        std::declval<double_clock::time_point>(), now)));
    // Only reading a clock whose now() may throw may throw.
    STATIC_REQUIRE_FALSE(noexcept(deadline_at(std::declval<double_clock::time_point>())));
    STATIC_REQUIRE(std::is_same_v<decltype(deadline_after(1s)), steady_deadline>);

    const steady::time_point before = steady::now();
    const steady_deadline in_one_second = deadline_after(1s);
    const steady::time_point after = steady::now();
    REQUIRE(in_one_second.has_value());
    CHECK(*in_one_second >= before + 1s);
    CHECK(*in_one_second <= after + 1s);

    // (Each deadline is taken before the clock is read again: the operands of a comparison are
    // evaluated in an unspecified order.)
    const steady_deadline zero = deadline_after(0s);
    CHECK(zero <= steady::now());
    CHECK_FALSE(deadline_after(nanoseconds::max()));
    const steady_deadline nan = deadline_after(dur<double>(nan_d));
    CHECK(nan <= steady::now());

    // The regressions: these deadlines used to be inverted.
    CHECK_FALSE(deadline_at(sys_tp<std::chrono::seconds>::max()));
    const steady_deadline past = deadline_at(steady::time_point::min());
    REQUIRE(past.has_value());
    CHECK(*past <= steady::now());

    const steady_deadline in_an_hour = deadline_at(sys::now() + 1h);
    REQUIRE(in_an_hour.has_value());
    CHECK(*in_an_hour > steady::now());
    const steady_deadline an_hour_ago = deadline_at(sys::now() - 1h);
    CHECK(an_hour_ago <= steady::now());
    const steady_deadline steady_hour = deadline_at(steady::now() + 1h);
    CHECK(steady_hour > steady::now());
    const steady_deadline a_second_ago =
        deadline_at(double_clock::time_point(double_clock::duration(999.0)));
    CHECK(a_second_ago <= steady::now());
}

// ---------------------------------------------------------------------------------------------
// A randomized sweep
// ---------------------------------------------------------------------------------------------

namespace {
std::uint64_t next_random(std::uint64_t& state) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/// Deadlines ordered with "none" after every time point.
bool not_later(const steady_deadline& a, const steady_deadline& b) {
    if (!b) return true;
    if (!a) return false;
    return *a <= *b;
}

#if defined(__SIZEOF_INT128__)
/// The exact deadline for `count` ticks of num/den seconds, in 128-bit arithmetic.
steady_deadline reference_after(long long count, long long num, long long den) {
    if (count <= 0) return now;
    const int128 scaled = static_cast<int128>(count) * num * 1'000'000'000;
    const int128 ns = scaled / den + (scaled % den != 0 ? 1 : 0);
    if (ns > max_timeout_ns) return std::nullopt;
    return now + nanoseconds(static_cast<long long>(ns));
}
#endif

template <class Period>
void sweep_integers(std::uint64_t seed) {
    std::uint64_t state = seed;
    int mismatches = 0;
    int order_violations = 0;
    for (int i = 0; i < 20'000; ++i) {
        // Random bit patterns, shifted to cover every magnitude.
        const auto bits = static_cast<long long>(next_random(state));
        const auto shift = static_cast<int>(next_random(state) % 64);
        const long long a = bits >> shift;
        const long long b = a == std::numeric_limits<long long>::max() ? a : a + 1;
        const steady_deadline da = deadline_after(dur<long long, Period>(a), now);
        const steady_deadline db = deadline_after(dur<long long, Period>(b), now);
        if (!not_later(da, db)) ++order_violations;
        if (a <= 0 && da != now) ++mismatches;
        if (a > 0 && da && *da <= now) ++mismatches;
#if defined(__SIZEOF_INT128__)
        if (da != reference_after(a, Period::num, Period::den)) ++mismatches;
#endif
        // The steady-clock time point of the same count converts without UB either way.
        const steady_deadline t =
            deadline_at(steady_tp<dur<long long, Period>>(dur<long long, Period>(a)));
        if (t && a >= 0 && t->time_since_epoch().count() < 0) ++mismatches;
        // And the difference of two arbitrary time points on the system clock.
        const steady_deadline s =
            deadline_at(sys_tp<dur<long long, Period>>(dur<long long, Period>(a)),
                        sys_tp<nanoseconds>(nanoseconds(bits)), now);
        if (s && *s < now) ++mismatches;
    }
    CHECK(mismatches == 0);
    CHECK(order_violations == 0);
}

void sweep_doubles(std::uint64_t seed) {
    std::uint64_t state = seed;
    int violations = 0;
    for (int i = 0; i < 20'000; ++i) {
        // Every bit pattern: NaNs, infinities, denormals, both signs.
        const std::uint64_t bits = next_random(state);
        double v = 0;
        static_assert(sizeof v == sizeof bits);
        std::memcpy(&v, &bits, sizeof v);
        const steady_deadline d = deadline_after(dur<double>(v), now);
        const steady_deadline dm = deadline_after(dur<double, std::milli>(v), now);
        const steady_deadline dp = deadline_after(dur<double, pico>(v), now);
        if (!(v > 0)) {
            if (d != now || dm != now || dp != now) ++violations;
        } else {
            if ((d && *d <= now) || (dm && *dm <= now) || (dp && *dp <= now)) ++violations;
            if (!not_later(dp, dm) || !not_later(dm, d)) ++violations;
            if (v <= 3.15e9 && !d) ++violations;
            if (v > 3.16e9 && d) ++violations;
        }
        const steady_deadline t = deadline_at(steady_tp<dur<double>>(dur<double>(v)));
        if (std::isnan(v) && t != steady::time_point::min()) ++violations;
        const steady_deadline s = deadline_at(sys_tp<dur<double>>(dur<double>(v)), sys_now, now);
        if (s && *s < now) ++violations;
    }
    CHECK(violations == 0);
}
} // namespace

TEST_CASE("deadline_after and deadline_at: random counts of every magnitude", "[deadline]") {
    sweep_integers<std::nano>(1);
    sweep_integers<pico>(2);
    sweep_integers<atto>(3);
    sweep_integers<std::ratio<1>>(4);
    sweep_integers<thirds>(5);
    sweep_integers<big_den>(6);
    sweep_integers<years>(7);
    sweep_doubles(8);
}
