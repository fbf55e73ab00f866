/// @file send_rc.hpp
/// @brief `sendable::send_rc<T>`: a reference-counted pointer with a plain (non-atomic) count whose
/// value is pinned to one thread, checked on every access, and movable to another thread as part of a
/// whole object graph through `pre_send` / `post_send` (pre_send.hpp).
///
/// Design. A send_rc is one word: the address of its allocation, whose two low bits hold the rc's
/// *park mark*. One allocation holds a 24-byte control block (see detail/control_block.hpp: pin word,
/// strong count, and how many live rcs carry each park mark) followed by the value. The Rust crate
/// gives every rc a second word, a unique id, so a registry can tell which rcs it has parked. Here
/// the registry gives the value a mark (1, 2 or 3, chosen so that no live rc of the value carries it)
/// and parking an rc stores that mark in the rc's own low bits: "is this rc parked?" is a two-bit
/// compare, "has every rc been parked?" is "does the count of that mark equal the strong count?",
/// and nothing is ever hashed or rescanned. New rcs and copies carry mark 0, and the counts of marks
/// 1..3 are exact (destroying an rc with one of them decrements its count), so the marks left by a
/// successful, refused or abandoned migration are reclaimed as soon as their rcs are re-parked or
/// destroyed. (Only three live rcs that each kept a different mark from three abandoned migrations
/// exhaust the marks; park then reports `violation_kind::marks_exhausted`.)
///
/// Sizes: `sizeof(send_rc<T>) == sizeof(void*)` for every T; the per-value overhead is the 24-byte
/// control block (plus padding up to `alignof(T)` when that exceeds 8), in the same allocation.
///
/// Checks. Every dereference, copy, copy/move assignment, destruction, `use_count`, `get`, `get_mut`
/// and `try_unwrap` first checks that the calling thread is the one the value is pinned to and that
/// the value is not parked: one relaxed load, one TLS load and one compare on the hot path. A failed
/// check is a violation (violation.hpp), never undefined behaviour. Moving an rc (construction or
/// `swap`) does not touch the value and is not checked: that is how rcs travel between threads. An rc
/// object itself is an ordinary object: handing one to another thread must be synchronised as usual.
#pragma once

#include <oneshot/detail/config.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include <sendable/detail/control_block.hpp>
#include <sendable/thread_id.hpp>
#include <sendable/violation.hpp>

namespace sendable {

template <class T>
class send_rc;
class pre_send;

namespace detail {

/// One send_rc allocation: the control block, then the value (in a union so its lifetime is explicit).
template <class T>
struct rc_block final : control_block {
    template <class... Args>
    explicit rc_block(std::uint64_t owner_key, Args&&... args) : control_block(owner_key) {
        void* where = static_cast<void*>(std::addressof(value));
        if constexpr (std::is_constructible_v<std::remove_cv_t<T>, Args&&...>) {
            ::new (where) std::remove_cv_t<T>(std::forward<Args>(args)...);
        } else {
            ::new (where) std::remove_cv_t<T>{std::forward<Args>(args)...};
        }
    }
    rc_block(const rc_block&) = delete;
    rc_block& operator=(const rc_block&) = delete;
    ~rc_block() {} // the value is destroyed explicitly (destroy_value) before the block is deleted

    void destroy_value() noexcept { std::destroy_at(std::addressof(value)); }

    union {
        std::remove_cv_t<T> value;
    };
};

/// Access to send_rc's representation for pre_send and the free functions.
struct rc_access {
    template <class T>
    [[nodiscard]] static std::uintptr_t& bits(send_rc<T>& rc) noexcept {
        return rc.bits_;
    }
    template <class T>
    [[nodiscard]] static std::uintptr_t bits(const send_rc<T>& rc) noexcept {
        return rc.bits_;
    }
};

} // namespace detail

/// A single-threaded reference-counted pointer to a `T` that is pinned to one thread at a time.
///
/// Copying clones the reference (count + 1), destroying releases it (the last one destroys the value
/// and frees the allocation). Every access is checked against the pinned thread (see the file
/// comment); a failed check reports a `violation` (by default: throws `pin_error`, or prints and
/// aborts inside the destructor or without exceptions). A whole graph of send_rcs moves to another
/// thread with `pre_send` / `post_send`.
///
/// Thread safety: a value and all its rcs belong to one thread (the pinned thread). Any thread may
/// move, swap, compare or hash an rc object it has (synchronised) access to; every other operation is
/// checked and fails on any thread but the pinned one.
///
/// @tparam T the value type; may be incomplete where send_rc<T> is declared (e.g. as a member of T).
template <class T>
class send_rc {
    static_assert(!std::is_array_v<T>, "send_rc<T[]> is not supported");
    static_assert(!std::is_reference_v<T>, "send_rc<T&> is not supported");

public:
    /// The pointee type.
    using element_type = T;

    /// An empty rc (no value). Not pinned, never checked.
    constexpr send_rc() noexcept = default;
    /// An empty rc (no value).
    constexpr send_rc(std::nullptr_t) noexcept {} // NOLINT(google-explicit-constructor)

    /// Moves `value` into a new allocation pinned to the calling thread, with count 1.
    /// Errors: std::bad_alloc, or whatever T's move constructor throws.
    explicit send_rc(T value) : send_rc(adopt{}, make_block(std::move(value))) {}

    /// Clones `other` (count + 1); an empty `other` gives an empty rc.
    /// Errors: a violation if `other`'s value is pinned to another thread, parked or in transit.
    send_rc(const send_rc& other) {
        if (block_type* block = other.block()) {
            check_pin(block->pin, "send_rc copy constructor");
            detail::increment_strong(*block);
            bits_ = reinterpret_cast<std::uintptr_t>(block); // a copy carries the home mark 0
        }
    }

    /// Takes over `other`'s reference (and its park mark), leaving `other` empty. Unchecked: moving an
    /// rc does not touch the value, which is how rcs travel between threads.
    send_rc(send_rc&& other) noexcept : bits_(std::exchange(other.bits_, 0)) {}

    /// Clones `other` into this rc, releasing the previous reference. Both values must be usable here.
    /// Errors: a violation if either value is pinned elsewhere, parked or in transit (nothing changes).
    send_rc& operator=(const send_rc& other) {
        block_type* incoming = other.block();
        block_type* outgoing = block();
        const std::uintptr_t outgoing_mark = bits_ & detail::mark_mask;
        if (incoming != nullptr) {
            check_pin(incoming->pin, "send_rc copy assignment");
        }
        if (outgoing != nullptr) {
            check_pin(outgoing->pin, "send_rc copy assignment");
        }
        if (incoming != nullptr) {
            detail::increment_strong(*incoming);
        }
        // `other` may live inside the outgoing value: read it before releasing. The copy carries
        // the home mark 0.
        bits_ = reinterpret_cast<std::uintptr_t>(incoming);
        if (outgoing != nullptr) {
            release_checked(outgoing, outgoing_mark);
        }
        return *this;
    }

    /// Takes over `other`'s reference, releasing the previous one (which must be usable here).
    /// Errors: a violation if this rc's previous value is pinned elsewhere, parked or in transit
    /// (nothing changes).
    send_rc& operator=(send_rc&& other) {
        if (this != &other) {
            block_type* outgoing = block();
            const std::uintptr_t outgoing_mark = bits_ & detail::mark_mask;
            if (outgoing != nullptr) {
                check_pin(outgoing->pin, "send_rc move assignment");
            }
            bits_ = std::exchange(other.bits_, 0);
            if (outgoing != nullptr) {
                release_checked(outgoing, outgoing_mark);
            }
        }
        return *this;
    }

    /// Releases the reference; the last one destroys the value and frees the allocation. On a thread
    /// the value is not pinned to, or while it is parked or in transit, the destructor reports a
    /// violation (default: message to stderr, then abort); if an installed handler returns, the
    /// reference is leaked: the value is never touched and never freed.
    ~send_rc() {
        if (block_type* block = this->block()) {
            if (detail::check_pin_in_destructor(block->pin, "send_rc destructor")) {
                release_checked(block, bits_ & detail::mark_mask);
            }
        }
    }

    /// Releases the reference (as the destructor would) and leaves this rc empty.
    /// Errors: a violation if the value is pinned elsewhere, parked or in transit (nothing changes).
    void reset() {
        if (block_type* block = this->block()) {
            check_pin(block->pin, "send_rc::reset");
            const std::uintptr_t mark = bits_ & detail::mark_mask;
            bits_ = 0;
            release_checked(block, mark);
        }
    }

    /// Exchanges two rcs (with their park marks). Unchecked: touches no value.
    void swap(send_rc& other) noexcept { std::swap(bits_, other.bits_); }

    /// The value. Errors: a violation if the rc is empty, or the value is pinned elsewhere, parked or
    /// in transit.
    [[nodiscard]] T& operator*() const { return checked("send_rc::operator*")->value; }

    /// Pointer to the value. Errors: as `operator*`.
    [[nodiscard]] T* operator->() const {
        return std::addressof(checked("send_rc::operator->")->value);
    }

    /// Pointer to the value, or nullptr if empty. Errors: a violation if the value is pinned
    /// elsewhere, parked or in transit.
    [[nodiscard]] T* get() const {
        block_type* block = this->block();
        if (block == nullptr) {
            return nullptr;
        }
        check_pin(block->pin, "send_rc::get");
        return std::addressof(block->value);
    }

    /// Pointer to the value if this is the only rc to it (so nothing else can observe a mutation);
    /// nullptr if the rc is empty or the value is shared. Errors: as `get`.
    [[nodiscard]] T* get_mut() {
        block_type* block = this->block();
        if (block == nullptr) {
            return nullptr;
        }
        check_pin(block->pin, "send_rc::get_mut");
        return block->strong == 1 ? std::addressof(block->value) : nullptr;
    }

    /// Number of rcs sharing the value (0 if empty). Errors: as `get`.
    [[nodiscard]] std::size_t use_count() const {
        block_type* block = this->block();
        if (block == nullptr) {
            return 0;
        }
        check_pin(block->pin, "send_rc::use_count");
        return block->strong;
    }

    /// True if the rc holds a value. Unchecked.
    [[nodiscard]] explicit operator bool() const noexcept { return bits_ != 0; }

    /// The thread the value is pinned to: 0 if the rc is empty or the value is in transit. Unchecked:
    /// reads only the atomic pin word, so any thread may ask (the answer may be stale at once).
    [[nodiscard]] thread_id pinned_thread() const noexcept {
        block_type* block = this->block();
        // Relaxed: a snapshot for information only; nothing is accessed on the strength of it.
        return block == nullptr ? 0
                                : detail::pin_thread(block->pin.load(std::memory_order_relaxed));
    }

    /// Pointer identity (same allocation, or both empty), as for std::shared_ptr. Unchecked.
    [[nodiscard]] friend bool operator==(const send_rc& a, const send_rc& b) noexcept {
        return a.block() == b.block();
    }
    /// True if `a` is empty. Unchecked.
    [[nodiscard]] friend bool operator==(const send_rc& a, std::nullptr_t) noexcept {
        return a.bits_ == 0;
    }
    /// Exchanges two rcs. Unchecked.
    friend void swap(send_rc& a, send_rc& b) noexcept { a.swap(b); }

private:
    using block_type = detail::rc_block<T>;
    struct adopt {};

    template <class U, class... Args>
    friend send_rc<U> make_send_rc(Args&&... args);
    template <class U>
    friend std::optional<U> try_unwrap(send_rc<U>&& rc);
    friend struct detail::rc_access;
    friend struct std::hash<send_rc>;

    send_rc(adopt, block_type* block) noexcept : bits_(reinterpret_cast<std::uintptr_t>(block)) {}

    template <class... Args>
    static block_type* make_block(Args&&... args) {
        return new block_type(detail::current_thread_key(), std::forward<Args>(args)...);
    }

    [[nodiscard]] block_type* block() const noexcept {
        return reinterpret_cast<block_type*>(bits_ & ~detail::mark_mask);
    }

    static void check_pin(const std::atomic<std::uint64_t>& pin, const char* operation) {
        detail::check_pin(pin, operation);
    }

    [[nodiscard]] block_type* checked(const char* operation) const {
        block_type* block = this->block();
        if (block == nullptr) [[unlikely]] {
            detail::report_kind(violation_kind::empty, operation, 0);
        }
        check_pin(block->pin, operation);
        return block;
    }

    /// Drops one reference, which carried park mark `mark`, to an already checked block; the last
    /// one destroys and frees.
    static void release_checked(block_type* block, std::uintptr_t mark) noexcept {
        if (--block->strong == 0) {
            block->destroy_value();
            delete block;
        } else {
            detail::forget_mark(*block, mark);
        }
    }

    std::uintptr_t bits_ = 0;
};

static_assert(sizeof(send_rc<int>) == sizeof(void*), "a send_rc is one word");

/// Allocates a value constructed from `args` together with its control block (one allocation),
/// pinned to the calling thread, and returns the first rc to it. Uses `T(args...)` when valid, else
/// `T{args...}`. Errors: std::bad_alloc, or whatever T's constructor throws (nothing leaks).
/// Thread safety: any thread; the value is pinned to the caller.
template <class T, class... Args>
[[nodiscard]] send_rc<T> make_send_rc(Args&&... args) {
    return send_rc<T>(typename send_rc<T>::adopt{},
                      send_rc<T>::make_block(std::forward<Args>(args)...));
}

namespace detail {

/// try_unwrap's clean-up: destroys the moved-from value, frees the allocation and empties the rc,
/// but only if no exception started after it was created, i.e. only once the value has been moved
/// into the result. If that move throws, it does nothing: the rc and its value stay as they were.
template <class Block>
class unwrap_release {
public:
    unwrap_release(std::uintptr_t& bits, Block* block) noexcept : bits_(bits), block_(block) {}
    unwrap_release(const unwrap_release&) = delete;
    unwrap_release& operator=(const unwrap_release&) = delete;
    ~unwrap_release() {
        if (std::uncaught_exceptions() > exceptions_) {
            return; // the move threw: nothing was taken
        }
        bits_ = 0;
        block_->destroy_value();
        delete block_;
    }

private:
    std::uintptr_t& bits_;
    Block* block_;
    int exceptions_ = std::uncaught_exceptions();
};

} // namespace detail

/// If `rc` is the only rc to its value: moves the value (once) into the returned optional, then
/// destroys the moved-from value, frees the allocation and leaves `rc` empty. Otherwise (shared, or
/// empty) returns std::nullopt and leaves `rc` untouched. Errors: a violation if the value is pinned
/// elsewhere, parked or in transit; if T's move constructor throws, the exception propagates and
/// `rc` and its value are left untouched.
template <class T>
[[nodiscard]] std::optional<T> try_unwrap(send_rc<T>&& rc) {
    using block_type = typename send_rc<T>::block_type;
    block_type* block = rc.block();
    if (block == nullptr) {
        return std::nullopt;
    }
    detail::check_pin(block->pin, "sendable::try_unwrap");
    if (block->strong != 1) {
        return std::nullopt;
    }
    // The returned prvalue is the result object itself, so this is the value's only move; `release`
    // frees the allocation after it, when the result is complete (locals die after the return value
    // is initialised), and not at all if it throws.
    const detail::unwrap_release<block_type> release(rc.bits_, block);
    return std::optional<T>(std::in_place, std::move(block->value));
}

} // namespace sendable

/// Hashes a send_rc by the address of its allocation (consistent with `operator==`). Unchecked.
template <class T>
struct std::hash<sendable::send_rc<T>> {
    /// The hash of the shared allocation's address (unchecked: usable from any thread).
    [[nodiscard]] std::size_t operator()(const sendable::send_rc<T>& rc) const noexcept {
        return std::hash<const void*>{}(static_cast<const void*>(rc.block()));
    }
};
