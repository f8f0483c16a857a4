// Reads a file line by line into a reusable buffer, leaving FeedParser::kPadding
// readable bytes after every line so the JSON parser can work in place (no
// per-line copy). Handles "\n" and "\r\n", a last line without a newline, and
// lines far larger than the read block (up to max_line_bytes).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace polyhost {

class LineReader {
 public:
  // Throws std::runtime_error naming the path when the file cannot be opened.
  explicit LineReader(const std::string& path, size_t max_line_bytes = size_t{1} << 30);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its terminator. Returns false at end of file. A line longer
  // than max_line_bytes is returned truncated with *too_long set (the rest of it is
  // skipped), so the caller can report and skip it without holding it in memory.
  bool Next(std::string_view* line, bool* too_long);

  int64_t line_number() const { return line_number_; }  // 1-based, of the last line
  int64_t bytes_read() const { return bytes_consumed_; }
  int64_t file_size() const { return file_size_; }

 private:
  bool Fill();  // reads more bytes; false at EOF

  std::FILE* file_ = nullptr;
  std::vector<char> buf_;
  size_t begin_ = 0;  // start of unconsumed data
  size_t end_ = 0;    // end of valid data
  bool eof_ = false;
  size_t max_line_;
  int64_t line_number_ = 0;
  int64_t bytes_consumed_ = 0;
  int64_t file_size_ = 0;
};

}  // namespace polyhost
