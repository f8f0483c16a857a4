#include "store/store.h"

#include <catch2/catch.hpp>

namespace polyhost {
namespace {
TEST_CASE("placeholder", "[store]") { CHECK(true); }
}  // namespace
}  // namespace polyhost
