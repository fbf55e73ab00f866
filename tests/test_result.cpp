// oneshot::result<T, E>: the expected-like result type.
#include "catch.hpp"

#include <oneshot/result.hpp>

#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>

using oneshot::result;
using oneshot::unexpect;

enum class err { bad, worse };

TEST_CASE("result holds a value", "[result]") {
    result<int, err> r = 7;
    REQUIRE(r.has_value());
    REQUIRE(static_cast<bool>(r));
    REQUIRE(*r == 7);
    REQUIRE(r.value() == 7);
    REQUIRE(r.value_or(3) == 7);
}

TEST_CASE("result holds an error", "[result]") {
    result<int, err> r = oneshot::unexpected(err::worse);
    REQUIRE_FALSE(r.has_value());
    REQUIRE_FALSE(static_cast<bool>(r));
    REQUIRE(r.error() == err::worse);
    REQUIRE(r.value_or(3) == 3);
    result<int, err> r2(unexpect, err::bad);
    REQUIRE(r2.error() == err::bad);
}

TEST_CASE("result::value on an error throws bad_result_access", "[result]") {
    result<std::string, err> r(unexpect, err::bad);
    REQUIRE_THROWS_AS(r.value(), oneshot::bad_result_access);
    REQUIRE_THROWS_AS(std::move(r).value(), oneshot::bad_result_access);
    const auto& cr = r;
    REQUIRE_THROWS_AS(cr.value(), oneshot::bad_result_access);
    result<void, err> v(unexpect, err::bad);
    REQUIRE_THROWS_AS(v.value(), oneshot::bad_result_access);
    REQUIRE(std::string(oneshot::bad_result_access{}.what()).find("error") != std::string::npos);
}

TEST_CASE("result works with move-only and non-default-constructible values", "[result]") {
    struct no_default {
        explicit no_default(int x) : v(x) {}
        int v;
    };
    result<no_default, err> a(std::in_place, 5);
    REQUIRE(a->v == 5);
    result<std::unique_ptr<int>, err> p = std::make_unique<int>(9);
    REQUIRE(**p == 9);
    std::unique_ptr<int> taken = std::move(p).value();
    REQUIRE(*taken == 9);
    result<std::unique_ptr<int>, err> q = std::move(p);
    REQUIRE(q.has_value());
    REQUIRE(*q == nullptr);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<result<std::unique_ptr<int>, err>>);
}

TEST_CASE("result copy, move and assignment switch alternatives correctly", "[result]") {
    result<std::string, std::string> a = std::string("value");
    result<std::string, std::string> b(unexpect, "error");
    a = b;
    REQUIRE_FALSE(a.has_value());
    REQUIRE(a.error() == "error");
    b = result<std::string, std::string>(std::in_place, "again");
    REQUIRE(b.has_value());
    REQUIRE(*b == "again");
    result<std::string, std::string> c(b);
    REQUIRE(*c == "again");
    c = std::move(a);
    REQUIRE(c.error() == "error");
    auto& self = c;
    c = self;
    REQUIRE(c.error() == "error");
}

TEST_CASE("result<void, E>", "[result]") {
    result<void, err> ok;
    REQUIRE(ok.has_value());
    ok.value();
    result<void, err> bad = oneshot::unexpected(err::bad);
    REQUIRE_FALSE(bad);
    REQUIRE(bad.error() == err::bad);
    ok = bad;
    REQUIRE(ok.error() == err::bad);
}

TEST_CASE("a default-constructed result holds a value-initialised T", "[result]") {
    result<int, err> i;
    REQUIRE(i.has_value());
    REQUIRE(*i == 0);
    result<std::string, err> s;
    REQUIRE(s.has_value());
    REQUIRE(s->empty());
    struct with_default {
        int x = 7;
    };
    result<with_default, err> d;
    REQUIRE(d->x == 7);

    // Value-initialised, not left indeterminate: constructed over garbage, the int is still 0.
    alignas(result<int, err>) unsigned char storage[sizeof(result<int, err>)];
    std::memset(storage, 0xA5, sizeof storage);
    auto* over_garbage = new (storage) result<int, err>;
    REQUIRE(over_garbage->has_value());
    REQUIRE(**over_garbage == 0);
    std::destroy_at(over_garbage);

    // Also in constant expressions, as std::expected.
    constexpr result<int, err> c;
    STATIC_REQUIRE(c.has_value() && *c == 0);
}

TEST_CASE("result<void, E> default-constructs to success", "[result]") {
    result<void, err> ok;
    REQUIRE(ok.has_value());
    REQUIRE(static_cast<bool>(ok));
    ok.value(); // does not throw
    constexpr result<void, err> c;
    STATIC_REQUIRE(c.has_value());
    STATIC_REQUIRE(std::is_nothrow_default_constructible_v<result<void, err>>);
}

TEST_CASE("result is default-constructible exactly when T is", "[result]") {
    struct no_default {
        explicit no_default(int) {}
    };
    struct throwing_default {
        throwing_default() noexcept(false) {}
    };
    STATIC_REQUIRE(std::is_default_constructible_v<result<int, err>>);
    STATIC_REQUIRE(std::is_nothrow_default_constructible_v<result<int, err>>);
    STATIC_REQUIRE(std::is_default_constructible_v<result<std::string, err>>);
    STATIC_REQUIRE_FALSE(std::is_default_constructible_v<result<no_default, err>>);
    STATIC_REQUIRE(std::is_default_constructible_v<result<throwing_default, err>>);
    STATIC_REQUIRE_FALSE(std::is_nothrow_default_constructible_v<result<throwing_default, err>>);
    // The error type does not matter: the default is a value.
    STATIC_REQUIRE(std::is_default_constructible_v<result<int, no_default>>);
}

TEST_CASE("result destroys what it holds exactly once", "[result]") {
    auto tracker = std::make_shared<int>(0);
    {
        result<std::shared_ptr<int>, err> r = tracker;
        REQUIRE(tracker.use_count() == 2);
        result<std::shared_ptr<int>, err> moved = std::move(r);
        REQUIRE(tracker.use_count() == 2);
        moved = result<std::shared_ptr<int>, err>(unexpect, err::bad);
        REQUIRE(tracker.use_count() == 1);
        r = result<std::shared_ptr<int>, err>(tracker);
        REQUIRE(tracker.use_count() == 2);
    }
    REQUIRE(tracker.use_count() == 1);
}
