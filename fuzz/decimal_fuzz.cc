// libFuzzer harness: ParseDecimal on arbitrary text (core/decimal.h).
//
// Beyond "no crash, no UB" it checks the round-trip promises: whatever parses
// formats canonically, and the canonical text parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/decimal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool allow_negative : {false, true}) {
    int64_t micros = 0;
    if (polyhost::ParseDecimal(text, &micros, allow_negative) != polyhost::DecimalError::kOk) continue;
    if (!allow_negative && micros < 0) std::abort();
    const std::string canonical = polyhost::FormatDecimal(micros);
    if (canonical.size() > static_cast<size_t>(polyhost::kMaxDecimalChars)) std::abort();
    int64_t again = 0;
    if (polyhost::ParseDecimal(canonical, &again, true) != polyhost::DecimalError::kOk || again != micros) {
      std::abort();
    }
  }
  return 0;
}
