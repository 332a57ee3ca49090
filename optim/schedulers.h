#pragma once
// adaptive's learning-rate schedulers: torch.optim.lr_scheduler in C++, with
// Python 2.13's numbers (its chainable step()) and checkpointable state.
// Work in progress (issue 35): the schedulers of optim/schedule/basic.h so
// far. Each takes any torch::optim::Optimizer, adaptive's or LibTorch's.

#include "optim/schedule/basic.h"
#include "optim/schedule/lr_scheduler.h"
