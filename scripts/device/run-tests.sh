# Runs in the emulated device (scripts/device-tests.sh): every staged test
# executable, from its package directory as cargo would, minus the tests
# that need a host tool (test-skips.txt). Prints one line per executable and
# the output of those that fail; exits 1 when any failed.
share=/share

# Puts the tree mirrored under $share/fs at its absolute paths: a symlink
# where nothing exists yet, one level deeper where a directory does (/tmp).
link_tree() { # link_tree SRC DST
    if [ ! -e "$2" ]; then
        ln -s "$1" "$2"
    elif [ -d "$2" ] && [ ! -L "$2" ]; then
        for child in "$1"/*; do link_tree "$child" "$2/${child##*/}"; done
    fi
}
link_tree "$share/fs" ""

# The device's tests run two at a time (the guest has two CPUs).
export RUST_TEST_THREADS=2 RUST_BACKTRACE=1

failed=0 passed=0
while IFS="$(printf '\t')" read -r exe dir; do
    name=${exe##*/}
    base=${name%-*}
    set --
    while read -r skip_exe skip_test _; do
        case $skip_exe in '#'* | '') continue ;; esac
        [ "$skip_exe" = "$base" ] && set -- "$@" --skip "$skip_test"
    done <"$share/test-skips.txt"
    start=$(date +%s)
    if (cd "$dir" && "$exe" "$@") >/tmp/test.log 2>&1; then
        passed=$((passed + 1))
        echo "PASS $base ($(($(date +%s) - start)) s; $(grep -c '^test .* ok$' /tmp/test.log) tests, skipped: $(($# / 2)))"
    else
        failed=$((failed + 1))
        echo "FAIL $base ($(($(date +%s) - start)) s)"
        tail -n 60 /tmp/test.log | sed 's/^/    /'
    fi
done <"$share/tests"
echo "device tests on $(uname -m): $passed executables passed, $failed failed"
[ "$failed" = 0 ]
