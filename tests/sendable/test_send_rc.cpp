// send_rc<T>: construction, counting, identity, try_unwrap, get_mut, and the pin checks of every
// operation on a thread the value is not pinned to.
#include "catch.hpp"
#include "support.hpp"

#include <sendable/sendable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>

using sendable::make_send_rc;
using sendable::send_rc;
using sendable::violation_kind;
using sendable_test::fake_address_of;
using sendable_test::no_address_of;
using sendable_test::tracked;

namespace {

struct pair_aggregate {
    int a;
    std::string b;
};

struct alignas(64) over_aligned {
    unsigned char bytes[64];
};

struct list_node {
    explicit list_node(int v) : value(v) {}
    int value;
    send_rc<list_node> next; // send_rc of an incomplete type
};

struct throwing_move {
    throwing_move() = default;
    throwing_move(const throwing_move&) = default;
    throwing_move(throwing_move&&) { throw 42; } // NOLINT: deliberately not noexcept
    int value = 7;
};

/// Counts its moves and live instances; its move constructor throws on move number `throw_at`.
struct move_counter {
    static inline int moves = 0;
    static inline int throw_at = 0; // 0: never
    static inline int live = 0;

    explicit move_counter(int v) : value(v) { ++live; }
    move_counter(const move_counter&) = delete;
    move_counter(move_counter&& other) : value(other.value) { // NOLINT: may throw on purpose
        if (++moves == throw_at) {
            throw 42;
        }
        ++live;
    }
    move_counter& operator=(const move_counter&) = delete;
    move_counter& operator=(move_counter&&) = delete;
    ~move_counter() { --live; }
    int value;
};

} // namespace

TEST_CASE("send_rc is one word for any T", "[send_rc]") {
    STATIC_REQUIRE(sizeof(send_rc<int>) == sizeof(void*));
    STATIC_REQUIRE(sizeof(send_rc<char>) == sizeof(void*));
    STATIC_REQUIRE(sizeof(send_rc<std::string>) == sizeof(void*));
    STATIC_REQUIRE(sizeof(send_rc<over_aligned>) == sizeof(void*));
    STATIC_REQUIRE(sizeof(send_rc<list_node>) == sizeof(void*));
    STATIC_REQUIRE(sizeof(sendable::detail::control_block) == 24);
}

TEST_CASE("make_send_rc constructs with parentheses or braces and pins to the caller",
          "[send_rc]") {
    auto s = make_send_rc<std::string>(std::size_t{3}, 'x');
    REQUIRE(*s == "xxx");
    REQUIRE(s->size() == 3);
    REQUIRE(s.get() == std::addressof(*s));
    REQUIRE(s.use_count() == 1);
    REQUIRE(static_cast<bool>(s));
    REQUIRE(s.pinned_thread() == sendable::current_thread_id());

    auto agg = make_send_rc<pair_aggregate>(1, "one");
    REQUIRE(agg->a == 1);
    REQUIRE(agg->b == "one");

    send_rc<std::string> from_value(std::string("moved in"));
    REQUIRE(*from_value == "moved in");

    auto aligned = make_send_rc<over_aligned>();
    REQUIRE(reinterpret_cast<std::uintptr_t>(aligned.get()) % 64 == 0);

    auto constant = make_send_rc<const int>(5);
    REQUIRE(*constant == 5);
}

TEST_CASE("empty send_rc", "[send_rc]") {
    send_rc<int> empty;
    send_rc<int> null_rc = nullptr;
    REQUIRE_FALSE(static_cast<bool>(empty));
    REQUIRE(empty == nullptr);
    REQUIRE(empty == null_rc);
    REQUIRE(empty.get() == nullptr);
    REQUIRE(empty.get_mut() == nullptr);
    REQUIRE(empty.use_count() == 0);
    REQUIRE(empty.pinned_thread() == 0);
    send_rc<int> copy = empty;
    REQUIRE(copy == nullptr);
    empty.reset();
    REQUIRE(empty == nullptr);

    auto deref = sendable_test::violation_here([&] { (void)*empty; });
    REQUIRE(deref.has_value());
    REQUIRE(deref->details.kind == violation_kind::empty);
    REQUIRE(deref->message.find("send_rc::operator*") != std::string::npos);
    auto arrow = sendable_test::violation_here([&] { (void)empty.operator->(); });
    REQUIRE(arrow.has_value());
    REQUIRE(arrow->details.kind == violation_kind::empty);
}

TEST_CASE("copy clones and destroy releases and the last one destroys the value", "[send_rc]") {
    const long before = tracked::live();
    {
        auto a = make_send_rc<tracked>(1);
        REQUIRE(tracked::live() == before + 1);
        {
            send_rc<tracked> b = a; // NOLINT(performance-unnecessary-copy-initialization)
            REQUIRE(a.use_count() == 2);
            REQUIRE(b.use_count() == 2);
            REQUIRE(a == b);
            REQUIRE(a.get() == b.get());
            send_rc<tracked> c(b);
            REQUIRE(a.use_count() == 3);
        }
        REQUIRE(a.use_count() == 1);
        REQUIRE(tracked::live() == before + 1);
    }
    REQUIRE(tracked::live() == before);
}

TEST_CASE("move leaves the source empty and keeps the count", "[send_rc]") {
    auto a = make_send_rc<int>(9);
    auto* address = a.get();
    send_rc<int> b = std::move(a);
    REQUIRE(a == nullptr); // NOLINT(bugprone-use-after-move)
    REQUIRE(b.get() == address);
    REQUIRE(b.use_count() == 1);

    send_rc<int> c;
    c = std::move(b);
    REQUIRE(b == nullptr); // NOLINT(bugprone-use-after-move)
    REQUIRE(c.use_count() == 1);
    REQUIRE(*c == 9);

    auto& self = c;
    c = std::move(self); // self move-assignment keeps the value
    REQUIRE(*c == 9);
}

TEST_CASE("assignment releases the previous value", "[send_rc]") {
    const long before = tracked::live();
    auto a = make_send_rc<tracked>(1);
    auto b = make_send_rc<tracked>(2);
    REQUIRE(tracked::live() == before + 2);

    SECTION("copy assignment") {
        b = a;
        REQUIRE(tracked::live() == before + 1);
        REQUIRE(a.use_count() == 2);
        REQUIRE(b->value == 1);
        const auto& same = b;
        b = same; // self copy-assignment
        REQUIRE(a.use_count() == 2);
        b = a; // same value through another rc
        REQUIRE(a.use_count() == 2);
    }
    SECTION("move assignment") {
        b = std::move(a);
        REQUIRE(tracked::live() == before + 1);
        REQUIRE(b.use_count() == 1);
        REQUIRE(b->value == 1);
    }
    SECTION("reset") {
        b.reset();
        REQUIRE(b == nullptr);
        REQUIRE(tracked::live() == before + 1);
    }
    SECTION("assigning from an rc that lives inside the released value") {
        auto head = make_send_rc<list_node>(1);
        head->next = make_send_rc<list_node>(2);
        head = head->next; // the old head (holding `next`) is released after the copy
        REQUIRE(head->value == 2);
        REQUIRE(head.use_count() == 1);
    }
}

TEST_CASE("swap exchanges values", "[send_rc]") {
    auto a = make_send_rc<int>(1);
    auto b = make_send_rc<int>(2);
    swap(a, b);
    REQUIRE(*a == 2);
    REQUIRE(*b == 1);
    a.swap(b);
    REQUIRE(*a == 1);
}

TEST_CASE("pointer identity: equality and std::hash", "[send_rc]") {
    auto a = make_send_rc<int>(1);
    auto a2 = a;
    auto b = make_send_rc<int>(1);
    REQUIRE(a == a2);
    REQUIRE(a != b);
    REQUIRE(a != nullptr);
    std::hash<send_rc<int>> hash;
    REQUIRE(hash(a) == hash(a2));
    std::unordered_set<send_rc<int>> set{a, a2, b};
    REQUIRE(set.size() == 2);
    REQUIRE(set.count(a2) == 1);
}

TEST_CASE("get_mut gives the value only while the rc is unique", "[send_rc]") {
    auto a = make_send_rc<int>(1);
    int* unique = a.get_mut();
    REQUIRE(unique == a.get());
    *unique = 2;
    {
        auto b = a;
        REQUIRE(a.get_mut() == nullptr);
        REQUIRE(b.get_mut() == nullptr);
    }
    REQUIRE(a.get_mut() != nullptr);
    REQUIRE(*a.get_mut() == 2);
}

TEST_CASE("try_unwrap returns the value only when unique", "[send_rc]") {
    const long before = tracked::live();
    SECTION("unique: the value comes out, the allocation is freed, the rc is empty") {
        auto a = make_send_rc<tracked>(5);
        std::optional<tracked> out = sendable::try_unwrap(std::move(a));
        REQUIRE(out.has_value());
        REQUIRE(out->value == 5);
        REQUIRE(a == nullptr);                  // NOLINT(bugprone-use-after-move)
        REQUIRE(tracked::live() == before + 1); // only the returned one: the original ran once
    }
    SECTION("shared: nothing happens") {
        auto a = make_send_rc<tracked>(5);
        auto b = a;
        std::optional<tracked> out = sendable::try_unwrap(std::move(a));
        REQUIRE_FALSE(out.has_value());
        REQUIRE(a != nullptr); // NOLINT(bugprone-use-after-move)
        REQUIRE(a.use_count() == 2);
        REQUIRE(a->value == 5);
        REQUIRE(tracked::live() == before + 1);
    }
    SECTION("empty") {
        send_rc<tracked> empty;
        REQUIRE_FALSE(sendable::try_unwrap(std::move(empty)).has_value());
    }
    SECTION("a throwing move leaves the rc intact") {
        auto a = make_send_rc<throwing_move>();
        REQUIRE_THROWS_AS(sendable::try_unwrap(std::move(a)), int);
        REQUIRE(a != nullptr); // NOLINT(bugprone-use-after-move)
        REQUIRE(a.use_count() == 1);
        REQUIRE(a->value == 7);
    }
    REQUIRE(tracked::live() == before);
}

TEST_CASE("try_unwrap moves the value exactly once and a throwing move changes nothing",
          "[send_rc]") {
    move_counter::live = 0;
    // The move constructor throws on the n-th move counted from the call (0: never). The value is
    // moved once, straight into the result: only n == 1 can throw, and then nothing has changed.
    for (int n = 0; n <= 3; ++n) {
        INFO("throw on move " << n);
        auto rc = make_send_rc<move_counter>(5);
        REQUIRE(move_counter::live == 1);
        move_counter::moves = 0;
        move_counter::throw_at = n;
        if (n == 1) {
            REQUIRE_THROWS_AS(sendable::try_unwrap(std::move(rc)), int);
            REQUIRE(move_counter::moves == 1);
            REQUIRE(rc != nullptr); // NOLINT(bugprone-use-after-move)
            REQUIRE(rc.use_count() == 1);
            REQUIRE(rc->value == 5);
            REQUIRE(move_counter::live == 1);
            // Still unique and usable: a second attempt that does not throw takes it.
            move_counter::throw_at = 0;
            move_counter::moves = 0;
        }
        std::optional<move_counter> out = sendable::try_unwrap(std::move(rc));
        REQUIRE(move_counter::moves == 1);
        REQUIRE(out.has_value());
        REQUIRE(out->value == 5);
        REQUIRE(rc == nullptr);           // NOLINT(bugprone-use-after-move)
        REQUIRE(move_counter::live == 1); // only the result: the moved-from value was destroyed
    }
    move_counter::throw_at = 0;
    REQUIRE(move_counter::live == 0);
}

TEST_CASE("send_rc works with types whose unary operator& is deleted or lies", "[send_rc]") {
    auto rc = make_send_rc<no_address_of>(1);
    REQUIRE(rc->value == 1);
    REQUIRE((*rc).value == 1);
    REQUIRE(rc.get() == std::addressof(*rc));
    REQUIRE(rc.get_mut() == rc.get());
    send_rc<no_address_of> copy = rc;
    REQUIRE(copy.get() == rc.get());
    copy.reset();
    send_rc<no_address_of> from_value(no_address_of(2));
    REQUIRE(from_value->value == 2);
    no_address_of* address_before = rc.get();
    {
        sendable::pre_send ps;
        REQUIRE(std::addressof(ps.park(rc)) == address_before);
        sendable::post_send token = std::move(ps).ready();
        std::move(token).unpark();
    }
    REQUIRE(rc.get() == address_before);
    std::optional<no_address_of> out = sendable::try_unwrap(std::move(rc));
    REQUIRE(out.has_value());
    REQUIRE(out->value == 1);

    auto liar = make_send_rc<fake_address_of>(3);
    fake_address_of* address = liar.get();
    REQUIRE(address != nullptr);
    REQUIRE(address == std::addressof(*liar));
    REQUIRE(liar.operator->() == address);
    REQUIRE(liar.get_mut() == address);
    REQUIRE(liar->value == 3);
    {
        sendable::pre_send ps;
        REQUIRE(std::addressof(ps.park(liar)) == address);
    }
    std::optional<fake_address_of> taken = sendable::try_unwrap(std::move(liar));
    REQUIRE(taken.has_value());
    REQUIRE(taken->value == 3);
}

TEST_CASE("a send_rc can hold send_rcs of its own type", "[send_rc]") {
    auto head = make_send_rc<list_node>(1);
    head->next = make_send_rc<list_node>(2);
    head->next->next = make_send_rc<list_node>(3);
    int sum = 0;
    for (const send_rc<list_node>* p = &head; *p; p = &(*p)->next) {
        sum += (*p)->value;
    }
    REQUIRE(sum == 6);
}

TEST_CASE("every checked operation fails on a thread the value is not pinned to",
          "[send_rc][pin]") {
    auto rc = make_send_rc<int>(1);
    auto other = make_send_rc<int>(2);
    const sendable::thread_id owner = sendable::current_thread_id();

    auto expect_wrong_thread = [&](auto&& operation, const char* name) {
        sendable::thread_id worker = 0;
        auto v = sendable_test::violation_on_new_thread(operation, &worker);
        INFO(name);
        REQUIRE(v.has_value());
        CHECK(v->details.kind == violation_kind::wrong_thread);
        CHECK(v->details.pinned_thread == owner);
        CHECK(v->details.current_thread == worker);
        CHECK(worker != owner);
        CHECK(worker != 0);
        CHECK(std::string(v->details.operation).find(name) != std::string::npos);
        CHECK(v->message.find(name) != std::string::npos);
        CHECK(v->message.find("pinned thread " + std::to_string(owner)) != std::string::npos);
        CHECK(v->message.find("current thread " + std::to_string(worker)) != std::string::npos);
    };

    expect_wrong_thread([&] { (void)*rc; }, "send_rc::operator*");
    expect_wrong_thread([&] { (void)rc.operator->(); }, "send_rc::operator->");
    expect_wrong_thread([&] { (void)rc.get(); }, "send_rc::get");
    expect_wrong_thread([&] { (void)rc.get_mut(); }, "send_rc::get_mut");
    expect_wrong_thread([&] { (void)rc.use_count(); }, "send_rc::use_count");
    expect_wrong_thread([&] { send_rc<int> copy(rc); }, "send_rc copy constructor");
    expect_wrong_thread(
        [&] {
            send_rc<int> local;
            local = rc;
        },
        "send_rc copy assignment");
    expect_wrong_thread([&] { rc = other; }, "send_rc copy assignment");
    expect_wrong_thread([&] { rc = send_rc<int>(); }, "send_rc move assignment");
    expect_wrong_thread([&] { rc.reset(); }, "send_rc::reset");
    expect_wrong_thread([&] { (void)sendable::try_unwrap(std::move(rc)); }, "sendable::try_unwrap");

    // Nothing changed, and the owner can still use both.
    REQUIRE(rc.use_count() == 1);
    REQUIRE(*rc == 1);
    REQUIRE(*other == 2);
}

TEST_CASE("moving and swapping and comparing and hashing are allowed on any thread",
          "[send_rc][pin]") {
    auto rc = make_send_rc<int>(1);
    auto* address = rc.get();
    const sendable::thread_id owner = sendable::current_thread_id();
    bool equal = false;
    sendable::thread_id seen_pin = 0;
    auto v = sendable_test::violation_on_new_thread([&] {
        send_rc<int> moved = std::move(rc);
        send_rc<int> other;
        swap(moved, other);
        equal = (other != nullptr) && static_cast<bool>(other) && !(other == moved);
        (void)std::hash<send_rc<int>>{}(other);
        seen_pin = other.pinned_thread();
        rc = send_rc<int>(); // move-assigning into an empty rc touches no value
        rc.swap(other);
    });
    REQUIRE_FALSE(v.has_value());
    REQUIRE(equal);
    REQUIRE(seen_pin == owner);
    REQUIRE(rc.get() == address);
    REQUIRE(*rc == 1);
}

TEST_CASE("a destructor on the wrong thread reports and leaks", "[send_rc][pin]") {
    sendable_test::recording_handler handler;
    const long before = tracked::live();
    auto rc = make_send_rc<tracked>(3);
    sendable_test::keep_reachable(rc.get());
    const sendable::thread_id owner = sendable::current_thread_id();
    sendable::thread_id worker = 0;
    sendable_test::run_on_new_thread([&, moved = std::move(rc)]() mutable {
        worker = sendable::current_thread_id();
        { send_rc<tracked> dying = std::move(moved); }
    });
    const auto seen = sendable_test::recording_handler::take();
    REQUIRE(seen.size() == 1);
    REQUIRE(seen[0].kind == violation_kind::wrong_thread);
    REQUIRE(seen[0].in_destructor);
    REQUIRE(std::string(seen[0].operation) == "send_rc destructor");
    REQUIRE(seen[0].pinned_thread == owner);
    REQUIRE(seen[0].current_thread == worker);
    REQUIRE(tracked::live() == before + 1); // leaked, never destroyed
}

TEST_CASE("thread ids are never reused: a value of a finished thread is unusable forever",
          "[send_rc][pin]") {
    send_rc<int> orphan;
    sendable::thread_id creator = 0;
    sendable_test::run_on_new_thread([&] {
        creator = sendable::current_thread_id();
        orphan = make_send_rc<int>(4);
        sendable_test::keep_reachable(orphan.get()); // it will be leaked on purpose below
    });
    REQUIRE(orphan.pinned_thread() == creator);
    // Fresh threads (whose std::thread::id may equal the finished one's) cannot use it.
    for (int i = 0; i < 8; ++i) {
        sendable::thread_id worker = 0;
        auto v = sendable_test::violation_on_new_thread([&] { (void)*orphan; }, &worker);
        REQUIRE(v.has_value());
        REQUIRE(v->details.kind == violation_kind::wrong_thread);
        REQUIRE(worker != creator);
    }
    auto here = sendable_test::violation_here([&] { (void)orphan.use_count(); });
    REQUIRE(here.has_value());
    // It can never be destroyed either: its destructor reports and leaks.
    sendable_test::recording_handler handler;
    auto* holder = new send_rc<int>(std::move(orphan));
    delete holder;
    const auto seen = sendable_test::recording_handler::take();
    REQUIRE(seen.size() == 1);
    REQUIRE(seen[0].pinned_thread == creator);
}
