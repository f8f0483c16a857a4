/* polyhost plugin ABI: version numbers and the compatibility rule.
 *
 * A plugin states the ABI version it was built against in its entry
 * (ph_plugin_entry.abi_version); the host states its own in every ph_host table.
 *
 *   major  changes only when something already published changes meaning or
 *          layout. The host refuses a plugin with another major.
 *   minor  grows when fields or functions are appended. Either side may be newer:
 *          the struct_size of each struct says which fields are present.
 *   patch  documentation and clarifications only; never affects the binary.
 *
 * The first two members of ph_plugin_entry (struct_size, abi_version) and the
 * layout of ph_version are frozen across ALL majors, so any host can read the
 * version of any plugin before deciding whether to read anything else.
 */
#ifndef POLYHOST_ABI_VERSION_H
#define POLYHOST_ABI_VERSION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define POLYHOST_ABI_VERSION_MAJOR 1
#define POLYHOST_ABI_VERSION_MINOR 1
#define POLYHOST_ABI_VERSION_PATCH 0

/* Frozen forever: three uint32_t, 12 bytes, no padding. */
typedef struct ph_version {
  uint32_t major;
  uint32_t minor;
  uint32_t patch;
} ph_version;

/* The version these headers describe, as an initializer:
 *   ph_version v = POLYHOST_ABI_VERSION_INIT; */
#define POLYHOST_ABI_VERSION_INIT \
  { POLYHOST_ABI_VERSION_MAJOR, POLYHOST_ABI_VERSION_MINOR, POLYHOST_ABI_VERSION_PATCH }

/* True (1) when code built against `other` can talk to code built against these
 * headers: the majors are equal. Minor and patch never matter. */
#define POLYHOST_ABI_VERSION_IS_COMPATIBLE(other) ((other).major == POLYHOST_ABI_VERSION_MAJOR)

/* The same rule for two arbitrary versions. [any-thread] */
static inline int ph_version_is_compatible(ph_version host, ph_version plugin) {
  return host.major == plugin.major;
}

/* Orders two versions: negative, zero or positive like strcmp. [any-thread] */
static inline int ph_version_compare(ph_version a, ph_version b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_VERSION_H */
