// Percent-encoding of one URL query value, for the venue's REST requests (Gamma
// markets, CLOB books and open orders): built by hand, where pulling Boost.URL
// into every module that composes a query would only add a dependency.
#pragma once

#include <string>
#include <string_view>

namespace polyhost {

// `text` with every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - _ . ~)
// as %XX, upper-case hex: safe as a query value (a space is %20, never '+').
// Independent of the C locale.
std::string UrlEncode(std::string_view text);

// Appends UrlEncode(text) to `out`.
void AppendUrlEncoded(std::string& out, std::string_view text);

}  // namespace polyhost
