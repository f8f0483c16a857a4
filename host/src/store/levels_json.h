// The text form of a book's levels, as stored in orderbook_events.levels_json
// (kind = book) and orderbook_snapshots.levels_json:
//
//   {"bids":[["0.5","200"],["0.49","10"]],"asks":[["0.52","80"]],"tick":"0.01"}
//
// Prices and sizes are canonical decimals (core/decimal.h). Levels are written in
// the order given (best-first when encoding an OrderBook). "tick" is the book's
// tick size and is present only when known (non-zero); decoders ignore unknown keys.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/order_book.h"

namespace polyhost {

// Encodes a whole book, best levels first, with its tick size when known.
std::string EncodeLevelsJson(const OrderBook& book);

// Encodes levels as given (any order), with `tick_size` when non-zero.
std::string EncodeLevelsJson(std::span<const Level> bids, std::span<const Level> asks,
                             int64_t tick_size = 0);

// Appends the encoding to *out (no allocation beyond out's growth).
void AppendLevelsJson(std::span<const Level> bids, std::span<const Level> asks, int64_t tick_size,
                      std::string* out);

// Decodes levels_json into *bids and *asks (replacing their contents, in the
// stored order) and, when tick_size is non-null, the tick size (0 when absent).
// Returns false, with a reason in *error when non-null, if the text is malformed.
bool DecodeLevelsJson(std::string_view json, std::vector<Level>* bids, std::vector<Level>* asks,
                      int64_t* tick_size = nullptr, std::string* error = nullptr);

}  // namespace polyhost
