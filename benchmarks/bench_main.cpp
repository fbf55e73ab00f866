// The main of oneshot_bench: a counting replacement of the global operator new/delete, a thread
// started before main (so libstdc++'s std::shared_ptr uses atomic counts), and the comparison table.
//
//   oneshot_bench [benchmark flags] [--oneshot_table] [--oneshot_table_out=FILE]
//
// With --oneshot_table the usual console output is followed by a table that pairs each oneshot
// benchmark with its baseline by name ("BM_<workload>/<impl>"). Each row is one quantity in one
// fixed unit (its own column), and every quantity is a cost, so lower is always better: both medians
// (the "median" aggregate when run with --benchmark_repetitions, else the median of the runs), the
// ratio oneshot / baseline, the difference oneshot - baseline, the project's target and met/MISSED.
// --oneshot_table_out=FILE also writes the rows, tab-separated, to FILE (benchmarks/compare.sh
// reads two of them). Timings are never asserted: the exit status does not depend on them.
#include "bench_common.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <unistd.h>
#endif
#if defined(_WIN32)
#include <malloc.h>
#endif

// ---------------------------------------------------------------------------------------------
// Counting allocator. Per-thread plain counters: a TLS increment, no atomics, no shared lines.

namespace {
constinit thread_local std::uint64_t t_allocs = 0;
constinit thread_local std::uint64_t t_bytes = 0;
constinit thread_local std::uint64_t t_chunk = 0;

inline void note_allocation(std::size_t n) noexcept {
    ++t_allocs;
    t_bytes += n;
    // glibc: a chunk is the request plus an 8-byte header, rounded up to 16, at least 32 bytes.
    const std::size_t chunk = (n + 8 + 15) & ~std::size_t{15};
    t_chunk += chunk < 32 ? 32 : chunk;
}

void* allocate(std::size_t n) {
    note_allocation(n);
    for (;;) {
        if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
        std::new_handler handler = std::get_new_handler();
        if (handler == nullptr) throw std::bad_alloc();
        handler();
    }
}

void* allocate_aligned(std::size_t n, std::align_val_t al) {
    note_allocation(n);
    const std::size_t align = std::max(static_cast<std::size_t>(al), sizeof(void*));
    const std::size_t size =
        ((n == 0 ? 1 : n) + align - 1) / align * align; // aligned_alloc wants a multiple
    for (;;) {
#if defined(_WIN32)
        if (void* p = ::_aligned_malloc(size, align)) return p;
#else
        if (void* p = std::aligned_alloc(align, size)) return p;
#endif
        std::new_handler handler = std::get_new_handler();
        if (handler == nullptr) throw std::bad_alloc();
        handler();
    }
}
void free_aligned(void* p) noexcept {
#if defined(_WIN32)
    ::_aligned_free(p); // memory from _aligned_malloc must not reach free()
#else
    std::free(p);
#endif
}
} // namespace

bench::alloc_counts bench::thread_alloc_counts() noexcept {
    return {t_allocs, t_bytes, t_chunk};
}

long long bench::voluntary_switches() noexcept {
#if defined(__unix__) || defined(__APPLE__)
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<long long>(usage.ru_nvcsw);
#endif
    return 0;
}

// GCC cannot see that these replace the global pair and warns that free() meets operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
    return allocate(n);
}
void* operator new[](std::size_t n) {
    return allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new(std::size_t n, std::align_val_t al) {
    return allocate_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al) {
    return allocate_aligned(n, al);
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    try {
        return allocate_aligned(n, al);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    try {
        return allocate_aligned(n, al);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    free_aligned(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    free_aligned(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    free_aligned(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    free_aligned(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    free_aligned(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    free_aligned(p);
}

namespace {

// A process that has started a thread: libstdc++ then uses atomic reference counts in
// std::shared_ptr (it checks __libc_single_threaded), as in any real multithreaded program.
[[maybe_unused]] const bool thread_started = [] {
    std::thread([] {}).join();
    return true;
}();

// ---------------------------------------------------------------------------------------------
// The comparison table. Each row is one quantity in one fixed unit, and every quantity is a cost:
// lower is better (rates are turned into time per item). The ratio is always oneshot / baseline,
// the difference always oneshot - baseline.

/// Where a row's value comes from.
enum class source {
    time, ///< time per iteration in ns: CPU time, or real/manual time where the benchmark asks
    cpu,  ///< CPU time per iteration in ns (of the whole process where the benchmark measures that)
    counter, ///< a user counter
    inverse, ///< 1 / a user counter: a rate (items per second) turned into a cost (seconds per item)
};

enum class goal {
    none,     ///< informational row
    ratio_le, ///< oneshot / baseline <= target
    diff_le,  ///< oneshot - baseline <= target (in the row's unit)
    value_le, ///< oneshot <= target
    value_eq, ///< oneshot == target (to 1e-6)
};

struct row {
    const char* id;            ///< workload number (see benchmarks/README.md)
    const char* workload;      ///< what one value is
    const char* unit;          ///< unit of the oneshot, baseline and diff columns
    const char* oneshot;       ///< benchmark name of the oneshot side
    const char* baseline;      ///< benchmark name of the baseline, or nullptr
    const char* baseline_name; ///< short label for the baseline
    source src;
    const char* counter; ///< for source::counter and source::inverse
    double scale;        ///< converts the source value (ns, or the counter) into `unit`
    goal g;
    double target;
    const char* target_text;
};

constexpr double ns = 1, us = 1e-3, per_us = 1e6;

constexpr row rows[] = {
    {"1", "round trip, int (create, send, try_recv, drop)", "ns CPU", "BM_roundtrip_int/oneshot",
     "BM_roundtrip_int/promise", "std::promise", source::time, nullptr, ns, goal::ratio_le, 0.1,
     "ratio<=0.10"},
    {"2", "round trip, int", "ns CPU", "BM_roundtrip_int/oneshot", "BM_roundtrip_int/floor",
     "floor", source::time, nullptr, ns, goal::ratio_le, 1.3, "ratio<=1.30"},
    {"1", "round trip, std::string of 40 chars", "ns CPU", "BM_roundtrip_string40/oneshot",
     "BM_roundtrip_string40/promise", "std::promise", source::time, nullptr, ns, goal::none, 0, ""},
    {"2", "round trip, std::string of 40 chars", "ns CPU", "BM_roundtrip_string40/oneshot",
     "BM_roundtrip_string40/floor", "floor", source::time, nullptr, ns, goal::none, 0, ""},
    {"1", "round trip, 1 KiB struct", "ns CPU", "BM_roundtrip_1kib/oneshot",
     "BM_roundtrip_1kib/promise", "std::promise", source::time, nullptr, ns, goal::none, 0, ""},
    {"2", "round trip, 1 KiB struct", "ns CPU", "BM_roundtrip_1kib/oneshot",
     "BM_roundtrip_1kib/floor", "floor", source::time, nullptr, ns, goal::none, 0, ""},
    {"1", "poll an empty channel: recv_for(0)", "ns CPU", "BM_poll_empty/recv_for_0",
     "BM_poll_empty/try_recv", "try_recv", source::time, nullptr, ns, goal::diff_le, 100,
     "diff<=100"},
    {"3", "ping-pong round trip (senders in shared slots)", "us real", "BM_pingpong/oneshot",
     "BM_pingpong/promise", "std::promise", source::time, nullptr, us, goal::ratio_le, 0.5,
     "ratio<=0.50"},
    {"3", "same, reply after 1 ms: process CPU/round trip", "us CPU", "BM_pingpong_1ms/oneshot",
     "BM_pingpong_1ms/promise", "std::promise", source::cpu, nullptr, us, goal::none, 0, ""},
    {"3", "hop carrying a fresh channel, idle CPUs", "us real", "BM_hop_idle/oneshot",
     "BM_hop_idle/promise", "std::promise", source::counter, "ns_per_hop", us, goal::none, 0, ""},
    {"3", "hop carrying a fresh channel, all CPUs busy", "us real", "BM_hop_busy/oneshot",
     "BM_hop_busy/promise", "std::promise", source::counter, "ns_per_hop", us, goal::none, 0, ""},
    {"3", "hop carrying a fresh channel, both on 1 CPU", "us real", "BM_hop_onecpu/oneshot",
     "BM_hop_onecpu/promise", "std::promise", source::counter, "ns_per_hop", us, goal::none, 0, ""},
    {"3", "1 ms wait in recv(): receiving thread's CPU", "us CPU", "BM_wait_1ms/oneshot",
     "BM_wait_1ms/promise", "future::get", source::counter, "cpu_us_per_wait", 1, goal::none, 0,
     ""},
    {"4", "request/reply, 2 clients, 1 worker: per request", "us real", "BM_reqrep/oneshot",
     "BM_reqrep/promise", "std::promise", source::inverse, "items_per_second", per_us,
     goal::ratio_le, 1.0 / 1.5, "ratio<=0.67"},
    {"5", "co_await on a channel holding the message", "ns CPU", "BM_coro_ready/oneshot",
     "BM_coro_ready/try_recv", "try_recv", source::time, nullptr, ns, goal::ratio_le, 1.2,
     "ratio<=1.20"},
    {"5", "cross-thread coroutine resumption, round trip", "us real", "BM_coro_resume/oneshot",
     "BM_pingpong/oneshot", "thread ping-pong", source::time, nullptr, us, goal::none, 0, ""},
    {"6", "send_rc copy + destroy", "ns CPU", "BM_rc_copy/send_rc", "BM_rc_copy/shared_ptr",
     "std::shared_ptr", source::time, nullptr, ns, goal::ratio_le, 0.25, "ratio<=0.25"},
    {"6", "send_rc copy + destroy", "ns CPU", "BM_rc_copy/send_rc", "BM_rc_copy/raw", "raw pointer",
     source::time, nullptr, ns, goal::none, 0, ""},
    {"6", "send_rc deref", "ns CPU", "BM_rc_deref/send_rc", "BM_rc_deref/raw", "raw pointer",
     source::time, nullptr, ns, goal::diff_le, 1.0, "diff<=+1"},
    {"6", "send_rc deref", "ns CPU", "BM_rc_deref/send_rc", "BM_rc_deref/shared_ptr",
     "std::shared_ptr", source::time, nullptr, ns, goal::none, 0, ""},
    {"6", "migration of 1,000,000 send_rcs, per rc", "ns real", "BM_rc_migrate/send_rc", nullptr,
     "", source::counter, "ns_per_rc", 1, goal::value_le, 20.0, "value<=20"},
    {"7", "heap allocations per channel<int>", "allocs", "BM_memory/oneshot", "BM_memory/promise",
     "std::promise", source::counter, "allocs_per_op", 1, goal::value_eq, 1.0, "value==1"},
    {"7", "bytes requested per channel<int>", "bytes", "BM_memory/oneshot", "BM_memory/promise",
     "std::promise", source::counter, "bytes_per_op", 1, goal::ratio_le, 1.0 / 3.0, "ratio<=0.33"},
    {"7", "malloc chunk bytes per channel<int>", "bytes", "BM_memory/oneshot", "BM_memory/promise",
     "std::promise", source::counter, "chunk_bytes_per_op", 1, goal::none, 0, ""},
};

/// One measurement of one benchmark (a repetition, or the median aggregate).
struct sample {
    double time_ns = 0; ///< see to_sample
    double cpu_ns = 0;
    std::map<std::string, double> counters;
};

struct collected {
    std::vector<sample> runs; ///< iteration runs, when reported
    bool has_median = false;  ///< the "median" aggregate, when reported
    sample median;
    long long repetitions = 1;
};

template <class Run>
bool run_failed(const Run& r) {
    if constexpr (requires { r.error_occurred; })
        return r.error_occurred; // benchmark <= 1.7
    else if constexpr (requires { r.skipped; })
        return static_cast<bool>(r.skipped); // benchmark >= 1.8
    else
        return false;
}

sample to_sample(const benchmark::BenchmarkReporter::Run& r) {
    sample s;
    // The benchmark's own primary time: real (or manual) time when it asked for it (multithreaded
    // workloads), else CPU time, which a busy machine disturbs far less for one-thread loops.
    const bool real = !r.run_name.time_type.empty();
    s.time_ns = (real ? r.GetAdjustedRealTime() : r.GetAdjustedCPUTime()) /
                benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e9;
    s.cpu_ns = r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e9;
    for (const auto& [name, c] : r.counters)
        s.counters[name] = c.value;
    return s;
}

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// A value in a fixed unit, with about four significant digits and no exponent.
std::string number(double v, bool sign = false) {
    const double a = std::fabs(v);
    const int decimals = a >= 100 ? 1 : a >= 1 ? 2 : 3;
    char buf[64];
    std::snprintf(buf, sizeof buf, sign ? "%+.*f" : "%.*f", decimals, v);
    return buf;
}

/// The text columns of one table line.
struct line_fields {
    const char *id, *workload, *unit, *oneshot, *baseline_name, *baseline, *ratio, *diff, *target,
        *status;
};

/// Prints one table line without trailing blanks.
void print_line(std::FILE* out, const line_fields& f) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-2s %-47s %-7s %9s  %-16s %9s %7s %9s  %-11s %s", f.id,
                  f.workload, f.unit, f.oneshot, f.baseline_name, f.baseline, f.ratio, f.diff,
                  f.target, f.status);
    std::size_t n = std::strlen(buf);
    while (n > 0 && buf[n - 1] == ' ')
        --n;
    std::fprintf(out, "%.*s\n", static_cast<int>(n), buf);
}

/// One row's figures, when the benchmarks ran.
struct figures {
    bool have_a = false, have_b = false;
    double a = 0, b = 0; ///< oneshot, baseline, in the row's unit
};

class table_reporter : public benchmark::ConsoleReporter {
public:
    table_reporter(OutputOptions opts, std::string tsv_path)
        : ConsoleReporter(opts), tsv_path_(std::move(tsv_path)) {}

    void ReportRuns(const std::vector<Run>& reports) override {
        ConsoleReporter::ReportRuns(reports);
        for (const Run& r : reports) {
            if (run_failed(r)) continue;
            collected& c = data_[r.run_name.function_name];
            c.repetitions =
                std::max<long long>(c.repetitions, static_cast<long long>(r.repetitions));
            if (r.run_type == Run::RT_Aggregate) {
                if (r.aggregate_name == "median") {
                    c.has_median = true;
                    c.median = to_sample(r);
                }
            } else {
                c.runs.push_back(to_sample(r));
            }
        }
    }

    void Finalize() override {
        ConsoleReporter::Finalize();
        if (data_.empty()) return;
        print_table();
        if (!tsv_path_.empty()) write_tsv();
    }

private:
    /// The median value of row `r`'s quantity for benchmark `name`, in the row's unit, if it ran.
    bool value(const char* name, const row& r, double& out) const {
        const auto it = data_.find(name);
        if (it == data_.end()) return false;
        const collected& c = it->second;
        auto pick = [&](const sample& s, double& v) {
            if (r.src == source::time || r.src == source::cpu) {
                v = (r.src == source::time ? s.time_ns : s.cpu_ns) * r.scale;
                return true;
            }
            const auto ci = s.counters.find(r.counter);
            if (ci == s.counters.end()) return false;
            if (r.src == source::inverse) {
                if (ci->second <= 0) return false;
                v = r.scale / ci->second;
            } else {
                v = ci->second * r.scale;
            }
            return true;
        };
        if (c.has_median) return pick(c.median, out);
        std::vector<double> values;
        for (const sample& s : c.runs) {
            double v = 0;
            if (pick(s, v)) values.push_back(v);
        }
        if (values.empty()) return false;
        out = median_of(std::move(values));
        return true;
    }

    figures figures_of(const row& r) const {
        figures f;
        f.have_a = value(r.oneshot, r, f.a);
        f.have_b = r.baseline != nullptr && value(r.baseline, r, f.b);
        return f;
    }

    void print_table() const {
        long long reps = 1;
        for (const auto& [name, c] : data_)
            reps = std::max(reps, c.repetitions);
        std::FILE* out = stdout;
        std::fflush(out);
        GetOutputStream().flush();
        std::fprintf(
            out,
            "\noneshot benchmark report: medians of %lld repetition%s (run in random order).\n"
            "Every value is a cost: LOWER IS BETTER. ratio = oneshot / baseline (below 1: oneshot "
            "costs less);\n"
            "diff = oneshot - baseline, in the row's unit. Units: \"CPU\" is the CPU time of the "
            "benchmark thread\n"
            "(of the process, or of the receiving thread, where the row says so); \"real\" is "
            "wall-clock time.\n",
            reps, reps == 1 ? "" : "s");
        const char* line = "------------------------------------------------------------------"
                           "------------------------------------------------------------------"
                           "--------------";
        std::fprintf(out, "%s\n", line);
        print_line(out, {"#", "workload", "unit", "oneshot", "baseline", "baseline", "ratio",
                         "diff", "target", "status"});
        std::fprintf(out, "%s\n", line);
        int met = 0, missed = 0, unknown = 0;
        for (const row& r : rows) {
            const figures f = figures_of(r);
            const std::string a_text = f.have_a ? number(f.a) : "n/a";
            const std::string b_text = r.baseline == nullptr ? "" : f.have_b ? number(f.b) : "n/a";
            const bool both = f.have_a && f.have_b;
            char ratio[32] = "";
            if (both && f.b != 0) std::snprintf(ratio, sizeof ratio, "%.3f", f.a / f.b);
            const std::string diff = both ? number(f.a - f.b, true) : "";
            const char* status = "";
            if (r.g != goal::none) {
                const bool need_b = r.g == goal::ratio_le || r.g == goal::diff_le;
                if (!f.have_a || (need_b && (!f.have_b || f.b == 0))) {
                    status = "not run";
                    ++unknown;
                } else {
                    bool ok = false;
                    switch (r.g) {
                    case goal::ratio_le: ok = f.a / f.b <= r.target; break;
                    case goal::diff_le: ok = f.a - f.b <= r.target; break;
                    case goal::value_le: ok = f.a <= r.target; break;
                    case goal::value_eq: ok = std::fabs(f.a - r.target) <= 1e-6; break;
                    case goal::none: break;
                    }
                    status = ok ? "met" : "MISSED";
                    ++(ok ? met : missed);
                }
            }
            print_line(out, {r.id, r.workload, r.unit, a_text.c_str(), r.baseline_name,
                             b_text.c_str(), ratio, diff.c_str(), r.target_text, status});
        }
        std::fprintf(out, "%s\n", line);
        std::fprintf(
            out,
            "floor: new + delete of a block the size of the channel's, ONE seq_cst "
            "read-modify-write, the message\n"
            "copied in and moved out. hop: one thread to the other, the message carrying the "
            "sender "
            "of a fresh channel\n"
            "for the answer; busy = one spinner thread per online CPU; 1 CPU = both threads pinned "
            "to one CPU.\n"
            "targets: %d met, %d missed, %d not run (timings are reported, never asserted)\n",
            met, missed, unknown);
        std::fflush(out);
    }

    /// The same rows, tab-separated, for scripts (benchmarks/compare.sh): empty fields where a value
    /// is missing.
    void write_tsv() const {
        std::FILE* f = std::fopen(tsv_path_.c_str(), "w");
        if (f == nullptr) {
            std::fprintf(stderr, "oneshot_bench: cannot write %s\n", tsv_path_.c_str());
            return;
        }
        std::fprintf(f, "id\tworkload\tunit\toneshot\tbaseline\tbaseline_value\tratio\n");
        for (const row& r : rows) {
            const figures fig = figures_of(r);
            const std::string a = fig.have_a ? number(fig.a) : "";
            const std::string b = fig.have_b ? number(fig.b) : "";
            char ratio[32] = "";
            if (fig.have_a && fig.have_b && fig.b != 0)
                std::snprintf(ratio, sizeof ratio, "%.3f", fig.a / fig.b);
            std::fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.id, r.workload, r.unit, a.c_str(),
                         r.baseline_name, b.c_str(), ratio);
        }
        std::fclose(f);
    }

    std::map<std::string, collected> data_;
    std::string tsv_path_;
};

} // namespace

int main(int argc, char** argv) {
    // Our own flags first; everything else goes to Google Benchmark.
    bool table = false;
    std::string tsv_path;
    const char* const tsv_flag = "--oneshot_table_out=";
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--oneshot_table") == 0 ||
            std::strcmp(argv[i], "--oneshot_table=true") == 0) {
            table = true;
        } else if (std::strcmp(argv[i], "--oneshot_table=false") == 0) {
            table = false;
        } else if (std::strncmp(argv[i], tsv_flag, std::strlen(tsv_flag)) == 0) {
            tsv_path = argv[i] + std::strlen(tsv_flag);
            table = true;
        } else {
            argv[kept++] = argv[i];
        }
    }
    argc = kept;
    argv[argc] = nullptr;

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (table) {
        int opts = benchmark::ConsoleReporter::OO_Tabular;
#if defined(__unix__) || defined(__APPLE__)
        if (::isatty(STDOUT_FILENO)) opts |= benchmark::ConsoleReporter::OO_Color;
#endif
        table_reporter reporter(static_cast<benchmark::ConsoleReporter::OutputOptions>(opts),
                                tsv_path);
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        benchmark::RunSpecifiedBenchmarks();
    }
    benchmark::Shutdown();
    return 0;
}
