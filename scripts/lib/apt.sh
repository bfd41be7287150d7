# Sourced by the scripts that install Debian packages (scripts/ci-deps.sh,
# scripts/lib/cross-env.sh, the suites that need their own tools).
#
# apt_retry COMMAND...: runs an apt-get command, and again after a pause
# when it fails. A Debian mirror in the middle of a sync serves index files
# whose size does not match their Release file ("Mirror sync in progress?"),
# and apt-get update then fails although a minute later it would not; CI
# on a fresh machine must not fail on that.
apt_retry() {
    local try
    for try in 1 2 3; do
        "$@" && return 0
        echo "apt: '$*' failed (try $try of 4), again in $((try * 10)) s" >&2
        sleep $((try * 10))
    done
    "$@"
}
