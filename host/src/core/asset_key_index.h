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
//
// With hundreds of assets the slots and the stored ids are not in L1 when a
// line names an asset: a lookup is mostly waiting for memory. So each key's
// two strings are stored next to each other in one arena (one miss, not two
// heap blocks), and a caller with several ids at hand (a price_change's items)
// hashes them all and prefetches their slots first (Hash + PrefetchSlot +
// FindOrInsertHashed), so the misses overlap.
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
  uint32_t FindOrInsert(std::string_view market, std::string_view asset_id, bool* inserted) {
    return FindOrInsertHashed(market, asset_id, Hash(market, asset_id), inserted);
  }
  // The same with hash = Hash(market, asset_id) computed by the caller.
  uint32_t FindOrInsertHashed(std::string_view market, std::string_view asset_id, uint64_t hash, bool* inserted) {
    const uint32_t key = FindHashed(market, asset_id, hash);
    if (key != kNotFound) [[likely]] {
      *inserted = false;
      return key;
    }
    *inserted = true;
    return Insert(market, asset_id, hash);
  }

  // Starts loading the first slot a lookup of `hash` reads (a hint only).
  void PrefetchSlot(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }

  // The key whose slot carries `hash` (the likely answer of a lookup, not yet
  // confirmed by comparing the ids), or kNotFound; starts loading that key's
  // ids, so that the lookup's compare does not wait on memory either.
  uint32_t PrefetchCandidate(uint64_t hash) const {
    return Probe(hash, [this](uint32_t key) {
      const char* ids = bytes_.data() + entries_[key].offset;
      __builtin_prefetch(ids);
      __builtin_prefetch(ids + 64);
      __builtin_prefetch(ids + 128);
      return true;
    });
  }

  size_t size() const { return entries_.size(); }
  std::string_view market(uint32_t key) const {
    const Entry& e = entries_[key];
    return {bytes_.data() + e.offset + e.asset_len, e.market_len};
  }
  std::string_view asset_id(uint32_t key) const {
    const Entry& e = entries_[key];
    return {bytes_.data() + e.offset, e.asset_len};
  }

  static uint64_t Hash(std::string_view market, std::string_view asset_id);

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key = kNotFound;  // kNotFound: empty
  };
  // A key's asset id then its market, at bytes_[offset].
  struct Entry {
    uint64_t offset;
    uint32_t asset_len, market_len;
  };
  // The first key along hash's probe chain whose slot carries `hash` and which
  // accept(key) takes, or kNotFound at the chain's end.
  template <class Accept>
  uint32_t Probe(uint64_t hash, Accept&& accept) const {
    if (slots_.empty()) return kNotFound;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == kNotFound) return kNotFound;
      if (s.hash == hash && accept(s.key)) return s.key;
    }
  }
  uint32_t FindHashed(std::string_view market, std::string_view asset_id, uint64_t hash) const {
    return Probe(hash, [&](uint32_t key) { return Matches(entries_[key], market, asset_id); });
  }
  bool Matches(const Entry& e, std::string_view market, std::string_view asset_id) const;
  uint32_t Insert(std::string_view market, std::string_view asset_id, uint64_t hash);
  void Grow();

  std::vector<Slot> slots_;  // size a power of two (or 0), at most half full
  std::vector<Entry> entries_;
  std::vector<char> bytes_;  // every key's ids
};

}  // namespace polyhost
