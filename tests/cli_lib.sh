# tests/cli_lib.sh — shared by the CLI test scripts (tests/cli_*test.sh): source it after setting NIS.
# Gives a temporary directory $dir (removed on exit), pass/fail counters, ok / bad, expect, and finish.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect STATUS PATTERN CMD... : exit status and a stderr line matching PATTERN (one line only)
expect() {
  local want=$1 pat=$2; shift 2
  "$@" >"$dir/out" 2>"$dir/err"; local got=$?
  if [ "$got" != "$want" ]; then bad "$* -> exit $got, want $want: $(cat "$dir/err")"; return; fi
  if [ -n "$pat" ]; then
    grep -q -- "$pat" "$dir/err" || { bad "$* -> stderr lacks '$pat': $(cat "$dir/err")"; return; }
    [ "$(wc -l < "$dir/err")" -eq 1 ] || { bad "$* -> error is not one line: $(cat "$dir/err")"; return; }
  fi
  ok
}
# finish NAME : print the counts; the script's exit status is 0 only if something passed and nothing failed
finish() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
}
