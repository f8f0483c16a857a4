#include "core/asset_key_index.h"

#include <catch2/catch.hpp>

#include <string>

namespace polyhost {
namespace {

TEST_CASE("AssetKeyIndex hands out dense keys and finds every pair again", "[core]") {
  AssetKeyIndex index;
  CHECK(index.Find("m", "a") == AssetKeyIndex::kNotFound);
  bool inserted = false;
  // Real-looking ids, the same asset id under several markets, short and empty ids.
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < 1000; ++i) {
    pairs.emplace_back("0xmarket" + std::to_string(i / 2),
                       "3530621345205882930128229187975850041219156882781298625713135300583860" + std::to_string(i));
  }
  for (int i = 0; i < 200; ++i) pairs.emplace_back("market-" + std::to_string(i), "yes");
  pairs.emplace_back("", "");
  pairs.emplace_back("m", "");
  pairs.emplace_back("", "a");
  for (size_t i = 0; i < pairs.size(); ++i) {
    INFO(pairs[i].first << " / " << pairs[i].second);
    CHECK(index.FindOrInsert(pairs[i].first, pairs[i].second, &inserted) == i);
    CHECK(inserted);
  }
  CHECK(index.size() == pairs.size());
  // The arena keeps every key's ids as given, across its reallocations.
  for (size_t i = 0; i < pairs.size(); ++i) {
    CHECK(index.market(static_cast<uint32_t>(i)) == pairs[i].first);
    CHECK(index.asset_id(static_cast<uint32_t>(i)) == pairs[i].second);
  }
  for (size_t i = 0; i < pairs.size(); ++i) {
    INFO(pairs[i].first << " / " << pairs[i].second);
    CHECK(index.Find(pairs[i].first, pairs[i].second) == i);
    CHECK(index.FindOrInsert(pairs[i].first, pairs[i].second, &inserted) == i);
    CHECK_FALSE(inserted);
  }
  // Near misses are not found: a prefix, another market, one digit changed.
  CHECK(index.Find("0xmarket0", "353062134520588293012822918797585004121915688278129862571313530058386") ==
        AssetKeyIndex::kNotFound);
  CHECK(index.Find("0xmarket1", "35306213452058829301282291879758500412191568827812986257131353005838600") ==
        AssetKeyIndex::kNotFound);
  CHECK(index.Find("market-0", "no") == AssetKeyIndex::kNotFound);
  CHECK(index.Find("market-1000", "yes") == AssetKeyIndex::kNotFound);
}

TEST_CASE("AssetKeyIndex FindOrInsertHashed with a prefetched slot is FindOrInsert", "[core]") {
  AssetKeyIndex a, b;
  bool inserted_a = false, inserted_b = false;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 300; ++i) {
      const std::string market = "0x" + std::to_string(i % 7), asset = std::to_string(i * 7919);
      const uint64_t hash = AssetKeyIndex::Hash(market, asset);
      b.PrefetchSlot(hash);
      CHECK(a.FindOrInsert(market, asset, &inserted_a) == b.FindOrInsertHashed(market, asset, hash, &inserted_b));
      CHECK(inserted_a == inserted_b);
      CHECK(inserted_a == (round == 0));
    }
  }
  // The candidate of a stored pair's hash is its key (64-bit hashes of 300
  // distinct pairs do not collide); an empty index has none.
  for (int i = 0; i < 300; ++i) {
    const std::string market = "0x" + std::to_string(i % 7), asset = std::to_string(i * 7919);
    CHECK(b.PrefetchCandidate(AssetKeyIndex::Hash(market, asset)) == b.Find(market, asset));
  }
  CHECK(AssetKeyIndex().PrefetchCandidate(AssetKeyIndex::Hash("m", "a")) == AssetKeyIndex::kNotFound);
}

TEST_CASE("AssetKeyIndex hashes differ for ids that differ only in the middle", "[core]") {
  const std::string a(77, '1');
  std::string b = a;
  b[38] = '2';
  CHECK(AssetKeyIndex::Hash("m", a) != AssetKeyIndex::Hash("m", b));
  CHECK(AssetKeyIndex::Hash("m1", a) != AssetKeyIndex::Hash("m2", a));
}

}  // namespace
}  // namespace polyhost
