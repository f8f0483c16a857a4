// What the network side of a live feed hands to the book thread: venue frames
// and the connection and resync events that decide when a book is trustworthy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace polyhost {

struct LiveMessage {
  enum class Kind : uint8_t {
    kFrame,          // a websocket text frame from the venue (text)
    kConnected,      // a shard connected and subscribed to `assets`
    kSubscribed,     // `assets` were added to a connected shard
    kUnsubscribed,   // `assets` were removed from a shard
    kDisconnected,   // a shard lost its connection; its `assets` are stale
    kGap,            // frames of this shard were dropped (queue full): its `assets` are stale
    kResyncBook,     // REST /book answer for asset_id (text = body)
    kResyncFailed,   // the REST /book request for asset_id failed (text = reason)
  };
  Kind kind = Kind::kFrame;
  uint32_t shard = 0;
  int64_t recv_ts_ms = 0;  // wall clock when it arrived
  std::string text;
  std::string asset_id;    // kResync*
  std::vector<std::string> assets;
};

const char* LiveMessageKindName(LiveMessage::Kind kind);

}  // namespace polyhost
