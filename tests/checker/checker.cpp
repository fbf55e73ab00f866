/// @file checker.cpp
/// @brief Exhaustive interleaving checker for the real channel headers ("loom for this library").
///
/// Usage: oneshot_checker [--planted|--planted-free|--planted-return] [--slot-yields|--no-slot-yields] <group|scenario|all>...
///   groups: basic, coroutine, stop. Each scenario prints the number of interleavings explored.
///   --planted / --planted-free / --planted-return run the scenarios against a planted-bug platform variant (see
///   model_platform.hpp); the checker must then report a failure (the planted-bug tests assert it does).
/// Exit status: 0 when every scenario explored completely and every check held.

#include "model_platform.hpp"
#include "sched.hpp"

#include <oneshot/oneshot.hpp>

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#if ONESHOT_HAS_STOP_TOKEN
#include <stop_token>
#endif

/// libstdc++'s `~stop_callback` spins with sched_yield while the callback runs on another thread.
/// A logical thread that does so must let the scheduler run that thread: see sched.hpp.
extern "C" int sched_yield(void) noexcept {
    if (checker::scheduling()) {
        checker::spin_yield();
        return 0;
    }
    return static_cast<int>(syscall(SYS_sched_yield));
}

namespace {

using namespace checker;
using std::chrono::hours;

template <class Sy>
using tx_t = oneshot::basic_sender<counted, Sy>;
template <class Sy>
using rx_t = oneshot::basic_receiver<counted, Sy>;

template <class Sy>
struct ctx {
    std::optional<tx_t<Sy>> tx;
    std::optional<rx_t<Sy>> rx;
#if ONESHOT_HAS_STOP_TOKEN
    std::stop_source src;
#endif
    got sent = got::none;
    got r1 = got::none;
    got r2 = got::none;
    int where = 0; ///< the thread on which the coroutine finished
    int resumed = 0;
    task coro{};
    ctx() {
        auto [t, r] = oneshot::channel<counted, Sy>();
        tx.emplace(std::move(t));
        rx.emplace(std::move(r));
    }
};

template <class Result>
got record(Result&& r) {
    if (r.has_value()) {
        expect((*r).v == the_value, "received message has the sent value");
        return got::message;
    }
    switch (r.error()) {
    case oneshot::recv_error::empty: return got::empty;
    case oneshot::recv_error::disconnected: return got::disconnected;
    case oneshot::recv_error::timeout: return got::timeout;
    case oneshot::recv_error::cancelled: return got::cancelled;
    }
    return got::none;
}

template <class Sy>
got do_send(ctx<Sy>& c) {
    auto r = std::move(*c.tx).send(counted(the_value));
    if (r.has_value()) return got::delivered;
    expect(r.error().value().v == the_value, "a failed send hands the message back");
    return got::returned;
}

template <class Sy>
task await_borrowed(ctx<Sy>& c) {
    auto r = co_await *c.rx;
    ++c.resumed;
    c.where = cur_tid;
    c.r1 = record(std::move(r));
}
template <class Sy>
task await_owned(ctx<Sy>& c) {
    auto r = co_await std::move(*c.rx);
    ++c.resumed;
    c.where = cur_tid;
    c.r1 = record(std::move(r));
}
#if ONESHOT_HAS_STOP_TOKEN
template <class Sy>
task await_borrowed_stop(ctx<Sy>& c) {
    auto r = co_await c.rx->recv_async(c.src.get_token());
    ++c.resumed;
    c.where = cur_tid;
    c.r1 = record(std::move(r));
}
template <class Sy>
task await_owned_stop(ctx<Sy>& c) {
    auto r = co_await std::move(*c.rx).recv_async(c.src.get_token());
    ++c.resumed;
    c.where = cur_tid;
    c.r1 = record(std::move(r));
}
#endif

std::set<std::string> seen; // outcomes seen in the current scenario
int slot_yields_forced = 0; // command line: +1 everywhere, -1 nowhere, 0 per scenario

void saw(std::string key) {
    seen.insert(std::move(key));
}

std::string k(got a) {
    return got_name(a);
}
std::string k(got a, got b) {
    return std::string(got_name(a)) + "," + got_name(b);
}
std::string at(int tid) {
    return "@T" + std::to_string(tid);
}

struct scenario {
    const char* group;
    const char* name;
    long (*run)();
    std::vector<std::string> outcomes; ///< every one must be reached, and nothing else
    /// Make the slot hooks scheduling points too. They mark plain accesses, whose races the vector
    /// clocks find in any schedule, so they add coverage only where code outside the platform follows them:
    /// in await_suspend the hook precedes the stop_callback registration, so a stop request can
    /// land between await_ready's stop check and the registration (the callback then runs inline).
    bool slot_yields = false;
};

/// Explores one scenario and checks the outcome coverage.
template <class Make>
long explore_checked(const char* name, Make make) {
    seen.clear();
    return explore(name, make);
}

template <class Sy, class Fn>
run_spec spec_of(std::shared_ptr<ctx<Sy>> c, std::vector<std::function<void()>> threads, Fn check,
                 int final_count) {
    run_spec s;
    s.threads = std::move(threads);
    s.check = [c, check] { check(*c); };
    s.expected_final = final_count;
    return s;
}

// T1 is always the sender side, T2 the receiver side, T3 the stop requester.

template <class Sy>
long send_vs_recv() {
    return explore_checked("send vs recv", [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c, {[c] { c->sent = do_send(*c); }, [c] { c->r1 = record(c->rx->recv()); }},
            [](ctx<Sy>& x) {
                expect(x.sent == got::delivered && x.r1 == got::message,
                       "recv gets the sent message");
                saw(k(x.sent, x.r1));
            },
            1);
    });
}

template <class Sy>
long send_vs_try_recv() {
    return explore_checked("send vs try_recv (twice), receiver drop", [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c,
            {[c] { c->sent = do_send(*c); },
             [c] {
                 c->r1 = record(c->rx->try_recv());
                 if (c->r1 == got::empty) c->r2 = record(c->rx->try_recv());
                 c->rx.reset();
             }},
            [](ctx<Sy>& x) {
                expect(x.r1 == got::message || x.r1 == got::empty, "try_recv: message or empty");
                expect(x.r2 == got::none || x.r2 == got::message || x.r2 == got::empty,
                       "second try_recv");
                const bool got_it = x.r1 == got::message || x.r2 == got::message;
                expect(!got_it || x.sent == got::delivered, "received, so the send succeeded");
                saw(k(x.sent) + "/" + k(x.r1, x.r2));
            },
            1);
    });
}

template <class Sy>
long send_vs_timed_recv() {
    return explore_checked("send vs timed recv (model time)", [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c,
            {[c] {
                 c->sent = do_send(*c);
                 gate_open(0);
             },
             [c] {
                 c->r1 = record(c->rx->recv_for(hours(1)));
                 if (c->r1 == got::timeout) {
                     gate_wait(0); // after the send: the message must still be there
                     c->r2 = record(c->rx->try_recv());
                 }
             }},
            [](ctx<Sy>& x) {
                expect(x.sent == got::delivered, "send succeeds");
                expect(x.r1 == got::message || (x.r1 == got::timeout && x.r2 == got::message),
                       "timed recv: message, or timeout and the message kept for try_recv");
                saw(k(x.r1, x.r2));
            },
            1);
    });
}

template <class Sy>
long drop_vs_timed_recv() {
    return explore_checked("sender drop vs timed recv (model time)", [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c,
            {[c] {
                 c->tx.reset();
                 gate_open(0);
             },
             [c] {
                 c->r1 = record(c->rx->recv_for(hours(1)));
                 if (c->r1 == got::timeout) {
                     gate_wait(0);
                     c->r2 = record(c->rx->try_recv());
                 }
             }},
            [](ctx<Sy>& x) {
                expect(x.r1 == got::disconnected ||
                           (x.r1 == got::timeout && x.r2 == got::disconnected),
                       "timed recv after drop: disconnected, or timeout then disconnected");
                saw(k(x.r1, x.r2));
            },
            0);
    });
}

template <class Sy>
long send_vs_receiver_drop() {
    return explore_checked("send vs receiver drop", [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c, {[c] { c->sent = do_send(*c); }, [c] { c->rx.reset(); }},
            [](ctx<Sy>& x) {
                expect(x.sent == got::delivered || x.sent == got::returned,
                       "send: delivered or returned");
                saw(k(x.sent));
            },
            1);
    });
}

template <class Sy>
long sender_drop_vs_recv() {
    return explore_checked("sender drop vs recv", [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c, {[c] { c->tx.reset(); }, [c] { c->r1 = record(c->rx->recv()); }},
            [](ctx<Sy>& x) {
                expect(x.r1 == got::disconnected, "recv after drop: disconnected");
                saw(k(x.r1));
            },
            0);
    });
}

template <class Sy, bool Owned, bool Send>
long send_vs_coroutine() {
    const char* name = Send ? (Owned ? "send vs co_await (owned receiver)"
                                     : "send vs co_await (borrowed receiver)")
                            : (Owned ? "sender drop vs co_await (owned receiver)"
                                     : "sender drop vs co_await (borrowed receiver)");
    return explore_checked(name, [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c,
            {[c] {
                 if constexpr (Send)
                     c->sent = do_send(*c);
                 else
                     c->tx.reset();
             },
             [c] { c->coro = Owned ? await_owned(*c) : await_borrowed(*c); }},
            [](ctx<Sy>& x) {
                expect(x.resumed == 1, "the coroutine finished exactly once");
                if constexpr (Send)
                    expect(x.sent == got::delivered && x.r1 == got::message,
                           "co_await gets the message");
                else
                    expect(x.r1 == got::disconnected, "co_await after drop: disconnected");
                saw(k(x.r1) + at(x.where));
            },
            Send ? 1 : 0);
    });
}

/// The awaiting coroutine is destroyed while suspended (its awaiter unregisters); only then does
/// the sender complete. The sender reads the state concurrently before that.
template <class Sy, bool Owned, bool Send>
long destroyed_awaiter() {
    const char* name = Send ? (Owned ? "awaiter destroyed, then send (owned)"
                                     : "awaiter destroyed, then send (borrowed)")
                            : (Owned ? "awaiter destroyed, then sender drop (owned)"
                                     : "awaiter destroyed, then sender drop (borrowed)");
    return explore_checked(name, [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c,
            {[c] {
                 const bool closed = c->tx->is_closed();
                 expect(!closed || Owned, "receiver alive: the sender is not closed");
                 gate_wait(0);
                 if constexpr (Send)
                     c->sent = do_send(*c);
                 else
                     c->tx.reset();
             },
             [c] {
                 c->coro = Owned ? await_owned(*c) : await_borrowed(*c);
                 expect(c->resumed == 0,
                        "the coroutine is suspended (the sender waits at the gate)");
                 c->coro.h.destroy();
                 gate_open(0);
                 if constexpr (!Owned) c->r2 = record(c->rx->recv());
             }},
            [](ctx<Sy>& x) {
                expect(x.resumed == 0, "a destroyed coroutine is never resumed");
                if constexpr (Owned) {
                    if constexpr (Send)
                        expect(x.sent == got::returned, "the receiver died with the frame");
                } else {
                    expect(x.r2 == (Send ? got::message : got::disconnected),
                           "a later recv completes");
                }
                saw(k(x.sent, x.r2));
            },
            Send ? 1 : 0);
    });
}

#if ONESHOT_HAS_STOP_TOKEN
template <class Sy, bool Send>
long stop_vs_blocking_recv() {
    const char* name = Send ? "send vs stop request (blocking recv)"
                            : "sender drop vs stop request (blocking recv)";
    return explore_checked(name, [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c,
            {[c] {
                 if constexpr (Send)
                     c->sent = do_send(*c);
                 else
                     c->tx.reset();
             },
             [c] { c->r1 = record(c->rx->recv(c->src.get_token())); },
             [c] { request_stop(c->src); }},
            [](ctx<Sy>& x) {
                const got fin = Send ? got::message : got::disconnected;
                if (x.r1 == got::cancelled)
                    x.r2 = record(x.rx->try_recv()); // all threads done: final
                expect(x.r1 == fin || (x.r1 == got::cancelled && x.r2 == fin),
                       "exactly one of {message/disconnected, cancelled}; after cancelled a later "
                       "try_recv completes");
                saw(k(x.r1, x.r2));
            },
            Send ? 1 : 0);
    });
}

template <class Sy, bool Owned, bool Send>
long stop_vs_coroutine() {
    const char* name = Send ? (Owned ? "send vs stop request (co_await, owned)"
                                     : "send vs stop request (co_await, borrowed)")
                            : "sender drop vs stop request (co_await, borrowed)";
    return explore_checked(name, [] {
        auto c = std::make_shared<ctx<Sy>>();
        return spec_of<Sy>(
            c,
            {[c] {
                 if constexpr (Send)
                     c->sent = do_send(*c);
                 else
                     c->tx.reset();
             },
             [c] { c->coro = Owned ? await_owned_stop(*c) : await_borrowed_stop(*c); },
             [c] { request_stop(c->src); }},
            [](ctx<Sy>& x) {
                const got fin = Send ? got::message : got::disconnected;
                expect(x.resumed == 1, "the coroutine finished exactly once");
                expect(x.r1 == fin || x.r1 == got::cancelled,
                       "exactly one of {message/disconnected, cancelled}");
                if (x.r1 == got::cancelled && !Owned) {
                    x.r2 = record(x.rx->try_recv()); // all threads are done: the outcome is final
                    expect(x.r2 == fin, "after cancelled, a later try_recv completes");
                }
                saw(k(x.r1, x.r2) + at(x.where));
            },
            Send ? 1 : 0);
    });
}
#endif

template <class Sy>
std::vector<scenario> scenarios() {
    return {
        {"basic", "send_vs_recv", &send_vs_recv<Sy>, {"delivered,message"}},
            {"basic",
             "send_vs_try_recv",
             &send_vs_try_recv<Sy>,
             {"delivered/message,none", "delivered/empty,message", "delivered/empty,empty",
              "returned/empty,empty"}},
            {"basic",
             "send_vs_timed_recv",
             &send_vs_timed_recv<Sy>,
             {"message,none", "timeout,message"}},
            {"basic",
             "drop_vs_timed_recv",
             &drop_vs_timed_recv<Sy>,
             {"disconnected,none", "timeout,disconnected"}},
            {"basic",
             "send_vs_receiver_drop",
             &send_vs_receiver_drop<Sy>,
             {"delivered", "returned"}},
            {"basic", "sender_drop_vs_recv", &sender_drop_vs_recv<Sy>, {"disconnected"}},
            {"coroutine",
             "send_vs_coawait",
             &send_vs_coroutine<Sy, false, true>,
             {"message@T1", "message@T2"}},
            {"coroutine",
             "send_vs_coawait_owned",
             &send_vs_coroutine<Sy, true, true>,
             {"message@T1", "message@T2"}},
            {"coroutine",
             "drop_vs_coawait",
             &send_vs_coroutine<Sy, false, false>,
             {"disconnected@T1", "disconnected@T2"}},
            {"coroutine",
             "destroyed_awaiter_send",
             &destroyed_awaiter<Sy, false, true>,
             {"delivered,message"}},
            {"coroutine",
             "destroyed_awaiter_send_owned",
             &destroyed_awaiter<Sy, true, true>,
             {"returned,none"}},
            {"coroutine",
             "destroyed_awaiter_drop",
             &destroyed_awaiter<Sy, false, false>,
             {"none,disconnected"}},
            {"coroutine",
             "destroyed_awaiter_drop_owned",
             &destroyed_awaiter<Sy, true, false>,
             {"none,none"}},
#if ONESHOT_HAS_STOP_TOKEN
            {"stop",
             "send_vs_stop_recv",
             &stop_vs_blocking_recv<Sy, true>,
             {"message,none", "cancelled,message"}},
            {"stop",
             "drop_vs_stop_recv",
             &stop_vs_blocking_recv<Sy, false>,
             {"disconnected,none", "cancelled,disconnected"}},
            {"stop",
             "send_vs_stop_coawait",
             &stop_vs_coroutine<Sy, false, true>,
             {"message,none@T1", "message,none@T2", "cancelled,message@T2", "cancelled,message@T3"},
             true},
            {"stop",
             "send_vs_stop_coawait_owned",
             &stop_vs_coroutine<Sy, true, true>,
             {"message,none@T1", "message,none@T2", "cancelled,none@T2", "cancelled,none@T3"},
             true},
            {"stop",
             "drop_vs_stop_coawait",
             &stop_vs_coroutine<Sy, false, false>,
             {"disconnected,none@T1", "disconnected,none@T2", "cancelled,disconnected@T2",
              "cancelled,disconnected@T3"},
             true},
#endif
    };
}

void on_crash(int sig) {
    char buf[256];
    const int n =
        std::snprintf(buf, sizeof buf,
                      "CHECKER FAILURE [%s]: crash (signal %d): a use after free (freed memory is "
                      "poisoned) or a broken invariant\n",
                      S.scenario, sig);
    if (n > 0) (void)!write(2, buf, static_cast<std::size_t>(n));
    std::_Exit(1);
}

template <class Sy>
int run_all(const std::vector<std::string>& wanted) {
    int ran = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const scenario& s : scenarios<Sy>()) {
        bool want = false;
        for (const std::string& w : wanted)
            want = want || w == "all" || w == s.group || w == s.name;
        if (!want) continue;
        const auto t = std::chrono::steady_clock::now();
        yield_at_slot_hooks = slot_yields_forced == 0 ? s.slot_yields : slot_yields_forced > 0;
        const long n = s.run();
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
        if (n <= 0) fail("no interleaving explored");
        for (const std::string& o : s.outcomes)
            if (seen.count(o) == 0)
                fail("outcome \"%s\" never reached: the exploration missed a path", o.c_str());
        for (const std::string& o : seen) {
            bool known = false;
            for (const std::string& e : s.outcomes)
                known = known || e == o;
            if (!known) fail("unexpected outcome \"%s\"", o.c_str());
        }
        std::printf("checker: %-30s %9ld interleavings, complete (%.2fs%s", s.name, n, secs,
                    yield_at_slot_hooks ? ", slot hooks are switch points" : "");
        if (S.spin_yields != 0)
            std::printf("; %ld waits for a stop callback on another thread, %ld other yields",
                        S.callback_waits, S.spin_yields - S.callback_waits);
        if (S.unhooked_slot_accesses != 0)
            std::printf("; note: %ld message-slot accesses without a slot_tracker hook",
                        S.unhooked_slot_accesses);
        std::printf(")\n");
        std::fflush(stdout);
        ++ran;
    }
    if (ran == 0) {
        if (!ONESHOT_HAS_STOP_TOKEN) {
            std::printf("checker: skipped: these scenarios need std::stop_token, which this "
                        "standard library lacks\n");
            return 77; // ctest SKIP_RETURN_CODE
        }
        std::fprintf(stderr, "no scenario matched\n");
        return 2;
    }
    std::printf("checker: %d scenarios, all interleavings explored, no failure (%.1fs)\n", ran,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGSEGV, on_crash);
    std::signal(SIGBUS, on_crash);
    int planted = 0;
    std::vector<std::string> wanted;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--planted")
            planted = 1;
        else if (a == "--planted-free")
            planted = 2;
        else if (a == "--planted-return")
            planted = 3;
        else if (a == "--dump-run" && i + 1 < argc)
            checker::dump_run = std::atol(argv[++i]);
        else if (a == "--no-slot-yields")
            slot_yields_forced = -1;
        else if (a == "--slot-yields")
            slot_yields_forced = 1;
        else if (a == "--list") {
            for (const scenario& s : scenarios<good_platform>())
                std::printf("%s %s\n", s.group, s.name);
            return 0;
        } else
            wanted.push_back(a);
    }
    if (wanted.empty()) wanted.emplace_back("all");
    if (planted != 0) {
        static const char* const names[] = {"", "wake before publishing", "receiver frees early",
                                            "thread leaves before its waiter is completed"};
        std::printf("checker: running against the PLANTED bug (%s); a failure is expected\n",
                    names[planted]);
        std::fflush(stdout);
        const int rc = planted == 1   ? run_all<planted_platform>(wanted)
                       : planted == 2 ? run_all<planted_free_platform>(wanted)
                                      : run_all<planted_return_platform>(wanted);
        std::printf("checker: planted bug NOT found\n");
        return rc == 0 ? 1 : rc;
    }
    return run_all<good_platform>(wanted);
}
