#include "core/url_encode.h"

#include <catch2/catch.hpp>

namespace polyhost {
namespace {

TEST_CASE("UrlEncode keeps the unreserved characters and percent-encodes every other byte") {
  CHECK(UrlEncode("") == "");
  CHECK(UrlEncode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(UrlEncode("2026-01-02T03:00:00Z") == "2026-01-02T03%3A00%3A00Z");
  CHECK(UrlEncode("a b+c&d=e/f?g#h%") == "a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25");
  CHECK(UrlEncode("caf\xc3\xa9") == "caf%C3%A9");  // UTF-8 byte by byte, upper-case hex
  CHECK(UrlEncode(std::string_view("\x00\x7f\xff", 3)) == "%00%7F%FF");
  std::string out = "token_id=";
  AppendUrlEncoded(out, "1 2");
  CHECK(out == "token_id=1%202");
}

}  // namespace
}  // namespace polyhost
