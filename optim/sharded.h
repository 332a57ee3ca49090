#pragma once
// Public path of adaptive::ShardedOptimizer (ZeRO-1 over c10d); the code
// lives in the distributed layer, optim/distributed/sharded.h.
#include "optim/distributed/sharded.h"
