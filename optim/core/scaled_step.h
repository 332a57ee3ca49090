#pragma once
// The fused path of adaptive::GradScaler (optim/grad_scaler.h): an optimizer
// that takes the loss scale into its own step, so that undoing the scale
// costs no pass over the gradients of its own.

namespace adaptive {

/// An optimizer whose step can undo a loss scale itself. Every adaptive
/// optimizer is one (OptimizerBase); GradScaler::step finds it by
/// dynamic_cast and otherwise unscales the gradients first, as torch.amp does.
class ScaledStep {
 public:
  /// One step of gradients that hold the loss scaled by 1 / `inv_scale`
  /// (a float32 value, as torch.amp's GradScaler computes it):
  ///   - first the step's checks, as step() runs them;
  ///   - then one read of every gradient: if any holds a NaN or ±inf, returns
  ///     false and nothing has changed (parameters, state, step counts);
  ///   - else the step, each gradient multiplied by `inv_scale` before
  ///     anything else reads it (clipping included), bit for bit what
  ///     GradScaler::unscale_ followed by step() gives; returns true.
  /// The gradients are read, never written: they still hold the scaled values.
  virtual bool step_unscaling(double inv_scale) = 0;

 protected:
  ~ScaledStep() = default;
};

}  // namespace adaptive
