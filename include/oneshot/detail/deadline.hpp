/// @file deadline.hpp
/// @brief Timeouts and deadlines to an optional steady-clock deadline, with a defined result for
/// every input (an empty optional means "no deadline": wait forever).
///
/// `deadline_after(timeout)` takes a `std::chrono::duration` with any arithmetic representation
/// (integers of any width and signedness, `float`, `double`, `long double`) and any period, from
/// atto- or picoseconds to periods of years or longer:
///
/// | timeout                                              | result                                |
/// |------------------------------------------------------|---------------------------------------|
/// | zero, negative, NaN, -inf                            | `now`: expires at once                |
/// | positive, at most `max_timeout` (100 years)          | `now + timeout`, rounded *up* to a    |
/// |                                                      | steady tick (never down to `now`)     |
/// | longer than `max_timeout`, +inf, or past the end of  | empty: no deadline                    |
/// | the steady clock's range                             |                                       |
///
/// Nothing is computed in the caller's duration type (where "100 years" may not be representable,
/// e.g. `duration<int>` or `long long` picoseconds), nothing overflows, and no floating-point
/// value out of an integer's range is converted to it: integer counts are converted exactly with
/// 64-bit arithmetic, floating-point counts (and periods too extreme for that) in `long double`
/// after the range checks.
///
/// `deadline_at(t)` takes a `std::chrono::time_point`. On the steady clock it converts `t` exactly
/// (rounded up to a steady tick): a time after the last representable steady time point gives no
/// deadline, one before the first gives `steady_clock::time_point::min()`, NaN gives `min()`. On
/// any other clock it reads `Clock::now()` once, subtracts without overflowing (a deadline already
/// passed, however far back, expires at once; one too far ahead, however far, gives no deadline)
/// and hands the remaining time to `deadline_after`. Overloads taking `now` explicitly exist for
/// testing.
#pragma once

#include <oneshot/detail/config.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <ratio>
#include <type_traits>

namespace oneshot::detail {

/// The clock every deadline is kept on.
using deadline_clock = std::chrono::steady_clock;
/// A deadline on `deadline_clock`; empty for "no deadline".
using steady_deadline = std::optional<deadline_clock::time_point>;

/// Timeouts longer than this (100 years of 365 days) mean "no deadline".
inline constexpr std::chrono::seconds max_timeout{100LL * 365 * 24 * 60 * 60};

namespace deadline_impl {

using umax = std::uintmax_t;
using steady_rep = deadline_clock::rep;
static_assert(std::is_integral_v<steady_rep> && std::is_signed_v<steady_rep> &&
                  std::numeric_limits<steady_rep>::digits < std::numeric_limits<umax>::digits,
              "the steady clock counts in a signed integer narrower than std::uintmax_t");

inline constexpr umax umax_max = (std::numeric_limits<umax>::max)();
/// The largest and (as a magnitude) the most negative steady tick count.
inline constexpr umax steady_max_ticks =
    static_cast<umax>((std::numeric_limits<steady_rep>::max)());
inline constexpr umax steady_min_magnitude =
    umax{0} - static_cast<umax>((std::numeric_limits<steady_rep>::min)());

/// Representations converted exactly, through `umax`: integers no wider than it.
template <class Rep>
inline constexpr bool exact_rep =
    std::is_integral_v<Rep>&& std::numeric_limits<Rep>::digits <= std::numeric_limits<umax>::digits;

/// `a * b`, or nothing if it does not fit.
constexpr std::optional<umax> checked_mul(umax a, umax b) noexcept {
    if (a != 0 && b > umax_max / a) return std::nullopt;
    return a * b;
}

/// `floor(a * b / c)` and whether it left a remainder, for `a < c`, without overflowing (the
/// result is below `b`, so it fits).
struct quotient {
    umax value;
    bool inexact;
};
constexpr quotient mul_div(umax a, umax b, umax c) noexcept {
    if (a == 0 || b == 0) return {0, false};
    if (a <= umax_max / b) return {a * b / c, (a * b) % c != 0};
    // Long multiplication by the bits of `b`, keeping `prefix * a == q * c + r` with `r < c`.
    umax q = 0;
    umax r = 0;
    for (int bit = std::numeric_limits<umax>::digits - 1; bit >= 0; --bit) {
        q <<= 1U; // doubling: 2q < 2 * prefix <= b, no overflow
        if (r >= c - r) {
            r -= c - r;
            ++q;
        } else {
            r += r;
        }
        if (((b >> static_cast<unsigned>(bit)) & 1U) != 0) {
            if (r >= c - a) {
                r -= c - a;
                ++q;
            } else {
                r += a;
            }
        }
    }
    return {q, r != 0};
}

/// One tick of `Period` in steady ticks: exactly `num / den` (reduced) when both fit in `umax`,
/// and approximately `value` always.
template <class Period>
struct tick_ratio {
    using steady_period = deadline_clock::period;
    // Period = n1/d1 s and a steady tick = n2/d2 s, so one tick of Period = (n1 * d2) / (d1 * n2)
    // steady ticks; dividing crosswise first keeps the factors small and the result reduced.
    static constexpr umax g1 =
        std::gcd(static_cast<umax>(Period::num), static_cast<umax>(steady_period::num));
    static constexpr umax g2 =
        std::gcd(static_cast<umax>(Period::den), static_cast<umax>(steady_period::den));
    static constexpr umax a = static_cast<umax>(Period::num) / g1;
    static constexpr umax b = static_cast<umax>(steady_period::den) / g2;
    static constexpr umax c = static_cast<umax>(Period::den) / g2;
    static constexpr umax d = static_cast<umax>(steady_period::num) / g1;
    static constexpr std::optional<umax> exact_num = checked_mul(a, b);
    static constexpr std::optional<umax> exact_den = checked_mul(c, d);
    static constexpr bool exact = exact_num.has_value() && exact_den.has_value();
    static constexpr umax num = exact ? exact_num.value_or(0) : 0;
    static constexpr umax den = exact ? exact_den.value_or(1) : 1;
    static constexpr long double value =
        static_cast<long double>(a) * static_cast<long double>(b) /
        (static_cast<long double>(c) * static_cast<long double>(d));
};

/// Exact: `m` ticks of `Period` in steady ticks, rounded up or down; nothing if above `limit`.
template <class Period>
constexpr std::optional<umax> exact_ticks(umax m, bool round_up, umax limit) noexcept {
    using ratio = tick_ratio<Period>;
    static_assert(ratio::exact);
    const umax whole = m / ratio::den;
    const umax rest = m % ratio::den;
    if (whole != 0 && ratio::num > limit / whole) return std::nullopt;
    umax ticks = whole * ratio::num;
    const quotient part = mul_div(rest, ratio::num, ratio::den);
    if (part.value > limit - ticks) return std::nullopt;
    ticks += part.value;
    if (round_up && part.inexact) {
        if (ticks == limit) return std::nullopt;
        ++ticks;
    }
    return ticks;
}

/// `t` (a number of steady ticks, not NaN, not negative, possibly +inf) rounded up or down;
/// nothing if above `limit`. `positive`: the value `t` stands for is above zero, so rounding up
/// gives at least one tick even if `t` underflowed to zero.
inline std::optional<umax> approx_ticks(long double t, bool round_up, umax limit,
                                        bool positive) noexcept {
    // Range check before any conversion to an integer (converting an out-of-range or infinite
    // floating-point value is undefined). `limit` is below 2^63, so even rounded up to a power of
    // two as a long double it converts back to `umax`.
    if (!(t <= static_cast<long double>(limit))) return std::nullopt;
    const long double rounded = round_up ? std::ceil(t) : std::floor(t);
    umax ticks = static_cast<umax>(rounded);
    if (ticks > limit) return std::nullopt;
    if (round_up && positive && ticks == 0) ticks = 1;
    return ticks;
}

/// `|c|`: a `umax` for representations converted exactly, a `long double` for the others.
template <class Rep>
constexpr auto magnitude(Rep c) noexcept {
    if constexpr (exact_rep<Rep>) {
        if constexpr (std::is_signed_v<Rep>) {
            // Modular conversion then negation: exact for every value, the most negative included.
            return c < Rep{0} ? umax{0} - static_cast<umax>(c) : static_cast<umax>(c);
        } else {
            return static_cast<umax>(c);
        }
    } else {
        const auto v = static_cast<long double>(c);
        return v < 0 ? -v : v;
    }
}

/// `c < 0`, without a comparison that is always false for unsigned types.
template <class Rep>
constexpr bool is_negative(Rep c) noexcept {
    if constexpr (std::is_signed_v<Rep>)
        return c < Rep{0};
    else
        return false;
}

/// `m` (an exact magnitude) ticks of `Period` in steady ticks, rounded; nothing above `limit`.
template <class Period>
std::optional<umax> ticks_of(umax m, bool round_up, umax limit) noexcept {
    if constexpr (tick_ratio<Period>::exact)
        return exact_ticks<Period>(m, round_up, limit);
    else
        return approx_ticks(static_cast<long double>(m) * tick_ratio<Period>::value, round_up,
                            limit, m != 0);
}

/// `m` (a magnitude, not NaN, possibly +inf) ticks of `Period` in steady ticks, rounded; nothing
/// above `limit`.
template <class Period>
std::optional<umax> ticks_of(long double m, bool round_up, umax limit) noexcept {
    using ratio = tick_ratio<Period>;
    long double t = 0;
    if constexpr (ratio::exact)
        t = m * static_cast<long double>(ratio::num) / static_cast<long double>(ratio::den);
    else
        t = m * ratio::value;
    return approx_ticks(t, round_up, limit, m > 0);
}

/// A count of `Period` ticks in steady ticks, as a `long double` (NaN stays NaN).
template <class Period, class Rep>
long double approx_steady_ticks(Rep c) noexcept {
    using ratio = tick_ratio<Period>;
    const auto v = static_cast<long double>(c);
    if constexpr (ratio::exact)
        return v * static_cast<long double>(ratio::num) / static_cast<long double>(ratio::den);
    else
        return v * ratio::value;
}

/// The limit of a finite timeout in steady ticks (`max_timeout`, or half the steady range if that
/// is shorter).
constexpr umax compute_max_timeout_ticks() noexcept {
    constexpr umax cap = steady_max_ticks / 2;
    if constexpr (tick_ratio<std::chrono::seconds::period>::exact) {
        const std::optional<umax> ticks = exact_ticks<std::chrono::seconds::period>(
            static_cast<umax>(max_timeout.count()), /*round_up=*/false, cap);
        return ticks.value_or(cap);
    } else {
        return cap;
    }
}
inline constexpr umax max_timeout_ticks = compute_max_timeout_ticks();

/// `now + ticks`, or nothing past the end of the steady clock. `ticks <= max_timeout_ticks`.
inline steady_deadline add_ticks(deadline_clock::time_point now, umax ticks) noexcept {
    const steady_rep base = now.time_since_epoch().count();
    if (base > 0 && ticks > static_cast<umax>((std::numeric_limits<steady_rep>::max)() - base))
        return std::nullopt;
    return now + deadline_clock::duration(static_cast<steady_rep>(ticks));
}

} // namespace deadline_impl

/// The deadline `timeout` after `now`: `now` itself for a zero, negative or NaN timeout; empty (no
/// deadline) beyond `max_timeout`, for +inf, or past the end of the steady clock; otherwise
/// `now + timeout` rounded up to a steady tick (a positive timeout always gives a deadline after
/// `now`).
template <class Rep, class Period>
    requires std::is_arithmetic_v<Rep>
[[nodiscard]] steady_deadline deadline_after(const std::chrono::duration<Rep, Period>& timeout,
                                             deadline_clock::time_point now) noexcept {
    namespace impl = deadline_impl;
    const Rep count = timeout.count();
    if (!(count > Rep{0})) return now; // zero, negative, NaN: expires at once
    const std::optional<impl::umax> ticks =
        impl::ticks_of<Period>(impl::magnitude(count), /*round_up=*/true, impl::max_timeout_ticks);
    if (!ticks) return std::nullopt;
    return impl::add_ticks(now, *ticks);
}

/// The deadline `timeout` from now on the steady clock (see the overload taking `now`).
template <class Rep, class Period>
    requires std::is_arithmetic_v<Rep>
[[nodiscard]] steady_deadline
deadline_after(const std::chrono::duration<Rep, Period>& timeout) noexcept {
    return deadline_after(timeout, deadline_clock::now());
}

namespace deadline_impl {
/// The period both `P1` and `P2` are whole multiples of (gcd of the numerators over lcm of the
/// denominators, as `std::common_type` of durations has it), and those multiples, when all fit:
/// unlike `std::common_type`, periods whose common period overflows do not fail to compile.
template <class P1, class P2>
struct common_period {
    static constexpr umax num = std::gcd(static_cast<umax>(P1::num), static_cast<umax>(P2::num));
    static constexpr std::optional<umax> den =
        checked_mul(static_cast<umax>(P1::den) /
                        std::gcd(static_cast<umax>(P1::den), static_cast<umax>(P2::den)),
                    static_cast<umax>(P2::den));
    static constexpr bool den_fits =
        den.has_value() &&
        den.value_or(0) <= static_cast<umax>((std::numeric_limits<std::intmax_t>::max)());
    static constexpr std::optional<umax> k1 =
        den_fits ? checked_mul(static_cast<umax>(P1::num) / num,
                               den.value_or(0) / static_cast<umax>(P1::den))
                 : std::nullopt;
    static constexpr std::optional<umax> k2 =
        den_fits ? checked_mul(static_cast<umax>(P2::num) / num,
                               den.value_or(0) / static_cast<umax>(P2::den))
                 : std::nullopt;
    static constexpr bool fits = k1.has_value() && k2.has_value();
    // Reduced already: a prime dividing both numerators divides neither denominator.
    using type = std::ratio<static_cast<std::intmax_t>(num),
                            static_cast<std::intmax_t>(fits ? den.value_or(1) : 1)>;
};

/// `deadline_after(t - now, steady_now)` computed exactly in the common period, or nothing when
/// some step would overflow there.
template <class R1, class P1, class R2, class P2>
std::optional<steady_deadline> exact_remaining(const std::chrono::duration<R1, P1>& t,
                                               const std::chrono::duration<R2, P2>& now,
                                               deadline_clock::time_point steady_now) noexcept {
    using common = common_period<P1, P2>;
    if constexpr (exact_rep<R1> && exact_rep<R2> && common::fits) {
        const std::optional<umax> a = checked_mul(magnitude(t.count()), common::k1.value_or(0));
        const std::optional<umax> b = checked_mul(magnitude(now.count()), common::k2.value_or(0));
        if (!a || !b) return std::nullopt;
        const bool t_negative = is_negative(t.count());
        const bool now_negative = is_negative(now.count());
        // t - now with t = ±a and now = ±b, as a magnitude when positive.
        umax left = 0;
        if (!t_negative && !now_negative) {
            if (*a <= *b) return steady_deadline(steady_now);
            left = *a - *b;
        } else if (t_negative && now_negative) {
            if (*b <= *a) return steady_deadline(steady_now);
            left = *b - *a;
        } else if (t_negative) {
            return steady_deadline(steady_now); // t < 0 <= now
        } else {
            if (*a > umax_max - *b) return std::nullopt;
            left = *a + *b;
        }
        return deadline_after(std::chrono::duration<umax, typename common::type>(left), steady_now);
    } else {
        return std::nullopt;
    }
}

/// `deadline_after(t - now, steady_now)` for times since a clock's epoch, never overflowing.
template <class R1, class P1, class R2, class P2>
steady_deadline remaining(const std::chrono::duration<R1, P1>& t,
                          const std::chrono::duration<R2, P2>& now,
                          deadline_clock::time_point steady_now) noexcept {
    if (const std::optional<steady_deadline> exact = exact_remaining(t, now, steady_now))
        return *exact;
    // Floating-point counts, or integers too far apart for the common period: in long double,
    // where a NaN or an infinity minus itself gives NaN (expires at once), and +inf or a value
    // beyond the limit gives no deadline.
    const long double left =
        approx_steady_ticks<P1>(t.count()) - approx_steady_ticks<P2>(now.count());
    return deadline_after(std::chrono::duration<long double, deadline_clock::period>(left),
                          steady_now);
}
} // namespace deadline_impl

/// The steady-clock deadline for `t` on `Clock`, measured against `clock_now` (a reading of
/// `Clock`) and `steady_now` (a reading of the steady clock): `deadline_after(t - clock_now,
/// steady_now)`, with the subtraction done without overflow (however far `t` lies in the past it
/// expires at once; however far in the future it gives no deadline; NaN expires at once).
template <class Clock, class Duration, class NowDuration>
    requires std::is_arithmetic_v<typename Duration::rep> &&
        std::is_arithmetic_v<typename NowDuration::rep>
[[nodiscard]] steady_deadline
deadline_at(const std::chrono::time_point<Clock, Duration>& t,
            const std::chrono::time_point<Clock, NowDuration>& clock_now,
            deadline_clock::time_point steady_now) noexcept {
    return deadline_impl::remaining(t.time_since_epoch(), clock_now.time_since_epoch(), steady_now);
}

/// The steady-clock deadline for `t`. On the steady clock, `t` converted exactly (rounded up to a
/// steady tick; empty past the last representable steady time, `min()` before the first or for
/// NaN). On another clock, the time left until `t` measured once against `Clock::now()` (see the
/// overload taking the readings).
template <class Clock, class Duration>
    requires std::is_arithmetic_v<typename Duration::rep> &&
        std::is_arithmetic_v<typename Clock::duration::rep>
[[nodiscard]] steady_deadline
deadline_at(const std::chrono::time_point<Clock, Duration>& t) noexcept(noexcept(Clock::now())) {
    namespace impl = deadline_impl;
    using time_point = deadline_clock::time_point;
    if constexpr (std::is_same_v<Clock, deadline_clock>) {
        using rep = typename Duration::rep;
        using period = typename Duration::period;
        const rep count = t.time_since_epoch().count();
        if constexpr (std::is_floating_point_v<rep>) {
            if (std::isnan(count)) return (time_point::min)();
        }
        if (!impl::is_negative(count)) {
            const std::optional<impl::umax> ticks = impl::ticks_of<period>(
                impl::magnitude(count), /*round_up=*/true, impl::steady_max_ticks);
            if (!ticks) return std::nullopt; // after every representable steady time
            return time_point(deadline_clock::duration(static_cast<impl::steady_rep>(*ticks)));
        }
        // Negative: round the magnitude down, which rounds the time up.
        const std::optional<impl::umax> ticks = impl::ticks_of<period>(
            impl::magnitude(count), /*round_up=*/false, impl::steady_min_magnitude);
        if (!ticks) return (time_point::min)(); // before every representable steady time
        // Modular negation and conversion: exact, the most negative count included.
        return time_point(
            deadline_clock::duration(static_cast<impl::steady_rep>(impl::umax{0} - *ticks)));
    } else {
        return deadline_at(t, Clock::now(), deadline_clock::now());
    }
}

} // namespace oneshot::detail
