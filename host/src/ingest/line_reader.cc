#include "ingest/line_reader.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ingest/feed_parser.h"

namespace polyhost {
namespace {
constexpr size_t kBlock = size_t{4} << 20;
// Read pages of the mapping are given back in steps of this much, so a replay's
// resident memory does not grow with the file.
constexpr size_t kDropStep = size_t{64} << 20;
}

LineReader::LineReader(const std::string& path, size_t max_line_bytes) : max_line_(max_line_bytes) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fileno(file_), &st) == 0) file_size_ = st.st_size;
  buf_.resize(kBlock + FeedParser::kPadding);
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void* m = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fileno(file_), 0);
    if (m != MAP_FAILED) {
      map_ = static_cast<const char*>(m);
      map_size_ = static_cast<size_t>(st.st_size);
      madvise(m, map_size_, MADV_SEQUENTIAL);
    }
  }
}

LineReader::~LineReader() {
  Unmap();
  if (file_ != nullptr) std::fclose(file_);
}

void LineReader::Unmap() {
  if (map_ != nullptr) munmap(const_cast<char*>(map_), map_size_);
  map_ = nullptr;
}

// A line from the mapping, when its newline and kPadding bytes after the line
// are inside it. Otherwise the rest of the mapping moves to the buffer, the file
// is positioned after the mapping, and the buffered path takes over (returns false).
bool LineReader::NextMapped(std::string_view* line, bool* too_long) {
  if (map_pos_ - map_dropped_ >= kDropStep) {
    const size_t upto = map_pos_ & ~(size_t{4095});
    madvise(const_cast<char*>(map_) + map_dropped_, upto - map_dropped_, MADV_DONTNEED);
    map_dropped_ = upto;
  }
  const char* start = map_ + map_pos_;
  const char* nl = static_cast<const char*>(std::memchr(start, '\n', map_size_ - map_pos_));
  if (nl != nullptr && static_cast<size_t>(nl - map_) + FeedParser::kPadding <= map_size_) {
    size_t len = static_cast<size_t>(nl - start);
    ++line_number_;
    bytes_consumed_ += static_cast<int64_t>(len + 1);
    map_pos_ += len + 1;
    if (len > max_line_) {
      *too_long = true;  // reported empty and skipped, as the buffered path does
      *line = std::string_view(start, 0);
      return true;
    }
    if (len > 0 && start[len - 1] == '\r') --len;
    *line = std::string_view(start, len);
    return true;
  }
  const size_t rest = map_size_ - map_pos_;
  if (buf_.size() < rest + FeedParser::kPadding) buf_.resize(rest + FeedParser::kPadding);
  std::memcpy(buf_.data(), start, rest);
  begin_ = 0;
  end_ = rest;
  if (std::fseek(file_, static_cast<long>(map_size_), SEEK_SET) != 0) {
    throw std::runtime_error(std::string("seek error: ") + std::strerror(errno));
  }
  Unmap();
  return false;
}

bool LineReader::Fill() {
  if (eof_) return false;
  // Move the partial line to the front, grow when one line fills the buffer.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  size_t capacity = buf_.size() - FeedParser::kPadding;
  if (end_ == capacity) {
    buf_.resize(capacity * 2 + FeedParser::kPadding);
    capacity = buf_.size() - FeedParser::kPadding;
  }
  size_t n = std::fread(buf_.data() + end_, 1, capacity - end_, file_);
  if (n == 0) {
    if (std::ferror(file_)) throw std::runtime_error(std::string("read error: ") + std::strerror(errno));
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool LineReader::Next(std::string_view* line, bool* too_long) {
  *too_long = false;
  if (map_ != nullptr && NextMapped(line, too_long)) return true;
  size_t scan_from = begin_;
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(buf_.data() + scan_from, '\n', end_ - scan_from);
    if (nl != nullptr) {
      size_t len = static_cast<const char*>(nl) - start;
      ++line_number_;
      bytes_consumed_ += static_cast<int64_t>(len + 1);
      begin_ += len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      *line = std::string_view(start, len);
      return true;
    }
    if (end_ - begin_ >= max_line_) {
      // Report a prefix, then discard through the next newline.
      *too_long = true;
      ++line_number_;
      *line = std::string_view(start, 0);
      int64_t skipped = static_cast<int64_t>(end_ - begin_);
      begin_ = end_ = 0;
      for (;;) {
        if (!Fill()) break;
        const void* p = std::memchr(buf_.data(), '\n', end_);
        if (p != nullptr) {
          size_t upto = static_cast<const char*>(p) - buf_.data() + 1;
          skipped += static_cast<int64_t>(upto);
          begin_ = upto;
          break;
        }
        skipped += static_cast<int64_t>(end_);
        begin_ = end_ = 0;
      }
      bytes_consumed_ += skipped;
      return true;
    }
    size_t scanned = end_ - begin_;
    if (!Fill()) {
      if (end_ > begin_) {  // last line without a newline
        size_t len = end_ - begin_;
        const char* s = buf_.data() + begin_;
        ++line_number_;
        bytes_consumed_ += static_cast<int64_t>(len);
        begin_ = end_;
        if (len > 0 && s[len - 1] == '\r') --len;
        *line = std::string_view(s, len);
        return true;
      }
      return false;
    }
    scan_from = begin_ + scanned;
  }
}

}  // namespace polyhost
