#pragma once
// Weight averaging: torch.optim.swa_utils in C++. AveragedModel (SWA's
// running mean, or an EMA with ema_multi_avg_fn), update_bn, and SWALR.

#include "optim/averaging/averaged_model.h"
#include "optim/schedule/swalr.h"
