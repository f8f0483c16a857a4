// polyhost C++ SDK (header-only, C++20): everything a strategy needs.
//   #include <polyhost/sdk/sdk.hpp>
// Guide: docs/plugin-guide.md. Contract: docs/abi.md.
#pragma once

#include "polyhost/abi/polyhost.h"  // IWYU pragma: export
#include "polyhost/sdk/host.hpp"      // IWYU pragma: export
#include "polyhost/sdk/plugin.hpp"    // IWYU pragma: export
#include "polyhost/sdk/strategy.hpp"  // IWYU pragma: export
#include "polyhost/sdk/types.hpp"     // IWYU pragma: export
