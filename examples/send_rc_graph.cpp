// Moving a graph of send_rc (plain, non-atomic reference counts) to another thread: park every rc,
// let ready() prove that none stayed behind, send the roots and the token, unpark on arrival.
#include <oneshot/oneshot.hpp>

#include <string>
#include <thread>
#include <utility>
#include <vector>

struct node;
using node_rc = sendable::send_rc<node>;

struct node {
    explicit node(std::string n, std::vector<node_rc> c = {})
        : name(std::move(n)), children(std::move(c)) {}
    std::string name;
    std::vector<node_rc> children;
};

// Parks every rc reachable from `rc`, walking each value's children once.
void park_graph(sendable::pre_send& ps, node_rc& rc) {
    const bool seen = ps.park_status_of(rc).value_parked;
    node& n = ps.park(rc);
    if (!seen)
        for (node_rc& child : n.children)
            park_graph(ps, child);
}

// What travels through the channel: the roots and the token that unparks them.
struct shipment {
    std::vector<node_rc> roots;
    sendable::post_send token;
};

int main() {
    // Two roots sharing one child: `figure` has three rcs (two in the graph, one local).
    node_rc figure = sendable::make_send_rc<node>("figure");
    std::vector<node_rc> roots;
    roots.push_back(sendable::make_send_rc<node>("intro", std::vector<node_rc>{figure}));
    roots.push_back(sendable::make_send_rc<node>("body", std::vector<node_rc>{figure}));

    // The local `figure` rc is not in the graph, so the graph may not leave: ready() refuses
    // (default handler: throws pin_error) and un-parks everything, usable here as before.
    bool refused = false;
    try {
        sendable::pre_send ps;
        for (node_rc& rc : roots)
            park_graph(ps, rc);
        (void)std::move(ps).ready();
    } catch (const sendable::pin_error& e) {
        refused = e.kind() == sendable::violation_kind::not_ready && figure->name == "figure";
    }
    figure.reset(); // drop the stray rc; now every rc is reachable from the roots

    sendable::pre_send ps;
    for (node_rc& rc : roots)
        park_graph(ps, rc);
    shipment parcel{std::move(roots), std::move(ps).ready()}; // pinned to no thread until unpark

    auto [tx, rx] = oneshot::channel<shipment>();
    bool ok = false;
    std::thread other([&ok, rx = std::move(rx)]() mutable {
        auto got = rx.recv();
        if (!got) return;
        bool guarded = false;
        try {
            (void)got->roots[0]->name; // in transit: no thread may touch it yet
        } catch (const sendable::pin_error& e) {
            guarded = e.kind() == sendable::violation_kind::in_transit;
        }
        std::move(got->token).unpark(); // every value is pinned to this thread now
        const node_rc& shared = got->roots[0]->children[0];
        ok = guarded && shared == got->roots[1]->children[0] && shared.use_count() == 2 &&
             shared->name == "figure" && shared.pinned_thread() == sendable::current_thread_id();
    }); // the graph is destroyed at the end of the lambda, on the thread it is pinned to
    (void)std::move(tx).send(std::move(parcel));
    other.join();
    return refused && ok ? 0 : 1;
}
