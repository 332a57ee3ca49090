# The supported LibTorch versions as tools/test and tools/make_checkpoints
# build them (sourced, not run). One line per version:
#   label | LibTorch for tools/check_consumers ("" = python3's torch) | Bazel flags | output base suffix
# 2.13 (python3's torch, the default) shares the default output base with the
# demo and a plain `bazel build`; 1.13 keeps its own, so both stay cached, and
# makes no bazel-* links (they would point into its output base, which the
# default server's //... must not walk into).
LIBTORCH_SUITES=(
  "2.13|||"
  "1.13|debian|--config=libtorch113 --symlink_prefix=/|-libtorch113"
)

# suite_startup SUFFIX: sets the array `startup` to the Bazel startup options
# of a suite whose output base is the default one plus SUFFIX.
suite_startup() {
  startup=()
  if [[ -n "$1" ]]; then startup=(--output_base="$(bazel info output_base 2>/dev/null)$1"); fi
}
