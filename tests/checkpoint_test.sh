#!/usr/bin/env bash
# Checkpoints of the example binaries survive SIGKILL at random moments:
# every trial kills a run with --checkpoint (up to 3 times, at random times,
# resuming in between), then resumes it to the end. The checkpoint must always
# load, and the resumed run must end exactly (bit for bit) where an
# uninterrupted run ends. Plus: resuming with other settings, a missing or a
# damaged checkpoint are clear errors.
set -uo pipefail

SUITE=checkpoint
source tests/example_checks.sh
RANDOM=20261123  # reproducible kill times (the machine's timing is not)

make_idx "$TMP/tiny" 400 100 >/dev/null

# run_ms COMMAND...: runs it (output discarded) and prints how many ms it took.
run_ms() {
  local t0; t0=$(date +%s%N)
  "$@" >/dev/null || return 1
  echo $((($(date +%s%N) - t0) / 1000000))
}

# kill_trials NAME TRIALS MIN_MS SPAN_MS REFERENCE_JSON COMMAND...: kills after MIN + U[0, SPAN) ms
# COMMAND takes --checkpoint/--resume/--summary. Compares the keys in $KEYS.
# The window comes from the uninterrupted run's time (10% to 90% of it), so
# kills land whatever the machine's speed; a test in which none landed fails.
kill_trials() {
  local name=$1 trials=$2 min_ms=$3 span_ms=$4 reference=$5; shift 5
  local ck="$TMP/$name.pt" kills=0 during_save=0 before_first=0
  for ((t = 1; t <= trials; t++)); do
    rm -f "$ck" "$ck.partial"
    for ((k = 0; k < 3; k++)); do
      local resume=(); [[ -f "$ck" ]] && resume=(--resume "$ck")
      "$@" --checkpoint "$ck" "${resume[@]}" >"$TMP/$name.run.log" 2>&1 &
      local pid=$!
      local ms=$((min_ms + RANDOM % span_ms))
      sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
      kill -9 "$pid" 2>/dev/null
      wait "$pid"; local rc=$?
      if [[ $rc -eq 0 ]]; then break; fi  # finished before the kill
      if [[ $rc -ne 137 ]]; then echo "trial $t: run exited $rc (not killed):"; cat "$TMP/$name.run.log"; return 1; fi
      kills=$((kills + 1))
      [[ -f "$ck.partial" ]] && during_save=$((during_save + 1))
      [[ -f "$ck" ]] || before_first=$((before_first + 1))
    done
    local resume=(); [[ -f "$ck" ]] && resume=(--resume "$ck")
    if ! "$@" --checkpoint "$ck" "${resume[@]}" --summary "$TMP/$name.json" >"$TMP/$name.run.log" 2>&1; then
      echo "trial $t: resuming failed:"; cat "$TMP/$name.run.log"; return 1
    fi
    "$PY" - "$reference" "$TMP/$name.json" "$KEYS" <<'PYEOF' || { echo "trial $t: resumed run differs"; return 1; }
import json, sys
ref, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for key in sys.argv[3].split():
    assert ref[key] == got[key], (key, ref[key], got[key])
PYEOF
  done
  if ((kills == 0)); then echo "$name: no kill landed in $trials trials (every run ended before its kill)"; return 1; fi
  echo "$name: $trials trials, $kills kills ($during_save while saving, $before_first before the first checkpoint); every checkpoint loaded and every resumed run ended bit-identical" | tee -a "$TMP/kill_stats"
}

# ---- regression: a checkpoint after every step, so many kills land mid-save
REG=("$BIN/regression" --impl both --steps 1500 --checkpoint-every 1)
reg_ms=$(run_ms "${REG[@]}" --summary "$TMP/reg_ref.json")
KEYS="w b final_loss max_param_diff"
check regression_survives_sigkill kill_trials regression 15 $((reg_ms / 10)) $((reg_ms * 8 / 10 + 1)) "$TMP/reg_ref.json" \
  "${REG[@]}" --csv "$TMP/reg.csv"
check regression_csv_has_each_step_once "$PY" -c "
import csv, collections
rows = list(csv.DictReader(open('$TMP/reg.csv')))
count = collections.Counter((r['impl'], int(r['step'])) for r in rows)
assert len(count) == 2 * 1500 and max(count.values()) == 1, (len(count), max(count.values()))"

# ---- MNIST (MLP, both implementations): a checkpoint after every epoch
MN=("$BIN/mnist" --data "$TMP/tiny" --model mlp --impl both --batch-size 20 --epochs 8)
mnist_ms=$(run_ms "${MN[@]}" --summary "$TMP/mnist_ref.json")
KEYS="param_l2 final_loss test_accuracy max_param_diff steps epochs"
check mnist_survives_sigkill kill_trials mnist 8 $((mnist_ms / 10)) $((mnist_ms * 8 / 10 + 1)) "$TMP/mnist_ref.json" "${MN[@]}"

# ---- CNN (dropout: the RNG matters) and TorchScript: stop after an epoch, resume
resume_equals() {  # resume_equals NAME REF_ARGS -- COMMAND...: 3 epochs straight vs 1 + resume to 3
  local name=$1; shift
  "$@" --epochs 3 --summary "$TMP/$name.ref.json" >/dev/null &&
  "$@" --epochs 1 --checkpoint "$TMP/$name.pt" >/dev/null &&
  "$@" --epochs 3 --resume "$TMP/$name.pt" --summary "$TMP/$name.json" >/dev/null &&
  "$PY" -c "
import json
a, b = json.load(open('$TMP/$name.ref.json')), json.load(open('$TMP/$name.json'))
assert (a['param_l2'], a['final_loss'], a['steps']) == (b['param_l2'], b['final_loss'], b['steps']), (a, b)"
}
check mnist_cnn_resume_is_exact resume_equals cnn "$BIN/mnist" --data "$TMP/tiny" --model cnn --batch-size 40 --optimizer rmsprop
# Muon's recipe (examples/muon_recipe.h): two optimizers' state in one checkpoint.
check mnist_cnn_muon_resume_is_exact resume_equals cnn_muon "$BIN/mnist" --data "$TMP/tiny" --model cnn --batch-size 40 \
  --optimizer muon --lr-gamma 0.5
# --amp fp16: the loss scaler's state (scale, growth tracker) in the checkpoint
# (bf16 on LibTorch 1.13, whose CPU autocast has no float16: no scaler there).
amp=fp16; "$BIN/mnist" --version | grep -q 'LibTorch 1\.' && amp=bf16
check mnist_amp_resume_is_exact resume_equals amp "$BIN/mnist" --data "$TMP/tiny" --model mlp --batch-size 40 --amp $amp
check torchscript_resume_is_exact resume_equals ts "$BIN/torchscript" --data "$TMP/tiny" --batch-size 40 --out "$TMP/ts_out.pt"

# ---- refusals
"$BIN/regression" --steps 10 --checkpoint "$TMP/adam.pt" >/dev/null
check resume_with_other_settings_is_refused expect_error 'optimizer: checkpoint has "adam", this run has "rmsprop"' \
  "$BIN/regression" --optimizer rmsprop --resume "$TMP/adam.pt"
check resume_missing_file_is_refused expect_error "cannot read checkpoint '$TMP/none.pt'" \
  "$BIN/regression" --resume "$TMP/none.pt"
head -c 300 "$TMP/adam.pt" > "$TMP/cut.pt"
check resume_truncated_file_is_refused expect_error "checkpoint '$TMP/cut.pt' is damaged or not a checkpoint" \
  "$BIN/regression" --resume "$TMP/cut.pt"
check resume_other_model_is_refused expect_error 'model: checkpoint has "mlp", this run has "cnn"' \
  "$BIN/mnist" --data "$TMP/tiny" --model cnn --impl both --batch-size 20 --resume "$TMP/mnist.pt"

cat "$TMP/kill_stats"
finish
