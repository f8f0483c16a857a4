// Exact fixed-point decimals: int64 micro-units (1e-6), the venue's precision.
//
// Prices and sizes travel as decimal strings ("0.50", "200.0", ".5") and live in
// the program as int64 micro-units, so sums such as Σ asks < 1 are exact. Text
// output is canonical (recordings.md): shortest form, at most 6 fractional digits,
// no exponent, no trailing zeros, no trailing point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace polyhost {

// One whole unit (1 USDC, or a price of 1.0) in micro-units.
inline constexpr int64_t kMicrosPerUnit = 1'000'000;

enum class DecimalError : uint8_t {
  kOk = 0,
  kEmpty,                  // "" — callers usually treat it as "absent"
  kSyntax,                 // not digits with at most one '.'
  kTooManyFractionDigits,  // more than 6 digits after the point
  kNegative,               // a '-' sign where signs are not allowed
  kExponent,               // "1e-3": exponents are never valid on the wire
  kOverflow,               // does not fit int64 micro-units
};

// A short human reason, e.g. "more than 6 fractional digits".
const char* DecimalErrorText(DecimalError error);

// Parses a decimal string into micro-units. Accepts "0.50", "200.0", ".5", "5.",
// "+1" (a leading '+' is tolerated), and "-0.5" only when allow_negative is true.
// Returns kOk and writes *out on success; *out is untouched on error.
DecimalError ParseDecimal(std::string_view text, int64_t* out, bool allow_negative = false);

// Longest canonical text: "-9223372036854.775808" is 21 chars.
inline constexpr int kMaxDecimalChars = 24;

// Writes the canonical text of `micros` into buf (at least kMaxDecimalChars bytes,
// not NUL-terminated) and returns the number of characters written.
int FormatDecimalTo(int64_t micros, char* buf);

// Canonical text: 100000000 -> "100", 480000 -> "0.48", 1 -> "0.000001".
std::string FormatDecimal(int64_t micros);

}  // namespace polyhost
