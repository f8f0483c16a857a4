// The real relayer's options from the merged configuration ([relayer] and
// [polymarket] clob_url). Defined in relayer_command.cc.
#pragma once

#include "config/config.h"
#include "exec/real_relayer.h"

namespace polyhost {

// API credentials: [relayer] api_key / api_secret / api_passphrase (secrets file
// or POLYHOST_RELAYER_API_*), else the older POLYHOST_CLOB_API_KEY / _SECRET /
// _PASSPHRASE variables. Nothing here is validated; MakeRealRelayer does that.
RealRelayerOptions RealRelayerOptionsFromConfig(const Config& config);

}  // namespace polyhost
