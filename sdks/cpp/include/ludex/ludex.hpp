// Everything a game needs: #include "ludex/ludex.hpp".
#pragma once

#include "ludex/client.hpp"
#include "ludex/config.hpp"
#include "ludex/error.hpp"
#include "ludex/realtime.hpp"
#include "ludex/retry.hpp"
#include "ludex/session.hpp"
#include "ludex/transport.hpp"
