// JSON string literals for the hand-written canonical JSON the CLI and the
// harness print (fixed key order, canonical decimals), where a DOM would only
// add allocations.
#pragma once

#include <string>
#include <string_view>

namespace polyhost {

// Appends `text` as a quoted JSON string: '"' and '\\' escaped, control
// characters as \n, \r, \t or \u00XX; other bytes (UTF-8) as they are.
void AppendJsonQuoted(std::string& out, std::string_view text);

// The quoted JSON string of `text`.
std::string JsonQuoted(std::string_view text);

}  // namespace polyhost
