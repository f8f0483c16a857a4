#include "core/json_text.h"

#include <catch2/catch.hpp>

namespace polyhost {
namespace {

TEST_CASE("JsonQuoted escapes quotes, backslashes and control characters") {
  CHECK(JsonQuoted("plain") == "\"plain\"");
  CHECK(JsonQuoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(JsonQuoted("line\nnext\ttab\r") == "\"line\\nnext\\ttab\\r\"");
  CHECK(JsonQuoted(std::string_view("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
  CHECK(JsonQuoted("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // UTF-8 passes through
  std::string out = "x";
  AppendJsonQuoted(out, "");
  CHECK(out == "x\"\"");
}

}  // namespace
}  // namespace polyhost
