#include "ingest/line_reader.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>

#include "ingest/feed_parser.h"

namespace polyhost {
namespace {
constexpr size_t kBlock = size_t{4} << 20;
}

LineReader::LineReader(const std::string& path, size_t max_line_bytes) : max_line_(max_line_bytes) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fileno(file_), &st) == 0) file_size_ = st.st_size;
  buf_.resize(kBlock + FeedParser::kPadding);
}

LineReader::~LineReader() {
  if (file_ != nullptr) std::fclose(file_);
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
