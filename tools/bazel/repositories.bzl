"""Offline repository rules: Debian's Bazel rule sets, LibTorch and GoogleTest.

Everything here reads local files only (Debian packages or a LibTorch the user
points at), so `bazel build` never touches the network.
"""

def _debian_rules_cc_impl(rctx):
    # Debian's bazel-rules-cc 0.0.4 loads `use_cpp_toolchain`, which Bazel 4.2.3's
    # @bazel_tools lacks. Copy the tree and replace that call with the toolchain
    # type it stands for.
    src = rctx.attr.path
    if not rctx.path(src).exists:
        fail("rules_cc not found at %s: install Debian's bazel-rules-cc (tools/setup)" % src)
    rctx.execute(["cp", "-rL", src + "/.", "."])
    found = rctx.execute(["grep", "-rl", "--include=*.bzl", "use_cpp_toolchain", "."])
    for f in found.stdout.splitlines():
        text = rctx.read(f)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        rctx.file(f, text)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(default = "/usr/share/bazel/rules/cc")},
    local = True,
)

def _coverage_stub_impl(rctx):
    # `bazel test` resolves @remote_coverage_tools even without --coverage; an
    # empty stub keeps it offline.
    rctx.file("WORKSPACE", 'workspace(name = "remote_coverage_tools")\n')
    rctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
filegroup(name = "coverage_report_generator", srcs = [])
filegroup(name = "lcov_merger", srcs = [])
""")

coverage_stub = repository_rule(implementation = _coverage_stub_impl)

_LIBTORCH_BUILD = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "libtorch",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"], allow_empty = True),
    includes = {includes},
    defines = {defines},
    linkopts = {linkopts},
)

# TORCH_VERSION as detected, for the record: {version}
"""

def _libtorch_impl(rctx):
    # LIBTORCH=/path/to/libtorch (an unpacked official download: include/ and lib/)
    # overrides the default, Debian's libtorch-dev.
    root = rctx.os.environ.get("LIBTORCH", "").rstrip("/")
    if root:
        inc = root + "/include"
        lib = root + "/lib"
        if not rctx.path(inc + "/torch/csrc/api/include/torch/torch.h").exists:
            fail("LIBTORCH=%s does not look like a LibTorch distribution (no include/torch/csrc/api/include/torch/torch.h)" % root)
        rctx.symlink(inc, "include")
        includes = ["include", "include/torch/csrc/api/include"]
    else:
        api = "/usr/include/torch/csrc/api/include"
        lib = "/usr/lib/" + rctx.execute(["gcc", "-print-multiarch"]).stdout.strip()
        if not rctx.path(api + "/torch/torch.h").exists:
            fail("LibTorch headers not found in %s: run tools/setup (Debian libtorch-dev) or set LIBTORCH=/path/to/libtorch" % api)

        # The rest of Debian's torch headers live in /usr/include, which the
        # compiler searches anyway; only the C++ API root needs declaring.
        rctx.symlink(api, "include/api")
        includes = ["include/api"]
    libs = ["torch", "torch_cpu", "c10"]
    defines = []
    cuda = rctx.path(lib + "/libtorch_cuda.so").exists
    if cuda:
        libs += ["torch_cuda", "c10_cuda"]
    linkopts = ["-L" + lib, "-Wl,-rpath," + lib, "-Wl,--no-as-needed"]
    linkopts += ["-l" + name for name in libs]
    linkopts += ["-Wl,--as-needed", "-lpthread"]
    version = rctx.execute(["sh", "-c", "grep -h 'define TORCH_VERSION ' -A1 $(find -L include -name version.h -path '*torch/version.h' | head -1) | tail -1"]).stdout.strip()
    rctx.file("WORKSPACE", 'workspace(name = "libtorch")\n')
    rctx.file("BUILD", _LIBTORCH_BUILD.format(
        includes = repr(includes),
        defines = repr(defines),
        linkopts = repr(linkopts),
        version = version or "unknown",
    ))

libtorch_repository = repository_rule(
    implementation = _libtorch_impl,
    environ = ["LIBTORCH"],
    local = True,
)

_GTEST_BUILD = """
package(default_visibility = ["//visibility:public"])

# Debian's libgtest-dev: headers in /usr/include, static libraries in /usr/lib.
cc_library(name = "gtest", linkopts = ["-lgtest", "-lpthread"])
cc_library(name = "gtest_main", deps = [":gtest"], linkopts = ["-lgtest_main"])
cc_library(name = "benchmark", linkopts = ["-lbenchmark", "-lpthread"])
cc_library(name = "benchmark_main", deps = [":benchmark"], linkopts = ["-lbenchmark_main"])
"""

def _system_testing_impl(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "system_testing")\n')
    rctx.file("BUILD", _GTEST_BUILD)

system_testing = repository_rule(implementation = _system_testing_impl, local = True)

def adaptive_dependencies():
    """Declares every external repository adaptive needs; call from WORKSPACE."""
    if not native.existing_rule("rules_cc"):
        debian_rules_cc(name = "rules_cc")
    if not native.existing_rule("rules_java"):
        native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
    if not native.existing_rule("platforms"):
        native.local_repository(name = "platforms", path = "/usr/share/bazel/platforms")
    if not native.existing_rule("remote_coverage_tools"):
        coverage_stub(name = "remote_coverage_tools")
    if not native.existing_rule("libtorch"):
        libtorch_repository(name = "libtorch")
    if not native.existing_rule("system_testing"):
        system_testing(name = "system_testing")
