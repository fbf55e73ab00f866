/// @file pre_send.hpp
/// @brief Moving a graph of send_rcs to another thread: `pre_send` (park every rc on the old thread),
/// `post_send` (the token that carries the parked values) and `unpark()` (on the new thread).
///
/// Protocol:
/// 1. On the thread the values are pinned to, create a `pre_send ps;` and call `ps.park(rc)` on every
///    rc of the graph, walking it through the values `park` returns. Parking marks the value parked
///    (from then on no rc of it can be dereferenced, copied or destroyed) and marks this particular
///    rc. One pre_send may park rcs of any number of types.
/// 2. `post_send token = std::move(ps).ready();` succeeds only if every parked value has had *all* its
///    rcs parked, i.e. no rc stayed behind. It pins every value to thread 0 (no thread).
/// 3. Hand the rcs (moved, never copied) and the token to the destination thread with any
///    synchronising mechanism (a oneshot::channel, a mutex, a thread start).
/// 4. There, `std::move(token).unpark();` pins every value to that thread. The graph is usable again.
///
/// Cost: `park` is O(1) amortised (a marks compare, a few stores, a vector push_back for the first rc
/// of each value); `is_ready` is O(1) (a running count of values whose parked-rc count is below their
/// reference count, updated as rcs are parked); `ready` and `unpark` are O(values parked). Nothing is
/// hashed and nothing is rescanned. The registry's vector (one pointer per value) is the only
/// allocation; each thread keeps the buffer of its largest finished migration for the next one, and
/// `reserve` pre-sizes it. A parked value's pin word names the migration's park mark and the tag of
/// the pre_send that parked it (one of 4095 per thread, taken while it holds parked values), so "did
/// this registry park it?" is one compare.
///
/// Failure and abandonment. If `ready()` finds an rc that was not parked, or a pre_send is destroyed
/// or `cancel()`ed before `ready()`, every value it parked is un-parked and is again usable on the
/// original thread, exactly as before; the marks of the failed attempt are reclaimed as soon as
/// their rcs are re-parked or destroyed (see send_rc.hpp). A post_send destroyed without `unpark()`
/// leaves its values in transit forever: no thread can use, copy or destroy their rcs. That is
/// defined: every such attempt reports a `violation_kind::in_transit` violation (a destructor
/// reports too, and if the handler returns the rc is leaked; the value is never destroyed and its
/// memory is never freed).
#pragma once

#include <oneshot/detail/config.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include <sendable/detail/control_block.hpp>
#include <sendable/send_rc.hpp>
#include <sendable/thread_id.hpp>
#include <sendable/violation.hpp>

namespace sendable {

class post_send;

/// What a pre_send knows about one rc (see `pre_send::park_status_of`).
struct park_status {
    /// This very rc was parked by this pre_send.
    bool rc_parked = false;
    /// Its value is parked by this pre_send (through this rc or another one).
    bool value_parked = false;
    /// Its value is parked by a different pre_send on this thread.
    bool parked_elsewhere = false;
};

namespace detail {

/// The pre_send tags in use on this thread: bit `t % 64` of word `t / 64` for tag t. Tag 0 (in
/// nobody's hands) marks a pre_send without parked values and is never handed out. Constant-
/// initialised and trivially destructible, like `thread_key`.
inline constinit thread_local std::array<std::uint64_t, pin_tag_count / 64> tags_in_use{1};

/// Takes a free pre_send tag of the calling thread. Aborts if `pin_tag_count - 1` pre_sends on this
/// thread hold parked values at once (or were destroyed elsewhere while holding some).
[[nodiscard]] inline std::uint32_t acquire_tag() noexcept {
    for (std::size_t word = 0; word < tags_in_use.size(); ++word) {
        const std::uint64_t used = tags_in_use[word];
        if (used != ~std::uint64_t{0}) {
            const auto bit = static_cast<unsigned>(std::countr_one(used));
            tags_in_use[word] = used | (std::uint64_t{1} << bit);
            return static_cast<std::uint32_t>(word * 64 + bit);
        }
    }
    std::fputs("sendable: more than 4095 pre_sends hold parked values on one thread\n", stderr);
    std::abort();
}

/// Gives a tag taken by acquire_tag on the calling thread back.
inline void release_tag(std::uint32_t tag) noexcept {
    tags_in_use[tag / 64] &= ~(std::uint64_t{1} << (tag % 64));
}

using registry_buffer = std::vector<control_block*>;

/// Each thread keeps the largest registry buffer it has finished with (in `spare_buffer_owner`), so
/// that repeated migrations do not pay again for growing and page-faulting a fresh vector. The state
/// flag is trivially destructible and constant-initialised, so it stays readable while the thread's
/// thread_local objects (and, on the main thread, static objects) are destroyed: once the owner is
/// gone the cache is closed and buffers are simply freed.
/// 0: cache not yet opened on this thread; 1: open; 2: closed (thread exiting).
inline constinit thread_local unsigned char spare_buffer_state = 0;

struct spare_buffer_owner {
    spare_buffer_owner() noexcept { spare_buffer_state = 1; }
    spare_buffer_owner(const spare_buffer_owner&) = delete;
    spare_buffer_owner& operator=(const spare_buffer_owner&) = delete;
    ~spare_buffer_owner() { spare_buffer_state = 2; } // `spare` is freed right after
    registry_buffer spare;
};
inline thread_local spare_buffer_owner spare_buffer_owner_instance;

/// An empty buffer, with the calling thread's spare capacity if it has one.
[[nodiscard]] inline registry_buffer take_registry_buffer() noexcept {
    registry_buffer buffer;
    if (spare_buffer_state == 1) {
        buffer.swap(spare_buffer_owner_instance.spare);
    }
    return buffer;
}

/// Offers a finished registry's buffer to the calling thread's cache (kept if larger than the
/// spare). Never allocates.
inline void recycle_registry_buffer(registry_buffer& buffer) noexcept {
    buffer.clear();
    if (buffer.capacity() == 0 || spare_buffer_state == 2) {
        return;
    }
    // The first use on a thread constructs the owner (opening the cache) and registers its
    // destructor for thread exit.
    registry_buffer& spare = spare_buffer_owner_instance.spare;
    if (buffer.capacity() > spare.capacity()) {
        spare.swap(buffer);
    }
}
} // namespace detail

/// The registry of a migration in preparation: records parked values and rcs on the thread they are
/// pinned to. See the file comment for the protocol.
///
/// Thread safety: a pre_send is pinned to the thread that created it. `park`, `park_status_of`,
/// `ready` and `cancel` check that and report `violation_kind::wrong_thread` elsewhere; the
/// destructor reports too, and if the handler returns it leaves the values parked (it does not touch
/// them). The noexcept observers read only the pre_send object itself.
class pre_send {
public:
    /// An empty registry pinned to the calling thread.
    pre_send() noexcept
        : blocks_(detail::take_registry_buffer()), owner_(detail::current_thread_key()) {}

    pre_send(const pre_send&) = delete;
    pre_send& operator=(const pre_send&) = delete;

    /// Takes over `other`'s parked values (and the tag they carry); `other` becomes an empty
    /// registry.
    pre_send(pre_send&& other) noexcept
        : blocks_(std::move(other.blocks_)),
          unready_(std::exchange(other.unready_, 0)),
          owner_(other.owner_),
          tag_(std::exchange(other.tag_, 0)) {
        other.blocks_.clear();
    }

    /// Abandons this registry's migration (as `cancel`), then takes over `other`'s.
    /// Errors: as `cancel`.
    pre_send& operator=(pre_send&& other) {
        if (this != &other) {
            cancel();
            blocks_ = std::move(other.blocks_);
            other.blocks_.clear();
            unready_ = std::exchange(other.unready_, 0);
            owner_ = other.owner_;
            tag_ = std::exchange(other.tag_, 0);
        }
        return *this;
    }

    /// Un-parks every value still parked here (see `cancel`). On a foreign thread it reports a
    /// violation instead (default: abort); if the handler returns, the values stay parked for good.
    ~pre_send() {
        if (blocks_.empty()) {
            detail::recycle_registry_buffer(blocks_);
            return;
        }
        if (owner_ != detail::current_thread_key()) {
            violation v;
            v.kind = violation_kind::wrong_thread;
            v.operation = "pre_send destructor";
            v.pinned_thread = detail::pin_thread(owner_);
            v.current_thread = current_thread_id();
            detail::report_in_destructor(v);
            return;
        }
        unpark_all();
    }

    /// Parks `rc`: marks its value parked (no rc of it can be used until the migration ends) and
    /// records this rc. Parking an rc this registry already parked is a no-op. Returns the value, so
    /// the caller can walk on to the rcs it holds.
    /// Errors (violations; nothing changes): `empty` if `rc` is empty; `wrong_thread` if the value or
    /// this registry is pinned to another thread; `in_transit`; `parked_elsewhere` if another pre_send
    /// parked the value; `marks_exhausted` (see send_rc.hpp). std::bad_alloc (nothing changes).
    template <class T>
    T& park(send_rc<T>& rc) {
        std::uintptr_t& bits = detail::rc_access::bits(rc);
        auto* block = reinterpret_cast<detail::rc_block<T>*>(bits & ~detail::mark_mask);
        if (block == nullptr) [[unlikely]] {
            detail::report_kind(violation_kind::empty, "pre_send::park", 0);
        }
        park_block(*block, bits);
        return block->value;
    }

    /// Whether `rc` and its value are parked by this registry. An empty rc gives all false.
    /// Errors (violations): `wrong_thread` if the value or this registry is pinned to another thread,
    /// `in_transit` if the value is in transit.
    template <class T>
    [[nodiscard]] park_status park_status_of(const send_rc<T>& rc) const {
        const std::uintptr_t bits = detail::rc_access::bits(rc);
        const auto* block =
            reinterpret_cast<const detail::control_block*>(bits & ~detail::mark_mask);
        return status_of(block, static_cast<unsigned>(bits & detail::mark_mask));
    }

    /// True if every parked value has had all its rcs parked (vacuously true when nothing is parked),
    /// i.e. `ready()` would succeed. O(1).
    [[nodiscard]] bool is_ready() const noexcept { return unready_ == 0; }

    /// Number of distinct values parked.
    [[nodiscard]] std::size_t parked_value_count() const noexcept { return blocks_.size(); }

    /// Number of parked values that still have rcs that are not parked. O(1).
    [[nodiscard]] std::size_t unready_value_count() const noexcept { return unready_; }

    /// Makes room to park `values` distinct values without growing the registry. (A registry also
    /// starts with the capacity of the largest migration that finished on this thread.)
    /// Errors: std::bad_alloc, std::length_error (nothing changes).
    void reserve(std::size_t values) { blocks_.reserve(values); }

    /// Ends the preparation: if every parked value has all its rcs parked, pins every value to thread
    /// 0 (no thread can use it) and returns the token that `unpark()`s them on the destination thread;
    /// this registry is left empty. O(values parked).
    /// Errors (violations): `wrong_thread` if called on another thread (nothing changes); `not_ready`
    /// if some rc was not parked: then every value is first un-parked (usable again on this thread,
    /// this registry is left empty) and the violation is reported (default: throws pin_error).
    [[nodiscard]] post_send ready() &&;

    /// Abandons the migration: un-parks every value parked here (each is usable again on this thread)
    /// and leaves this registry empty and reusable. O(values parked).
    /// Errors (violations): `wrong_thread` if called on another thread (nothing changes).
    void cancel() {
        if (blocks_.empty()) {
            return;
        }
        check_owner("pre_send::cancel");
        unpark_all();
    }

private:
    void check_owner(const char* operation) const {
        if (owner_ != detail::thread_key) [[unlikely]] {
            if (owner_ != detail::current_thread_key()) {
                detail::report_kind(violation_kind::wrong_thread, operation,
                                    detail::pin_thread(owner_));
            }
        }
    }

    /// True if `pin`, the pin word of a value, says this registry parked it.
    [[nodiscard]] bool parked_here(std::uint64_t pin) const noexcept {
        // tag_ is 0 while this registry holds nothing, and no parked value carries tag 0.
        return (pin & ~detail::pin_mark_mask) == detail::parked_pin(owner_, tag_, 0);
    }

    /// Reports why a value whose pin word is `pin` cannot be parked by this registry (on the thread
    /// with pin key `me`): parked by another pre_send, pinned elsewhere, in transit, or (pinned here)
    /// its marks are exhausted.
    [[noreturn]] static void refuse_park(std::uint64_t pin, std::uint64_t me) {
        if (pin == me) {
            detail::report_kind(violation_kind::marks_exhausted, "pre_send::park",
                                detail::pin_thread(pin));
        }
        if (detail::parked_by_thread(pin, me)) {
            detail::report_kind(violation_kind::parked_elsewhere, "pre_send::park",
                                detail::pin_thread(pin));
        }
        detail::report(detail::pin_violation(pin, me, "pre_send::park"));
    }

    /// The work of `park` for any T: `bits` is the rc's word (address | mark).
    void park_block(detail::control_block& block, std::uintptr_t& bits) {
        check_owner("pre_send::park");
        const std::uint64_t me = owner_;
        // Relaxed: only this thread stores a pin word that names it, so a match is this thread's own
        // store; a value handed over by another thread was ordered by that hand-off.
        const std::uint64_t pin = block.pin.load(std::memory_order_relaxed);
        const auto rc_mark = static_cast<unsigned>(bits & detail::mark_mask);
        if (pin != me) {
            // Already parked here (maybe through this very rc), or not parkable.
            if (!parked_here(pin)) [[unlikely]] {
                refuse_park(pin, me);
            }
            const unsigned mark = detail::pin_mark(pin);
            if (rc_mark == mark) {
                return; // this rc is already parked here: no-op
            }
            if (rc_mark != 0) {
                --block.marked[rc_mark - 1];
            }
            bits = (bits & ~detail::mark_mask) | mark;
            if (++block.marked[mark - 1] == block.strong) {
                --unready_;
            }
            return;
        }
        // First rc of this value: choose a mark in 1..3 that no live rc carries (the counts are exact).
        unsigned mark = 1;
        while (mark <= detail::away_mark_count && block.marked[mark - 1] != 0) {
            ++mark;
        }
        if (mark > detail::away_mark_count) [[unlikely]] {
            refuse_park(pin, me);
        }
        blocks_.push_back(&block); // may throw: nothing has changed yet
        if (tag_ == 0) {
            tag_ = detail::acquire_tag();
        }
        if (block.strong != 1) {
            ++unready_;
        }
        if (rc_mark != 0) {
            --block.marked[rc_mark - 1]; // not `mark`, whose count is 0
        }
        block.marked[mark - 1] = 1;
        bits = (bits & ~detail::mark_mask) | mark;
        // Relaxed: the pin word is only ever stored by the thread the value is pinned to; other
        // threads read it only to refuse access, and parking publishes nothing to them.
        block.pin.store(detail::parked_pin(me, tag_, mark), std::memory_order_relaxed);
    }

    [[nodiscard]] park_status status_of(const detail::control_block* block,
                                        unsigned rc_mark) const {
        check_owner("pre_send::park_status_of");
        park_status status;
        if (block == nullptr) {
            return status;
        }
        // Relaxed: as in park_block, a pin word that names this thread is this thread's own store.
        const std::uint64_t pin = block->pin.load(std::memory_order_relaxed);
        if (pin == owner_) {
            return status; // pinned here, not parked
        }
        if (!detail::parked_by_thread(pin, owner_)) {
            detail::report(detail::pin_violation(pin, owner_, "pre_send::park_status_of"));
        }
        if (!parked_here(pin)) {
            status.parked_elsewhere = true;
            return status;
        }
        status.value_parked = true;
        status.rc_parked = rc_mark == detail::pin_mark(pin);
        return status;
    }

    /// Un-parks every value (back to this thread, usable) and empties the registry. The mark counts
    /// are exact already: the rcs parked keep this migration's mark, the others theirs.
    void unpark_all() noexcept {
        for (detail::control_block* block : blocks_) {
            // Relaxed: the value stays on this thread, which alone stores its pin word.
            block->pin.store(owner_, std::memory_order_relaxed);
        }
        detail::recycle_registry_buffer(blocks_);
        unready_ = 0;
        release_tag();
    }

    /// Gives this registry's tag back once it holds no parked value.
    void release_tag() noexcept {
        if (tag_ != 0) {
            detail::release_tag(std::exchange(tag_, 0));
        }
    }

    friend class post_send;

    std::vector<detail::control_block*> blocks_;
    std::size_t unready_ = 0; // parked values with rcs that are not parked
    std::uint64_t owner_ = 0; // pin key of the thread this registry is pinned to
    std::uint32_t tag_ = 0;   // this registry's tag on that thread while it parks values
};

/// The token of a migration in flight: the values it carries are pinned to no thread until
/// `unpark()` pins them to the thread that calls it. Move-only.
///
/// Destroying a post_send without `unpark()` leaves its values in transit for good: every later use
/// of their rcs, including destruction, reports an `in_transit` violation (see the file comment).
///
/// Thread safety: a post_send is an ordinary object (no pinning): hand it over with synchronisation,
/// and use one object from one thread at a time.
class post_send {
public:
    /// An empty token (carries nothing; `unpark()` does nothing).
    post_send() noexcept = default;
    post_send(const post_send&) = delete;
    post_send& operator=(const post_send&) = delete;
    /// Takes over `other`'s values; `other` becomes empty.
    post_send(post_send&& other) noexcept : blocks_(std::move(other.blocks_)) {
        other.blocks_.clear();
    }
    /// Takes over `other`'s values. Values this token carried stay in transit for good.
    post_send& operator=(post_send&& other) noexcept {
        if (this != &other) {
            blocks_ = std::move(other.blocks_);
            other.blocks_.clear();
        }
        return *this;
    }
    /// Does not unpark: values not yet unparked stay in transit for good (see the class comment).
    ~post_send() = default;

    /// Pins every value this token carries to the calling thread (usable there from now on) and
    /// empties the token. O(values). The caller must have received the token through a synchronising
    /// hand-off. Thread safety: any thread, which becomes the values' owner.
    void unpark() && noexcept {
        const std::uint64_t me = detail::current_thread_key();
        for (detail::control_block* block : blocks_) {
            // Relaxed: the caller received this token through a synchronising hand-off, which
            // orders every write of the old thread (the value, ready()'s pin store) before this.
            block->pin.store(me, std::memory_order_relaxed);
        }
        detail::recycle_registry_buffer(blocks_);
    }

    /// Number of values carried.
    [[nodiscard]] std::size_t size() const noexcept { return blocks_.size(); }
    /// True if the token carries no value.
    [[nodiscard]] bool empty() const noexcept { return blocks_.empty(); }

private:
    friend class pre_send;
    std::vector<detail::control_block*> blocks_;
};

inline post_send pre_send::ready() && {
    check_owner("pre_send::ready");
    if (unready_ != 0) {
        const std::size_t unready = unready_;
        unpark_all();
        detail::report_kind(violation_kind::not_ready, "pre_send::ready",
                            detail::pin_thread(owner_), unready);
    }
    for (detail::control_block* block : blocks_) {
        // Every rc now carries this registry's mark (its count is `strong`, the others are 0).
        // Relaxed: no thread may use the value until unpark(), which the hand-off of the token
        // orders after this store.
        block->pin.store(detail::pin_in_transit, std::memory_order_relaxed);
    }
    post_send token;
    token.blocks_ = std::move(blocks_);
    blocks_.clear();
    unready_ = 0;
    release_tag();
    return token;
}

} // namespace sendable
