// The main of oneshot_bench: a counting replacement of the global operator new/delete, a thread
// started before main (so libstdc++'s std::shared_ptr uses atomic counts), and the comparison table.
//
//   oneshot_bench [benchmark flags] [--oneshot_table]
//
// With --oneshot_table the usual console output is followed by a table that pairs each oneshot
// benchmark with its baseline by name ("BM_<workload>/<impl>"), shows both medians (the "median"
// aggregate when run with --benchmark_repetitions, else the median of the runs), their ratio, and the
// target of issue 7 with met/MISSED. Timings are never asserted: the exit status does not depend on
// them.
#include "bench_common.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
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
// The comparison table.

enum class metric {
    time, ///< time per iteration in ns: CPU time, or real/manual time where the benchmark asks for it
    cpu, ///< CPU time per iteration in ns (of the whole process where the benchmark measures that)
    counter, ///< a user counter (lower is better unless the goal says otherwise)
};

enum class goal {
    none,     ///< informational row
    ratio_le, ///< oneshot / baseline <= target
    ratio_ge, ///< oneshot / baseline >= target
    diff_le,  ///< oneshot - baseline <= target (same unit as the metric)
    value_le, ///< oneshot <= target
    value_eq, ///< oneshot == target (to 1e-6)
};

struct row {
    const char* workload;
    const char* oneshot;       ///< benchmark name of the oneshot side
    const char* baseline;      ///< benchmark name of the baseline, or nullptr
    const char* baseline_name; ///< short label for the baseline
    metric m;
    const char* counter; ///< for metric::counter
    const char* unit;    ///< printed after counter values
    goal g;
    double target;
    const char* target_text;
};

constexpr row rows[] = {
    {"1 round trip int", "BM_roundtrip_int/oneshot", "BM_roundtrip_int/promise", "promise",
     metric::time, nullptr, "", goal::ratio_le, 0.1, "<= 0.10x"},
    {"2 round trip int vs floor", "BM_roundtrip_int/oneshot", "BM_roundtrip_int/floor", "floor",
     metric::time, nullptr, "", goal::ratio_le, 1.3, "<= 1.30x"},
    {"1 round trip string40", "BM_roundtrip_string40/oneshot", "BM_roundtrip_string40/promise",
     "promise", metric::time, nullptr, "", goal::none, 0, "-"},
    {"2 round trip string40 vs floor", "BM_roundtrip_string40/oneshot",
     "BM_roundtrip_string40/floor", "floor", metric::time, nullptr, "", goal::none, 0, "-"},
    {"1 round trip 1KiB", "BM_roundtrip_1kib/oneshot", "BM_roundtrip_1kib/promise", "promise",
     metric::time, nullptr, "", goal::none, 0, "-"},
    {"2 round trip 1KiB vs floor", "BM_roundtrip_1kib/oneshot", "BM_roundtrip_1kib/floor", "floor",
     metric::time, nullptr, "", goal::none, 0, "-"},
    {"3 ping-pong round trip", "BM_pingpong/oneshot", "BM_pingpong/promise", "promise",
     metric::time, nullptr, "", goal::ratio_le, 0.5, "<= 0.50x"},
    {"3 1 ms wait: CPU per round trip", "BM_pingpong_1ms/oneshot", "BM_pingpong_1ms/promise",
     "promise", metric::cpu, nullptr, "", goal::none, 0, "-"},
    {"4 request/reply throughput", "BM_reqrep/oneshot", "BM_reqrep/promise", "promise",
     metric::counter, "items_per_second", "/s", goal::ratio_ge, 1.5, ">= 1.50x"},
    {"5 co_await ready channel", "BM_coro_ready/oneshot", "BM_coro_ready/try_recv", "try_recv",
     metric::time, nullptr, "", goal::ratio_le, 1.2, "<= 1.20x"},
    {"5 cross-thread resume round trip", "BM_coro_resume/oneshot", "BM_pingpong/oneshot",
     "thread ping-pong", metric::time, nullptr, "", goal::none, 0, "-"},
    {"6 send_rc copy+destroy", "BM_rc_copy/send_rc", "BM_rc_copy/shared_ptr", "shared_ptr",
     metric::time, nullptr, "", goal::ratio_le, 0.25, "<= 0.25x"},
    {"6 send_rc copy+destroy vs raw", "BM_rc_copy/send_rc", "BM_rc_copy/raw", "raw pointer",
     metric::time, nullptr, "", goal::none, 0, "-"},
    {"6 send_rc deref", "BM_rc_deref/send_rc", "BM_rc_deref/raw", "raw pointer", metric::time,
     nullptr, "", goal::diff_le, 1.0, "<= +1 ns"},
    {"6 send_rc deref vs shared_ptr", "BM_rc_deref/send_rc", "BM_rc_deref/shared_ptr", "shared_ptr",
     metric::time, nullptr, "", goal::none, 0, "-"},
    {"6 migration of 1M rcs, per rc", "BM_rc_migrate/send_rc", nullptr, "-", metric::counter,
     "ns_per_rc", " ns", goal::value_le, 20.0, "<= 20 ns"},
    {"7 heap allocations per channel", "BM_memory/oneshot", "BM_memory/promise", "promise",
     metric::counter, "allocs_per_op", "", goal::value_eq, 1.0, "== 1"},
    {"7 bytes per channel", "BM_memory/oneshot", "BM_memory/promise", "promise", metric::counter,
     "bytes_per_op", " B", goal::ratio_le, 1.0 / 3.0, "<= 0.33x"},
    {"7 malloc chunk bytes per channel", "BM_memory/oneshot", "BM_memory/promise", "promise",
     metric::counter, "chunk_bytes_per_op", " B", goal::none, 0, "-"},
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

class table_reporter : public benchmark::ConsoleReporter {
public:
    explicit table_reporter(OutputOptions opts) : ConsoleReporter(opts) {}

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
    }

private:
    /// The median value of `m` for benchmark `name`, if it ran.
    bool value(const char* name, metric m, const char* counter, double& out) const {
        const auto it = data_.find(name);
        if (it == data_.end()) return false;
        const collected& c = it->second;
        auto pick = [&](const sample& s, double& v) {
            if (m == metric::time || m == metric::cpu) {
                v = m == metric::time ? s.time_ns : s.cpu_ns;
                return true;
            }
            const auto ci = s.counters.find(counter);
            if (ci == s.counters.end()) return false;
            v = ci->second;
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

    static std::string format(double v, metric m, const char* unit) {
        char buf[64];
        if (m == metric::time || m == metric::cpu) {
            if (v >= 1e7)
                std::snprintf(buf, sizeof buf, "%.2f ms", v / 1e6);
            else if (v >= 1e4)
                std::snprintf(buf, sizeof buf, "%.2f us", v / 1e3);
            else
                std::snprintf(buf, sizeof buf, "%.1f ns", v);
        } else if (std::strcmp(unit, "/s") == 0) {
            std::snprintf(buf, sizeof buf, "%.1fk/s", v / 1e3);
        } else {
            std::snprintf(buf, sizeof buf, "%.2f%s", v, unit);
        }
        return buf;
    }

    void print_table() const {
        long long reps = 1;
        for (const auto& [name, c] : data_)
            reps = std::max(reps, c.repetitions);
        std::FILE* out = stdout;
        std::fflush(out);
        GetOutputStream().flush();
        std::fprintf(out,
                     "\noneshot comparison table: medians of %lld repetition%s; times per "
                     "iteration are CPU time for\n"
                     "one-thread benchmarks and real time for multithreaded ones (suffix "
                     "/real_time or /manual_time)\n",
                     reps, reps == 1 ? "" : "s");
        const char* line =
            "-----------------------------------------------------------------------------------"
            "-------------------------------------------";
        std::fprintf(out, "%s\n", line);
        std::fprintf(out, "%-34s %12s  %-17s %12s %9s  %-10s %s\n", "workload", "oneshot",
                     "baseline", "baseline", "ratio", "target", "status");
        std::fprintf(out, "%s\n", line);
        int met = 0, missed = 0, unknown = 0;
        for (const row& r : rows) {
            double a = 0, b = 0;
            const bool have_a = value(r.oneshot, r.m, r.counter, a);
            const bool have_b = r.baseline != nullptr && value(r.baseline, r.m, r.counter, b);
            const std::string a_text = have_a ? format(a, r.m, r.unit) : "n/a";
            const std::string b_text = r.baseline == nullptr ? "-"
                                       : have_b              ? format(b, r.m, r.unit)
                                                             : "n/a";
            char ratio[32] = "-";
            if (have_a && have_b && r.g == goal::diff_le)
                std::snprintf(ratio, sizeof ratio, "%+.2f ns", a - b);
            else if (have_a && have_b && b != 0)
                std::snprintf(ratio, sizeof ratio, "%.3fx", a / b);
            const char* status = "-";
            if (r.g != goal::none) {
                const bool need_b =
                    r.g == goal::ratio_le || r.g == goal::ratio_ge || r.g == goal::diff_le;
                if (!have_a || (need_b && (!have_b || b == 0))) {
                    status = "not run";
                    ++unknown;
                } else {
                    bool ok = false;
                    switch (r.g) {
                    case goal::ratio_le: ok = a / b <= r.target; break;
                    case goal::ratio_ge: ok = a / b >= r.target; break;
                    case goal::diff_le: ok = a - b <= r.target; break;
                    case goal::value_le: ok = a <= r.target; break;
                    case goal::value_eq: ok = std::fabs(a - r.target) <= 1e-6; break;
                    case goal::none: break;
                    }
                    status = ok ? "met" : "MISSED";
                    ++(ok ? met : missed);
                }
            }
            std::fprintf(out, "%-34s %12s  %-17s %12s %9s  %-10s %s\n", r.workload, a_text.c_str(),
                         r.baseline_name, b_text.c_str(), ratio, r.target_text, status);
        }
        std::fprintf(out, "%s\n", line);
        std::fprintf(
            out, "targets: %d met, %d missed, %d not run (timings are reported, never asserted)\n",
            met, missed, unknown);
        std::fflush(out);
    }

    std::map<std::string, collected> data_;
};

} // namespace

int main(int argc, char** argv) {
    // Our own flag first; everything else goes to Google Benchmark.
    bool table = false;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--oneshot_table") == 0 ||
            std::strcmp(argv[i], "--oneshot_table=true") == 0)
            table = true;
        else if (std::strcmp(argv[i], "--oneshot_table=false") == 0)
            table = false;
        else
            argv[kept++] = argv[i];
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
        table_reporter reporter(static_cast<benchmark::ConsoleReporter::OutputOptions>(opts));
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        benchmark::RunSpecifiedBenchmarks();
    }
    benchmark::Shutdown();
    return 0;
}
