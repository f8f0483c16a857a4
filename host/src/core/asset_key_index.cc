#include "core/asset_key_index.h"

#include <cstring>

namespace polyhost {

namespace {

// Loads up to 8 bytes little-endian-agnostically (the hash only needs to be
// the same within one process), zero-filled past `n`.
uint64_t Load(const char* p, size_t n) {
  if (n == 0) return 0;  // p may be null (an empty string_view)
  uint64_t v = 0;
  std::memcpy(&v, p, n < 8 ? n : 8);
  return v;
}

// One 64x64 -> 128-bit multiply folded to 64 bits (as wyhash and absl's
// MixingHashState do): every input bit reaches every output bit.
uint64_t Mix(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kSeed0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kSeed1 = 0xe7037ed1a0b428dbULL;

}  // namespace

uint64_t AssetKeyIndex::Hash(std::string_view market, std::string_view asset_id) {
  // Each 16-byte chunk is mixed on its own, with a seed that depends on its
  // position, and the results are summed: the multiplies do not wait for each
  // other (a 77-digit id is five chunks), unlike a chain of mixes.
  uint64_t h = Mix(asset_id.size() ^ kSeed0, market.size() ^ kSeed1);
  const char* p = asset_id.data();
  const size_t n = asset_id.size();
  uint64_t chunk_seed = kSeed0;
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16, chunk_seed += kSeed1) h += Mix(Load(p + i, 8) ^ chunk_seed, Load(p + i + 8, 8) ^ kSeed1);
    // The tail as the last 16 bytes (overlapping the chunk before): fixed-size
    // loads, where a variable-length copy was a byte loop.
    if (i < n) h += Mix(Load(p + n - 16, 8) ^ chunk_seed, Load(p + n - 8, 8) ^ kSeed1);
  } else if (n > 0) {
    h += Mix(Load(p, n) ^ chunk_seed, (n > 8 ? Load(p + 8, n - 8) : 0) ^ kSeed1);
  }
  // The market's tail: token ids are unique across markets on Polymarket, so
  // the market rarely separates pairs; it only has to keep "the same asset id
  // in many markets" (test feeds, format S) off one probe chain.
  const uint64_t tail =
      market.size() >= 8 ? Load(market.data() + market.size() - 8, 8) : Load(market.data(), market.size());
  return Mix(h ^ kSeed1, tail ^ kSeed0);
}

bool AssetKeyIndex::Matches(const Entry& e, std::string_view market, std::string_view asset_id) const {
  if (e.asset_len != asset_id.size() || e.market_len != market.size()) return false;
  const char* p = bytes_.data() + e.offset;
  return (asset_id.empty() || std::memcmp(p, asset_id.data(), asset_id.size()) == 0) &&
         (market.empty() || std::memcmp(p + asset_id.size(), market.data(), market.size()) == 0);
}

uint32_t AssetKeyIndex::Insert(std::string_view market, std::string_view asset_id, uint64_t hash) {
  if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
  const auto key = static_cast<uint32_t>(entries_.size());
  entries_.push_back({bytes_.size(), static_cast<uint32_t>(asset_id.size()), static_cast<uint32_t>(market.size())});
  bytes_.insert(bytes_.end(), asset_id.begin(), asset_id.end());
  bytes_.insert(bytes_.end(), market.begin(), market.end());
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].key != kNotFound) i = (i + 1) & mask;
  slots_[i] = {hash, key};
  return key;
}

void AssetKeyIndex::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key == kNotFound) continue;
    size_t i = s.hash & mask;
    while (slots_[i].key != kNotFound) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace polyhost
