// Small helpers shared by the benchmark subcommands (bench/ only; not part of the host).
#pragma once

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/feed_parser.h"

namespace polyhost::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline int64_t NanosBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// CPU time of the calling thread, ns. On a shared machine the wall clock also
// counts the time other processes held the core; this does not (cache
// pollution by them still shows).
inline int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Keeps a value alive so the optimizer cannot drop the work that produced it.
template <class T>
inline void DoNotOptimize(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

// The whole feed in memory, every line followed by FeedParser::kPadding bytes (its
// newline, then spaces), so
// parse benchmarks measure parsing and not I/O.
struct FeedBuffer {
  struct Line {
    size_t offset;
    size_t len;
  };
  std::vector<char> data;
  std::vector<Line> lines;
  size_t file_bytes = 0;  // including newlines: the MB/s denominator

  const char* line_data(size_t i) const { return data.data() + lines[i].offset; }
  std::string_view line(size_t i) const { return {line_data(i), lines[i].len}; }
};

// Reads at most `limit` lines (0 = all) of `path` into a padded buffer.
inline FeedBuffer LoadFeed(const std::string& path, size_t limit = 0) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path);
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  const size_t raw_size = static_cast<size_t>(size);
  std::unique_ptr<char[]> raw_buf(new char[raw_size + 1]);  // not zero-filled
  if (raw_size > 0 && std::fread(raw_buf.get(), 1, raw_size, f) != raw_size) {
    std::fclose(f);
    throw std::runtime_error("short read on " + path);
  }
  std::fclose(f);
  const std::string_view raw(raw_buf.get(), raw_size);

  FeedBuffer fb;
  size_t n_lines = 0;
  for (const char* p = raw.data(); (p = static_cast<const char*>(std::memchr(p, '\n', raw.data() + raw.size() - p)));
       ++p) {
    ++n_lines;
  }
  if (!raw.empty() && raw.back() != '\n') ++n_lines;
  if (limit != 0) n_lines = std::min(n_lines, limit);
  fb.lines.reserve(n_lines);
  fb.data.resize(raw.size() + (n_lines + 1) * FeedParser::kPadding);
  size_t r = 0, w = 0;
  while (r < raw.size() && fb.lines.size() < n_lines) {
    const char* nl = static_cast<const char*>(std::memchr(raw.data() + r, '\n', raw.size() - r));
    size_t end = nl != nullptr ? static_cast<size_t>(nl - raw.data()) : raw.size();
    size_t len = end - r;
    if (len > 0 && raw[r + len - 1] == '\r') --len;
    std::memcpy(fb.data.data() + w, raw.data() + r, len);
    // The line's newline first, as LineReader leaves it in `polyhost replay`
    // (the fast scanner then reads the line in place), then spaces.
    std::memset(fb.data.data() + w + len, ' ', FeedParser::kPadding);
    fb.data[w + len] = '\n';
    fb.lines.push_back({w, len});
    w += len + FeedParser::kPadding;
    fb.file_bytes += end - r + (nl != nullptr ? 1 : 0);
    r = end + 1;
  }
  fb.data.resize(w + FeedParser::kPadding);
  return fb;
}

// Latency percentiles from raw samples (nanoseconds).
struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
  size_t n = 0;
};

inline Percentiles ComputePercentiles(std::vector<int64_t> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]);
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = static_cast<double>(v.back());
  long double sum = 0;
  for (int64_t x : v) sum += static_cast<long double>(x);
  p.mean = static_cast<double>(sum / static_cast<long double>(v.size()));
  return p;
}

// The cost of one steady_clock::now() pair, as the median of many back-to-back pairs.
inline int64_t ClockOverheadNs() {
  std::vector<int64_t> v(200000);
  for (auto& x : v) {
    auto a = Clock::now();
    auto b = Clock::now();
    x = NanosBetween(a, b);
  }
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Peak resident set size of this process so far, in bytes.
inline int64_t MaxRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

// Current resident set size, in bytes.
inline int64_t CurrentRssBytes() {
  long pages_total = 0, pages_resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
  std::fclose(f);
  return static_cast<int64_t>(pages_resident) * sysconf(_SC_PAGESIZE);
}

// Bytes currently allocated through malloc (glibc), in use by the program.
inline int64_t HeapInUseBytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

// "1,234,567" style grouping for the tables.
inline std::string Group(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", value);
  std::string s(buf), out;
  size_t start = (s[0] == '-') ? 1 : 0;
  out.append(s, 0, start);
  for (size_t i = start; i < s.size(); ++i) {
    if (i > start && (s.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  return out;
}

inline std::string Fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

// One row of a latency table (bench/run.sh prints the header).
inline void PrintLatencyRow(const std::string& name, const Percentiles& p) {
  std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", name.c_str(), Fixed(p.p50, 0).c_str(),
              Fixed(p.p90, 0).c_str(), Fixed(p.p99, 0).c_str(), Fixed(p.p999, 0).c_str(), Fixed(p.max, 0).c_str(),
              Fixed(p.mean, 1).c_str(), Group(static_cast<double>(p.n)).c_str());
  std::fflush(stdout);
}

}  // namespace polyhost::bench
