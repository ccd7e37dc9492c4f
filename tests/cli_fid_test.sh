#!/usr/bin/env bash
# `nis classifier train` and `nis fid` on a tiny MNIST-shaped data directory made here: a short training
# (JSON with the test accuracy, a loadable classifier), FID as one JSON object (same for (N,784) and
# (N,1,28,28) files, ~0 for a set against itself, `--b test`), and bad input (one line, exit 2).
# Usage: tests/cli_fid_test.sh path/to/nis
set -u
NIS="$1"
. "$(dirname "$0")/cli_lib.sh"

# data/mnist/D.json: 5 digits each, a bar whose row depends on the class (perl is in every Debian system)
mkdir -p "$dir/data/mnist"
for d in 0 1 2 3 4 5 6 7 8 9; do
  perl -e 'my ($d) = @ARGV; my @v;
           for my $k (0..4) { for my $p (0..783) { my ($y, $x) = (int($p / 28), $p % 28);
             push @v, (abs($y - 4 - 2 * $d) <= 1 && $x > 3 + $k && $x < 24) ? "0.9" : "0"; } }
           print "{\"data\": [", join(",", @v), "]}\n";' "$d" > "$dir/data/mnist/$d.json"
done
# npy float32 files of N images: (N, 784) or (N, 1, 28, 28); pixel values from a seeded generator
npy() {  # npy FILE N SHAPE SEED [BAD]
  perl -e 'my ($f, $n, $shape, $seed, $bad) = @ARGV; srand($seed);
           my $h = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: $shape, }";
           $h .= " " x (63 - (10 + length($h)) % 64) . "\n";
           open(my $o, ">", $f) or die; binmode $o;
           print $o "\x93NUMPY\x01\x00", pack("v", length($h)), $h;
           my @v = map { rand() < 0.2 ? 0.5 + 0.5 * rand() : 0 } 1 .. $n * 784;
           $v[7] = 9**9**9 / 9**9**9 if defined $bad;   # NaN
           print $o pack("f<*", @v);' "$@"
}
npy "$dir/a.npy" 40 "(40, 784)" 1
npy "$dir/a4.npy" 40 "(40, 1, 28, 28)" 1
npy "$dir/b.npy" 30 "(30, 784)" 2
npy "$dir/one.npy" 1 "(1, 784)" 3
npy "$dir/nan.npy" 4 "(4, 784)" 4 bad
npy "$dir/shape.npy" 4 "(4, 784, 1)" 5

expect 0 "" "$NIS" classifier train --help
expect 0 "" "$NIS" fid --help
expect 2 "expected the subcommand 'train'" "$NIS" classifier
expect 2 "--out is required" "$NIS" classifier train --data "$dir/data"
expect 2 "not mnist or fashion" "$NIS" classifier train --data "$dir/data" --dataset cifar --out "$dir/c.st"
expect 2 "0.json" "$NIS" classifier train --data "$dir/nowhere" --out "$dir/c.st"
printf '{"data": [0.5, 2]}' > "$dir/data/mnist/3.json.bad"
mkdir -p "$dir/bad/mnist" && cp "$dir"/data/mnist/*.json "$dir/bad/mnist/" && cp "$dir/data/mnist/3.json.bad" "$dir/bad/mnist/3.json"
expect 2 "3.json" "$NIS" classifier train --data "$dir/bad" --out "$dir/c.st"
[ ! -e "$dir/c.st" ] && ok || bad "a failed training wrote its output"

if "$NIS" classifier train --data "$dir/data" --epochs 2 --batch 8 --features 16 --out "$dir/m/c.safetensors" \
     > "$dir/train.json" 2>"$dir/err"; then ok; else bad "classifier train failed: $(cat "$dir/err")"; fi
grep -q '"test_accuracy":[01]' "$dir/train.json" && ok || bad "no test accuracy: $(cat "$dir/train.json")"
[ -s "$dir/m/c.safetensors" ] && ok || bad "no classifier written"

C="$dir/m/c.safetensors"
expect 0 "" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b "$dir/b.npy"
fab=$(sed -n 's/.*"fid":\([^,]*\),.*/\1/p' "$dir/out")
grep -q '"n_a":40' "$dir/out" && grep -q '"n_b":30' "$dir/out" && ok || bad "counts: $(cat "$dir/out")"
expect 0 "" "$NIS" fid --classifier "$C" --a "$dir/a4.npy" --b "$dir/b.npy"
fab4=$(sed -n 's/.*"fid":\([^,]*\),.*/\1/p' "$dir/out")
[ -n "$fab" ] && [ "$fab" = "$fab4" ] && ok || bad "(N,784) and (N,1,28,28) differ: '$fab' '$fab4'"
expect 0 "" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b "$dir/a4.npy"
faa=$(sed -n 's/.*"fid":\([^,]*\),.*/\1/p' "$dir/out")
awk -v a="$faa" -v b="$fab" 'BEGIN { exit !(a < 1e-6 * (b + 1e-12) + 1e-9 && b > 0) }' && ok \
  || bad "FID(a, a) = $faa not ~0 beside FID(a, b) = $fab"
expect 0 "" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b test --data "$dir/data"
grep -q '"n_b":10' "$dir/out" && ok || bad "--b test: $(cat "$dir/out")"
expect 0 "" "$NIS" fid --classifier "$C" --a test:even --b test:odd --data "$dir/data"
grep -q '"n_a":5,.*"n_b":5' "$dir/out" && ok || bad "test:even / test:odd: $(cat "$dir/out")"
expect 0 "" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b "$dir/a.npy" --b-noise 0.3 --seed 1
fn=$(sed -n 's/.*"fid":\([^,]*\),.*/\1/p' "$dir/out")
awk -v a="$fn" 'BEGIN { exit !(a > 1e-9) }' && ok || bad "FID(a, a + noise) = $fn is not positive"

expect 2 "--classifier is required" "$NIS" fid --a "$dir/a.npy" --b "$dir/b.npy"
expect 2 "No such file" "$NIS" fid --classifier "$dir/none.st" --a "$dir/a.npy" --b "$dir/b.npy"
expect 2 "classifier: .*a.npy" "$NIS" fid --classifier "$dir/a.npy" --a "$dir/a.npy" --b "$dir/b.npy"
expect 2 "missing.npy" "$NIS" fid --classifier "$C" --a "$dir/missing.npy" --b "$dir/b.npy"
expect 2 "at least 2 images" "$NIS" fid --classifier "$C" --a "$dir/one.npy" --b "$dir/b.npy"
expect 2 "element 7 is not finite" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b "$dir/nan.npy"
expect 2 "shape must be" "$NIS" fid --classifier "$C" --a "$dir/shape.npy" --b "$dir/b.npy"
expect 2 "0.json" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b test --data "$dir/nowhere"
expect 2 "test:bogus" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b test:bogus --data "$dir/data"
expect 2 "out of range" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b "$dir/b.npy" --b-noise -1
expect 2 "not mnist or fashion" "$NIS" fid --classifier "$C" --a "$dir/a.npy" --b test --dataset x

# nis classify: class shares sum to 1 over n images; a training image's nearest training image is itself
# (distance 0); the picture of the pairs; bad input
expect 0 "" "$NIS" classify --classifier "$C" --samples "$dir/a.npy"
grep -q '"n":40,' "$dir/out" && grep -q '"confident_fraction":' "$dir/out" && ok || bad "classify: $(cat "$dir/out")"
sum=$(sed -n 's/.*"class_fraction":\[\([^]]*\)\].*/\1/p' "$dir/out" | tr ',' '\n' | awk '{ s += $1 } END { print s }')
awk -v s="$sum" 'BEGIN { exit !(s > 0.999999 && s < 1.000001) }' && ok || bad "class fractions sum to $sum"
expect 0 "" "$NIS" classify --classifier "$C" --samples train --data "$dir/data" --nearest 3 --png "$dir/nn.png"
grep -q '"nearest_train_distance":\[0,0,0\]' "$dir/out" && ok || bad "training images' nearest: $(cat "$dir/out")"
[ -s "$dir/nn.png" ] && ok || bad "classify --png wrote nothing"
expect 2 "--png needs --nearest" "$NIS" classify --classifier "$C" --samples "$dir/a.npy" --png "$dir/x.png"
expect 2 "element 7 is not finite" "$NIS" classify --classifier "$C" --samples "$dir/nan.npy"
expect 2 "out of range" "$NIS" classify --classifier "$C" --samples "$dir/a.npy" --confidence 2

echo "FID(a, b) = $fab, FID(a, a) = $faa; $(cat "$dir/train.json")"
finish cli_fid_test
