// Every ABI header compiles as C++17 and C++20 with -Wall -Wextra -Werror
// -pedantic (this file is built twice), and the 1.0 layout holds. The C++20
// build also compiles the SDK's .hpp layer.
#include "polyhost/abi/version.h"
#include "polyhost/abi/result.h"
#include "polyhost/abi/types.h"
#include "polyhost/abi/events.h"
#include "polyhost/abi/plan.h"
#include "polyhost/abi/host.h"
#include "polyhost/abi/plugin.h"
#include "polyhost/abi/entry.h"
#include "polyhost/abi/control.h"
#include "polyhost/abi/markets.h"
#include "polyhost/abi/http.h"
#include "polyhost/abi/polyhost.h"

#include "abi_layout.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

#if __cplusplus >= 202002L
#include "polyhost/sdk/sdk.hpp"
static_assert(sizeof(polyhost::sdk::Level) == sizeof(ph_level));
#endif

// C types only: trivially copyable, standard layout.
static_assert(std::is_standard_layout<ph_host>::value && std::is_trivially_copyable<ph_host>::value, "C layout");
static_assert(std::is_standard_layout<ph_plugin>::value && std::is_trivially_copyable<ph_plugin>::value, "C layout");
static_assert(std::is_standard_layout<ph_book_view>::value, "C layout");
static_assert(std::is_standard_layout<ph_plugin_entry>::value, "C layout");

int main() {
  const ph_version v = POLYHOST_ABI_VERSION_INIT;
  ph_host host{};
  host.struct_size = sizeof(host);
  if (!PH_STRUCT_HAS(&host, ph_host, get_extension) || PH_HOST_HAS(&host, log)) return 1;
  if (std::strcmp(ph_result_name(PH_ERR_CONFIG), "PH_ERR_CONFIG") != 0) return 1;
  std::printf("ABI %u.%u.%u headers compile as C++ %ld\n", unsigned(v.major), unsigned(v.minor), unsigned(v.patch),
              long(__cplusplus));
  return 0;
}
