/// @file resumer.hpp
/// @brief Where an awaiting coroutine resumes: the `resumer` concept and `inline_resumer`.
///
/// Every awaitable of the library resumes the awaiting coroutine on the thread that completes the
/// operation unless told otherwise with `.resume_on(r)`. A resumer `r` is anything invocable with
/// `std::coroutine_handle<>`, anything with a `post(f)` or `execute(f)` member taking a nullary
/// callable (an executor, a thread pool, an event loop), or a pointer to such an object. It is moved
/// out of the awaiter and invoked once, from `noexcept` code: it must not throw.
#pragma once

#include <oneshot/detail/config.hpp>

#include <concepts>
#include <coroutine>
#include <type_traits>

namespace oneshot {

/// The default resumer: resumes the coroutine inline, on the thread that completes the operation.
struct inline_resumer {
    /// Resumes `h` on the calling thread.
    void operator()(std::coroutine_handle<> h) const noexcept { h.resume(); }
};

namespace detail {
/// The callable handed to `post` / `execute` resumers.
struct resume_task {
    std::coroutine_handle<> handle;
    void operator()() const { handle.resume(); }
};

template <class R>
concept handle_resumer = std::invocable<R&, std::coroutine_handle<>>;
template <class R>
concept post_resumer = requires(R& r, resume_task t) {
    r.post(t);
};
template <class R>
concept execute_resumer = requires(R& r, resume_task t) {
    r.execute(t);
};
template <class R>
concept direct_resumer = handle_resumer<R> || post_resumer<R> || execute_resumer<R>;

/// Hands `h` to the resumer `r`.
template <class R>
void resume_through(R& r, std::coroutine_handle<> h) noexcept {
    if constexpr (handle_resumer<R>)
        r(h);
    else if constexpr (post_resumer<R>)
        r.post(resume_task{h});
    else if constexpr (execute_resumer<R>)
        r.execute(resume_task{h});
    else
        resume_through(*r, h); // a pointer to a resumer
}
} // namespace detail

/// What `resume_on` accepts: move-constructible, and invocable with `std::coroutine_handle<>`, or
/// with a `post(f)` or `execute(f)` member, or a pointer to such an object.
template <class R>
concept resumer = std::move_constructible<R> &&
    (detail::direct_resumer<R> ||
     (std::is_pointer_v<R> && detail::direct_resumer<std::remove_pointer_t<R>>));

/// The 0.1 name of `inline_resumer`.
using inline_scheduler = inline_resumer;
/// The 0.1 name of the `resumer` concept.
template <class R>
concept scheduler = resumer<R>;

} // namespace oneshot
