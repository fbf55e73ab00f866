// send_option<T>: the std::optional-like interface, pinning, post_send() re-pinning, and destruction
// on foreign threads.
#include "catch.hpp"
#include "support.hpp"

#include <sendable/sendable.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using sendable::send_option;
using sendable::violation_kind;
using sendable_test::fake_address_of;
using sendable_test::no_address_of;
using sendable_test::tracked;
using sendable_test::violation_here;
using sendable_test::violation_on_new_thread;

TEST_CASE("send_option behaves like std::optional on its thread", "[send_option]") {
    send_option<std::string> o;
    REQUIRE_FALSE(o.has_value());
    REQUIRE_FALSE(static_cast<bool>(o));
    REQUIRE(o.pinned_thread() == sendable::current_thread_id());

    std::string& s = o.emplace(std::size_t{3}, 'a');
    REQUIRE(s == "aaa");
    REQUIRE(o.has_value());
    REQUIRE(*o == "aaa");
    REQUIRE(o->size() == 3);
    REQUIRE(o.value() == "aaa");
    const auto& co = o;
    REQUIRE(*co == "aaa");
    REQUIRE(co->size() == 3);
    REQUIRE(co.value() == "aaa");

    o = std::string("bb");
    REQUIRE(*o == "bb");
    std::string taken = std::move(o).value();
    REQUIRE(taken == "bb");

    o.reset();
    REQUIRE_FALSE(o.has_value());
    o = std::string("c");
    o = std::nullopt;
    REQUIRE_FALSE(o.has_value());

    send_option<std::string> in_place(std::in_place, std::size_t{2}, 'z');
    REQUIRE(*in_place == "zz");
    send_option<std::string> from_value = std::string("v");
    REQUIRE(*from_value == "v");
    send_option<std::string> from_nullopt = std::nullopt;
    REQUIRE_FALSE(from_nullopt.has_value());
}

TEST_CASE("send_option copies and moves and destroys its value", "[send_option]") {
    const long before = tracked::live();
    {
        send_option<tracked> a(tracked(1));
        REQUIRE(tracked::live() == before + 1);
        send_option<tracked> b = a;
        REQUIRE(tracked::live() == before + 2);
        send_option<tracked> c = std::move(a);
        REQUIRE(c->value == 1);
        REQUIRE(a.has_value()); // like std::optional: moved-from keeps a (moved-from) value
        send_option<tracked> d;
        d = b;
        REQUIRE(d->value == 1);
        d = send_option<tracked>();
        REQUIRE_FALSE(d.has_value());
        d = std::move(c);
        REQUIRE(d->value == 1);
        b = d; // assign over a held value
        b = send_option<tracked>(tracked(2));
        REQUIRE(b->value == 2);
        d.emplace(3);
        REQUIRE(d->value == 3);
    }
    REQUIRE(tracked::live() == before);

    // Move-only payloads work, and a vector can grow.
    std::vector<send_option<std::unique_ptr<int>>> v(2);
    v[0].emplace(std::make_unique<int>(4));
    v.resize(20);
    REQUIRE(**v[0] == 4);
}

TEST_CASE("empty send_option: value() throws bad_optional_access and operator star reports empty",
          "[send_option]") {
    send_option<int> o;
    REQUIRE_THROWS_AS(o.value(), std::bad_optional_access);
    auto v = violation_here([&] { (void)*o; });
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == violation_kind::empty);
    REQUIRE(v->message.find("send_option::operator*") != std::string::npos);
    auto arrow = violation_here([&] { (void)o.operator->(); });
    REQUIRE(arrow.has_value());
    REQUIRE(arrow->details.kind == violation_kind::empty);
}

TEST_CASE("every access from a foreign thread fails", "[send_option][pin]") {
    send_option<int> full(5);
    send_option<int> empty;
    const sendable::thread_id owner = sendable::current_thread_id();

    auto expect_wrong_thread = [&](auto&& operation, const char* name) {
        sendable::thread_id worker = 0;
        auto v = violation_on_new_thread(operation, &worker);
        INFO(name);
        REQUIRE(v.has_value());
        CHECK(v->details.kind == violation_kind::wrong_thread);
        CHECK(v->details.pinned_thread == owner);
        CHECK(v->details.current_thread == worker);
        CHECK(v->message.find(name) != std::string::npos);
    };
    expect_wrong_thread([&] { (void)full.has_value(); }, "send_option::has_value");
    expect_wrong_thread([&] { (void)static_cast<bool>(empty); }, "send_option::has_value");
    expect_wrong_thread([&] { (void)*full; }, "send_option::operator*");
    expect_wrong_thread([&] { (void)full.operator->(); }, "send_option::operator->");
    expect_wrong_thread([&] { (void)full.value(); }, "send_option::value");
    expect_wrong_thread([&] { full.emplace(1); }, "send_option::emplace");
    expect_wrong_thread([&] { empty.emplace(1); }, "send_option::emplace");
    expect_wrong_thread([&] { full.reset(); }, "send_option::reset");
    expect_wrong_thread([&] { empty = 3; }, "send_option assignment");
    expect_wrong_thread([&] { full = std::nullopt; }, "send_option::reset");
    expect_wrong_thread([&] { empty = send_option<int>(); }, "send_option move assignment");
    expect_wrong_thread(
        [&] {
            send_option<int> local;
            local = full;
        },
        "send_option copy assignment");
    expect_wrong_thread([&] { send_option<int> copy(full); }, "send_option copy constructor");
    expect_wrong_thread([&] { send_option<int> moved(std::move(full)); },
                        "send_option move constructor");

    REQUIRE(*full == 5); // nothing changed
    REQUIRE_FALSE(empty.has_value());
}

TEST_CASE("an empty send_option travels freely and post_send re-pins it", "[send_option]") {
    send_option<tracked> slot;
    sendable::thread_id worker = 0;
    sendable::thread_id new_pin = 0;
    int stored = 0;
    auto v = violation_on_new_thread(
        [&] {
            worker = sendable::current_thread_id();
            send_option<tracked> moved(std::move(slot)); // moving an empty one: allowed anywhere
            new_pin = moved.pinned_thread();
            slot.post_send(); // re-pin the original (empty) to this thread
            slot.emplace(7);
            stored = slot->value;
            slot.reset();
        },
        &worker);
    REQUIRE_FALSE(v.has_value());
    REQUIRE(new_pin == worker);
    REQUIRE(stored == 7);
    REQUIRE(slot.pinned_thread() == worker);
    auto back_here = violation_here([&] { (void)slot.has_value(); });
    REQUIRE(back_here.has_value());
    REQUIRE(back_here->details.kind == violation_kind::wrong_thread);
    slot.post_send(); // and back again
    REQUIRE_FALSE(slot.has_value());
    REQUIRE(slot.pinned_thread() == sendable::current_thread_id());
}

TEST_CASE("post_send fails unless empty and leaves the value alone", "[send_option]") {
    const long before = tracked::live();
    send_option<tracked> full(tracked(9));
    const sendable::thread_id owner = sendable::current_thread_id();
    sendable::thread_id worker = 0;
    auto v = violation_on_new_thread([&] { full.post_send(); }, &worker);
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == violation_kind::option_not_empty);
    REQUIRE(v->details.pinned_thread == owner);
    REQUIRE(v->details.current_thread == worker);
    REQUIRE(v->message.find("send_option::post_send") != std::string::npos);
    REQUIRE(full.pinned_thread() == owner);
    REQUIRE(full->value == 9);
    REQUIRE(tracked::live() == before + 1);
    auto same_thread = violation_here([&] { full.post_send(); });
    REQUIRE(same_thread.has_value());
    REQUIRE(same_thread->details.kind == violation_kind::option_not_empty);
}

TEST_CASE("destroying a send_option on a foreign thread", "[send_option][pin]") {
    const long before = tracked::live();
    SECTION("empty: allowed, nothing reported") {
        sendable_test::recording_handler handler;
        auto* o = new send_option<tracked>();
        sendable_test::run_on_new_thread([&] { delete o; });
        REQUIRE(sendable_test::recording_handler::take().empty());
    }
    SECTION("holding a value: the value is leaked, untouched, and the violation reported") {
        sendable_test::recording_handler handler;
        auto* o = new send_option<tracked>(tracked(4));
        REQUIRE(tracked::live() == before + 1);
        sendable::thread_id worker = 0;
        sendable_test::run_on_new_thread([&] {
            worker = sendable::current_thread_id();
            delete o;
        });
        const auto seen = sendable_test::recording_handler::take();
        REQUIRE(seen.size() == 1);
        REQUIRE(seen[0].kind == violation_kind::wrong_thread);
        REQUIRE(seen[0].in_destructor);
        REQUIRE(std::string(seen[0].operation) == "send_option destructor");
        REQUIRE(seen[0].current_thread == worker);
        REQUIRE(tracked::live() == before + 1); // its destructor never ran
        --tracked::live(); // account for the leaked (trivially stored) instance
    }
    REQUIRE(tracked::live() == before);
}

TEST_CASE("send_option works with types whose unary operator& is deleted or lies",
          "[send_option]") {
    send_option<no_address_of> o;
    REQUIRE(o.emplace(1).value == 1);
    REQUIRE(o->value == 1);
    REQUIRE((*o).value == 1);
    REQUIRE(o.value().value == 1);
    send_option<no_address_of> copied(o);
    send_option<no_address_of> moved(std::move(o));
    REQUIRE(copied->value == 1);
    REQUIRE(moved->value == 1);
    moved = no_address_of(2);
    copied = moved;
    REQUIRE(copied->value == 2);
    copied = std::move(moved);
    const send_option<no_address_of> in_place(std::in_place, 3);
    REQUIRE(in_place->value == 3);
    REQUIRE((*in_place).value == 3);
    send_option<no_address_of> from_value = no_address_of(4);
    REQUIRE(std::move(from_value).value().value == 4);
    copied.reset();
    copied.post_send();
    REQUIRE_FALSE(copied.has_value());

    send_option<fake_address_of> liar(std::in_place, 5);
    const fake_address_of* address = liar.operator->();
    REQUIRE(address != nullptr);
    REQUIRE(address == std::addressof(*liar));
    REQUIRE(std::as_const(liar).operator->() == address);
    REQUIRE(liar->value == 5);
    liar.emplace(6);
    REQUIRE(liar->value == 6);
    liar = fake_address_of(7);
    REQUIRE(liar.value().value == 7);
}
