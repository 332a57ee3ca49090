#pragma once
// adaptive: drop-in replacements for torch::optim's optimizers, with
// bias-correction control, in-step gradient clipping, decoupled weight decay
// and maximize. Include this (every optimizer, see optim/optimizers.h), or
// one optimizer's header. optim/grad_scaler.h: loss scaling for float16
// training (torch.amp.GradScaler).

#include "optim/grad_scaler.h"
#include "optim/optimizers.h"
