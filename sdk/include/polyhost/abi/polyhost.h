/* polyhost plugin ABI: every header. A C plugin includes just this one.
 * Contract and rules: docs/abi.md. */
#ifndef POLYHOST_ABI_POLYHOST_H
#define POLYHOST_ABI_POLYHOST_H

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

#endif /* POLYHOST_ABI_POLYHOST_H */
