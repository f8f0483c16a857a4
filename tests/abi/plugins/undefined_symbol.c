/* Needs a symbol nobody provides: RTLD_NOW must refuse it at load time, and the
 * host must report the dynamic loader's reason. */
#include "polyhost/abi/polyhost.h"

extern int polyhost_test_symbol_that_does_not_exist(void);

static const ph_plugin_descriptor descriptor = {
    sizeof(ph_plugin_descriptor), 0, "undefined_symbol", "Undefined symbol", "1.0.0", NULL, NULL};

static const ph_plugin* create(const ph_host* host) {
  (void)host;
  return polyhost_test_symbol_that_does_not_exist() ? NULL : NULL;
}

POLYHOST_PLUGIN_EXPORT const ph_plugin_entry polyhost_plugin_entry = {
    sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &descriptor, create};
