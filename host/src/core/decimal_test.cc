#include "core/decimal.h"

#include <catch2/catch.hpp>

#include <random>

namespace polyhost {
namespace {

int64_t Parse(std::string_view s) {
  int64_t v = -12345;
  REQUIRE(ParseDecimal(s, &v) == DecimalError::kOk);
  return v;
}

DecimalError ParseErr(std::string_view s, bool allow_negative = false) {
  int64_t v = 0;
  return ParseDecimal(s, &v, allow_negative);
}

TEST_CASE("ParseDecimal accepts the venue's decimal strings") {
  CHECK(Parse("0.50") == 500000);
  CHECK(Parse("200.0") == 200000000);
  CHECK(Parse(".5") == 500000);
  CHECK(Parse("5.") == 5000000);
  CHECK(Parse("0") == 0);
  CHECK(Parse("0.000001") == 1);
  CHECK(Parse("10500100") == 10500100000000);
  CHECK(Parse("+1") == 1000000);
  CHECK(Parse("9223372036854.775807") == INT64_MAX);
}

TEST_CASE("ParseDecimal rejects what is not allowed, leaving the output untouched") {
  int64_t v = 77;
  CHECK(ParseDecimal("", &v) == DecimalError::kEmpty);
  CHECK(v == 77);
  CHECK(ParseErr("0.0000001") == DecimalError::kTooManyFractionDigits);
  CHECK(ParseErr("-0.5") == DecimalError::kNegative);
  CHECK(ParseErr("1e-3") == DecimalError::kExponent);
  CHECK(ParseErr("1E3") == DecimalError::kExponent);
  CHECK(ParseErr("9223372036854.775808") == DecimalError::kOverflow);
  CHECK(ParseErr("99999999999999999999") == DecimalError::kOverflow);
  CHECK(ParseErr(".") == DecimalError::kSyntax);
  CHECK(ParseErr("1.2.3") == DecimalError::kSyntax);
  CHECK(ParseErr("abc") == DecimalError::kSyntax);
  CHECK(ParseErr(" 1") == DecimalError::kSyntax);
  CHECK(ParseErr("1 ") == DecimalError::kSyntax);
  CHECK(ParseErr("-") == DecimalError::kNegative);
  CHECK(ParseErr("0x10") == DecimalError::kSyntax);
}

TEST_CASE("ParseDecimal takes signs only when allowed") {
  int64_t v = 0;
  REQUIRE(ParseDecimal("-0.25", &v, true) == DecimalError::kOk);
  CHECK(v == -250000);
  REQUIRE(ParseDecimal("-9223372036854.775808", &v, true) == DecimalError::kOk);
  CHECK(v == INT64_MIN);
}

TEST_CASE("FormatDecimal is canonical") {
  CHECK(FormatDecimal(100000000) == "100");
  CHECK(FormatDecimal(480000) == "0.48");
  CHECK(FormatDecimal(12500000) == "12.5");
  CHECK(FormatDecimal(1) == "0.000001");
  CHECK(FormatDecimal(0) == "0");
  CHECK(FormatDecimal(-250000) == "-0.25");
  CHECK(FormatDecimal(INT64_MAX) == "9223372036854.775807");
  CHECK(FormatDecimal(INT64_MIN) == "-9223372036854.775808");
}

TEST_CASE("parse(format(x)) == x over random and edge values") {
  std::mt19937_64 rng(20261127);
  std::vector<int64_t> values = {0, 1, -1, 10, 999999, 1000000, 1000001, INT64_MAX, INT64_MIN};
  for (int i = 0; i < 100000; ++i) {
    int64_t x = static_cast<int64_t>(rng());
    values.push_back(x);
    values.push_back(x % 100000000);  // small, price-like magnitudes too
  }
  for (int64_t x : values) {
    int64_t back = 0;
    REQUIRE(ParseDecimal(FormatDecimal(x), &back, true) == DecimalError::kOk);
    REQUIRE(back == x);
  }
}

TEST_CASE("format(parse(s)) removes only redundant zeros") {
  CHECK(FormatDecimal(Parse("0.50")) == "0.5");
  CHECK(FormatDecimal(Parse("200.0")) == "200");
  CHECK(FormatDecimal(Parse("007.100")) == "7.1");
}

}  // namespace
}  // namespace polyhost
