/* Every ABI header compiles as strict C11 (-std=c11 -Wall -Wextra -Werror
 * -pedantic), each on its own and all together, and the 1.0 layout holds. */
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

#include <stdio.h>
#include <string.h>

int main(void) {
  ph_version v = POLYHOST_ABI_VERSION_INIT;
  ph_book_view view;
  memset(&view, 0, sizeof view);
  view.struct_size = sizeof view;
  if (!POLYHOST_ABI_VERSION_IS_COMPATIBLE(v) || !ph_version_is_compatible(v, v) || ph_version_compare(v, v) != 0) {
    return 1;
  }
  if (!PH_STRUCT_HAS(&view, ph_book_view, reserved1)) return 1;
  if (strcmp(ph_result_name(PH_ERR_SINK_FULL), "PH_ERR_SINK_FULL") != 0) return 1;
  if (strcmp(ph_result_name(-1500), "PH_ERR_PLUGIN") != 0) return 1;
  if (strcmp(ph_result_name(3), "PH_ERR_UNKNOWN") != 0) return 1;
  printf("ABI %u.%u.%u headers compile as C11\n", (unsigned)v.major, (unsigned)v.minor, (unsigned)v.patch);
  return 0;
}
