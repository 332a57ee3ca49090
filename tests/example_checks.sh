# Shared by the shell tests of the example binaries: each check is a test
# case in the JUnit XML Bazel reads ($XML_OUTPUT_FILE), so the suite summary
# counts them one by one. Source it, call check..., then finish.

# The example binaries: Bazel's runfiles put them in examples/; CMake's CTest
# gives its build folder in ADAPTIVE_BUILD_ROOT (same layout below it).
BIN="${ADAPTIVE_BUILD_ROOT:-.}/examples"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
XML="${XML_OUTPUT_FILE:-$TMP/examples_test.xml}"
PY=/usr/bin/python3
cases=() failures=0
SUITE="${SUITE:-examples}"

check() {  # check NAME COMMAND...: runs the command, records pass or fail
  local name=$1; shift
  local log="$TMP/$name.log"
  if "$@" >"$log" 2>&1; then
    cases+=("<testcase name=\"$name\" classname=\"$SUITE\"/>")
    echo "[ OK ] $name"
  else
    failures=$((failures + 1))
    local msg; msg=$(tail -c 2000 "$log" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g')
    cases+=("<testcase name=\"$name\" classname=\"$SUITE\"><failure message=\"failed\">$msg</failure></testcase>")
    echo "[FAIL] $name"; cat "$log"
  fi
}

# The --optimizer names of every optimizer in optim/optimizers.h (the
# regression's --help lists them with their defaults): the suites loop over these.
optimizers() { "$BIN/regression" --help | sed -n 's/^  \([a-z0-9_]*\): lr .*/\1/p'; }
# Those torch::optim has too (the others are marked "(adaptive only)").
# Those --shard takes (the others are marked "(not sharded)").
optimizers_sharded() { "$BIN/regression" --help | grep -v '(not sharded)' | sed -n 's/^  \([a-z0-9_]*\): lr .*/\1/p'; }
optimizers_with_builtin() { "$BIN/regression" --help | grep -v '(adaptive only)' | sed -n 's/^  \([a-z0-9_]*\): lr .*/\1/p'; }

json() {  # json FILE PYTHON-EXPRESSION-ON-d: exits 0 when the expression holds
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); ok=($2); print(d); sys.exit(0 if ok else 1)" "$1"
}

# ---- data tool: IDX files written by tools/prepare_data.py, read by the binaries
make_idx() {  # make_idx DIR N_TRAIN N_TEST
  "$PY" - "$@" <<'PYEOF'
import importlib.util, os, random, sys
spec = importlib.util.spec_from_file_location("prep", "tools/prepare_data.py")
prep = importlib.util.module_from_spec(spec); spec.loader.exec_module(prep)
out, n_train, n_test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
rng = random.Random(5)
for prefix, n in (("train", n_train), ("t10k", n_test)):
    labels = [i % 10 for i in range(n)]
    # Class-dependent images: a bright 4x4 block whose position encodes the label.
    images = []
    for lab in labels:
        img = [rng.randrange(0, 30) for _ in range(784)]
        r, c = 2 + 2 * (lab // 5) * 5, 2 + (lab % 5) * 5
        for y in range(r, r + 4):
            for x in range(c, c + 4):
                img[y * 28 + x] = 255
        images.append(img)
    prep.write_idx_images(os.path.join(out, f"{prefix}-images-idx3-ubyte"), images)
    prep.write_idx_labels(os.path.join(out, f"{prefix}-labels-idx1-ubyte"), labels)
    assert prep.idx_count(os.path.join(out, f"{prefix}-images-idx3-ubyte")) == n
PYEOF
}

expect_error() {  # expect_error MESSAGE COMMAND...: exit 1 and MESSAGE on stderr
  local message=$1; shift
  "$@" >"$TMP/err.out" 2>"$TMP/err.log"; local rc=$?
  cat "$TMP/err.log"
  [[ $rc -eq 1 ]] && grep -qF -- "$message" "$TMP/err.log"
}

expect_usage_error() {  # expect_usage_error MESSAGE COMMAND...: exit 2 before any work, MESSAGE on stderr
  local message=$1; shift
  "$@" >"$TMP/err.out" 2>"$TMP/err.log"; local rc=$?
  cat "$TMP/err.log"
  [[ $rc -eq 2 ]] || { echo "exit status $rc, expected 2"; return 1; }
  [[ ! -s $TMP/err.out ]] || { echo "it started working:"; cat "$TMP/err.out"; return 1; }
  grep -qF -- "$message" "$TMP/err.log"
}

finish() {  # writes the JUnit XML and exits non-zero if any check failed
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites><testsuite name=\"$SUITE\" tests=\"${#cases[@]}\" failures=\"$failures\">"
    printf '%s\n' "${cases[@]}"
    echo "</testsuite></testsuites>"
  } > "$XML"
  echo "${#cases[@]} cases, $failures failed"
  [[ $failures -eq 0 ]]
}
