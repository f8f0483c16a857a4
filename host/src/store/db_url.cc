#include "store/db_url.h"

#include <cctype>
#include <stdexcept>
#include <string>

namespace polyhost {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// The URL with the password of its userinfo, and any `password=` query
// parameter, replaced by "***". Works on malformed URLs too (best effort), so
// that error messages never echo a password.
std::string RedactUrl(std::string_view url) {
  std::string out(url);
  const size_t scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    // The userinfo ends at the last '@': a password with an unescaped '/', '?' or
    // '@' must still be hidden.
    const size_t auth_begin = scheme_end + 3;
    const size_t at = out.rfind('@');
    if (at != std::string::npos && at >= auth_begin) {
      const size_t colon = out.find(':', auth_begin);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // Query parameters named password (libpq accepts them).
  size_t q = out.find('?');
  while (q != std::string::npos) {
    const size_t key = q + 1;
    constexpr std::string_view kKey = "password=";
    if (out.compare(key, kKey.size(), kKey) == 0) {
      const size_t value = key + kKey.size();
      size_t end = out.find_first_of("&#", value);
      if (end == std::string::npos) end = out.size();
      out.replace(value, end - value, "***");
    }
    q = out.find('&', key);
  }
  return out;
}

[[noreturn]] void Invalid(const std::string& redacted, std::string_view reason) {
  throw std::invalid_argument("invalid database URL '" + redacted + "': " + std::string(reason));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s, std::string_view what, const std::string& redacted) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) Invalid(redacted, "bad percent-escape in the " + std::string(what));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// A libpq conninfo value: bare when safe, else single-quoted with \ and ' escaped.
std::string ConninfoValue(std::string_view v) {
  bool bare = !v.empty();
  for (char c : v) {
    if (c == ' ' || c == '\'' || c == '\\' || c == '\t' || c == '\n' || c == '\r' || c == '=') {
      bare = false;
      break;
    }
  }
  if (bare) return std::string(v);
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

void AddConninfo(std::string* conninfo, std::string_view key, std::string_view value) {
  if (!conninfo->empty()) conninfo->push_back(' ');
  conninfo->append(key);
  conninfo->push_back('=');
  conninfo->append(ConninfoValue(value));
}

DbUrl ParseSqlite(std::string_view url, std::string_view rest) {
  // rest is what follows "sqlite:".
  DbUrl out;
  out.backend = DbUrl::Backend::kSqlite;
  out.redacted = std::string(url);
  if (rest.substr(0, 2) != "//") {
    Invalid(out.redacted, "expected sqlite:///path (three slashes before a relative path, four before an "
                          "absolute one)");
  }
  rest.remove_prefix(2);
  if (rest.empty() || rest[0] != '/') {
    Invalid(out.redacted, "a sqlite URL has no host part; write sqlite:///relative/path.db or "
                          "sqlite:////absolute/path.db");
  }
  rest.remove_prefix(1);
  if (rest.empty()) Invalid(out.redacted, "no database path after sqlite:///");
  if (rest.find_first_of("?#") != std::string_view::npos) {
    Invalid(out.redacted, "query parameters and fragments are not supported in sqlite URLs "
                          "(percent-encode '?' and '#' in the path as %3F and %23)");
  }
  out.path = PercentDecode(rest, "path", out.redacted);
  if (out.path.find('\0') != std::string::npos) Invalid(out.redacted, "NUL character in the path");
  return out;
}

DbUrl ParsePostgres(std::string_view url, std::string_view rest) {
  // rest is what follows "<scheme>://".
  DbUrl out;
  out.backend = DbUrl::Backend::kPostgres;
  out.redacted = RedactUrl(url);
  const std::string& r = out.redacted;

  // Userinfo first, up to the last '@' (so an unescaped '/', '?' or '@' in a
  // password does not split the URL in the wrong place).
  std::string_view userinfo;
  bool has_userinfo = false;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    has_userinfo = true;
  }
  const size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) Invalid(r, "fragments (#...) are not supported");
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  std::string_view path;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }

  std::string user, password, host, port;
  bool has_password = false;
  std::string_view hostport = authority;
  if (has_userinfo) {
    if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      password = PercentDecode(userinfo.substr(colon + 1), "password", r);
      has_password = true;
      userinfo = userinfo.substr(0, colon);
    }
    user = PercentDecode(userinfo, "user name", r);
    if (user.empty()) Invalid(r, "empty user name before '@'");
  }
  if (!hostport.empty() && hostport[0] == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) Invalid(r, "unterminated '[' in the IPv6 host");
    host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') Invalid(r, "unexpected text after the IPv6 host");
      port = std::string(after.substr(1));
      if (port.empty()) Invalid(r, "empty port after ':'");
    }
  } else {
    std::string_view h = hostport;
    if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
      h = hostport.substr(0, colon);
      port = std::string(hostport.substr(colon + 1));
      if (port.empty()) Invalid(r, "empty port after ':'");
    }
    host = PercentDecode(h, "host", r);
  }
  if (!port.empty()) {
    long value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') Invalid(r, "port '" + port + "' is not a number");
      value = value * 10 + (c - '0');
      if (value > 65535) break;
    }
    if (value < 1 || value > 65535) Invalid(r, "port " + port + " is out of range (1-65535)");
  }
  const std::string dbname = PercentDecode(path, "database name", r);
  if (dbname.empty()) Invalid(r, "no database name (expected postgresql://user:password@host:5432/dbname)");
  if (dbname.find('/') != std::string::npos) Invalid(r, "the database name may not contain '/'");

  std::string& conninfo = out.pg_conninfo;
  if (!host.empty()) AddConninfo(&conninfo, "host", host);
  if (!port.empty()) AddConninfo(&conninfo, "port", port);
  AddConninfo(&conninfo, "dbname", dbname);
  if (!user.empty()) AddConninfo(&conninfo, "user", user);
  if (has_password) AddConninfo(&conninfo, "password", password);
  out.password = password;

  // Query parameters pass through as libpq keywords (sslmode=require, ...).
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      Invalid(r, "query parameter '" + std::string(param.substr(0, eq)) + "' needs the form key=value");
    }
    const std::string_view key = param.substr(0, eq);
    for (char c : key) {
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
            c == '_')) {
        Invalid(r, "query parameter name '" + std::string(key) + "' is not a libpq keyword");
      }
    }
    if (key == "dbname" || key == "host" || key == "port" || key == "user") {
      // Allowed by libpq, but it would silently contradict the URL's own parts.
      if ((key == "dbname") || (key == "host" && !host.empty()) || (key == "port" && !port.empty()) ||
          (key == "user" && !user.empty())) {
        Invalid(r, "query parameter '" + std::string(key) + "' repeats a part of the URL");
      }
    }
    std::string value = PercentDecode(param.substr(eq + 1), "query parameter", r);
    if (key == "password") out.password = value;
    AddConninfo(&conninfo, key, value);
  }
  return out;
}

}  // namespace

std::string ScrubPassword(std::string text, const DbUrl& url) {
  if (url.password.empty()) return text;
  for (size_t at = text.find(url.password); at != std::string::npos; at = text.find(url.password, at + 3)) {
    text.replace(at, url.password.size(), "***");
  }
  return text;
}

DbUrl ParseDbUrl(std::string_view url) {
  if (url.empty()) {
    throw std::invalid_argument(
        "empty database URL (expected sqlite:///path.db or postgresql://user:password@host:5432/dbname)");
  }
  if (StartsWithNoCase(url, "sqlite:")) return ParseSqlite(url, url.substr(7));
  if (StartsWithNoCase(url, "postgresql://")) return ParsePostgres(url, url.substr(13));
  if (StartsWithNoCase(url, "postgres://")) return ParsePostgres(url, url.substr(11));

  const std::string redacted = RedactUrl(url);
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    Invalid(redacted, "no scheme (expected sqlite:///path.db or postgresql://user:password@host:5432/dbname)");
  }
  if (StartsWithNoCase(url, "postgresql:") || StartsWithNoCase(url, "postgres:")) {
    Invalid(redacted, "expected postgresql://user:password@host:5432/dbname");
  }
  Invalid(redacted, "unsupported scheme '" + std::string(url.substr(0, colon)) +
                        "' (supported: sqlite, postgresql)");
}

}  // namespace polyhost
