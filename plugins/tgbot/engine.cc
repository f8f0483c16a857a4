#include "engine.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include "polyhost/abi/result.h"

namespace tgbot {

namespace json = boost::json;

namespace {

constexpr int64_t kOfflineChat = -1;  // key of the offline operator's pending confirmation

// The string at o[key], or "" (also for null and other types).
std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}

bool Bool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->as_bool();
}

const json::array* Arr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

// A price that may be null: "0.52" or "-".
std::string PriceOr(const json::object& o, std::string_view key) {
  const std::string s = Str(o, key);
  return s.empty() ? "-" : s;
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The error text of a failed answer: its {"error":..} or the code's name.
std::string Why(const Answer& a) {
  boost::system::error_code ec;
  json::value v = json::parse(a.json, ec);
  if (!ec && v.is_object()) {
    std::string e = Str(v.as_object(), "error");
    if (!e.empty()) return e;
  }
  return ResultName(a.rc);
}

std::optional<json::object> Parse(const Answer& a) {
  if (a.rc != 0) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(a.json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

// "<title>: N<suffix>" then one line per object of `list` (written by
// line(stream, row)), at most `max` of them and "+K more" after.
template <class Line>
std::string ListReply(const json::array& list, std::string_view title, std::string_view suffix, size_t max,
                      Line&& line) {
  std::ostringstream s;
  s << title << ": " << list.size() << suffix;
  size_t shown = 0;
  for (const json::value& v : list) {
    if (!v.is_object()) continue;
    if (shown++ == max) {
      s << "\n+" << (list.size() - max) << " more";
      break;
    }
    line(s, v.as_object());
  }
  return s.str();
}

}  // namespace

std::string ShortId(std::string_view id) {
  if (id.size() <= 14) return std::string(id);
  return std::string(id.substr(0, 6)) + "\xE2\x80\xA6" + std::string(id.substr(id.size() - 4));  // "…"
}

std::string ResultName(int32_t rc) { return ph_result_name(rc); }

CommandEngine::CommandEngine(EngineOptions options, ControlPort& control, Clock clock, CodeSource codes, Log log)
    : options_(std::move(options)),
      control_(control),
      clock_(std::move(clock)),
      codes_(std::move(codes)),
      log_(std::move(log)) {}

std::optional<Reply> CommandEngine::HandleUpdate(std::string_view update_json, std::optional<int64_t>* update_id) {
  boost::system::error_code ec;
  json::value v = json::parse(update_json, ec);
  if (ec || !v.is_object()) {
    if (log_) log_(kLogWarn, "ignored an update that is not a JSON object");
    return std::nullopt;
  }
  const json::object& u = v.as_object();
  if (update_id != nullptr && u.contains("update_id")) *update_id = Int(u, "update_id");
  const json::value* msg = u.if_contains("message");
  if (msg == nullptr) msg = u.if_contains("edited_message");
  if (msg == nullptr || !msg->is_object()) return std::nullopt;  // callbacks, polls, ...: nothing to answer
  const json::object& m = msg->as_object();
  std::optional<int64_t> chat;
  if (const json::value* c = m.if_contains("chat"); c != nullptr && c->is_object() && c->as_object().contains("id")) {
    chat = Int(c->as_object(), "id");
  }
  if (chat ? options_.allowed_chat_ids.count(*chat) == 0 : !options_.allow_missing_chat) {
    // Ids only: the text may be anything, including someone's secrets.
    if (log_) {
      log_(kLogWarn, "ignored a message from chat " + (chat ? std::to_string(*chat) : std::string("(none)")) +
                      " (not in allowed_chat_ids)");
    }
    return std::nullopt;
  }
  const std::string text = Str(m, "text");
  if (text.empty()) return std::nullopt;
  std::string who = chat ? "chat " + std::to_string(*chat) : std::string("local operator");
  if (const json::value* from = m.if_contains("from"); from != nullptr && from->is_object()) {
    const std::string user = Str(from->as_object(), "username");
    if (!user.empty()) who += " @" + user;
  }
  // Telegram stamps each message (seconds): the confirmation window is measured
  // between the user's own messages, not between our reads of them.
  // A date past year 9999 is not Telegram's: use our clock rather than let
  // seconds-to-milliseconds overflow (the fuzzer sent 1.7e16).
  constexpr int64_t kLastPlausibleDateS = 253'402'300'799;  // 9999-12-31T23:59:59Z
  const int64_t date_s = Int(m, "date");
  const int64_t now_ms =
      date_s > 0 && date_s <= kLastPlausibleDateS ? date_s * 1000 : (clock_ ? clock_() : 0);
  return Reply{chat, HandleCommand(chat, text, now_ms, who)};
}

std::string CommandEngine::HandleCommand(std::optional<int64_t> chat, std::string_view text, int64_t now_ms,
                                         std::string_view who) {
  std::vector<std::string> w = Words(text);
  if (w.empty() || w[0][0] != '/') return "Commands start with /. Send /help.";
  std::string cmd = Lower(w[0].substr(0, w[0].find('@')));  // "/status@my_bot" -> "/status"
  if (log_) log_(kLogInfo, "" + std::string(who) + " sent " + cmd);
  auto arg = [&](size_t i) { return i < w.size() ? w[i] : std::string(); };
  if (cmd == "/help" || cmd == "/start") return Help();
  if (cmd == "/status") return Fit(Status());
  if (cmd == "/markets") return Fit(Markets());
  if (cmd == "/book") {
    if (w.size() == 1 && !options_.default_market.empty() && !options_.default_outcome.empty()) {
      return Fit(Book(options_.default_market, options_.default_outcome));
    }
    if (w.size() != 3) return "Usage: /book MARKET OUTCOME (outcome: name like Yes, or token id)";
    return Fit(Book(w[1], w[2]));
  }
  if (cmd == "/orders") return Fit(Orders());
  if (cmd == "/positions") return Fit(Positions());
  if (cmd == "/pnl") return Fit(Pnl());
  if (cmd == "/plugins") return Fit(Plugins());
  if (cmd == "/metrics") return Fit(Metrics());
  if (cmd == "/pause" || cmd == "/resume") {
    if (w.size() > 2) return "Usage: " + cmd + " [plugin]";
    return PauseResume(cmd == "/pause", arg(1), who);
  }
  if (cmd == "/cancelall") return CancelAll(chat, now_ms);
  if (cmd == "/confirm") {
    if (w.size() != 2) return "Usage: /confirm CODE";
    return Confirm(chat, w[1], now_ms, who);
  }
  return "Unknown command " + cmd + ". Send /help.";
}

std::string CommandEngine::Help() const {
  return "polyhost bot\n"
         "/status - host state\n"
         "/markets - books and best prices\n"
         "/book MARKET OUTCOME - top of one book\n"
         "/orders - working orders\n"
         "/positions - positions\n"
         "/pnl - profit and loss\n"
         "/plugins - plugins and pauses\n"
         "/pause [plugin] - stop new plans (all, or one plugin)\n"
         "/resume [plugin] - accept plans again\n"
         "/cancelall - cancel every order (asks for /confirm CODE)\n"
         "/metrics - host counters";
}

std::string CommandEngine::Status() {
  Answer a = control_.Query("status", "");
  auto o = Parse(a);
  if (!o) return "Status unavailable: " + Why(a);
  std::ostringstream s;
  const std::string mode = Str(*o, "mode");
  s << "Status: " << (Bool(*o, "paused") ? "PAUSED" : "running") << (Bool(*o, "dry_run") ? " (dry run)" : "")
    << (mode.empty() ? "" : " [" + mode + "]") << '\n';
  if (const json::array* p = Arr(*o, "paused_plugins"); p != nullptr && !p->empty()) {
    s << "Paused plugins:";
    for (const json::value& n : *p) s << ' ' << (n.is_string() ? std::string(n.as_string()) : "?");
    s << '\n';
  }
  s << "Plugins: " << Int(*o, "plugins_active") << " active, " << Int(*o, "plugins_failed") << " failed\n"
    << "Open orders: " << Int(*o, "open_orders") << " (notional " << PriceOr(*o, "open_notional") << ")\n"
    << "Plans: " << Int(*o, "plans_accepted") << " accepted, " << Int(*o, "plans_rejected") << " rejected\n"
    << "Assets: " << Int(*o, "assets") << " (" << Int(*o, "stale_assets") << " stale)";
  return s.str();
}

std::string CommandEngine::Markets() {
  Answer a = control_.Query("markets", "");
  auto o = Parse(a);
  if (!o) return "Markets unavailable: " + Why(a);
  const json::array* list = Arr(*o, "markets");
  if (list == nullptr || list->empty()) return "No markets.";
  auto line = [](std::ostream& s, const json::object& m) {
    std::string q = Str(m, "question");
    if (q.size() > 60) q = q.substr(0, 57) + "...";
    s << '\n' << ShortId(Str(m, "market")) << (q.empty() ? "" : " " + q);
    if (const json::array* outs = Arr(m, "outcomes")) {
      for (const json::value& ov : *outs) {
        if (!ov.is_object()) continue;
        const json::object& out = ov.as_object();
        std::string name = Str(out, "outcome");
        if (name.empty()) name = ShortId(Str(out, "asset_id"));
        s << "\n  " << name << ' ' << PriceOr(out, "best_bid") << '/' << PriceOr(out, "best_ask")
          << (Bool(out, "stale") ? " STALE" : "");
      }
    }
  };
  return ListReply(*list, "Markets", " (bid/ask)", options_.max_list_items, line);
}

std::string CommandEngine::Book(std::string_view market, std::string_view outcome) {
  json::object args;
  args["market"] = market;
  args["outcome"] = outcome;
  Answer a = control_.Query("book", json::serialize(args));
  auto o = Parse(a);
  if (!o) return "Book unavailable: " + Why(a);
  std::ostringstream s;
  std::string name = Str(*o, "outcome");
  if (name.empty()) name = ShortId(Str(*o, "asset_id"));
  s << "Book " << name << " " << ShortId(Str(*o, "market")) << (Bool(*o, "stale") ? " STALE" : "") << '\n';
  auto side = [&](const char* key) {
    const json::array* levels = Arr(*o, key);
    if (levels == nullptr || levels->empty()) {
      s << "  (none)\n";
      return;
    }
    // Asks from the highest shown down to the best, so the spread sits in the middle.
    std::vector<const json::value*> rows;
    for (const json::value& l : *levels) rows.push_back(&l);
    if (std::string_view(key) == "asks") std::reverse(rows.begin(), rows.end());
    for (const json::value* l : rows) {
      if (!l->is_array() || l->as_array().size() != 2) continue;
      const json::array& pair = l->as_array();
      s << "  " << (pair[0].is_string() ? std::string(pair[0].as_string()) : "?") << " x "
        << (pair[1].is_string() ? std::string(pair[1].as_string()) : "?") << '\n';
    }
  };
  s << "asks (" << Int(*o, "ask_levels") << " levels)\n";
  side("asks");
  s << "bids (" << Int(*o, "bid_levels") << " levels)\n";
  side("bids");
  s << "seq " << Int(*o, "seq");
  return s.str();
}

std::string CommandEngine::Orders() {
  Answer a = control_.Query("orders", "");
  auto o = Parse(a);
  if (!o) return "Orders unavailable: " + Why(a);
  const json::array* list = Arr(*o, "orders");
  if (list == nullptr || list->empty()) return "No open orders.";
  return ListReply(*list, "Open orders", "", options_.max_list_items, [](std::ostream& s, const json::object& r) {
    s << '\n'
      << Str(r, "plugin") << ' ' << Str(r, "side") << ' ' << Str(r, "size") << " @ " << Str(r, "price") << " "
      << ShortId(Str(r, "asset_id")) << " filled " << Str(r, "filled");
  });
}

std::string CommandEngine::Positions() {
  Answer a = control_.Query("positions", "");
  auto o = Parse(a);
  if (!o) return "Positions unavailable: " + Why(a);
  const json::array* list = Arr(*o, "positions");
  if (list == nullptr || list->empty()) return "No positions.";
  return ListReply(*list, "Positions", "", options_.max_list_items, [](std::ostream& s, const json::object& r) {
    s << '\n'
      << Str(r, "plugin") << ' ' << ShortId(Str(r, "asset_id")) << ' ' << Str(r, "size") << " avg "
      << PriceOr(r, "avg_price");
  });
}

std::string CommandEngine::Pnl() {
  Answer a = control_.Query("pnl", "");
  auto o = Parse(a);
  if (!o) return "PnL unavailable: " + Why(a);
  const json::array* list = Arr(*o, "plugins");
  if (list == nullptr || list->empty()) return "No PnL yet.";
  std::ostringstream s;
  s << "PnL";
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& r = v.as_object();
    s << '\n' << Str(r, "plugin") << ": " << PriceOr(r, "total") << " (realised " << PriceOr(r, "realised")
      << ", fees " << PriceOr(r, "fees") << ")";
  }
  return s.str();
}

std::string CommandEngine::Plugins() {
  Answer a = control_.Query("plugins", "");
  auto o = Parse(a);
  if (!o) return "Plugins unavailable: " + Why(a);
  std::ostringstream s;
  const json::array* list = Arr(*o, "plugins");
  s << "Plugins" << (Bool(*o, "paused_all") ? " (ALL PAUSED)" : "") << ':';
  if (list == nullptr || list->empty()) s << " none";
  else {
    for (const json::value& v : *list) {
      if (!v.is_object()) continue;
      const json::object& p = v.as_object();
      s << '\n' << Str(p, "name") << ": " << Str(p, "state") << (Bool(p, "paused") ? ", paused" : "");
    }
  }
  return s.str();
}

std::string CommandEngine::Metrics() {
  Answer a = control_.Query("metrics", "");
  auto o = Parse(a);
  if (!o) return "Metrics unavailable: " + Why(a);
  const json::value* mv = o->if_contains("metrics");
  if (mv == nullptr || !mv->is_object()) return "No metrics.";
  std::ostringstream s;
  s << "Metrics";
  for (const auto& kv : mv->as_object()) {
    s << '\n' << std::string(kv.key()) << ": ";
    if (kv.value().is_string()) s << std::string(kv.value().as_string());
    else s << json::serialize(kv.value());
  }
  return s.str();
}

std::string CommandEngine::PauseResume(bool pause, std::string_view plugin, std::string_view who) {
  const std::string reason = std::string(pause ? "/pause" : "/resume") + " from " + std::string(who);
  Answer a = pause ? control_.Pause(plugin, reason) : control_.Resume(plugin, reason);
  const std::string target = plugin.empty() ? "all plugins" : std::string(plugin);
  if (a.rc != 0) return std::string(pause ? "Pause" : "Resume") + " of " + target + " refused: " + Why(a);
  return std::string(pause ? "Paused " : "Resumed ") + target + ".";
}

std::string CommandEngine::CancelAll(std::optional<int64_t> chat, int64_t now_ms) {
  Pending p{codes_ ? codes_() : "0000", now_ms + options_.confirm_window_ms};
  pending_[chat.value_or(kOfflineChat)] = p;
  return "Cancel ALL open orders of every plugin?\nSend /confirm " + p.code + " within " +
         std::to_string(options_.confirm_window_ms / 1000) + " s.";
}

std::string CommandEngine::Confirm(std::optional<int64_t> chat, std::string_view code, int64_t now_ms,
                                   std::string_view who) {
  auto it = pending_.find(chat.value_or(kOfflineChat));
  if (it == pending_.end()) return "Nothing to confirm. Send /cancelall first.";
  const Pending p = it->second;
  pending_.erase(it);  // one attempt per code
  if (now_ms > p.expires_ms) return "Code expired; nothing cancelled. Send /cancelall again.";
  if (code != p.code) return "Wrong code; nothing cancelled. Send /cancelall again.";
  Answer a = control_.CancelAll("/cancelall confirmed by " + std::string(who));
  if (a.rc != 0) return "Cancel-all refused: " + Why(a);
  return "Cancel-all requested.";
}

std::string CommandEngine::Fit(std::string text) const {
  if (text.size() <= options_.max_reply_chars) return text;
  size_t cut = text.rfind('\n', options_.max_reply_chars);
  if (cut == std::string::npos) cut = options_.max_reply_chars;
  text.resize(cut);
  return text + "\n(cut)";
}

}  // namespace tgbot
