// oneshot::channel<T>: every state transition from both sides, without blocking.
#include "catch.hpp"
#include "support/counted.hpp"

#include <oneshot/channel.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

using oneshot::recv_error;
using test_support::counted;

namespace {
using int_block = oneshot::detail::block<int, oneshot::default_platform>;
using string_block = oneshot::detail::block<std::string, oneshot::default_platform>;

// The shared state of channel<int> must stay within 24 bytes (Rust's is 25 plus the message).
static_assert(sizeof(int_block) <= 24);
static_assert(sizeof(int_block) == 16, "state word + int + waiter pointer");
static_assert(sizeof(string_block) == 16 + sizeof(std::string));
static_assert(sizeof(oneshot::sender<int>) == sizeof(void*));
static_assert(sizeof(oneshot::receiver<int>) == sizeof(void*));
static_assert(sizeof(oneshot::sender<std::array<char, 4096>>) == sizeof(void*));
static_assert(!std::is_copy_constructible_v<oneshot::sender<int>>);
static_assert(!std::is_copy_constructible_v<oneshot::receiver<int>>);
static_assert(std::is_nothrow_move_constructible_v<oneshot::sender<int>>);
static_assert(std::is_nothrow_move_assignable_v<oneshot::receiver<int>>);

struct alignas(64) over_aligned {
    int value;
};

struct no_default {
    explicit no_default(int v) : value(v) {}
    int value;
};

// Throws from its move constructor when told to.
struct throwing_move {
    static inline bool throw_on_move = false;
    static inline int live = 0;
    explicit throwing_move(int v) : value(v) { ++live; }
    throwing_move(const throwing_move& o) : value(o.value) { ++live; }
    throwing_move(throwing_move&& o) : value(o.value) {
        if (throw_on_move) throw std::runtime_error("move failed");
        ++live;
    }
    ~throwing_move() { --live; }
    throwing_move& operator=(const throwing_move&) = delete;
    int value;
};
} // namespace

TEST_CASE("send then try_recv delivers the message and detaches the receiver", "[channel]") {
    auto [tx, rx] = oneshot::channel<int>();
    REQUIRE_FALSE(tx.is_closed());
    REQUIRE_FALSE(rx.is_closed());
    REQUIRE_FALSE(rx.has_message());
    REQUIRE(rx.try_recv().error() == recv_error::empty);

    auto sent = std::move(tx).send(42);
    REQUIRE(sent.has_value());
    REQUIRE(tx.is_closed()); // consumed by send
    REQUIRE(rx.has_message());
    REQUIRE_FALSE(rx.is_closed());

    auto got = rx.try_recv();
    REQUIRE(got.has_value());
    REQUIRE(*got == 42);
    // Taken: every later operation is defined.
    REQUIRE(rx.is_closed());
    REQUIRE_FALSE(rx.has_message());
    REQUIRE(rx.try_recv().error() == recv_error::disconnected);
    REQUIRE(rx.recv().error() == recv_error::disconnected);
    REQUIRE(rx.recv_for(std::chrono::milliseconds(1)).error() == recv_error::disconnected);
}

TEST_CASE("is_closed and has_message never change the state", "[channel]") {
    auto [tx, rx] = oneshot::channel<int>();
    for (int i = 0; i < 3; ++i) {
        REQUIRE_FALSE(tx.is_closed());
        REQUIRE_FALSE(rx.is_closed());
        REQUIRE_FALSE(rx.has_message());
    }
    REQUIRE(std::move(tx).send(1).has_value());
    for (int i = 0; i < 3; ++i) {
        REQUIRE(rx.has_message());
        REQUIRE_FALSE(rx.is_closed());
    }
    REQUIRE(*rx.try_recv() == 1);
}

TEST_CASE("dropping the sender unsent disconnects the receiver", "[channel]") {
    auto [tx, rx] = oneshot::channel<std::string>();
    { auto dropped = std::move(tx); }
    REQUIRE(rx.is_closed());
    REQUIRE_FALSE(rx.has_message());
    REQUIRE(rx.try_recv().error() == recv_error::disconnected);
    REQUIRE(rx.recv().error() == recv_error::disconnected);
}

TEST_CASE("a send after the receiver is gone fails and hands the message back", "[channel]") {
    auto [tx, rx] = oneshot::channel<std::unique_ptr<int>>();
    { auto dropped = std::move(rx); }
    REQUIRE(tx.is_closed());
    auto sent = std::move(tx).send(std::make_unique<int>(5));
    REQUIRE_FALSE(sent.has_value());
    REQUIRE(*sent.error().value() == 5);
    std::unique_ptr<int> back = std::move(sent.error()).into_inner();
    REQUIRE(*back == 5);
}

TEST_CASE("all four drop orders destroy the message exactly once and free the block", "[channel]") {
    counted::reset();
    SECTION("send, drop sender side done, drop receiver: receiver destroys the message") {
        auto [tx, rx] = oneshot::channel<counted>();
        REQUIRE(std::move(tx).emplace(1).has_value());
        REQUIRE(counted::live == 1);
        { auto dropped = std::move(rx); }
    }
    SECTION("drop receiver, then send: the message comes back and is destroyed by the caller") {
        auto [tx, rx] = oneshot::channel<counted>();
        { auto dropped = std::move(rx); }
        auto sent = std::move(tx).emplace(2);
        REQUIRE_FALSE(sent.has_value());
        REQUIRE(sent.error().value().value == 2);
        REQUIRE(counted::live == 1);
    }
    SECTION("drop sender unsent, then receiver") {
        auto [tx, rx] = oneshot::channel<counted>();
        { auto dropped = std::move(tx); }
        { auto dropped = std::move(rx); }
    }
    SECTION("drop receiver, then sender unsent") {
        auto [tx, rx] = oneshot::channel<counted>();
        { auto dropped = std::move(rx); }
        { auto dropped = std::move(tx); }
    }
    SECTION("send, receive, then drops") {
        auto [tx, rx] = oneshot::channel<counted>();
        REQUIRE(std::move(tx).emplace(3).has_value());
        auto got = rx.try_recv();
        REQUIRE(got->value == 3);
    }
    REQUIRE(counted::live == 0);
    REQUIRE(counted::constructed == counted::destroyed);
}

TEST_CASE("moved-from and default-constructed endpoints are closed and every operation is defined",
          "[channel]") {
    auto [tx, rx] = oneshot::channel<int>();
    auto tx2 = std::move(tx);
    auto rx2 = std::move(rx);
    REQUIRE(tx.is_closed());
    REQUIRE(rx.is_closed());
    REQUIRE_FALSE(rx.has_message());
    REQUIRE(rx.try_recv().error() == recv_error::disconnected);
    REQUIRE(rx.recv().error() == recv_error::disconnected);
    REQUIRE(rx.recv_for(std::chrono::seconds(10)).error() == recv_error::disconnected);
    auto failed = std::move(tx).send(9);
    REQUIRE_FALSE(failed.has_value());
    REQUIRE(failed.error().value() == 9);

    oneshot::sender<int> empty_tx;
    oneshot::receiver<int> empty_rx;
    REQUIRE(empty_tx.is_closed());
    REQUIRE(empty_rx.is_closed());
    REQUIRE(std::move(empty_tx).send(1).error().value() == 1);
    REQUIRE(empty_rx.try_recv().error() == recv_error::disconnected);

    REQUIRE(std::move(tx2).send(10).has_value());
    REQUIRE(*rx2.recv() == 10);
}

TEST_CASE("self-move-assignment leaves the endpoint intact", "[channel]") {
    auto [tx, rx] = oneshot::channel<int>();
    auto& tx_alias = tx;
    auto& rx_alias = rx;
    tx = std::move(tx_alias);
    rx = std::move(rx_alias);
    REQUIRE(std::move(tx).send(3).has_value());
    REQUIRE(*rx.try_recv() == 3);
}

TEST_CASE("move-assigning over a live endpoint drops its old channel", "[channel]") {
    auto [tx1, rx1] = oneshot::channel<int>();
    auto [tx2, rx2] = oneshot::channel<int>();
    tx1 = std::move(tx2); // drops the first channel's sender unsent
    REQUIRE(rx1.try_recv().error() == recv_error::disconnected);
    rx1 = std::move(rx2);
    REQUIRE(std::move(tx1).send(4).has_value());
    REQUIRE(*rx1.try_recv() == 4);
}

TEST_CASE("channel carries any move-constructible object type", "[channel]") {
    SECTION("move-only") {
        auto [tx, rx] = oneshot::channel<std::unique_ptr<std::string>>();
        REQUIRE(std::move(tx).send(std::make_unique<std::string>("hi")).has_value());
        REQUIRE(**rx.try_recv() == "hi");
    }
    SECTION("not default-constructible, built in place") {
        auto [tx, rx] = oneshot::channel<no_default>();
        REQUIRE(std::move(tx).emplace(8).has_value());
        REQUIRE(rx.try_recv()->value == 8);
    }
    SECTION("over-aligned") {
        auto [tx, rx] = oneshot::channel<over_aligned>();
        REQUIRE(std::move(tx).send(over_aligned{11}).has_value());
        auto got = rx.try_recv();
        REQUIRE(got->value == 11);
        REQUIRE(reinterpret_cast<std::uintptr_t>(&*got) % 64 == 0);
    }
    SECTION("large") {
        std::array<std::byte, 4096> big{};
        big[4095] = std::byte{7};
        auto [tx, rx] = oneshot::channel<std::array<std::byte, 4096>>();
        REQUIRE(std::move(tx).send(big).has_value()); // copies
        REQUIRE((*rx.try_recv())[4095] == std::byte{7});
    }
    SECTION("void: a pure signal") {
        auto [tx, rx] = oneshot::channel<void>();
        REQUIRE(rx.try_recv().error() == recv_error::empty);
        REQUIRE(rx.has_message() == false);
        REQUIRE(std::move(tx).send().has_value());
        REQUIRE(rx.has_message());
        REQUIRE(rx.try_recv().has_value());
        REQUIRE(rx.try_recv().error() == recv_error::disconnected);
    }
    SECTION("void: send to a dropped receiver fails") {
        auto [tx, rx] = oneshot::channel<void>();
        { auto dropped = std::move(rx); }
        REQUIRE_FALSE(std::move(tx).send().has_value());
    }
    SECTION("copyable message sent by const reference") {
        const std::string text = "copied";
        auto [tx, rx] = oneshot::channel<std::string>();
        REQUIRE(std::move(tx).send(text).has_value());
        REQUIRE(*rx.try_recv() == "copied");
        REQUIRE(text == "copied");
    }
}

TEST_CASE("a throwing move constructor in send propagates, leaks nothing, and disconnects",
          "[channel]") {
    throwing_move::live = 0;
    {
        auto [tx, rx] = oneshot::channel<throwing_move>();
        throwing_move value(1);
        throwing_move::throw_on_move = true;
        REQUIRE_THROWS_AS(std::move(tx).send(std::move(value)), std::runtime_error);
        throwing_move::throw_on_move = false;
        REQUIRE(tx.is_closed());
        REQUIRE(rx.is_closed());
        REQUIRE(rx.try_recv().error() == recv_error::disconnected);
        REQUIRE(throwing_move::live == 1); // only `value` itself
    }
    REQUIRE(throwing_move::live == 0);
}

TEST_CASE("a throwing move constructor in receive leaves the message in the channel", "[channel]") {
    throwing_move::live = 0;
    {
        auto [tx, rx] = oneshot::channel<throwing_move>();
        REQUIRE(std::move(tx).emplace(5).has_value());
        throwing_move::throw_on_move = true;
        REQUIRE_THROWS_AS(rx.try_recv(), std::runtime_error);
        throwing_move::throw_on_move = false;
        REQUIRE(rx.has_message());
        auto got = rx.try_recv();
        REQUIRE(got->value == 5);
    }
    REQUIRE(throwing_move::live == 0);
}

TEST_CASE("a throwing move when handing a failed send back frees everything", "[channel]") {
    throwing_move::live = 0;
    {
        auto [tx, rx] = oneshot::channel<throwing_move>();
        { auto dropped = std::move(rx); }
        throwing_move value(3);
        // The message is constructed in the channel by copy, then moved back out: make that throw.
        // (An init-capture: clang before 16 cannot capture a structured binding directly.)
        auto attempt = [&sender = tx, &value]() {
            throwing_move::throw_on_move = true;
            auto r = std::move(sender).send(static_cast<const throwing_move&>(value));
            throwing_move::throw_on_move = false;
            return r.has_value();
        };
        REQUIRE_THROWS_AS(attempt(), std::runtime_error);
        throwing_move::throw_on_move = false;
        REQUIRE(throwing_move::live == 1);
    }
    REQUIRE(throwing_move::live == 0);
}

TEST_CASE("release and from_raw pass endpoints through C code without another allocation",
          "[channel]") {
    auto [tx, rx] = oneshot::channel<int>();
    void* raw_tx = std::move(tx).release();
    void* raw_rx = std::move(rx).release();
    REQUIRE(raw_tx != nullptr);
    REQUIRE(raw_tx == raw_rx);
    REQUIRE(tx.is_closed());
    REQUIRE(rx.is_closed());
    auto tx_back = oneshot::sender<int>::from_raw(raw_tx);
    auto rx_back = oneshot::receiver<int>::from_raw(raw_rx);
    REQUIRE(std::move(tx_back).send(77).has_value());
    REQUIRE(*rx_back.try_recv() == 77);

    REQUIRE(oneshot::sender<int>::from_raw(nullptr).is_closed());
    REQUIRE(oneshot::receiver<int>::from_raw(nullptr).is_closed());
    oneshot::sender<int> closed;
    REQUIRE(std::move(closed).release() == nullptr);
}

TEST_CASE("recv_error names", "[channel]") {
    REQUIRE(oneshot::to_string(recv_error::empty) == "empty");
    REQUIRE(oneshot::to_string(recv_error::disconnected) == "disconnected");
    REQUIRE(oneshot::to_string(recv_error::timeout) == "timeout");
    REQUIRE(oneshot::to_string(recv_error::cancelled) == "cancelled");
}

namespace {
/// Counts moves, and throws on the move number `throw_at` (0: never).
struct move_counter {
    static inline int moves = 0;
    static inline int throw_at = 0;
    int value = 0;
    explicit move_counter(int v) noexcept : value(v) {}
    move_counter(const move_counter&) = delete;
    move_counter(move_counter&& other) : value(other.value) {
        if (++moves == throw_at) throw std::runtime_error("move");
    }
    move_counter& operator=(const move_counter&) = delete;
    move_counter& operator=(move_counter&&) = delete;
    ~move_counter() = default;
};
} // namespace

TEST_CASE("a receive moves the message exactly once, straight into the result", "[channel]") {
    auto [tx, rx] = oneshot::channel<move_counter>();
    REQUIRE(std::move(tx).emplace(7).has_value()); // constructed in place: no move
    move_counter::moves = 0;
    auto got = rx.try_recv();
    REQUIRE(got->value == 7);
    REQUIRE(move_counter::moves == 1);
}

TEST_CASE("a receive whose only move throws keeps the message in the channel", "[channel]") {
    auto [tx, rx] = oneshot::channel<move_counter>();
    REQUIRE(std::move(tx).emplace(8).has_value());
    move_counter::moves = 0;
    move_counter::throw_at = 1;
    REQUIRE_THROWS_AS(rx.try_recv(), std::runtime_error);
    REQUIRE(rx.has_message());
    move_counter::throw_at = 0;
    REQUIRE(rx.recv()->value == 8);
    REQUIRE_FALSE(rx.has_message());
}

namespace {
/// Unary `operator&` overloaded to lie: the library must never use it.
struct lying_address {
    static inline int live = 0;
    int value;
    explicit lying_address(int v) noexcept : value(v) { ++live; }
    lying_address(lying_address&& other) noexcept : value(other.value) { ++live; }
    lying_address(const lying_address& other) noexcept : value(other.value) { ++live; }
    lying_address& operator=(const lying_address&) = default;
    ~lying_address() { --live; }
    lying_address* operator&() const noexcept { return nullptr; }
};
/// Unary `operator&` deleted.
struct no_address {
    int value;
    explicit no_address(int v) noexcept : value(v) {}
    no_address(no_address&&) noexcept = default;
    no_address* operator&() const = delete;
};
/// An aggregate: built with braces from `emplace` arguments.
struct aggregate {
    int number;
    std::string text;
};
} // namespace

TEST_CASE("message types with an overloaded or deleted operator& work", "[channel]") {
    lying_address::live = 0;
    {
        auto [tx, rx] = oneshot::channel<lying_address>();
        REQUIRE(std::move(tx).emplace(3).has_value());
        REQUIRE(rx.try_recv()->value == 3);
    }
    {
        auto [tx, rx] = oneshot::channel<lying_address>();
        REQUIRE(std::move(tx).emplace(4).has_value()); // destroyed unreceived, with the channel
    }
    {
        auto [tx, rx] = oneshot::channel<lying_address>();
        { auto gone = std::move(rx); }
        auto back = std::move(tx).emplace(5); // handed back
        REQUIRE(back.error().value().value == 5);
    }
    REQUIRE(lying_address::live == 0);
    auto [tx, rx] = oneshot::channel<no_address>();
    REQUIRE(std::move(tx).emplace(6).has_value());
    REQUIRE(rx.recv()->value == 6);
}

TEST_CASE("emplace builds an aggregate from its members", "[channel]") {
    auto [tx, rx] = oneshot::channel<aggregate>();
    REQUIRE(std::move(tx).emplace(1, "one").has_value());
    auto got = rx.try_recv();
    REQUIRE(got->number == 1);
    REQUIRE(got->text == "one");
}
