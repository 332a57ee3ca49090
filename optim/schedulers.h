#pragma once
// adaptive's learning-rate schedulers: every scheduler of PyTorch 2.13's
// torch.optim.lr_scheduler in C++, with Python's numbers (its chainable
// step()) and checkpointable state. Each takes any torch::optim::Optimizer,
// adaptive's or LibTorch's.
//
//   basic.h      LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR,
//                LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR
//   cyclic.h     CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
//   plateau.h    ReduceLROnPlateau
//   composite.h  SequentialLR, ChainedScheduler
//   swalr.h      SWALR (torch.optim.swa_utils; with AveragedModel in optim/swa_utils.h)
//   lr_finder.h  LRFinder, the learning-rate range test

#include "optim/schedule/basic.h"
#include "optim/schedule/composite.h"
#include "optim/schedule/cyclic.h"
#include "optim/schedule/lr_finder.h"
#include "optim/schedule/lr_scheduler.h"
#include "optim/schedule/plateau.h"
#include "optim/schedule/swalr.h"
