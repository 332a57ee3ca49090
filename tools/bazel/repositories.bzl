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
exports_files(["version.txt"])
"""

_LIBTORCH_HEADER = "/include/torch/csrc/api/include/torch/torch.h"

def _python_torch(rctx):
    # The LibTorch inside python3's torch package (tools/setup installs the
    # pinned 2.13.0 CPU wheel), or None.
    python = rctx.which("python3")
    if not python:
        return None
    found = rctx.execute([python, "-c", "import os, torch; print(os.path.dirname(torch.__file__))"])
    root = found.stdout.strip()
    if found.return_code != 0 or not rctx.path(root + _LIBTORCH_HEADER).exists:
        return None
    return root

def _libtorch_impl(rctx):
    # Which LibTorch: LIBTORCH (bazel ... --repo_env=LIBTORCH=...) is
    #   /path/to/libtorch  an unpacked official LibTorch zip (CPU or CUDA), or a
    #                      PyTorch wheel's torch/ folder (same layout);
    #   debian             Debian's libtorch-dev (1.13.1) in /usr;
    #   unset              python3's torch if it has one (the 2.13 wheel that
    #                      tools/setup installs), else Debian's.
    choice = rctx.os.environ.get("LIBTORCH", "").rstrip("/")
    root = None
    if choice and choice not in ("debian", "/usr"):
        root = choice
        if not rctx.path(root + _LIBTORCH_HEADER).exists:
            fail("LIBTORCH=%s does not look like a LibTorch (no %s): give the folder that holds include/ and lib/" % (root, _LIBTORCH_HEADER[1:]))
    elif not choice:
        root = _python_torch(rctx)
    if root:
        inc = root + "/include"
        lib = root + "/lib"
        rctx.symlink(inc, "include")
        includes = ["include", "include/torch/csrc/api/include"]
        version_header = "include/torch/csrc/api/include/torch/version.h"
    else:
        api = "/usr/include/torch/csrc/api/include"
        lib = "/usr/lib/" + rctx.execute(["gcc", "-print-multiarch"]).stdout.strip()
        if not rctx.path(api + "/torch/torch.h").exists:
            fail("LibTorch not found: run tools/setup (the PyTorch 2.13 wheel and Debian's libtorch-dev) or set --repo_env=LIBTORCH=/path/to/libtorch")

        # The rest of Debian's torch headers live in /usr/include, which the
        # compiler searches anyway; only the C++ API root needs declaring.
        rctx.symlink(api, "include/api")
        includes = ["include/api"]
        version_header = "include/api/torch/version.h"
    libs = ["torch", "torch_cpu", "c10"]
    defines = []
    cuda = rctx.path(lib + "/libtorch_cuda.so").exists
    if cuda:
        libs += ["torch_cuda", "c10_cuda"]
    linkopts = ["-L" + lib, "-Wl,-rpath," + lib, "-Wl,--no-as-needed"]
    linkopts += ["-l" + name for name in libs]
    linkopts += ["-Wl,--as-needed", "-lpthread"]

    # The version, for the record and for tools/test's per-version reports.
    text = rctx.read(version_header) if rctx.path(version_header).exists else ""
    if "TORCH_VERSION_MAJOR" not in text:  # 2.x: the numbers moved to headeronly/version.h
        headeronly = "include/torch/headeronly/version.h"
        text = rctx.read(headeronly) if rctx.path(headeronly).exists else text
    numbers = {}
    for line in text.splitlines():
        parts = [part for part in line.split(" ") if part]
        if len(parts) == 3 and parts[0] == "#define" and parts[1] in ("TORCH_VERSION_MAJOR", "TORCH_VERSION_MINOR", "TORCH_VERSION_PATCH"):
            numbers[parts[1]] = parts[2]
    version = ".".join([numbers.get("TORCH_VERSION_" + k, "?") for k in ("MAJOR", "MINOR", "PATCH")])
    rctx.file("WORKSPACE", 'workspace(name = "libtorch")\n')
    rctx.file("version.txt", version + (" (CUDA)" if cuda else " (CPU)") + " at " + (root or "/usr (Debian)") + "\n")
    rctx.file("BUILD", _LIBTORCH_BUILD.format(
        includes = repr(includes),
        defines = repr(defines),
        linkopts = repr(linkopts),
        version = version,
    ))

libtorch_repository = repository_rule(
    implementation = _libtorch_impl,
    environ = ["LIBTORCH", "PATH"],
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
