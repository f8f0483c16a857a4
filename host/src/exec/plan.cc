#include "exec/plan.h"

#include "core/decimal.h"

namespace polyhost {

const char* TimeInForceName(TimeInForce tif) {
  switch (tif) {
    case TimeInForce::kGtc: return "GTC";
    case TimeInForce::kIoc: return "IOC";
    case TimeInForce::kFok: return "FOK";
  }
  return "?";
}

int64_t NotionalMicros(int64_t price, int64_t size) {
  // price <= 1e6 and size < 2^63, so the product needs 128 bits.
  const __int128 product = static_cast<__int128>(price) * size;
  __int128 q = product / kMicrosPerUnit;
  if (product % kMicrosPerUnit != 0) ++q;
  if (q > INT64_MAX) return INT64_MAX;
  return static_cast<int64_t>(q);
}

}  // namespace polyhost
