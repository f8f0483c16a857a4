// The text form of orderbook_event_blocks.events (SQLite, schema version 5): the
// events of one outcome from one write batch, as a JSON array with one array
// per event:
//
//   [[id,line,item,ts_ms,recv_ts_ms,seq,kind,side,price,size,levels], ...]
//
// where id, line, ts_ms, recv_ts_ms and seq are offsets from the block's base,
// the values of its first event, kept in the row's first_* columns (so most
// numbers are a few digits: half the bytes to format, write and read).
//
// kind 2 (level):  side (0 bid, 1 ask), price and size in micro-units; no levels.
// kind 3 (tick):   side null, price = the new tick size; no size, no levels.
// kind 1 (book):   side, price and size null; levels = the book as levels_json
//                  (store/levels_json.h), an object.
// Trailing absent elements may be written as null or left out (the writer leaves
// them out; migration 5 and `polyhost db copy` write nulls); readers treat both
// alike, and so does the orderbook_events view (json_extract of a missing element
// is NULL). Why JSON and not a binary encoding: SQLite's own JSON functions read
// it, so the view keeps every event queryable with plain SQL from any sqlite3
// shell.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace polyhost {

// One event of a block, decoded: the row as the writer had it (asset_key is not
// stored, and is 0) and its id.
struct BlockEvent : EventRow {
  int64_t id = 0;
};

// What a block's offsets count from (orderbook_event_blocks.first_id,
// first_line, first_ts_ms, first_recv_ts_ms, first_seq).
struct BlockBase {
  int64_t id = 0;
  int64_t line = 0;
  int64_t ts_ms = 0;
  int64_t recv_ts_ms = 0;
  int64_t seq = 0;
};

// A block's text while it is built: a growable buffer written through raw
// pointers (growing a std::string for each event zero-filled ~200 bytes a time).
class BlockText {
 public:
  // Room for n more bytes at the returned pointer; Commit(end) keeps them.
  char* Reserve(size_t n) {
    if (size_ + n > cap_) Grow(size_ + n);
    return data_.get() + size_;
  }
  void Commit(const char* end) { size_ = static_cast<size_t>(end - data_.get()); }
  void Append(std::string_view s) {
    char* p = Reserve(s.size());
    std::memcpy(p, s.data(), s.size());
    size_ += s.size();
  }
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return std::string_view(data_.get(), size_); }

 private:
  void Grow(size_t need);
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t cap_ = 0;
};

// The base of a block whose first event is `e` with id `id`.
BlockBase BlockBaseOf(int64_t id, const EventRow& e);

// Appends one event (given its id) to a block being built in *out. An empty
// *out starts the block; EndEventBlock closes it.
void AppendEventToBlock(const BlockBase& base, int64_t id, const EventRow& e, BlockText* out);
void EndEventBlock(BlockText* out);

// Decodes a whole block, appending its events to *out in their stored order.
// Returns false, with a reason in *error, if the text is not a block: a kind
// without the fields it needs, a value of the wrong type, or malformed JSON.
bool DecodeEventBlock(const BlockBase& base, std::string_view text, std::vector<BlockEvent>* out,
                      std::string* error);

}  // namespace polyhost
