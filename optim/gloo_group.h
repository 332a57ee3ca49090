#pragma once
// Public path of adaptive::make_gloo_group; the code lives in the distributed
// layer, optim/distributed/gloo_group.h.
#include "optim/distributed/gloo_group.h"
