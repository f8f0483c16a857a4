#include "ingest/line_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ingest/feed_parser.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() / ("polyhost-line-reader-" + std::to_string(::getpid()) + "-" + name)).string();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

struct Read {
  std::vector<std::string> lines;
  std::vector<int64_t> too_long;  // line numbers
  int64_t bytes = 0;
};

// Reads every line, checking on the way that kPadding bytes after each line
// can be read (ASan would flag them otherwise) and that the line number counts.
Read ReadAll(const std::string& path, size_t max_line = size_t{1} << 30) {
  LineReader r(path, max_line);
  Read out;
  std::string_view line;
  bool too_long = false;
  volatile char sink = 0;
  while (r.Next(&line, &too_long)) {
    for (size_t i = 0; i < FeedParser::kPadding; ++i) sink = sink + line.data()[line.size() + i];
    CHECK(r.line_number() == static_cast<int64_t>(out.lines.size()) + 1);
    if (too_long) out.too_long.push_back(r.line_number());
    out.lines.emplace_back(line);
  }
  out.bytes = r.bytes_read();
  CHECK(r.bytes_read() == r.file_size());
  return out;
}

TEST_CASE("line_reader: lines, CRLF, empty lines and a last line without a newline", "[ingest][line_reader]") {
  const std::string path = TempPath("basic");
  WriteFile(path, "a\r\n\nbb\ncc\r\n{\"x\":1}");
  const Read r = ReadAll(path);
  CHECK(r.lines == std::vector<std::string>{"a", "", "bb", "cc", "{\"x\":1}"});
  CHECK(r.too_long.empty());
  fs::remove(path);
}

TEST_CASE("line_reader: a file far larger than the padding is read in place, then its tail through the buffer",
          "[ingest][line_reader]") {
  const std::string path = TempPath("big");
  std::string bytes;
  std::vector<std::string> want;
  for (int i = 0; i < 200000; ++i) {
    want.push_back(std::string(static_cast<size_t>(i % 97), static_cast<char>('a' + i % 26)) + std::to_string(i));
    bytes += want.back() + (i % 3 == 0 ? "\r\n" : "\n");
  }
  SECTION("ending with a newline") {}
  SECTION("the last line without one") {
    bytes += "last";
    want.push_back("last");
  }
  WriteFile(path, bytes);
  const Read r = ReadAll(path);
  CHECK(r.lines.size() == want.size());
  CHECK(r.lines == want);
  CHECK(r.bytes == static_cast<int64_t>(bytes.size()));
  fs::remove(path);
}

TEST_CASE("line_reader: lines longer than the limit are reported once and skipped, in place or buffered",
          "[ingest][line_reader]") {
  const std::string path = TempPath("long");
  const std::string huge(5000, 'x');
  std::string bytes = "ok1\n" + huge + "\nok2\n";
  for (int i = 0; i < 100; ++i) bytes += "filler line " + std::to_string(i) + "\n";
  bytes += huge;  // the last line, too long and within the buffered tail
  WriteFile(path, bytes);
  const Read r = ReadAll(path, 1000);
  REQUIRE(r.lines.size() == 104);
  CHECK(r.lines[0] == "ok1");
  CHECK(r.lines[1].empty());
  CHECK(r.lines[2] == "ok2");
  CHECK(r.too_long == std::vector<int64_t>{2, 104});
  fs::remove(path);
}

TEST_CASE("line_reader: what is appended after opening is read too", "[ingest][line_reader]") {
  const std::string path = TempPath("grow");
  std::string first;
  for (int i = 0; i < 1000; ++i) first += "line " + std::to_string(i) + "\n";
  first += "half of a li";  // the writer is in the middle of a line
  WriteFile(path, first);
  LineReader r(path);
  std::string_view line;
  bool too_long = false;
  REQUIRE(r.Next(&line, &too_long));
  CHECK(line == "line 0");
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << "ne\nmore\n";
  }
  std::vector<std::string> rest;
  while (r.Next(&line, &too_long)) rest.emplace_back(line);
  REQUIRE(rest.size() == 1001);
  CHECK(rest[998] == "line 999");
  CHECK(rest[999] == "half of a line");
  CHECK(rest[1000] == "more");
  fs::remove(path);
}

TEST_CASE("line_reader: a pipe is read through the buffer", "[ingest][line_reader]") {
  const std::string path = TempPath("fifo");
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  std::thread writer([&] {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 5000; ++i) f << "row " << i << "\n";
  });
  const Read r = [&] {
    LineReader reader(path);
    Read out;
    std::string_view line;
    bool too_long = false;
    while (reader.Next(&line, &too_long)) out.lines.emplace_back(line);
    return out;
  }();
  writer.join();
  REQUIRE(r.lines.size() == 5000);
  CHECK(r.lines[4999] == "row 4999");
  fs::remove(path);
}

TEST_CASE("line_reader: an empty file has no lines", "[ingest][line_reader]") {
  const std::string path = TempPath("empty");
  WriteFile(path, "");
  const Read r = ReadAll(path);
  CHECK(r.lines.empty());
  fs::remove(path);
}

}  // namespace
}  // namespace polyhost
