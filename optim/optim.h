#pragma once
// adaptive: drop-in replacements for torch::optim's Adam, RMSprop and Adagrad,
// with bias-correction control, in-step gradient clipping, decoupled weight
// decay and maximize. Include this, or one optimizer's header.

#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
