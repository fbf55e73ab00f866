// pre_send / post_send: parking, readiness, ready(), unpark(), abandonment and re-parking, and the
// violations of the protocol.
#include "catch.hpp"
#include "support.hpp"

#include <sendable/sendable.hpp>

#include <algorithm>
#include <cstddef>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

using sendable::make_send_rc;
using sendable::park_status;
using sendable::post_send;
using sendable::pre_send;
using sendable::send_rc;
using sendable::violation_kind;
using sendable_test::violation_here;

namespace {

struct leaf {
    int value = 0;
};

struct branch {
    std::string name;
    send_rc<leaf> left;
    send_rc<leaf> right;
};

/// Expects `f` to report a violation of `kind` here.
template <class F>
void require_violation(F&& f, violation_kind kind) {
    auto v = violation_here(std::forward<F>(f));
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == kind);
}

} // namespace

TEST_CASE("park returns the value and marks it parked", "[pre_send]") {
    auto rc = make_send_rc<leaf>(leaf{3});
    auto* address = rc.get();
    pre_send ps;
    leaf& parked = ps.park(rc);
    REQUIRE(&parked == address);
    REQUIRE(ps.parked_value_count() == 1);
    REQUIRE(ps.is_ready()); // its only rc is parked
    REQUIRE(ps.unready_value_count() == 0);

    // The parked value cannot be used through any rc, not even on its own thread.
    require_violation([&] { (void)rc->value; }, violation_kind::parked);
    require_violation([&] { (void)rc.get(); }, violation_kind::parked);
    require_violation([&] { (void)rc.use_count(); }, violation_kind::parked);
    require_violation([&] { send_rc<leaf> copy(rc); }, violation_kind::parked);
    require_violation([&] { rc.reset(); }, violation_kind::parked);
    require_violation([&] { rc = make_send_rc<leaf>(); }, violation_kind::parked);
    auto v = violation_here([&] { (void)*rc; });
    REQUIRE(v.has_value());
    REQUIRE(v->message.find("parked") != std::string::npos);
    REQUIRE(v->details.pinned_thread == sendable::current_thread_id());

    // Moving a parked rc is fine; the mark travels with it.
    send_rc<leaf> moved = std::move(rc);
    REQUIRE(ps.park_status_of(moved).rc_parked);
    ps.park(moved);
    REQUIRE(ps.parked_value_count() == 1);

    ps.cancel();
    REQUIRE(moved->value == 3);
}

TEST_CASE("is_ready only once every rc of every parked value is parked", "[pre_send]") {
    auto a = make_send_rc<leaf>(leaf{1});
    auto a2 = a;
    auto a3 = a;
    auto b = make_send_rc<leaf>(leaf{2});
    pre_send ps;
    ps.park(a);
    REQUIRE_FALSE(ps.is_ready());
    REQUIRE(ps.unready_value_count() == 1);
    ps.park(b);
    REQUIRE(ps.unready_value_count() == 1);
    ps.park(a2);
    ps.park(a2); // the same rc twice: no-op
    ps.park(a);
    REQUIRE_FALSE(ps.is_ready());
    REQUIRE(ps.parked_value_count() == 2);
    ps.park(a3);
    REQUIRE(ps.is_ready());
    REQUIRE(ps.unready_value_count() == 0);
    ps.park(a3); // still a no-op after readiness
    REQUIRE(ps.is_ready());
    REQUIRE(ps.parked_value_count() == 2);
}

TEST_CASE("park_status_of tells whether the rc and its value are parked", "[pre_send]") {
    auto a = make_send_rc<leaf>();
    auto a2 = a;
    auto c = make_send_rc<leaf>();
    send_rc<leaf> empty;
    pre_send ps;
    auto status = ps.park_status_of(a);
    REQUIRE_FALSE(status.rc_parked);
    REQUIRE_FALSE(status.value_parked);
    REQUIRE_FALSE(status.parked_elsewhere);

    ps.park(a);
    status = ps.park_status_of(a);
    REQUIRE(status.rc_parked);
    REQUIRE(status.value_parked);
    status = ps.park_status_of(a2);
    REQUIRE_FALSE(status.rc_parked);
    REQUIRE(status.value_parked);

    pre_send other;
    other.park(c);
    status = ps.park_status_of(c);
    REQUIRE_FALSE(status.rc_parked);
    REQUIRE_FALSE(status.value_parked);
    REQUIRE(status.parked_elsewhere);

    status = ps.park_status_of(empty);
    REQUIRE_FALSE(status.rc_parked);
    REQUIRE_FALSE(status.value_parked);
}

TEST_CASE("parking a value another pre_send parked fails", "[pre_send]") {
    auto a = make_send_rc<leaf>();
    auto a2 = a;
    pre_send first;
    first.park(a);
    pre_send second;
    auto v = violation_here([&] { second.park(a); });
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == violation_kind::parked_elsewhere);
    REQUIRE(v->message.find("pre_send::park") != std::string::npos);
    require_violation([&] { second.park(a2); }, violation_kind::parked_elsewhere);
    REQUIRE(second.parked_value_count() == 0);

    first.cancel();
    second.park(a);
    second.park(a2);
    REQUIRE(second.is_ready());
}

TEST_CASE("one pre_send parks values of different types", "[pre_send]") {
    auto tree = make_send_rc<branch>();
    tree->name = "root";
    tree->left = make_send_rc<leaf>(leaf{1});
    tree->right = tree->left; // shared child
    auto label = make_send_rc<std::string>("label");

    pre_send ps;
    branch& b = ps.park(tree);
    ps.park(b.left);
    REQUIRE_FALSE(ps.is_ready());
    ps.park(b.right);
    ps.park(label);
    REQUIRE(ps.is_ready());
    REQUIRE(ps.parked_value_count() == 3);

    post_send token = std::move(ps).ready();
    REQUIRE(token.size() == 3);
    REQUIRE(ps.parked_value_count() == 0); // NOLINT(bugprone-use-after-move)

    int sum = 0;
    std::string name;
    sendable_test::run_on_new_thread([&, moved_tree = std::move(tree),
                                      moved_label = std::move(label),
                                      t = std::move(token)]() mutable {
        std::move(t).unpark();
        sum = moved_tree->left->value + moved_tree->right->value;
        name = moved_tree->name + "/" + *moved_label;
        moved_tree.reset(); // destroyed here, where they are pinned
        moved_label.reset();
    });
    REQUIRE(sum == 2);
    REQUIRE(name == "root/label");
}

TEST_CASE("ready pins every value to no thread until unpark", "[pre_send]") {
    auto a = make_send_rc<int>(1);
    auto b = make_send_rc<int>(2);
    pre_send ps;
    ps.park(a);
    ps.park(b);
    post_send token = std::move(ps).ready();
    REQUIRE(a.pinned_thread() == 0);
    auto v = violation_here([&] { (void)*a; });
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == violation_kind::in_transit);
    REQUIRE(v->details.pinned_thread == 0);
    REQUIRE(v->message.find("pinned thread 0") != std::string::npos);
    require_violation([&] { send_rc<int> copy(b); }, violation_kind::in_transit);

    // A new pre_send cannot grab them either.
    pre_send again;
    require_violation([&] { again.park(a); }, violation_kind::in_transit);

    // Unparking on the same thread is allowed too.
    std::move(token).unpark();
    REQUIRE(token.empty()); // NOLINT(bugprone-use-after-move)
    REQUIRE(a.pinned_thread() == sendable::current_thread_id());
    REQUIRE(*a + *b == 3);
    REQUIRE(a.use_count() == 1);
}

TEST_CASE("after unpark the values belong to the new thread only", "[pre_send]") {
    auto a = make_send_rc<int>(1);
    auto a2 = a;
    pre_send ps;
    ps.park(a);
    ps.park(a2);
    post_send token = std::move(ps).ready();

    std::vector<send_rc<int>> received;
    sendable::thread_id worker = 0;
    int seen_value = 0;
    // The worker unparks, uses them, and hands the rcs back without migrating them.
    sendable_test::run_on_new_thread(
        [&, t = std::move(token), x = std::move(a), y = std::move(a2)]() mutable {
            worker = sendable::current_thread_id();
            std::move(t).unpark();
            seen_value = *x + *y;
            sendable_test::keep_reachable(x.get()); // leaked on purpose below
            received.push_back(std::move(x));
            received.push_back(std::move(y));
        });
    REQUIRE(seen_value == 2);
    REQUIRE(received[0].pinned_thread() == worker);
    auto v = violation_here([&] { (void)*received[0]; });
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == violation_kind::wrong_thread);
    REQUIRE(v->details.pinned_thread == worker);
    // Only the pinned thread can start a migration.
    pre_send mine;
    require_violation([&] { mine.park(received[0]); }, violation_kind::wrong_thread);

    // Pinned to a finished thread, they can never be used or destroyed: destructors report and leak.
    sendable_test::recording_handler handler;
    for (auto& rc : received) {
        auto* holder = new send_rc<int>(std::move(rc));
        delete holder;
    }
    REQUIRE(sendable_test::recording_handler::take().size() == 2);
}

TEST_CASE("a graph can go to another thread and come back", "[pre_send]") {
    std::vector<send_rc<int>> rcs;
    rcs.push_back(make_send_rc<int>(5));
    rcs.push_back(rcs[0]);
    post_send token;
    {
        pre_send out;
        for (auto& rc : rcs) {
            out.park(rc);
        }
        token = std::move(out).ready();
    }
    int total = 0;
    // Thread start and join synchronise the hand-offs of `token` and `rcs` (captured by reference).
    sendable_test::run_on_new_thread([&] {
        post_send arrived = std::move(token);
        std::move(arrived).unpark();
        for (auto& rc : rcs) {
            total += *rc;
        }
        *rcs[0] = 6;
        pre_send home;
        for (auto& rc : rcs) {
            home.park(rc);
        }
        token = std::move(home).ready();
    });
    std::move(token).unpark();
    REQUIRE(total == 10);
    REQUIRE(*rcs[1] == 6);
    REQUIRE(rcs[0].use_count() == 2);
}

TEST_CASE("ready() too early fails and leaves everything usable", "[pre_send]") {
    auto a = make_send_rc<leaf>(leaf{1});
    auto a2 = a;
    auto b = make_send_rc<leaf>(leaf{2});
    pre_send ps;
    ps.park(a);
    ps.park(b);
    auto v = violation_here([&] { (void)std::move(ps).ready(); });
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == violation_kind::not_ready);
    REQUIRE(v->details.count == 1);
    REQUIRE(v->message.find("pre_send::ready") != std::string::npos);
    REQUIRE(v->message.find("1 parked values still have rcs that are not parked") !=
            std::string::npos);
    REQUIRE(ps.parked_value_count() == 0); // NOLINT(bugprone-use-after-move)
    REQUIRE(ps.is_ready());

    // Everything is usable again on this thread.
    REQUIRE(a->value == 1);
    REQUIRE(b->value == 2);
    REQUIRE(a.use_count() == 2);
    a2 = b;
    REQUIRE(b.use_count() == 2);
    REQUIRE(a.use_count() == 1);
}

TEST_CASE("destroying or cancelling a pre_send un-parks its values", "[pre_send]") {
    auto a = make_send_rc<int>(1);
    auto a2 = a;
    SECTION("destroy") {
        {
            pre_send ps;
            ps.park(a);
            ps.park(a2);
        }
    }
    SECTION("cancel, then reuse") {
        pre_send ps;
        ps.park(a);
        ps.cancel();
        REQUIRE(ps.parked_value_count() == 0);
        REQUIRE(*a == 1);
        ps.park(a2);
        ps.park(a);
        REQUIRE(ps.is_ready());
        ps.cancel();
    }
    SECTION("move-assigning over a pre_send abandons its migration") {
        pre_send ps;
        ps.park(a);
        pre_send other;
        ps = std::move(other);
        REQUIRE(ps.parked_value_count() == 0);
    }
    SECTION("a moved pre_send carries its values") {
        pre_send ps;
        ps.park(a);
        pre_send moved(std::move(ps));
        REQUIRE(moved.parked_value_count() == 1);
        REQUIRE(moved.park_status_of(a).rc_parked);
        REQUIRE_FALSE(ps.park_status_of(a).value_parked); // NOLINT(bugprone-use-after-move)
        moved.park(a2);
        post_send token = std::move(moved).ready();
        std::move(token).unpark();
    }
    REQUIRE(*a == 1);
    REQUIRE(a.use_count() == 2);
    send_rc<int> copy = a;
    REQUIRE(a.use_count() == 3);
}

TEST_CASE("re-parking after an abandoned migration counts every rc exactly once",
          "[pre_send][marks]") {
    auto a = make_send_rc<leaf>(leaf{1});
    auto b = a;
    auto c = a;
    {
        pre_send first; // parks a only, then abandons: a keeps a stale mark
        first.park(a);
    }
    {
        pre_send second; // parks b and c, then abandons
        second.park(b);
        second.park(c);
    }
    pre_send third;
    third.park(c);
    REQUIRE(third.park_status_of(c).rc_parked);
    REQUIRE_FALSE(third.park_status_of(a).rc_parked);
    REQUIRE_FALSE(third.park_status_of(b).rc_parked);
    third.park(c);
    third.park(b);
    REQUIRE_FALSE(third.is_ready()); // a is not parked: its stale mark does not count
    third.park(a);
    third.park(a);
    REQUIRE(third.is_ready());
    post_send token = std::move(third).ready();
    std::move(token).unpark();
    REQUIRE(a.use_count() == 3);

    // After a successful migration every rc is clean for the next one.
    pre_send fourth;
    fourth.park(a);
    REQUIRE_FALSE(fourth.park_status_of(b).rc_parked);
    fourth.park(b);
    REQUIRE_FALSE(fourth.is_ready());
    fourth.park(c);
    REQUIRE(fourth.is_ready());
}

TEST_CASE("marks run out only after several abandoned partial migrations", "[pre_send][marks]") {
    auto a = make_send_rc<int>(1);
    auto b = a;
    auto c = a;
    auto d = a;
    for (send_rc<int>* rc : {&a, &b, &c}) {
        pre_send abandoned;
        abandoned.park(*rc); // a, b, c each keep a different stale mark
    }
    pre_send ps;
    auto v = violation_here([&] { ps.park(d); });
    REQUIRE(v.has_value());
    REQUIRE(v->details.kind == violation_kind::marks_exhausted);
    REQUIRE(ps.parked_value_count() == 0);
    REQUIRE(*d == 1); // still usable
    // Once the marked rcs are gone the value can be parked again.
    a.reset();
    b.reset();
    c.reset();
    REQUIRE(d.use_count() == 1);
    ps.park(d);
    REQUIRE(ps.is_ready());
}

namespace {

/// Parks every rc in `rcs`, then expects ready() to refuse with a not_ready violation.
void refuse_ready(std::vector<send_rc<leaf>>& rcs) {
    pre_send ps;
    for (auto& rc : rcs) {
        ps.park(rc);
    }
    REQUIRE_FALSE(ps.is_ready());
    require_violation([&] { (void)std::move(ps).ready(); }, violation_kind::not_ready);
}

/// Parks every rc in `rcs` (all the rcs of their values), migrates them to a new thread, adds 1 to
/// the value through each rc there, and migrates them back.
void migrate_there_and_back(std::vector<send_rc<leaf>>& rcs) {
    pre_send out;
    for (auto& rc : rcs) {
        out.park(rc);
    }
    REQUIRE(out.is_ready());
    post_send token = std::move(out).ready();
    // Thread start and join synchronise the hand-offs of `token` and `rcs` (captured by reference).
    sendable_test::run_on_new_thread([&] {
        std::move(token).unpark();
        for (auto& rc : rcs) {
            ++rc->value;
        }
        pre_send home;
        for (auto& rc : rcs) {
            home.park(rc);
        }
        token = std::move(home).ready();
    });
    std::move(token).unpark();
}

} // namespace

TEST_CASE("refused ready() calls give their park marks back", "[pre_send][marks]") {
    // graph[0] and graph[1] share a value that also has a stray rc outside the graph; graph[2] is
    // the only rc of another value.
    std::vector<send_rc<leaf>> graph;
    graph.push_back(make_send_rc<leaf>(leaf{1}));
    graph.push_back(graph[0]);
    graph.push_back(make_send_rc<leaf>(leaf{10}));
    send_rc<leaf> stray = graph[0];
    for (int attempt = 0; attempt < 100; ++attempt) {
        INFO("attempt " << attempt);
        refuse_ready(graph);
        // Usable here as before.
        REQUIRE(stray->value == 1);
        REQUIRE(stray.use_count() == 3);
        REQUIRE(graph[2].use_count() == 1);
    }
    stray.reset(); // every rc is in the graph now
    migrate_there_and_back(graph);
    REQUIRE(graph[1]->value == 3); // 1, plus 1 through each of its two rcs
    REQUIRE(graph[2]->value == 11);
    REQUIRE(graph[0].use_count() == 2);

    // Now the stray rc keeps a mark of its own, left by a cancelled migration: still no exhaustion.
    stray = graph[0];
    pre_send ps;
    ps.park(stray);
    ps.park(graph[0]);
    ps.cancel();
    for (int attempt = 0; attempt < 100; ++attempt) {
        refuse_ready(graph);
    }
    graph.push_back(std::move(stray));
    migrate_there_and_back(graph);
    REQUIRE(graph[3]->value == 6);
    REQUIRE(graph[3].use_count() == 3);
}

TEST_CASE("abandoned migrations give their park marks back", "[pre_send][marks]") {
    std::vector<send_rc<leaf>> rcs;
    rcs.push_back(make_send_rc<leaf>(leaf{1}));
    rcs.push_back(rcs[0]);
    rcs.push_back(rcs[0]);
    for (int round = 0; round < 100; ++round) {
        INFO("round " << round);
        // Park two of the three rcs (a different pair each round), then abandon the migration.
        send_rc<leaf>& first = rcs[static_cast<std::size_t>(round) % 3];
        send_rc<leaf>& second = rcs[static_cast<std::size_t>(round + 1) % 3];
        switch (round % 4) {
        case 0: { // destroyed
            pre_send ps;
            ps.park(first);
            ps.park(second);
            break;
        }
        case 1: { // cancelled, then reused for the same pair
            pre_send ps;
            ps.park(first);
            ps.park(second);
            ps.cancel();
            ps.park(second);
            ps.park(first);
            REQUIRE(ps.unready_value_count() == 1);
            break;
        }
        case 2: { // move-assigned over
            pre_send ps;
            ps.park(first);
            ps.park(second);
            ps = pre_send();
            break;
        }
        default: { // refused
            pre_send ps;
            ps.park(first);
            ps.park(second);
            require_violation([&] { (void)std::move(ps).ready(); }, violation_kind::not_ready);
            break;
        }
        }
        REQUIRE(rcs[0]->value == 1);
        REQUIRE(rcs[0].use_count() == 3);
    }
    migrate_there_and_back(rcs);
    REQUIRE(rcs[2]->value == 4);
    REQUIRE(rcs[2].use_count() == 3);
}

TEST_CASE("refused, abandoned and successful migrations interleave", "[pre_send][marks]") {
    std::vector<send_rc<leaf>> graph;
    graph.push_back(make_send_rc<leaf>(leaf{0}));
    graph.push_back(graph[0]);
    for (int round = 0; round < 30; ++round) {
        INFO("round " << round);
        send_rc<leaf> stray = graph[static_cast<std::size_t>(round) % 2];
        for (int refusal = 0; refusal <= round % 5; ++refusal) {
            refuse_ready(graph);
        }
        {
            pre_send abandoned; // parks the stray too this time, then is destroyed
            abandoned.park(stray);
            abandoned.park(graph[1]);
        }
        if (round % 3 == 0) {
            graph.push_back(std::move(stray)); // the stray joins the graph
        } else {
            stray.reset();
        }
        migrate_there_and_back(graph);
        if (graph.size() > 4) {
            graph.resize(2);
        }
        REQUIRE(graph[0].use_count() == graph.size());
    }
    REQUIRE(graph[1]->value > 30);
}

TEST_CASE("park marks run out only while three live rcs keep three different marks",
          "[pre_send][marks]") {
    // Random copies, drops and migrations (parking a random subset of the rcs, then ready(),
    // cancel() or destruction) against a model: every rc is in a class, 0 for new rcs and copies,
    // otherwise the migration that parked it last; the marks run out exactly when three classes
    // other than 0 are alive.
    std::mt19937 random(20240601);
    auto pick = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
    };
    std::vector<send_rc<int>> rcs;
    rcs.push_back(make_send_rc<int>(42));
    std::vector<int> classes{0};
    int next_class = 1;
    int migrated = 0;
    int refused = 0;
    int exhausted = 0;
    for (int step = 0; step < 4000; ++step) {
        INFO("step " << step);
        const std::size_t op = pick(4);
        if (op == 0 && rcs.size() < 6) {
            rcs.push_back(rcs[pick(rcs.size())]);
            classes.push_back(0);
        } else if (op == 1 && rcs.size() > 1) {
            const std::size_t i = pick(rcs.size());
            rcs.erase(rcs.begin() + static_cast<std::ptrdiff_t>(i));
            classes.erase(classes.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            // Park a random non-empty subset, in a random order, some rcs twice.
            const std::size_t all = (std::size_t{1} << rcs.size()) - 1;
            const std::size_t subset = 1 + pick(all);
            std::vector<std::size_t> order;
            for (std::size_t i = 0; i < rcs.size(); ++i) {
                if ((subset >> i) & 1U) {
                    order.push_back(i);
                    if (pick(4) == 0) {
                        order.push_back(i);
                    }
                }
            }
            std::shuffle(order.begin(), order.end(), random);
            std::set<int> marked;
            for (int c : classes) {
                if (c != 0) {
                    marked.insert(c);
                }
            }
            pre_send ps;
            if (marked.size() == 3) {
                require_violation([&] { ps.park(rcs[order[0]]); }, violation_kind::marks_exhausted);
                REQUIRE(ps.parked_value_count() == 0);
                ++exhausted;
            } else {
                for (std::size_t i : order) {
                    ps.park(rcs[i]);
                    REQUIRE(ps.park_status_of(rcs[i]).rc_parked);
                }
                for (std::size_t i = 0; i < rcs.size(); ++i) {
                    REQUIRE(ps.park_status_of(rcs[i]).rc_parked == (((subset >> i) & 1U) != 0));
                }
                REQUIRE(ps.is_ready() == (subset == all));
                const std::size_t end = pick(3);
                if (end == 0 && subset == all) {
                    post_send token = std::move(ps).ready();
                    std::move(token).unpark();
                    ++migrated;
                } else if (end == 0) {
                    require_violation([&] { (void)std::move(ps).ready(); },
                                      violation_kind::not_ready);
                    ++refused;
                } else if (end == 1) {
                    ps.cancel();
                } // else: destroyed
                for (std::size_t i = 0; i < rcs.size(); ++i) {
                    if ((subset >> i) & 1U) {
                        classes[i] = next_class;
                    }
                }
                ++next_class;
            }
        }
        REQUIRE(*rcs[0] == 42);
        REQUIRE(rcs[0].use_count() == rcs.size());
    }
    REQUIRE(migrated > 50);
    REQUIRE(refused > 50);
    REQUIRE(exhausted > 10);
}

TEST_CASE("many pre_sends on one thread hold parked values at once and tell theirs apart",
          "[pre_send]") {
    constexpr std::size_t count = 300;
    std::vector<send_rc<int>> values;
    std::vector<send_rc<int>> others;
    for (std::size_t i = 0; i < count; ++i) {
        values.push_back(make_send_rc<int>(static_cast<int>(i)));
        others.push_back(values.back());
    }
    std::vector<pre_send> registries(count);
    for (std::size_t i = 0; i < count; ++i) {
        registries[i].park(values[i]);
    }
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t j = (i + 1) % count;
        REQUIRE(registries[i].park_status_of(values[i]).value_parked);
        REQUIRE(registries[i].park_status_of(values[j]).parked_elsewhere);
        require_violation([&] { registries[i].park(others[j]); }, violation_kind::parked_elsewhere);
    }
    // Every other one finishes; the rest finish after registries made in the meantime come and go.
    for (std::size_t i = 0; i < count; i += 2) {
        registries[i].park(others[i]);
        std::move(registries[i]).ready().unpark();
    }
    for (int round = 0; round < 5000; ++round) {
        pre_send passing;
        passing.park(values[0]);
        REQUIRE(passing.park_status_of(values[1]).parked_elsewhere);
        REQUIRE_FALSE(passing.park_status_of(values[1]).value_parked);
    }
    for (std::size_t i = 1; i < count; i += 2) {
        REQUIRE(registries[i].park_status_of(values[i]).rc_parked);
        registries[i].park(others[i]);
        REQUIRE(registries[i].is_ready());
        std::move(registries[i]).ready().unpark();
    }
    for (std::size_t i = 0; i < count; ++i) {
        REQUIRE(*others[i] == static_cast<int>(i));
        REQUIRE(values[i].use_count() == 2);
    }
}

TEST_CASE("a value left parked by a pre_send destroyed elsewhere stays parked elsewhere",
          "[pre_send]") {
    auto a = make_send_rc<int>(1);
    sendable_test::keep_reachable(a.get());
    auto* lost = new pre_send();
    lost->park(a);
    {
        sendable_test::recording_handler handler;
        sendable_test::run_on_new_thread([&] { delete lost; });
        REQUIRE(sendable_test::recording_handler::take().size() == 1);
    }
    // Later registries on this thread never take the lost one's place.
    for (int i = 0; i < 5000; ++i) {
        pre_send ps;
        REQUIRE(ps.park_status_of(a).parked_elsewhere);
        require_violation([&] { ps.park(a); }, violation_kind::parked_elsewhere);
    }
    sendable_test::recording_handler handler;
    auto* holder = new send_rc<int>(std::move(a));
    delete holder; // reports, leaks
    REQUIRE(sendable_test::recording_handler::take().size() == 1);
}

TEST_CASE("a pre_send is pinned to its thread", "[pre_send][pin]") {
    auto a = make_send_rc<int>(1);
    pre_send ps;
    auto park = sendable_test::violation_on_new_thread([&] {
        auto local = make_send_rc<int>(2);
        ps.park(local);
    });
    REQUIRE(park.has_value());
    REQUIRE(park->details.kind == violation_kind::wrong_thread);
    REQUIRE(park->details.pinned_thread == sendable::current_thread_id());

    ps.park(a);
    auto ready = sendable_test::violation_on_new_thread([&] { (void)std::move(ps).ready(); });
    REQUIRE(ready.has_value());
    REQUIRE(ready->details.kind == violation_kind::wrong_thread);
    auto cancel = sendable_test::violation_on_new_thread([&] { ps.cancel(); });
    REQUIRE(cancel.has_value());
    auto status = sendable_test::violation_on_new_thread([&] { (void)ps.park_status_of(a); });
    REQUIRE(status.has_value());
    REQUIRE(ps.parked_value_count() == 1); // nothing changed

    // Parking a value pinned to another thread fails as well.
    auto foreign_value = sendable_test::violation_on_new_thread([&] {
        pre_send theirs;
        theirs.park(a);
    });
    REQUIRE(foreign_value.has_value());
    REQUIRE(foreign_value->details.kind == violation_kind::wrong_thread);
}

TEST_CASE("a pre_send destroyed on a foreign thread reports and leaves the values parked",
          "[pre_send][pin]") {
    auto a = make_send_rc<int>(1);
    sendable_test::keep_reachable(a.get());
    auto* ps = new pre_send();
    ps->park(a);
    {
        sendable_test::recording_handler handler;
        sendable_test::run_on_new_thread([&] { delete ps; });
        const auto seen = sendable_test::recording_handler::take();
        REQUIRE(seen.size() == 1);
        REQUIRE(seen[0].in_destructor);
        REQUIRE(std::string(seen[0].operation) == "pre_send destructor");
        REQUIRE(seen[0].pinned_thread == sendable::current_thread_id());
    }
    require_violation([&] { (void)*a; }, violation_kind::parked);
    // Parked by a registry that is gone, the value can never be used or destroyed again.
    sendable_test::recording_handler handler;
    auto* holder = new send_rc<int>(std::move(a));
    delete holder; // reports, leaks
    const auto seen = sendable_test::recording_handler::take();
    REQUIRE(seen.size() == 1);
    REQUIRE(seen[0].kind == violation_kind::parked);
}

TEST_CASE("parking an empty rc fails", "[pre_send]") {
    send_rc<int> empty;
    pre_send ps;
    require_violation([&] { ps.park(empty); }, violation_kind::empty);
    REQUIRE(ps.parked_value_count() == 0);
}

TEST_CASE("an empty pre_send is ready and gives an empty token", "[pre_send]") {
    pre_send ps;
    REQUIRE(ps.is_ready());
    post_send token = std::move(ps).ready();
    REQUIRE(token.empty());
    REQUIRE(token.size() == 0);
    post_send moved = std::move(token);
    REQUIRE(moved.empty());
    std::move(moved).unpark();
    post_send default_token;
    std::move(default_token).unpark();
    REQUIRE(default_token.empty()); // NOLINT(bugprone-use-after-move)
}

TEST_CASE("a post_send destroyed without unpark leaves its values in transit for good",
          "[pre_send]") {
    const long before = sendable_test::tracked::live();
    auto a = make_send_rc<sendable_test::tracked>(1);
    auto a2 = a;
    sendable_test::keep_reachable(a.get());
    {
        pre_send ps;
        ps.park(a);
        ps.park(a2);
        post_send token = std::move(ps).ready();
        REQUIRE(token.size() == 1);
    } // dropped without unpark
    require_violation([&] { (void)a->value; }, violation_kind::in_transit);
    require_violation([&] { send_rc<sendable_test::tracked> copy(a); }, violation_kind::in_transit);
    auto elsewhere = sendable_test::violation_on_new_thread([&] { (void)a.use_count(); });
    REQUIRE(elsewhere.has_value());
    REQUIRE(elsewhere->details.kind == violation_kind::in_transit);

    sendable_test::recording_handler handler;
    {
        send_rc<sendable_test::tracked> dying = std::move(a);
        send_rc<sendable_test::tracked> dying2 = std::move(a2);
    }
    const auto seen = sendable_test::recording_handler::take();
    REQUIRE(seen.size() == 2);
    REQUIRE(seen[0].kind == violation_kind::in_transit);
    REQUIRE(seen[0].in_destructor);
    REQUIRE(sendable_test::tracked::live() == before + 1); // leaked, never destroyed
}

TEST_CASE("post_send move assignment carries the values", "[pre_send]") {
    auto a = make_send_rc<int>(1);
    pre_send ps;
    ps.park(a);
    post_send token = std::move(ps).ready();
    post_send other;
    other = std::move(token);
    REQUIRE(token.empty()); // NOLINT(bugprone-use-after-move)
    REQUIRE(other.size() == 1);
    std::move(other).unpark();
    REQUIRE(*a == 1);
}

TEST_CASE("migrating a million rcs is linear", "[pre_send][scale]") {
    std::vector<send_rc<int>> rcs;
    rcs.reserve(1'000'000);
    for (int i = 0; i < 500'000; ++i) {
        rcs.push_back(make_send_rc<int>(i));
        rcs.push_back(rcs.back());
    }
    pre_send ps;
    for (auto& rc : rcs) {
        ps.park(rc);
    }
    REQUIRE(ps.is_ready());
    REQUIRE(ps.parked_value_count() == 500'000);
    post_send token = std::move(ps).ready();
    long long sum = 0;
    sendable_test::run_on_new_thread([&, t = std::move(token), moved = std::move(rcs)]() mutable {
        std::move(t).unpark();
        for (auto& rc : moved) {
            sum += *rc;
        }
        moved.clear();
    });
    REQUIRE(sum == 2LL * (499'999LL * 500'000LL / 2));
}
