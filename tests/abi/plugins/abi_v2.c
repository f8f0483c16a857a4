/* Impersonates a plugin built for a future ABI major (2.0.0). Only the first two
 * fields of the entry are frozen across majors; the rest of this layout is made
 * up. The host must refuse it without reading further or calling anything. */
#include <stdint.h>
#include <stdlib.h>

typedef struct future_entry {
  uint32_t struct_size;
  struct { uint32_t major, minor, patch; } abi_version;  /* frozen in every major */
  uint64_t something_new;
  void (*create_v2)(void*, void*);
} future_entry;

static void must_not_be_called(void* a, void* b) {
  (void)a;
  (void)b;
  abort();
}

__attribute__((visibility("default"))) const future_entry polyhost_plugin_entry = {
    sizeof(future_entry), {2, 0, 0}, 0xdeadbeefu, must_not_be_called};
