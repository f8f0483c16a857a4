#include "core/decimal.h"

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

int FormatDecimalTo(int64_t micros, char* buf) {
  char* p = buf;
  uint64_t magnitude = static_cast<uint64_t>(micros);
  if (micros < 0) {
    *p++ = '-';
    magnitude = 0 - magnitude;
  }
  uint64_t whole = magnitude / kMicrosPerUnit;
  uint64_t frac = magnitude % kMicrosPerUnit;
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole != 0);
  while (n > 0) *p++ = tmp[--n];
  if (frac != 0) {
    *p++ = '.';
    int digits = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    for (int d = digits - 1; d >= 0; --d) {
      p[d] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p += digits;
  }
  return static_cast<int>(p - buf);
}

std::string FormatDecimal(int64_t micros) {
  char buf[kMaxDecimalChars];
  return std::string(buf, static_cast<size_t>(FormatDecimalTo(micros, buf)));
}

}  // namespace polyhost
