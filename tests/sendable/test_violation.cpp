// Violation reporting: pin_error, messages, the handler API, and thread ids.
#include "catch.hpp"
#include "support.hpp"

#include <sendable/sendable.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using sendable::pin_error;
using sendable::violation;
using sendable::violation_kind;

namespace {

struct custom_error {
    violation_kind kind;
};

void throw_custom(const violation& v) {
    throw custom_error{v.kind};
}
void first_handler(const violation&) {}
void second_handler(const violation&) {}

const violation_kind all_kinds[] = {
    violation_kind::wrong_thread, violation_kind::in_transit,
    violation_kind::parked,       violation_kind::parked_elsewhere,
    violation_kind::not_ready,    violation_kind::option_not_empty,
    violation_kind::empty,        violation_kind::marks_exhausted,
};

} // namespace

TEST_CASE("thread ids are nonzero and stable and unique and never reused", "[thread_id]") {
    const sendable::thread_id main_id = sendable::current_thread_id();
    REQUIRE(main_id != 0);
    REQUIRE(sendable::current_thread_id() == main_id);
    std::set<sendable::thread_id> ids{main_id};
    for (int i = 0; i < 64; ++i) {
        sendable::thread_id before_first_use = 1;
        sendable::thread_id id = 0;
        sendable::thread_id again = 0;
        // Threads run one after another, so the OS (and std::thread::id) may reuse a finished one's id.
        std::thread([&] {
            before_first_use = sendable::detail::thread_key;
            id = sendable::current_thread_id();
            again = sendable::current_thread_id();
        }).join();
        REQUIRE(before_first_use == 0); // constant-initialised, assigned lazily
        REQUIRE(id != 0);
        REQUIRE(id == again);
        REQUIRE(ids.insert(id).second); // never seen before
    }
    REQUIRE(ids.size() == 65);
}

TEST_CASE("pin_error is a logic_error naming the operation and both threads", "[violation]") {
    violation v;
    v.kind = violation_kind::wrong_thread;
    v.operation = "send_rc::operator*";
    v.pinned_thread = 7;
    v.current_thread = 9;
    const pin_error e(v);
    const std::logic_error& base = e;
    const std::string message = base.what();
    REQUIRE(message.find("send_rc::operator*") != std::string::npos);
    REQUIRE(message.find("pinned thread 7") != std::string::npos);
    REQUIRE(message.find("current thread 9") != std::string::npos);
    REQUIRE(message.find(sendable::reason(violation_kind::wrong_thread)) != std::string::npos);
    REQUIRE(message == sendable::describe(v));
    REQUIRE(e.kind() == violation_kind::wrong_thread);
    REQUIRE(e.pinned_thread() == 7);
    REQUIRE(e.current_thread() == 9);
    REQUIRE(std::string(e.details().operation) == "send_rc::operator*");
}

TEST_CASE("every violation kind has its own message", "[violation]") {
    std::set<std::string> reasons;
    for (violation_kind kind : all_kinds) {
        const std::string text = sendable::reason(kind);
        REQUIRE_FALSE(text.empty());
        REQUIRE(text != "unknown violation");
        reasons.insert(text);
    }
    REQUIRE(reasons.size() == std::size(all_kinds));
    violation v;
    v.kind = violation_kind::not_ready;
    v.operation = "pre_send::ready";
    v.count = 12;
    REQUIRE(sendable::describe(v).find("12 parked values") != std::string::npos);
}

TEST_CASE("set_violation_handler swaps handlers and nullptr restores the default", "[violation]") {
    REQUIRE(sendable::get_violation_handler() == nullptr);
    REQUIRE(sendable::set_violation_handler(&first_handler) == nullptr);
    REQUIRE(sendable::get_violation_handler() == &first_handler);
    REQUIRE(sendable::set_violation_handler(&second_handler) == &first_handler);
    REQUIRE(sendable::set_violation_handler(nullptr) == &second_handler);
    REQUIRE(sendable::get_violation_handler() == nullptr);
}

TEST_CASE("the default handler throws pin_error outside destructors", "[violation]") {
    violation v;
    v.kind = violation_kind::parked;
    v.operation = "test";
    REQUIRE_THROWS_AS(sendable::default_violation_handler(v), pin_error);
    auto rc = sendable::make_send_rc<int>(1);
    auto caught = sendable_test::violation_on_new_thread([&] { (void)*rc; });
    REQUIRE(caught.has_value());
}

TEST_CASE("an installed handler may throw its own exception", "[violation]") {
    auto rc = sendable::make_send_rc<int>(1);
    sendable::send_option<int> option(1);
    REQUIRE(sendable::set_violation_handler(&throw_custom) == nullptr);
    std::vector<violation_kind> seen;
    std::thread([&] {
        try {
            (void)*rc;
        } catch (const custom_error& e) {
            seen.push_back(e.kind);
        }
        try {
            option.post_send();
        } catch (const custom_error& e) {
            seen.push_back(e.kind);
        }
    }).join();
    sendable::set_violation_handler(nullptr);
    REQUIRE(seen == std::vector<violation_kind>{violation_kind::wrong_thread,
                                                violation_kind::option_not_empty});
}
