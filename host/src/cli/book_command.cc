// polyhost book MARKET ASSET [--depth N] [--json]
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.h"
#include "core/decimal.h"
#include "core/json_text.h"

namespace polyhost {
namespace {

struct BookFlags {
  CommonFlags common;
  std::string market;
  std::string asset;
  int depth = 0;
  bool json = false;
};

// Canonical JSON written by hand: levels as ["price","size"] string pairs.
void AppendLevels(std::string& out, std::span<const Level> levels, size_t depth) {
  out += '[';
  char buf[kMaxDecimalChars];
  for (size_t i = 0; i < levels.size() && i < depth; ++i) {
    if (i > 0) out += ',';
    out += "[\"";
    out.append(buf, FormatDecimalTo(levels[i].price, buf));
    out += "\",\"";
    out.append(buf, FormatDecimalTo(levels[i].size, buf));
    out += "\"]";
  }
  out += ']';
}


}  // namespace

void AddBookCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<BookFlags>();
  CLI::App* cmd = app.add_subcommand("book", "Show one asset's book, rebuilt from the latest snapshot plus later events");
  cmd->add_option("MARKET", flags->market, "market (condition id, or the format S market name)")->required();
  cmd->add_option("ASSET", flags->asset, "asset (outcome token id)")->required();
  cmd->add_option("--depth", flags->depth, "levels per side (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", flags->json, "JSON: {market, asset_id, seq, ts_ms, stale, bids, asks}");
  AddCommonFlags(cmd, &flags->common);
  registry.Add(cmd, [flags]() -> int {
    LoadedConfig loaded = LoadConfigFor(flags->common);
    auto store = OpenStore(loaded.config, /*read_only=*/true);
    std::optional<StoredBook> book = store->LoadBook(flags->market, flags->asset);
    if (!book) {
      std::fprintf(stderr, "error: no book for market '%s' asset '%s' in %s\n", flags->market.c_str(),
                   flags->asset.c_str(), ParseDbUrl(loaded.config.db.url).redacted.c_str());
      return 1;
    }
    const size_t depth = flags->depth > 0 ? static_cast<size_t>(flags->depth) : SIZE_MAX;
    if (flags->json) {
      std::string out = "{\"market\":" + JsonQuoted(book->market) + ",\"asset_id\":" + JsonQuoted(book->asset_id) +
                        ",\"seq\":" + std::to_string(book->seq) + ",\"ts_ms\":" + std::to_string(book->ts_ms) +
                        ",\"stale\":" + (book->stale ? "true" : "false") + ",\"bids\":";
      AppendLevels(out, book->book.bids(), depth);
      out += ",\"asks\":";
      AppendLevels(out, book->book.asks(), depth);
      out += "}\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    }
    std::printf("%s / %s  seq %lld  %s%s\n", book->market.c_str(), book->asset_id.c_str(),
                static_cast<long long>(book->seq), FormatTimestampMs(book->ts_ms).c_str(),
                book->stale ? "  STALE" : "");
    std::printf("%14s %10s | %-10s %-14s\n", "bid size", "bid", "ask", "ask size");
    auto bids = book->book.bids();
    auto asks = book->book.asks();
    const size_t rows = std::min(depth, std::max(bids.size(), asks.size()));
    for (size_t i = 0; i < rows; ++i) {
      std::string bs = i < bids.size() ? FormatDecimal(bids[i].size) : "";
      std::string bp = i < bids.size() ? FormatDecimal(bids[i].price) : "";
      std::string ap = i < asks.size() ? FormatDecimal(asks[i].price) : "";
      std::string as = i < asks.size() ? FormatDecimal(asks[i].size) : "";
      std::printf("%14s %10s | %-10s %-14s\n", bs.c_str(), bp.c_str(), ap.c_str(), as.c_str());
    }
    return 0;
  });
}

}  // namespace polyhost
