// Violations that must end the process with the message on stderr: inside destructors, when the
// installed handler returns, and (built with -fno-exceptions) everywhere. Run by expect_death.cmake,
// which checks that the process dies and that stderr carries the expected message.
#include <sendable/sendable.hpp>

#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

namespace {

void returning_handler(const sendable::violation&) {}

int run(const char* mode) {
    using sendable::make_send_rc;
    using sendable::send_rc;
    if (std::strcmp(mode, "none") == 0) {
        auto rc = make_send_rc<int>(1);
        return *rc == 1 ? 0 : 1; // no violation: exits normally (the harness must notice)
    }
    if (std::strcmp(mode, "rc_destructor_wrong_thread") == 0) {
        auto rc = make_send_rc<int>(1);
        std::thread([moved = std::move(rc)]() mutable {
            send_rc<int> dying = std::move(moved);
        }).join();
        return 0;
    }
    if (std::strcmp(mode, "rc_destructor_in_transit") == 0) {
        auto rc = make_send_rc<int>(1);
        {
            sendable::pre_send ps;
            ps.park(rc);
            sendable::post_send token = std::move(ps).ready();
        }         // token dropped without unpark
        return 0; // rc's destructor reports
    }
    if (std::strcmp(mode, "rc_destructor_parked") == 0) {
        sendable::pre_send ps;
        auto rc = make_send_rc<int>(1);
        ps.park(rc);
        return 0; // rc is destroyed before ps, still parked
    }
    if (std::strcmp(mode, "option_destructor_wrong_thread") == 0) {
        auto* option = new sendable::send_option<int>(1);
        std::thread([&] { delete option; }).join();
        return 0;
    }
    if (std::strcmp(mode, "pre_send_destructor_wrong_thread") == 0) {
        auto rc = make_send_rc<int>(1);
        auto* ps = new sendable::pre_send();
        ps->park(rc);
        std::thread([&] { delete ps; }).join();
        return 0;
    }
    if (std::strcmp(mode, "handler_returned") == 0) {
        sendable::set_violation_handler(&returning_handler);
        auto rc = make_send_rc<int>(1);
        std::thread([&] { (void)*rc; }).join();
        return 0;
    }
    // The following abort only without exceptions (with exceptions they throw pin_error).
    if (std::strcmp(mode, "deref_wrong_thread") == 0) {
        auto rc = make_send_rc<int>(1);
        std::thread([&] { (void)*rc; }).join();
        return 0;
    }
    if (std::strcmp(mode, "deref_empty") == 0) {
        send_rc<int> rc;
        return *rc;
    }
    if (std::strcmp(mode, "ready_too_early") == 0) {
        auto rc = make_send_rc<int>(1);
        auto copy = rc;
        sendable::pre_send ps;
        ps.park(rc);
        sendable::post_send token = std::move(ps).ready();
        return 0;
    }
    if (std::strcmp(mode, "option_post_send_full") == 0) {
        sendable::send_option<int> option(1);
        std::thread([&] { option.post_send(); }).join();
        return 0;
    }
    std::fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <mode>\n", argv[0]);
        return 2;
    }
    return run(argv[1]);
}
