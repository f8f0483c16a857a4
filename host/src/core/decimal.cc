#include "core/decimal.h"

#include <charconv>
#include <cstring>
#include <limits>

namespace polyhost {

const char* DecimalErrorText(DecimalError error) {
  switch (error) {
    case DecimalError::kOk: return "ok";
    case DecimalError::kEmpty: return "empty decimal";
    case DecimalError::kSyntax: return "not a decimal number";
    case DecimalError::kTooManyFractionDigits: return "more than 6 fractional digits";
    case DecimalError::kNegative: return "negative value not allowed";
    case DecimalError::kExponent: return "exponent notation not allowed";
    case DecimalError::kOverflow: return "value out of range";
  }
  return "unknown decimal error";
}

DecimalError ParseDecimal(std::string_view text, int64_t* out, bool allow_negative) {
  if (text.empty()) return DecimalError::kEmpty;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    if (negative && !allow_negative) return DecimalError::kNegative;
    i = 1;
  }
  // Accumulate as unsigned so that the most negative value still fits.
  constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
  uint64_t whole = 0;
  size_t int_digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++int_digits) {
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
    if (whole > kLimit / kMicrosPerUnit) return DecimalError::kOverflow;
  }
  uint64_t frac = 0;
  int frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (++frac_digits > 6) {
        return DecimalError::kTooManyFractionDigits;
      }
      frac = frac * 10 + static_cast<uint64_t>(text[i] - '0');
    }
  }
  if (i < text.size()) {
    return (text[i] == 'e' || text[i] == 'E') ? DecimalError::kExponent : DecimalError::kSyntax;
  }
  if (int_digits == 0 && frac_digits == 0) return DecimalError::kSyntax;
  for (int d = frac_digits; d < 6; ++d) frac *= 10;
  const uint64_t magnitude = whole * kMicrosPerUnit + frac;
  if (magnitude > kLimit || (!negative && magnitude == kLimit)) return DecimalError::kOverflow;
  *out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return DecimalError::kOk;
}

namespace {

// "00" "01" ... "99": two digits per table lookup.
constexpr char kTwoDigits[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

}  // namespace

// Snapshots format every level of every book (tens of millions of decimals in a
// long replay), so this avoids a division per digit: the whole part through
// std::to_chars, the six fractional digits as three table pairs, then trailing
// zeros dropped.
int FormatDecimalTo(int64_t micros, char* buf) {
  char* p = buf;
  uint64_t magnitude = static_cast<uint64_t>(micros);
  if (micros < 0) {
    *p++ = '-';
    magnitude = 0 - magnitude;
  }
  const uint64_t whole = magnitude / kMicrosPerUnit;
  const auto frac = static_cast<uint32_t>(magnitude % kMicrosPerUnit);
  if (whole < 10) {
    *p++ = static_cast<char>('0' + whole);
  } else {
    p = std::to_chars(p, p + 20, whole).ptr;
  }
  if (frac != 0) {
    *p = '.';
    std::memcpy(p + 1, kTwoDigits + 2 * (frac / 10000), 2);
    std::memcpy(p + 3, kTwoDigits + 2 * (frac / 100 % 100), 2);
    std::memcpy(p + 5, kTwoDigits + 2 * (frac % 100), 2);
    int digits = 6;
    while (p[digits] == '0') --digits;  // frac != 0: stops at a non-zero digit
    p += 1 + digits;
  }
  return static_cast<int>(p - buf);
}

std::string FormatDecimal(int64_t micros) {
  char buf[kMaxDecimalChars];
  return std::string(buf, static_cast<size_t>(FormatDecimalTo(micros, buf)));
}

}  // namespace polyhost
