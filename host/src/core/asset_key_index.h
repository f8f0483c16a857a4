// A map from (market, asset_id) to a dense key 0, 1, 2, ..., for the hot path
// of the book engine: every feed event names its asset by two long strings (a
// 66-character market id and a 77-digit token id), and finding the asset's key
// was a fifth of the parse + book time with std::unordered_map (building the
// joined key, hashing all of it; docs/performance.md).
//
// Open addressing with linear probing over (hash, key) slots; the hash reads
// the asset id 8 bytes at a time plus the market's last 8 bytes and length, and
// a hit is confirmed by comparing both strings, so any two distinct pairs stay
// distinct whatever their hashes. Keys are never removed. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace polyhost {

class AssetKeyIndex {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  // The key of (market, asset_id), or kNotFound.
  uint32_t Find(std::string_view market, std::string_view asset_id) const {
    return FindHashed(market, asset_id, Hash(market, asset_id));
  }
  // The key of (market, asset_id), adding it (key = size() before) when new.
  uint32_t FindOrInsert(std::string_view market, std::string_view asset_id, bool* inserted);

  size_t size() const { return entries_.size(); }

  static uint64_t Hash(std::string_view market, std::string_view asset_id);

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key = kNotFound;  // kNotFound: empty
  };
  struct Entry {
    std::string market, asset_id;
  };
  uint32_t FindHashed(std::string_view market, std::string_view asset_id, uint64_t hash) const;
  void Grow();

  std::vector<Slot> slots_;  // size a power of two (or 0), at most half full
  std::vector<Entry> entries_;
};

}  // namespace polyhost
