/* polyhost plugin ABI: small shared types and constants.
 *
 * Conventions used by every ABI header:
 *   - Prices and sizes are int64_t micro-units (1e-6): a price of 0.48 is 480000,
 *     a size of 10 tokens is 10000000. Sums are exact.
 *   - Strings are NUL-terminated UTF-8 (`const char*`). A string field may be
 *     NULL only where its comment says so.
 *   - Enumerations travel as fixed-width integers (int32_t); the named constants
 *     live in anonymous enums. Zero is never a valid side or time in force, so a
 *     zero-initialised struct is rejected rather than misread. Bit flags are
 *     uint32_t fields with #define'd unsigned constants (PH_*_FLAG_*).
 *   - Growable structs start with `uint32_t struct_size`: the writer sets it to
 *     sizeof the struct it was compiled with; the reader only reads fields that
 *     lie within struct_size (PH_STRUCT_HAS). Fields are only ever appended.
 *   - Reserved fields are written as 0 and ignored by readers; they are never
 *     repurposed (new fields are appended instead).
 */
#ifndef POLYHOST_ABI_TYPES_H
#define POLYHOST_ABI_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* True when the growable struct at `ptr` (of C type `type`) is large enough to
 * contain `field`, i.e. its writer knew about that field. */
#ifdef __cplusplus
#define PH_STRUCT_HAS(ptr, type, field) \
  ((ptr) != nullptr && (ptr)->struct_size >= offsetof(type, field) + sizeof(type::field))
#else
#define PH_STRUCT_HAS(ptr, type, field) \
  ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, field) + sizeof(((const type*)0)->field))
#endif

/* One price level: frozen, 16 bytes, no struct_size (it is an array element).
 * Layout-identical to the host's polyhost::Level, so books are handed out
 * without copying. */
typedef struct ph_level {
  int64_t price; /* micro-units */
  int64_t size;  /* micro-units of outcome tokens */
} ph_level;

/* Names one outcome token: frozen, 16 bytes.
 *   market:   the market (condition) id, e.g. "0x5f65...".
 *   asset_id: the outcome token id, e.g. "7132...".
 * Both are required (non-NULL, non-empty) wherever an asset is passed in. */
typedef struct ph_asset_ref {
  const char* market;
  const char* asset_id;
} ph_asset_ref;

/* Order side (int32_t). */
typedef int32_t ph_side;
enum {
  PH_SIDE_BUY = 1,
  PH_SIDE_SELL = 2
};

/* Time in force (int32_t). */
typedef int32_t ph_tif;
enum {
  PH_TIF_GTC = 1, /* rests on the book until filled or cancelled */
  PH_TIF_IOC = 2, /* fills what it can now, the rest is cancelled */
  PH_TIF_FOK = 3  /* fills completely now, or not at all */
};

/* Log severity (int32_t). */
typedef int32_t ph_log_level;
enum {
  PH_LOG_TRACE = 0,
  PH_LOG_DEBUG = 1,
  PH_LOG_INFO = 2,
  PH_LOG_WARN = 3,
  PH_LOG_ERROR = 4
};

/* Metric kind (int32_t). */
typedef int32_t ph_metric_kind;
enum {
  PH_METRIC_COUNTER = 1, /* value is added to a monotonic counter (value >= 0) */
  PH_METRIC_GAUGE = 2    /* value replaces the gauge's current value */
};

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_TYPES_H */
