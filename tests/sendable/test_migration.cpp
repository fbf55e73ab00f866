// End to end: a 100,000-node graph of two node types (shared children, cycles broken by raw
// back-pointers) is parked by walking it, sent with its post_send token through a oneshot::channel,
// unparked, mutated and destroyed on the receiving thread. And: a forgotten rc makes ready() fail
// and leaves the graph usable where it was.
#include "catch.hpp"
#include "support.hpp"

#include <oneshot/oneshot.hpp>
#include <sendable/sendable.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using sendable::make_send_rc;
using sendable::post_send;
using sendable::pre_send;
using sendable::send_rc;
using sendable::violation_kind;

namespace {

std::atomic<long> live_a{0};
std::atomic<long> live_b{0};

struct node_a;

struct node_b {
    explicit node_b(std::uint64_t i) : id(i) { ++live_b; }
    node_b(const node_b&) = delete;
    node_b& operator=(const node_b&) = delete;
    ~node_b() { --live_b; }

    std::uint64_t id;
    node_a* owner =
        nullptr;          // raw back-pointer to an A that holds this B (breaks the A <-> B cycle)
    send_rc<node_b> next; // odd B -> the even B before it (shared child)
    std::uint64_t visits = 0;
};

struct node_a {
    explicit node_a(std::uint64_t i) : id(i) { ++live_a; }
    node_a(const node_a&) = delete;
    node_a& operator=(const node_a&) = delete;
    ~node_a() { --live_a; }

    std::uint64_t id;
    std::vector<send_rc<node_b>> children;    // 8 per A; every B has two A parents
    send_rc<node_a> partner;                  // odd A -> the even A before it
    node_a* partner_of = nullptr;             // raw back-pointer: even A -> the odd A holding it
    sendable::send_option<std::string> label; // thread-bound scratch: must be empty to travel
};

struct graph {
    std::vector<send_rc<node_a>> roots; // every A
};

/// Builds `a_count` As and `4 * a_count` Bs on the calling thread.
graph build(std::size_t a_count) {
    const std::size_t b_count = 4 * a_count;
    std::vector<send_rc<node_b>> bs;
    bs.reserve(b_count);
    for (std::size_t i = 0; i < b_count; ++i) {
        bs.push_back(make_send_rc<node_b>(i));
        if (i % 2 == 1) {
            bs[i]->next = bs[i - 1];
        }
    }
    graph g;
    g.roots.reserve(a_count);
    for (std::size_t i = 0; i < a_count; ++i) {
        g.roots.push_back(make_send_rc<node_a>(i));
        node_a& a = *g.roots[i];
        a.label = "built on the first thread";
        for (std::size_t k = 0; k < 4; ++k) {
            for (std::size_t j : {4 * i + k, (4 * i + k + b_count / 2) % b_count}) {
                a.children.push_back(bs[j]);
                if (bs[j]->owner == nullptr) {
                    bs[j]->owner = &a;
                }
            }
        }
        if (i % 2 == 1) {
            a.partner = g.roots[i - 1];
            g.roots[i - 1]->partner_of = &a;
        }
    }
    return g; // `bs` goes away: every B is now held only by As and other Bs
}

/// Parks every rc of the graph, walking it through the values park returns; empties the labels.
void park_all(pre_send& ps, graph& g) {
    for (send_rc<node_a>& root : g.roots) {
        node_a& a = ps.park(root);
        a.label.reset();
        if (a.partner) {
            ps.park(a.partner);
        }
        for (send_rc<node_b>& child : a.children) {
            node_b& b = ps.park(child);
            if (b.next) {
                ps.park(b.next); // every odd B is reached twice: the second park is a no-op
            }
        }
    }
}

/// What the receiving thread saw, checked by the test on the main thread.
struct report {
    bool received = false;
    violation_kind before_unpark = violation_kind::empty;
    bool before_unpark_failed = false;
    std::size_t a_count = 0;
    std::size_t distinct_b = 0;
    bool every_b_visited_twice = true;
    bool back_pointers_consistent = true;
    bool use_counts_as_built = true;
    bool labels_repinned = true;
    long live_a_after = -1;
    long live_b_after = -1;
    std::uint64_t id_sum = 0;
};

struct parcel {
    graph g;
    post_send token;
};

} // namespace

TEST_CASE("a graph of 100000 nodes moves through a oneshot channel and dies on the new thread",
          "[migration]") {
    constexpr std::size_t a_count = 20'000; // + 80,000 Bs = 100,000 nodes
    graph g = build(a_count);
    REQUIRE(live_a == static_cast<long>(a_count));
    REQUIRE(live_b == static_cast<long>(4 * a_count));
    REQUIRE(g.roots[0]->children[0].use_count() == 3); // B 0 (even): two As and B 1
    REQUIRE(g.roots[0]->children[2].use_count() == 2); // B 1 (odd): two As

    pre_send ps;
    park_all(ps, g);
    REQUIRE(ps.parked_value_count() == 5 * a_count);
    REQUIRE(ps.is_ready());
    post_send token = std::move(ps).ready();
    REQUIRE(token.size() == 5 * a_count);

    auto [tx, rx] = oneshot::channel<parcel>();
    auto [report_tx, report_rx] = oneshot::channel<report>();
    std::thread receiver([rx = std::move(rx), report_tx = std::move(report_tx)]() mutable {
        report out;
        auto message = rx.recv();
        out.received = message.has_value();
        if (!out.received) {
            (void)std::move(report_tx).send(std::move(out));
            return;
        }
        parcel& p = *message;
        // Before unpark nothing is usable, not even here.
        auto early = sendable_test::violation_here([&] { (void)p.g.roots[0]->id; });
        out.before_unpark_failed = early.has_value();
        if (early) {
            out.before_unpark = early->details.kind;
        }
        std::move(p.token).unpark();

        const sendable::thread_id me = sendable::current_thread_id();
        for (send_rc<node_a>& root : p.g.roots) {
            node_a& a = *root;
            ++out.a_count;
            out.id_sum += a.id;
            a.label.post_send(); // it arrived empty: adopt it here
            out.labels_repinned = out.labels_repinned && a.label.pinned_thread() == me;
            a.label.emplace("now on the receiver");
            for (send_rc<node_b>& child : a.children) {
                ++child->visits; // mutate through the shared children
                out.back_pointers_consistent = out.back_pointers_consistent &&
                                               child->owner != nullptr &&
                                               child->owner->id < a_count;
            }
            if (a.partner) {
                out.back_pointers_consistent =
                    out.back_pointers_consistent && a.partner->partner_of == &a;
                out.use_counts_as_built = out.use_counts_as_built && a.partner.use_count() == 2;
            }
        }
        for (send_rc<node_a>& root : p.g.roots) {
            for (send_rc<node_b>& child : root->children) {
                out.every_b_visited_twice = out.every_b_visited_twice && child->visits == 2;
                const std::size_t expected = child->id % 2 == 0 ? 3 : 2;
                out.use_counts_as_built = out.use_counts_as_built && child.use_count() == expected;
                if (child->owner == root.get()) {
                    ++out.distinct_b; // each B has exactly one owner
                }
                out.id_sum += child->id;
            }
        }
        // Structural mutation on the new thread: replace half the children of every even A, with new
        // nodes made here (copies and fresh allocations), then drop everything here.
        for (std::size_t i = 0; i < p.g.roots.size(); i += 2) {
            node_a& a = *p.g.roots[i];
            auto fresh = make_send_rc<node_b>(1'000'000 + i);
            fresh->next = a.children[0];
            for (std::size_t k = 0; k < a.children.size(); k += 2) {
                a.children[k] = fresh;
            }
        }
        p.g.roots.clear();
        out.live_a_after = live_a;
        out.live_b_after = live_b;
        (void)std::move(report_tx).send(std::move(out));
    });

    auto sent = std::move(tx).send(parcel{std::move(g), std::move(token)});
    REQUIRE(sent.has_value());
    auto result = report_rx.recv();
    receiver.join();
    REQUIRE(result.has_value());
    const report& r = *result;
    REQUIRE(r.received);
    REQUIRE(r.before_unpark_failed);
    REQUIRE(r.before_unpark == violation_kind::in_transit);
    REQUIRE(r.a_count == a_count);
    REQUIRE(r.distinct_b == 4 * a_count);
    REQUIRE(r.every_b_visited_twice);
    REQUIRE(r.back_pointers_consistent);
    REQUIRE(r.use_counts_as_built);
    REQUIRE(r.labels_repinned);
    // sum of A ids + each B id counted twice (two parents)
    const std::uint64_t n_a = a_count;
    const std::uint64_t n_b = 4 * a_count;
    REQUIRE(r.id_sum == n_a * (n_a - 1) / 2 + 2 * (n_b * (n_b - 1) / 2));
    REQUIRE(r.live_a_after == 0);
    REQUIRE(r.live_b_after == 0);
    REQUIRE(live_a == 0);
    REQUIRE(live_b == 0);
}

TEST_CASE("a forgotten rc makes ready() fail and leaves the graph usable here", "[migration]") {
    graph g = build(250);                             // 1,250 nodes
    send_rc<node_b> stray = g.roots[10]->children[3]; // an rc outside the graph
    const std::size_t stray_count = stray.use_count();

    pre_send ps;
    park_all(ps, g);
    REQUIRE_FALSE(ps.is_ready());
    REQUIRE(ps.unready_value_count() == 1);
    REQUIRE(ps.park_status_of(stray).value_parked);
    REQUIRE_FALSE(ps.park_status_of(stray).rc_parked);
    auto failure = sendable_test::violation_here([&] { (void)std::move(ps).ready(); });
    REQUIRE(failure.has_value());
    REQUIRE(failure->details.kind == violation_kind::not_ready);
    REQUIRE(failure->details.count == 1);

    // Everything is usable on this thread, exactly as before.
    std::uint64_t visits = 0;
    for (send_rc<node_a>& root : g.roots) {
        root->label.emplace("still here");
        for (send_rc<node_b>& child : root->children) {
            visits += ++child->visits;
            send_rc<node_b> copy = child;
            REQUIRE(copy.use_count() >= 3);
        }
    }
    REQUIRE(visits == 1000 * 3); // 1,000 Bs, each visited twice: 1 + 2
    REQUIRE(stray.use_count() == stray_count);
    stray->visits = 100;

    // Park the stray rc too and the migration goes through (stale marks from the failed attempt do
    // not count).
    pre_send again;
    park_all(again, g);
    REQUIRE_FALSE(again.is_ready());
    again.park(stray);
    REQUIRE(again.is_ready());
    post_send token = std::move(again).ready();
    long live_after = -1;
    std::uint64_t stray_visits = 0;
    std::thread([&, t = std::move(token), moved = std::move(g), s = std::move(stray)]() mutable {
        std::move(t).unpark();
        stray_visits = s->visits;
        s.reset();
        for (auto& root : moved.roots) {
            root->label.post_send();
        }
        moved.roots.clear();
        live_after = live_a + live_b;
    }).join();
    REQUIRE(stray_visits == 100);
    REQUIRE(live_after == 0);
}

TEST_CASE("a send_option left full in a migrated graph is caught on arrival", "[migration]") {
    graph g = build(2);
    pre_send ps;
    park_all(ps, g);
    node_a& first = ps.park(g.roots[0]); // already parked: a no-op that returns the value again
    first.label = "forgotten";           // refilled after park_all emptied it
    post_send token = std::move(ps).ready();
    const sendable::thread_id first_thread = sendable::current_thread_id();

    std::optional<sendable_test::caught> arrival;
    std::vector<sendable::violation> on_destroy;
    std::thread([&, t = std::move(token), moved = std::move(g)]() mutable {
        std::move(t).unpark();
        arrival = sendable_test::violation_here([&] { moved.roots[0]->label.post_send(); });
        moved.roots[1]->label.post_send(); // the empty one is adopted
        sendable_test::recording_handler handler;
        moved.roots
            .clear(); // the full label, still pinned to the first thread, is leaked and reported
        on_destroy = sendable_test::recording_handler::take();
    }).join();
    REQUIRE(arrival.has_value());
    REQUIRE(arrival->details.kind == violation_kind::option_not_empty);
    REQUIRE(arrival->details.pinned_thread == first_thread);
    REQUIRE(on_destroy.size() == 1);
    REQUIRE(on_destroy[0].kind == violation_kind::wrong_thread);
    REQUIRE(on_destroy[0].in_destructor);
    REQUIRE(std::string(on_destroy[0].operation) == "send_option destructor");
    REQUIRE(live_a == 0);
    REQUIRE(live_b == 0);
}
