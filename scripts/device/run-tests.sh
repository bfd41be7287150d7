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
for top in "$share"/fs/*; do link_tree "$top" "/${top##*/}"; done

# The device's tests run two at a time (the guest has two CPUs).
export RUST_TEST_THREADS=2 RUST_BACKTRACE=1

failed=0 passed=0
while IFS="$(printf '\t')" read -r exe dir; do
    name=${exe##*/}
    # daemon/resync, syncml/resync: the package directory tells apart test
    # executables of the same name.
    base=${dir##*/}/${name%-*}
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
        # The failing tests and their panics, not the daemons' chatter.
        grep -E -A 8 'panicked at|^failures:$' /tmp/test.log | head -n 80 | sed 's/^/    /'
        grep -E '^test result:' /tmp/test.log | sed 's/^/    /'
    fi
done <"$share/tests"
echo "device tests on $(uname -m): $passed executables passed, $failed failed"
[ "$failed" = 0 ]
