// Reads a file line by line, leaving FeedParser::kPadding readable bytes after
// every line so the JSON parser can work in place (no per-line copy). Handles
// "\n" and "\r\n", a last line without a newline, and lines far larger than the
// read block (up to max_line_bytes).
//
// A regular file is memory-mapped and its lines are returned in place: reading
// it into a buffer copied every byte once more (~15% of a replay's main thread
// on the benchmark feed). The last few lines (within kPadding of the end of the
// mapping), and whatever is appended to the file after it was opened, are read
// through the buffer. Pipes and other files that cannot be mapped use the
// buffer throughout.
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
  bool NextMapped(std::string_view* line, bool* too_long);  // false: continue from the buffer
  void Unmap();

  std::FILE* file_ = nullptr;
  const char* map_ = nullptr;  // the mapping, while lines are read from it
  size_t map_size_ = 0;
  size_t map_pos_ = 0;      // start of the unread part of the mapping
  size_t map_dropped_ = 0;  // pages before this offset were given back (MADV_DONTNEED)
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
