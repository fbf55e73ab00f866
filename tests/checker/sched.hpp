/// @file sched.hpp
/// @brief A deterministic scheduler that explores every interleaving of 2-3 logical threads.
///
/// Each logical thread is a real `std::thread` (so `std::this_thread::get_id()`, `std::stop_callback`
/// and coroutine resumption behave exactly as in production), but only the thread holding the
/// baton runs. The baton changes hands only at visible operations: every call into the checker's
/// platform policy (atomic steps, waits, wakes, slot hooks), checker gates and stop requests. At each
/// such point the scheduler makes a choice (which thread runs next; whether model time has passed),
/// records it, and the explorer replays recorded prefixes depth first until every choice sequence
/// has been run. Every atomic is seq_cst, so these interleavings are the whole memory model.
///
/// Blocking is modelled, never real: `wait` blocks a logical thread until a `wake_one` on the same
/// word (futex semantics: a change without a wake does not release it); a timed wait can also time
/// out at any scheduling point. When no thread can run and some have not finished, that is a
/// deadlock: a lost wake-up. The only real blocking inside the library is `~std::stop_callback`
/// waiting for a callback that runs on another thread; libstdc++ spins with `sched_yield` before it
/// sleeps, and the checker interposes `sched_yield` to turn that spin into a modelled block that
/// ends when the callback has returned.
///
/// Besides deadlocks it checks: operations on freed blocks (freed blocks are poisoned and
/// quarantined until the run ends, so addresses are never reused within a run), double frees,
/// leaks, and data races on the plain message and waiter slots (vector clocks: every seq_cst RMW is
/// an acquire+release on the state word, a load an acquire).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <coroutine>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace checker {

inline constexpr int max_threads =
    4; // 0 is the main (set-up/tear-down) thread, 1..3 are logical threads
using vclock = std::array<std::uint32_t, max_threads>;

inline void join(vclock& a, const vclock& b) noexcept {
    for (std::size_t i = 0; i < a.size(); ++i)
        if (b[i] > a[i]) a[i] = b[i];
}

/// Last accesses to one plain memory location (for the race check).
struct access_state {
    int w_tid = -1;
    std::uint32_t w_clk = 0;
    vclock reads{}; ///< per thread: its clock at its last read since the last write (0: none)
};

/// A live or freed channel block.
struct block_rec {
    const char* lo = nullptr;
    const char* hi = nullptr;
    const char* slot_lo = nullptr;
    const char* slot_hi = nullptr;
    void* mem = nullptr;
    std::size_t size = 0;
    bool freed = false;
    access_state msg;
    access_state waiter;
};

enum class tstate { runnable, waiting, cb_wait, gate_wait, done };

struct event {
    int tid;
    const char* what;
    std::uint32_t a;
    std::uint32_t b;
};

struct lthread {
    std::function<void()> body;
    tstate st = tstate::runnable;
    const void* wait_word = nullptr;
    bool timed = false;
    bool time_passed = false;
    int gate = -1;
    vclock vc{};
};

inline thread_local int cur_tid = 0;

struct sched_t {
    // The baton: exactly one of these flags is raised at a time; its thread runs (0 = main).
    std::array<std::atomic<int>, max_threads> turn{};
    std::vector<lthread*> threads; // index = tid; [0] unused
    std::vector<std::thread> workers;
    std::array<lthread, max_threads> slots;
    bool shutdown = false;
    bool active = false;
    bool finished = false;
    const char* scenario = "";

    // Exploration state.
    std::vector<int> prefix;
    std::vector<int> prefix_n;
    std::vector<std::pair<int, int>> trace; // (choice, number of options)
    std::size_t depth = 0;
    int steps = 0;
    int max_steps = 4000;
    std::vector<event> log;

    // Stop callbacks.
    bool in_callback = false;
    int cb_tid = 0;
    vclock cb_vc{};

    // Checker gates (a happens-before edge between logical threads, for "A before B" scenarios).
    std::array<bool, 4> gates{};
    std::array<vclock, 4> gate_vc{};

    // Memory.
    std::vector<block_rec> blocks;
    std::set<const void*> node_words; ///< the wake-up words of the live thread waiters
    int created = 0;
    int disposed = 0;
    std::vector<std::pair<void*, std::size_t>> frames_freed;
    std::set<void*> frames_live;
    int frames_created = 0;
    long unhooked_slot_accesses = 0;
    long spin_yields = 0;    ///< sched_yield calls from logical threads
    long callback_waits = 0; ///< ... of which waited for a stop callback running on another thread
    vclock main_vc{};
    // Per thread: a slot hook was called; the next plain access is either the message (seen
    // through the message type's special members) or, failing that, the waiter slot.
    std::array<int, max_threads> pending_block{-1, -1, -1, -1};
    std::array<bool, max_threads> pending_write{};

    // Messages.
    int msg_live = 0;
    int msg_final = 0;
};

inline sched_t S;

[[noreturn]] inline void fail(const char* fmt, ...) {
    std::fflush(stdout);
    std::fprintf(stderr, "CHECKER FAILURE [%s]: ", S.scenario);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "\nschedule (thread: step):\n");
    for (const event& e : S.log)
        std::fprintf(stderr, "  T%d: %s 0x%x 0x%x\n", e.tid, e.what, e.a, e.b);
    std::fprintf(stderr, "choices:");
    for (auto& c : S.trace)
        std::fprintf(stderr, " %d/%d", c.first, c.second);
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
    std::_Exit(1);
}

inline void note(const char* what, std::uint32_t a = 0, std::uint32_t b = 0) {
    if (S.log.size() < 400) S.log.push_back(event{cur_tid, what, a, b});
}

inline vclock& my_vc() {
    return cur_tid == 0 ? S.main_vc : S.threads[static_cast<std::size_t>(cur_tid)]->vc;
}

/// One nondeterministic choice among `n` options (replayed from the prefix, else the first).
inline int choose(int n) {
    if (n <= 1) return 0;
    int c = 0;
    if (S.depth < S.prefix.size()) {
        if (S.prefix_n[S.depth] != n)
            fail("nondeterministic replay: %d options at choice %zu, %d before", n, S.depth,
                 S.prefix_n[S.depth]);
        c = S.prefix[S.depth];
    }
    S.trace.emplace_back(c, n);
    ++S.depth;
    return c;
}

struct option {
    int tid;
    bool timeout;
};

inline std::vector<option> enabled_options() {
    std::vector<option> v;
    for (std::size_t i = 1; i < S.threads.size(); ++i) {
        lthread& t = *S.threads[i];
        const int tid = static_cast<int>(i);
        switch (t.st) {
        case tstate::runnable: v.push_back({tid, false}); break;
        case tstate::waiting:
            if (t.timed) v.push_back({tid, true}); // model time: the timeout may fire now
            break;
        case tstate::cb_wait:
            if (!S.in_callback) v.push_back({tid, false});
            break;
        case tstate::gate_wait:
            if (S.gates[static_cast<std::size_t>(t.gate)]) v.push_back({tid, false});
            break;
        case tstate::done: break;
        }
    }
    return v;
}

inline const char* state_name(tstate s) {
    switch (s) {
    case tstate::runnable: return "runnable";
    case tstate::waiting: return "blocked in wait";
    case tstate::cb_wait: return "waiting for a stop callback";
    case tstate::gate_wait: return "waiting at a checker gate";
    case tstate::done: return "finished";
    }
    return "?";
}

inline void give_turn(int tid) {
    std::atomic<int>& f = S.turn[static_cast<std::size_t>(tid)];
    f.store(1);
    syscall(SYS_futex, reinterpret_cast<int*>(&f), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}
inline void await_turn(int tid) {
    std::atomic<int>& f = S.turn[static_cast<std::size_t>(tid)];
    while (f.load() == 0)
        syscall(SYS_futex, reinterpret_cast<int*>(&f), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
    f.store(0);
}

/// Picks the next thread to run and hands it the baton. Called by the baton holder `self`
/// (0 = main starting the run). Returns when `self` holds the baton again (or at once if `self`
/// is finished or main).
inline void dispatch(int self) {
    if (++S.steps > S.max_steps)
        fail("step bound %d exceeded: livelock or unbounded loop", S.max_steps);
    const std::vector<option> opts = enabled_options();
    if (opts.empty()) {
        bool all_done = true;
        for (std::size_t i = 1; i < S.threads.size(); ++i)
            all_done = all_done && S.threads[i]->st == tstate::done;
        if (!all_done) {
            std::string why;
            for (std::size_t i = 1; i < S.threads.size(); ++i)
                why += "\n  T" + std::to_string(i) + " " + state_name(S.threads[i]->st);
            fail("deadlock: no thread can run (lost wake-up)%s", why.c_str());
        }
        S.finished = true;
        give_turn(0);
        return;
    }
    const option o = opts[static_cast<std::size_t>(choose(static_cast<int>(opts.size())))];
    lthread& t = *S.threads[static_cast<std::size_t>(o.tid)];
    if (o.timeout) {
        t.time_passed = true;
        note("(timeout fires)", static_cast<std::uint32_t>(o.tid));
    } else if (t.st == tstate::cb_wait) {
        join(t.vc, S.cb_vc);
    } else if (t.st == tstate::gate_wait) {
        join(t.vc, S.gate_vc[static_cast<std::size_t>(t.gate)]);
    }
    t.st = tstate::runnable;
    if (o.tid == self) return;
    // Decide before handing over: after give_turn the scheduler state belongs to the other thread.
    const bool wait_again =
        self != 0 && S.threads[static_cast<std::size_t>(self)]->st != tstate::done;
    give_turn(o.tid);
    if (wait_again) await_turn(self);
}

inline bool scheduling() noexcept {
    return S.active && cur_tid != 0;
}

/// A visible step: the scheduler may switch threads here.
inline void point() {
    if (!scheduling()) return;
    dispatch(cur_tid);
}

/// Blocks the current logical thread in a futex-like wait on `word`.
inline void block_on(const void* word, bool timed) {
    if (!scheduling()) fail("the main thread would block");
    lthread& me = *S.threads[static_cast<std::size_t>(cur_tid)];
    me.st = tstate::waiting;
    me.wait_word = word;
    me.timed = timed;
    note("block", 0, timed);
    dispatch(cur_tid);
}

inline void wake_word(const void* word) {
    for (std::size_t i = 1; i < S.threads.size(); ++i) {
        lthread& t = *S.threads[i];
        if (t.st == tstate::waiting && t.wait_word == word) t.st = tstate::runnable;
    }
}

/// Checker gates: `gate_open(g)` happens before every `gate_wait(g)` that returns.
inline void gate_open(int g) {
    S.gates[static_cast<std::size_t>(g)] = true;
    S.gate_vc[static_cast<std::size_t>(g)] = my_vc();
    ++my_vc()[static_cast<std::size_t>(cur_tid)];
    note("gate open", static_cast<std::uint32_t>(g));
}
inline void gate_wait(int g) {
    point();
    if (S.gates[static_cast<std::size_t>(g)]) {
        join(my_vc(), S.gate_vc[static_cast<std::size_t>(g)]);
        return;
    }
    lthread& me = *S.threads[static_cast<std::size_t>(cur_tid)];
    me.st = tstate::gate_wait;
    me.gate = g;
    dispatch(cur_tid);
}

/// `src.request_stop()` as a visible step; its callbacks run inline on this thread.
template <class Source>
void request_stop(Source& src) {
    point();
    note("request_stop");
    S.in_callback = true;
    S.cb_tid = cur_tid;
    src.request_stop();
    S.in_callback = false;
    S.cb_vc = my_vc();
    ++my_vc()[static_cast<std::size_t>(cur_tid)];
    note("request_stop returned");
}

/// `sched_yield` from a logical thread: libstdc++ spinning in `~stop_callback` for a callback that
/// runs on another thread. Block until the callback has returned.
inline void spin_yield() {
    lthread& me = *S.threads[static_cast<std::size_t>(cur_tid)];
    ++S.spin_yields;
    if (S.in_callback && S.cb_tid != cur_tid) {
        ++S.callback_waits;
        note("spin: waits for the stop callback");
        me.st = tstate::cb_wait;
    }
    dispatch(cur_tid);
}

// ----- memory registry --------------------------------------------------------------------------

inline block_rec* find_block(const void* p) {
    const char* c = static_cast<const char*>(p);
    for (block_rec& b : S.blocks)
        if (c >= b.lo && c < b.hi) return &b;
    return nullptr;
}

inline int block_index(const block_rec* b) {
    return static_cast<int>(b - S.blocks.data());
}

/// The block containing `p` must be live.
inline block_rec& live_block(const void* p, const char* what) {
    block_rec* b = find_block(p);
    if (b == nullptr) fail("%s on memory that is not a channel block", what);
    if (b->freed) fail("use after free: %s on a freed block", what);
    return *b;
}

inline void race_write(access_state& a, const char* loc) {
    const vclock& vc = my_vc();
    const int t = cur_tid;
    if (a.w_tid >= 0 && a.w_tid != t && a.w_clk > vc[static_cast<std::size_t>(a.w_tid)])
        fail("data race on the %s: write by T%d unordered with an earlier write by T%d", loc, t,
             a.w_tid);
    for (std::size_t u = 0; u < a.reads.size(); ++u)
        if (static_cast<int>(u) != t && a.reads[u] != 0 && a.reads[u] > vc[u])
            fail("data race on the %s: write by T%d unordered with an earlier read by T%zu", loc, t,
                 u);
    a.w_tid = t;
    a.w_clk = vc[static_cast<std::size_t>(t)];
    a.reads = {};
}
inline void race_read(access_state& a, const char* loc) {
    const vclock& vc = my_vc();
    const int t = cur_tid;
    if (a.w_tid >= 0 && a.w_tid != t && a.w_clk > vc[static_cast<std::size_t>(a.w_tid)])
        fail("data race on the %s: read by T%d unordered with a write by T%d", loc, t, a.w_tid);
    a.reads[static_cast<std::size_t>(t)] = vc[static_cast<std::size_t>(t)];
}

/// A pending slot hook not followed by a message access was a waiter-slot access.
inline void resolve_pending() {
    const auto t = static_cast<std::size_t>(cur_tid);
    if (S.pending_block[t] < 0) return;
    block_rec& b = S.blocks[static_cast<std::size_t>(S.pending_block[t])];
    S.pending_block[t] = -1;
    if (b.freed) fail("use after free: waiter slot of a freed block");
    if (S.pending_write[t])
        race_write(b.waiter, "waiter slot");
    else
        race_read(b.waiter, "waiter slot");
}

/// Called by the platform policy's slot_tracker.
inline void slot_hook(const void* tracker, bool write, bool yields) {
    if (yields) point();
    resolve_pending();
    block_rec& b = live_block(tracker, write ? "slot write" : "slot read");
    note(write ? "slot write" : "slot read");
    S.pending_block[static_cast<std::size_t>(cur_tid)] = block_index(&b);
    S.pending_write[static_cast<std::size_t>(cur_tid)] = write;
}

/// Called by the message type on every special member: `p` is the object's address.
inline void message_access(const void* p, bool write) {
    block_rec* b = find_block(p);
    if (b == nullptr) return; // not in a channel block: a local or a result
    if (b->freed) fail("use after free: message in a freed block %s", write ? "written" : "read");
    const char* c = static_cast<const char*>(p);
    if (c < b->slot_lo || c >= b->slot_hi) fail("message object outside the message slot");
    if (S.pending_block[static_cast<std::size_t>(cur_tid)] == block_index(b))
        S.pending_block[static_cast<std::size_t>(cur_tid)] = -1;
    else
        ++S.unhooked_slot_accesses; // the library touched the slot without calling its slot hook
    if (write)
        race_write(b->msg, "message slot");
    else
        race_read(b->msg, "message slot");
}

template <class Block>
Block* create_block() {
    void* mem = ::operator new(sizeof(Block));
    block_rec r;
    r.lo = static_cast<const char*>(mem);
    r.hi = r.lo + sizeof(Block);
    r.mem = mem;
    r.size = sizeof(Block);
    S.blocks.push_back(r);       // before construction: the state word must know it lies in a block
    auto* b = ::new (mem) Block; // default-initialised, as the production platform does
    block_rec& rec = S.blocks.back();
    rec.slot_lo = reinterpret_cast<const char*>(&b->slot);
    rec.slot_hi = rec.slot_lo + sizeof(b->slot);
    ++S.created;
    note("create");
    return b;
}

/// A word outside every block is a thread waiter's wake-up word: it lives while its wait does.
inline void node_word_born(const void* w) {
    if (find_block(w) == nullptr) S.node_words.insert(w);
}
inline void node_word_died(const void* w) {
    S.node_words.erase(w);
}

/// Every atomic step on a word: a block's word needs a live block, a waiter's word a live wait.
inline void live_word(const void* w, const char* what) {
    if (find_block(w) != nullptr) {
        (void)live_block(w, what);
        return;
    }
    if (S.node_words.count(w) == 0)
        fail("use after return: %s on a thread waiter's word after its wait ended", what);
}

template <class Block>
void dispose_block(Block* b) {
    resolve_pending();
    block_rec* r = find_block(b);
    if (r == nullptr || r->lo != reinterpret_cast<const char*>(b))
        fail("dispose of a pointer that is no block");
    if (r->freed) fail("double free of the channel block");
    // Freeing writes the whole block: every other thread's slot access must happen before it.
    race_write(
        r->msg,
        "message slot: use after free, the block is freed while another thread may still use it");
    race_write(
        r->waiter,
        "waiter slot: use after free, the block is freed while another thread may still use it");
    b->~Block();
    std::memset(r->mem, 0xdd, r->size); // poison: a stray read sees garbage
    r->freed = true;
    ++S.disposed;
    note("dispose");
}

// ----- coroutine frames -------------------------------------------------------------------------

inline void* frame_alloc(std::size_t n) {
    void* p = ::operator new(n);
    S.frames_live.insert(p);
    ++S.frames_created;
    return p;
}
inline void frame_free(void* p, std::size_t n) {
    if (S.frames_live.erase(p) != 1) fail("coroutine frame freed twice");
    std::memset(p, 0xdd, n); // poison; quarantined until the run ends
    S.frames_freed.emplace_back(p, n);
    note("frame freed");
}

// ----- the counting message type ----------------------------------------------------------------

inline constexpr int the_value = 42;

/// A message that counts itself. Each channel run sends one message of value 42; exactly one
/// object holding 42 (not moved from) must be destroyed per sent message: by whoever received it,
/// by the sender that got it back, or by the channel's last owner.
struct counted {
    int v;
    explicit counted(int x) : v(x) {
        message_access(this, true);
        ++S.msg_live;
    }
    counted(counted&& o) noexcept : v(o.v) {
        message_access(&o, false);
        message_access(this, true);
        o.v = -1;
        ++S.msg_live;
    }
    counted(const counted&) = delete;
    counted& operator=(const counted&) = delete;
    counted& operator=(counted&&) = delete;
    ~counted() {
        message_access(this, true);
        if (v == -2) fail("message destroyed twice");
        if (v == the_value) ++S.msg_final;
        v = -2;
        --S.msg_live;
    }
};

// ----- a minimal coroutine type -----------------------------------------------------------------

/// Starts eagerly, frees its frame when it finishes; the handle stays valid only while suspended.
struct task {
    struct promise_type {
        static void* operator new(std::size_t n) { return frame_alloc(n); }
        static void operator delete(void* p, std::size_t n) { frame_free(p, n); }
        task get_return_object() noexcept {
            return task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
    std::coroutine_handle<promise_type> h;
};

// ----- one run and the exploration --------------------------------------------------------------

struct run_spec {
    std::vector<std::function<void()>> threads;
    std::function<void()> check; ///< runs on main after every thread finished
    int expected_final = 1;      ///< how many messages were sent (must be destroyed exactly once)
};

/// A logical thread: one persistent OS thread per logical thread id, reused for every run of a
/// scenario; the baton starts each run's body.
inline void worker_main(int tid) {
    cur_tid = tid;
    for (;;) {
        await_turn(tid);
        if (S.shutdown) return;
        lthread& me = *S.threads[static_cast<std::size_t>(tid)];
        me.body();
        resolve_pending();
        note("finished");
        me.st = tstate::done;
        dispatch(tid);
    }
}

inline void start_workers(std::size_t n) {
    while (S.workers.size() < n) {
        const int tid = static_cast<int>(S.workers.size() + 1);
        S.workers.emplace_back(worker_main, tid);
    }
}

inline void stop_workers() {
    S.shutdown = true;
    for (std::size_t i = 0; i < S.workers.size(); ++i)
        give_turn(static_cast<int>(i + 1));
    for (std::thread& t : S.workers)
        t.join();
    S.workers.clear();
    S.shutdown = false;
}

inline void reset_run() {
    S.trace.clear();
    S.depth = 0;
    S.steps = 0;
    S.log.clear();
    S.in_callback = false;
    S.gates = {};
    S.blocks.clear();
    S.node_words.clear();
    S.created = S.disposed = 0;
    S.frames_live.clear();
    S.frames_created = 0;
    S.msg_live = S.msg_final = 0;
    S.pending_block = {-1, -1, -1, -1};
    S.finished = false;
    S.main_vc = {};
    S.main_vc[0] = 1;
}

inline void release_memory() {
    for (block_rec& b : S.blocks)
        ::operator delete(b.mem);
    S.blocks.clear();
    for (auto& f : S.frames_freed)
        ::operator delete(f.first);
    S.frames_freed.clear();
}

inline void run_once(run_spec& spec) {
    const std::size_t n = spec.threads.size();
    if (n + 1 > static_cast<std::size_t>(max_threads)) fail("too many logical threads");
    S.threads.assign(1, nullptr);
    for (std::size_t i = 0; i < n; ++i) {
        lthread& t = S.slots[i + 1];
        t = lthread{};
        t.body = std::move(spec.threads[i]);
        t.vc = S.main_vc; // thread start: everything main did before happens before
        t.vc[i + 1] = 1;
        S.threads.push_back(&t);
    }
    ++S.main_vc[0];
    start_workers(n);
    S.active = true;
    dispatch(0);
    await_turn(0);
    S.active = false;
    for (std::size_t i = 1; i <= n; ++i) {
        join(S.main_vc, S.threads[i]->vc); // thread join
        S.threads[i]->body = nullptr;
    }
    S.threads.assign(1, nullptr);
}

/// Advances the prefix to the next unexplored choice sequence; false when all are done.
inline bool next_prefix() {
    while (!S.trace.empty() && S.trace.back().first + 1 == S.trace.back().second)
        S.trace.pop_back();
    if (S.trace.empty()) return false;
    ++S.trace.back().first;
    S.prefix.clear();
    S.prefix_n.clear();
    for (auto& c : S.trace) {
        S.prefix.push_back(c.first);
        S.prefix_n.push_back(c.second);
    }
    return true;
}

inline long max_runs = 3'000'000;
inline long dump_run = -1; ///< debugging: print the schedule of this run

/// Runs `make()` under every interleaving. Returns the number of interleavings explored.
template <class Make>
long explore(const char* name, Make make) {
    S.scenario = name;
    S.prefix.clear();
    S.prefix_n.clear();
    S.unhooked_slot_accesses = 0;
    S.spin_yields = S.callback_waits = 0;
    long runs = 0;
    for (;;) {
        reset_run();
        {
            run_spec spec = make();
            run_once(spec);
            if (spec.check) spec.check();
            const int expected = spec.expected_final;
            spec = run_spec{}; // tear down: endpoints left over are destroyed here, on main
            if (S.created != 1) fail("expected exactly one channel allocation, saw %d", S.created);
            if (S.disposed != 1)
                fail("the channel block was freed %d times (leak if 0)", S.disposed);
            if (!S.frames_live.empty())
                fail("a coroutine frame is still alive: never resumed (lost wake-up) or leaked");
            if (S.msg_live != 0) fail("%d message objects leaked", S.msg_live);
            if (S.msg_final != expected)
                fail("the message was destroyed %d times, expected %d (lost or duplicated)",
                     S.msg_final, expected);
        }
        if (runs == dump_run) {
            for (const event& e : S.log)
                std::printf("  T%d: %s 0x%x 0x%x\n", e.tid, e.what, e.a, e.b);
        }
        release_memory();
        ++runs;
        if (runs >= max_runs) fail("exploration cut short after %ld interleavings", runs);
        if (!next_prefix()) break;
    }
    stop_workers();
    return runs;
}

/// Outcome of one receive, recorded for the scenario's check.
enum class got { none, message, empty, disconnected, timeout, cancelled, delivered, returned };

inline const char* got_name(got g) {
    switch (g) {
    case got::none: return "none";
    case got::message: return "message";
    case got::empty: return "empty";
    case got::disconnected: return "disconnected";
    case got::timeout: return "timeout";
    case got::cancelled: return "cancelled";
    case got::delivered: return "delivered";
    case got::returned: return "returned";
    }
    return "?";
}

inline void expect(bool ok, const char* what) {
    if (!ok) fail("outcome check failed: %s", what);
}

} // namespace checker
