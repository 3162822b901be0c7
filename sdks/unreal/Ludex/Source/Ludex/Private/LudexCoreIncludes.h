// The core's headers, shielded from engine macros (`check`, `verify`) that clash with
// identifiers in nlohmann/json and the standard library.
#pragma once

THIRD_PARTY_INCLUDES_START
#pragma push_macro("check")
#pragma push_macro("verify")
#undef check
#undef verify
#include "ludex/ludex.hpp"
#pragma pop_macro("verify")
#pragma pop_macro("check")
THIRD_PARTY_INCLUDES_END
