// The shell of every optimizer of optim/optimizers.h, compiled once here:
// optimizers.h declares these instances extern, so that no other file
// compiles OptimizerBase's members again (see optimizer_base_impl.h).

#include "optim/core/optimizer_base_impl.h"
#include "optim/optimizers.h"

namespace adaptive {

#define ADAPTIVE_INSTANTIATE_SHELL(Class, ...) template class OptimizerBase<Class, Class::Options, Class::State>;
ADAPTIVE_OPTIMIZERS(ADAPTIVE_INSTANTIATE_SHELL)
#undef ADAPTIVE_INSTANTIATE_SHELL

}  // namespace adaptive
