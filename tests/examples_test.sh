#!/usr/bin/env bash
# End-to-end checks of the example binaries and the data tool, each a test
# case in the JUnit XML Bazel reads ($XML_OUTPUT_FILE), so the suite summary
# counts them one by one.
set -uo pipefail

source tests/example_checks.sh

check data_tool_writes_idx make_idx "$TMP/tiny" 200 50

idx_round_trip() {
  "$PY" - "$TMP/tiny" <<'PYEOF'
import importlib.util, struct, sys
spec = importlib.util.spec_from_file_location("prep", "tools/prepare_data.py")
prep = importlib.util.module_from_spec(spec); spec.loader.exec_module(prep)
d = sys.argv[1]
with open(d + "/t10k-labels-idx1-ubyte", "rb") as f:
    magic, n = struct.unpack(">II", f.read(8)); labels = list(f.read())
assert magic == 0x801 and n == 50 and labels == [i % 10 for i in range(50)], (magic, n, labels[:12])
with open(d + "/t10k-images-idx3-ubyte", "rb") as f:
    assert struct.unpack(">IIII", f.read(16)) == (0x803, 50, 28, 28)
    assert len(f.read()) == 50 * 784
assert prep.complete(d)
PYEOF
}
check idx_round_trip idx_round_trip

truncated_detected_by_tool() {
  mkdir -p "$TMP/trunc" && cp "$TMP"/tiny/* "$TMP/trunc/"
  head -c 5000 "$TMP/tiny/train-images-idx3-ubyte" > "$TMP/trunc/train-images-idx3-ubyte"
  "$PY" -c "
import importlib.util, sys
spec = importlib.util.spec_from_file_location('prep', 'tools/prepare_data.py')
prep = importlib.util.module_from_spec(spec); spec.loader.exec_module(prep)
assert prep.idx_count('$TMP/trunc/train-images-idx3-ubyte') is None
assert not prep.complete('$TMP/trunc')
"
}
check truncated_file_detected_by_data_tool truncated_detected_by_tool

truncated_refused_by_mnist() {
  "$BIN/mnist" --data "$TMP/trunc" --max-steps 1 >"$TMP/trunc.out" 2>&1
  local code=$?
  cat "$TMP/trunc.out"
  [[ $code -eq 1 ]] && grep -q "is truncated or damaged: its header announces 200 items" "$TMP/trunc.out" \
    && grep -q "tools/prepare_data" "$TMP/trunc.out"
}
check truncated_file_refused_by_mnist truncated_refused_by_mnist

missing_refused_by_mnist() {
  "$BIN/mnist" --data "$TMP/nowhere" --max-steps 1 >"$TMP/missing.out" 2>&1
  local code=$?
  cat "$TMP/missing.out"
  [[ $code -eq 1 ]] && grep -q "cannot open $TMP/nowhere/train-images-idx3-ubyte; prepare the data with tools/prepare_data" "$TMP/missing.out"
}
check missing_data_refused_by_mnist missing_refused_by_mnist

# ---- regression: default settings converge, and adaptive == built-in
for opt in $(optimizers); do
  check "regression_${opt}_defaults_converge" bash -c "
    '$BIN/regression' --optimizer $opt --summary '$TMP/reg_$opt.json' &&
    $(declare -f json); PY=$PY json '$TMP/reg_$opt.json' 'abs(d[\"w\"] - 3) < 0.01 and abs(d[\"b\"] - 5) < 0.05 and d[\"optimizer\"] == \"$opt\"'"
  if ! optimizers_with_builtin | grep -qx "$opt"; then
    check "regression_${opt}_both_is_a_clear_error" bash -c "
      ! '$BIN/regression' --optimizer $opt --impl both > '$TMP/nb_$opt.out' 2>&1 &&
      grep -q 'LibTorch has no torch::optim::' '$TMP/nb_$opt.out'"
    continue
  fi
  check "regression_${opt}_both_identical" bash -c "
    '$BIN/regression' --optimizer $opt --impl both --steps 300 --clip-grad-value 50 --csv '$TMP/reg_$opt.csv' --summary '$TMP/regb_$opt.json' &&
    [[ \$(wc -l < '$TMP/reg_$opt.csv') -eq 601 ]] &&
    $(declare -f json); PY=$PY json '$TMP/regb_$opt.json' 'd[\"max_param_diff\"] == 0 and d[\"steps\"] == 300 and len(d[\"runs\"]) == 2 and \"param_l2\" in d and \"final_loss\" in d'"
  # Norm clipping: the fused driver's global norm (double) may differ from
  # clip_grad_norm_'s float32 one in the last bit; the runs agree to rounding.
  check "regression_${opt}_both_close_with_norm_clipping" bash -c "
    '$BIN/regression' --optimizer $opt --impl both --steps 300 --clip-grad-norm 5 --summary '$TMP/regn_$opt.json' &&
    $(declare -f json); PY=$PY json '$TMP/regn_$opt.json' 'd[\"max_param_diff\"] < 1e-3 * max(abs(d[\"w\"]), abs(d[\"b\"]))'"
done
# ---- embedding: SparseAdam on a sparse Embedding (and Adam on its head) converges
check embedding_sparse_adam_converges bash -c "
  '$BIN/embedding' --summary '$TMP/emb.json' &&
  $(declare -f json); PY=$PY json '$TMP/emb.json' 'd[\"optimizer\"] == \"sparse_adam\" and d[\"start_loss\"] > 0.1 and d[\"final_loss\"] < 1e-3'"

check regression_noisy_data bash -c "
  '$BIN/regression' --data noisy --optimizer adam --summary '$TMP/noisy.json' &&
  $(declare -f json); PY=$PY json '$TMP/noisy.json' 'abs(d[\"w\"] - 3) < 0.3 and abs(d[\"b\"] - 2.25) < 0.2'"

bad_flag_exits_2() {
  for b in regression mnist torchscript; do
    "$BIN/$b" --optimizer nope >/dev/null 2>&1; local code=$?
    [[ $code -eq 2 ]] || { echo "$b exited $code"; return 1; }
  done
}
check bad_flags_exit_2 bad_flag_exits_2

# Values CLI11's own checks let through (nan), wrapped (a number beyond
# int64) or reported unreadably (309-digit bounds): usage errors that say
# what is wrong, before any work starts.
flag_values_are_checked() {
  local R=$BIN/regression
  expect_usage_error "--lr: nan is not a finite number >= 0" "$R" --lr nan &&
  expect_usage_error "--clip-grad-norm: nan is not a finite number >= 0" "$R" --clip-grad-norm nan &&
  expect_usage_error "--timeout: nan is not a number in (0, 86400]" "$R" --timeout nan &&
  expect_usage_error "--steps: 18446744073709551617 is not a whole number in 1..1000000000" "$R" --steps 18446744073709551617 &&
  expect_usage_error "--steps: 0 is not a whole number in 1..1000000000" "$R" --steps 0 &&
  expect_usage_error "--lr-gamma: 2 is not a number in [0, 1]" "$BIN/mnist" --lr-gamma 2 &&
  expect_usage_error "--max-steps: -1 is not a whole number in 0..1000000000000" "$BIN/torchscript" --max-steps -1
}
check flag_values_are_checked_readably flag_values_are_checked
# Output files are checked before training: a typo in --summary used to
# fail after the whole run, and --checkpoint DIR left DIR.partial behind.
output_paths_are_checked_first() {
  mkdir -p "$TMP/outdir"
  expect_usage_error "--summary: directory $TMP/no/such does not exist" "$BIN/regression" --summary "$TMP/no/such/s.json" &&
  expect_usage_error "--csv: directory $TMP/no does not exist" "$BIN/mnist" --csv "$TMP/no/l.csv" &&
  expect_usage_error "--checkpoint: $TMP/outdir is a directory, not a file" "$BIN/regression" --checkpoint "$TMP/outdir" &&
  expect_usage_error "--out: $TMP/outdir is a directory, not a file" "$BIN/torchscript" --out "$TMP/outdir" &&
  [[ ! -e $TMP/outdir.partial ]]
}
check output_paths_are_checked_before_training output_paths_are_checked_first
# A library error (c10::Error) prints its message, not LibTorch's backtrace.
library_errors_without_backtrace() {
  echo "not a module" > "$TMP/not_a_module.pt"
  "$BIN/torchscript" --data "$TMP/tiny" --module "$TMP/not_a_module.pt" >/dev/null 2>"$TMP/lib.log"; local rc=$?
  cat "$TMP/lib.log"
  [[ $rc -eq 1 ]] && grep -q "^torchscript: " "$TMP/lib.log" && ! grep -q "frame #\|Exception raised from" "$TMP/lib.log"
}
check library_errors_print_without_backtrace library_errors_without_backtrace

# ---- the Python tools: a bad file or output is one line and exit 1, no traceback
one_line_error() {  # one_line_error MESSAGE COMMAND...
  local message=$1; shift
  "$@" >/dev/null 2>"$TMP/py.log"; local rc=$?
  cat "$TMP/py.log"
  [[ $rc -eq 1 && $(wc -l <"$TMP/py.log") -eq 1 ]] && grep -qF -- "$message" "$TMP/py.log" && ! grep -q Traceback "$TMP/py.log"
}
python_tools_errors() {
  touch "$TMP/a_file"
  printf 'x,y\n1,2\n' >"$TMP/bad.csv"
  printf 'step,impl,loss\n1,adaptive,0.5\n' >"$TMP/good.csv"
  one_line_error "plot_curves: $TMP/missing.csv: No such file" "$PY" tools/plot_curves.py --out "$TMP/p.png" "$TMP/missing.csv" &&
  one_line_error "plot_curves: $TMP/bad.csv:2: expected the columns step,impl,loss" "$PY" tools/plot_curves.py --out "$TMP/p.png" "$TMP/bad.csv" &&
  one_line_error "plot_curves: --out $TMP/a_file/p.png: $TMP/a_file is not a directory" "$PY" tools/plot_curves.py --out "$TMP/a_file/p.png" "$TMP/good.csv" &&
  one_line_error "Not a directory" "$PY" tools/prepare_data.py --out "$TMP/a_file/data" --only mnist &&
  one_line_error "the difference needs a log of --impl both" "$PY" tools/plot_curves.py --kind difference --out "$TMP/p.png" "$TMP/good.csv" &&
  echo '{"steps": 3}' >"$TMP/not_mnist.json" &&
  one_line_error "expected an MNIST --summary file" "$PY" tools/plot_curves.py --kind accuracy --out "$TMP/p.png" "$TMP/not_mnist.json"
}
check python_tools_fail_in_one_line python_tools_errors

# ---- the figures tools/demo draws: losses, accuracy per epoch, adaptive - built-in
draws_every_figure() {
  "$BIN/regression" --optimizer adam --impl both --steps 100 --csv "$TMP/fig_reg.csv" >/dev/null &&
  "$BIN/mnist" --data "$TMP/tiny" --model mlp --impl both --batch-size 50 --epochs 2 --csv "$TMP/fig_mn.csv" \
    --summary "$TMP/fig_mn.json" >/dev/null &&
  "$PY" tools/plot_curves.py --kind losses --logy --caption "regression --impl both" --out "$TMP/fig/losses.png" \
    "adam=$TMP/fig_reg.csv" "mnist=$TMP/fig_mn.csv" &&
  "$PY" tools/plot_curves.py --kind accuracy --out "$TMP/fig/accuracy.png" "mnist=$TMP/fig_mn.json" &&
  "$PY" tools/plot_curves.py --kind difference --out "$TMP/fig/difference.png" "$TMP/fig_reg.csv" "$TMP/fig_mn.csv" \
    >"$TMP/fig.log" && cat "$TMP/fig.log" &&
  "$BIN/regression" --optimizer nadam --impl adaptive --steps 100 --csv "$TMP/fig_nadam.csv" >/dev/null &&
  "$PY" tools/plot_curves.py --kind compare --logy --smooth 5 --title "y = 3x + 5" --out "$TMP/fig/compare.png" \
    "adam=$TMP/fig_reg.csv" "nadam=$TMP/fig_nadam.csv" "sgd=$TMP/fig_reg.csv" &&
  for png in losses accuracy difference compare; do
    [[ $(head -c 8 "$TMP/fig/$png.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || { echo "$png: not a PNG"; return 1; }
  done
}
check plot_curves_draws_every_figure draws_every_figure

# ---- the demo's tables: adaptive vs torch::optim (an adaptive-only optimizer
# has no torch::optim column), then the optimizers compared
summary_tables() {
  "$BIN/regression" --optimizer adam --impl both --steps 100 --summary "$TMP/st_adam.json" >/dev/null &&
  "$BIN/regression" --optimizer nadam --impl adaptive --steps 100 --summary "$TMP/st_nadam.json" >/dev/null &&
  "$PY" tools/summary_table.py "$TMP/st_adam.json" "$TMP/st_nadam.json" >"$TMP/st.txt" && cat "$TMP/st.txt" &&
  grep -q "^adam .*(identical)" "$TMP/st.txt" && grep -q "^nadam .*- (no torch::optim)" "$TMP/st.txt" &&
  grep -q "^nadam  *loss .* (lr 0.2, 100 steps)" "$TMP/st.txt"
}
check summary_table_compares_every_optimizer summary_tables

# ---- MNIST: a few steps on the tiny data, both implementations
for model in mlp cnn; do
  check "mnist_${model}_both_few_steps" bash -c "
    '$BIN/mnist' --data '$TMP/tiny' --model $model --impl both --batch-size 20 --max-steps 8 --clip-grad-value 1 --summary '$TMP/mnist_$model.json' &&
    $(declare -f json); PY=$PY json '$TMP/mnist_$model.json' 'd[\"steps\"] == 8 and d[\"max_param_diff\"] == 0 and 0 <= d[\"test_accuracy\"] <= 100 and d[\"model\"] == \"$model\" and len(d[\"runs\"]) == 2'"
done
# --amp: autocast for the forward pass; fp16 adds adaptive::GradScaler, whose
# fused path (adaptive) and generic path (the built-in after ATen's unscale)
# must agree bit for bit. LibTorch 1.13's CPU autocast has no float16: refused there.
check mnist_amp_bf16_both_agree bash -c "
  '$BIN/mnist' --data '$TMP/tiny' --model mlp --impl both --batch-size 20 --max-steps 8 --amp bf16 --summary '$TMP/amp_bf16.json' &&
  $(declare -f json); PY=$PY json '$TMP/amp_bf16.json' 'd[\"steps\"] == 8 and d[\"max_param_diff\"] == 0 and d[\"amp\"] == \"bf16\"'"
if "$BIN/mnist" --version | grep -q 'LibTorch 1\.'; then
  check mnist_amp_fp16_refused_on_libtorch_1 expect_error "autocast runs only bfloat16 on the CPU" \
    "$BIN/mnist" --data "$TMP/tiny" --model mlp --max-steps 2 --amp fp16
else
  check mnist_amp_fp16_scaler_paths_agree bash -c "
    '$BIN/mnist' --data '$TMP/tiny' --model mlp --impl both --batch-size 20 --max-steps 8 --amp fp16 --clip-grad-value 1 --summary '$TMP/amp_fp16.json' &&
    $(declare -f json); PY=$PY json '$TMP/amp_fp16.json' 'd[\"steps\"] == 8 and d[\"max_param_diff\"] == 0 and d[\"amp\"] == \"fp16\"'"
fi
check mnist_amp_unknown_value_is_a_usage_error expect_usage_error "--amp" "$BIN/mnist" --data "$TMP/tiny" --amp fp8
# Every optimizer's default MNIST learning rate (optim/optimizers.h) learns.
for opt in $(optimizers); do
  check "mnist_${opt}_default_lr_learns" bash -c "
    '$BIN/mnist' --data '$TMP/tiny' --model mlp --epochs 15 --batch-size 20 --optimizer $opt --summary '$TMP/mnl_$opt.json' &&
    $(declare -f json); PY=$PY json '$TMP/mnl_$opt.json' 'd[\"test_accuracy\"] >= 90'"
done
check mnist_learns_the_tiny_task bash -c "
  '$BIN/mnist' --data '$TMP/tiny' --model mlp --epochs 15 --batch-size 20 --summary '$TMP/mnist_learn.json' &&
  $(declare -f json); PY=$PY json '$TMP/mnist_learn.json' 'd[\"test_accuracy\"] >= 90'"
# A StepLR schedule resumed from a checkpoint continues where it was (the
# resume recipe in docs/options.md): the same parameters, bit for bit, as straight.
scheduled_resume() {
  local run=("$BIN/mnist" --data "$TMP/tiny" --model mlp --batch-size 40 --lr-gamma 0.5)
  "${run[@]}" --epochs 3 --save-params "$TMP/lr_straight.bin" >/dev/null &&
  "${run[@]}" --epochs 1 --checkpoint "$TMP/lr.pt" >/dev/null &&
  "${run[@]}" --epochs 3 --resume "$TMP/lr.pt" --save-params "$TMP/lr_resumed.bin" >/dev/null &&
  cmp "$TMP/lr_straight.bin" "$TMP/lr_resumed.bin"
}
check mnist_lr_schedule_resumes_exactly scheduled_resume
# --schedule/--warmup-steps/--ema-decay (adaptive's schedulers and
# AveragedModel) stopped after the first of 3 epochs and resumed from its
# checkpoint: the same parameters, bit for bit, as straight; the averaged
# model is evaluated and reported.
scheduled_ema_resume() {
  local run=("$BIN/mnist" --data "$TMP/tiny" --model mlp --batch-size 40 --schedule onecycle --warmup-steps 3 --ema-decay 0.9)
  "${run[@]}" --epochs 3 --save-params "$TMP/oc_straight.bin" --summary "$TMP/oc.json" >/dev/null &&
  "${run[@]}" --epochs 3 --max-steps 5 --checkpoint "$TMP/oc.pt" >/dev/null &&
  "${run[@]}" --epochs 3 --resume "$TMP/oc.pt" --save-params "$TMP/oc_resumed.bin" >/dev/null &&
  cmp "$TMP/oc_straight.bin" "$TMP/oc_resumed.bin" &&
  json "$TMP/oc.json" 'd["ema_test_accuracy"] > 50 and d["schedule"] == "onecycle" and d["final_lr"] < 1e-4' &&
  # The schedule is sized for --epochs: resuming with others is refused, naming the setting.
  ! "${run[@]}" --epochs 4 --resume "$TMP/oc.pt" 2>"$TMP/oc_err.txt" >/dev/null && grep -q schedule_steps "$TMP/oc_err.txt"
}
check mnist_schedule_and_ema_resume_exactly scheduled_ema_resume
# Every --schedule, after a warm-up, brings Adam (lr 0.2) over 3,000 steps to
# the regression's convergence criterion, |w − 3| < 0.01 and |b − 5| < 0.05,
# and so does the EMA of its parameters (decaying schedules need more than the
# example's default 1,000 steps: exponential's b is 0.55 off at 1,000, 0.045 at 2,000).
for schedule in step multistep exponential cosine cosine_restarts onecycle cyclic linear plateau; do
  check "regression_schedule_${schedule}_converges" bash -c "
    '$BIN/regression' --steps 3000 --schedule $schedule --warmup-steps 20 --ema-decay 0.9 --summary '$TMP/rs_$schedule.json' >/dev/null &&
    $(declare -f json); PY=$PY json '$TMP/rs_$schedule.json' 'all(abs(r[\"w\"] - 3) < 0.01 and abs(r[\"b\"] - 5) < 0.05 for r in (d, d[\"ema\"]))'"
done
# --find-lr: the range test prints a suggestion and writes its curve; the
# parameters are put back (a second run reports the same).
find_lr_check() {
  "$BIN/regression" --find-lr --find-lr-csv "$TMP/lr_find.csv" >"$TMP/lr_find.out" &&
  grep -q "learning-rate finder: suggested lr .*steepest descent of the smoothed loss" "$TMP/lr_find.out" &&
  [[ $(wc -l <"$TMP/lr_find.csv") -ge 20 ]] && head -1 "$TMP/lr_find.csv" | grep -q '^step,lr,loss,smoothed_loss$' &&
  "$BIN/mnist" --data "$TMP/tiny" --model mlp --batch-size 20 --find-lr | grep -q "mnist: learning-rate finder: suggested lr"
}
check find_lr_suggests_and_writes_its_curve find_lr_check
check schedule_unknown_name_is_a_usage_error expect_usage_error "--schedule" "$BIN/regression" --schedule sawtooth

# ---- TorchScript: train a few steps, save, reload, same accuracy
check torchscript_train_save_reload bash -c "
  '$BIN/torchscript' --data '$TMP/tiny' --epochs 2 --batch-size 20 --out '$TMP/trained.pt' --summary '$TMP/ts.json' &&
  [[ -s '$TMP/trained.pt' ]] &&
  $(declare -f json); PY=$PY json '$TMP/ts.json' 'd[\"reloaded_test_accuracy\"] == d[\"test_accuracy\"] and d[\"steps\"] == 20'"

finish
