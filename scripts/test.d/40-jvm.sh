#!/usr/bin/env bash
# Java / JNI suite: builds libdmnonce_jni (debug, with the test-only entry
# points), compiles the org.dmnonce API, the WAP-push forwarder and the JUnit
# tests with plain javac (no Gradle/Maven, no network), and runs JUnit 4 on
# the host JVM with -Xcheck:jni against a real dmnonced and
# dmnonce-testserver. Any -Xcheck:jni warning fails the suite.
# Needs a JDK (>= 16, for Unix-socket test peers) and Debian's junit4 +
# hamcrest (scripts/ci-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_name 40-jvm
target=$(cargo_target_dir)

junit=/usr/share/java/junit4.jar
hamcrest=/usr/share/java/hamcrest-core.jar
[[ -e $hamcrest ]] || hamcrest=/usr/share/java/hamcrest.jar
for tool in javac java; do
    command -v "$tool" >/dev/null || { say "$tool missing; run scripts/ci-deps.sh" >&2; exit 1; }
done
[[ -e $junit ]] || { say "$junit missing; run scripts/ci-deps.sh" >&2; exit 1; }

say "building libdmnonce_jni (features: testing) and the binaries the tests drive"
# scripts/test.sh lints the workspace without features; the test-only module
# is linted here.
cargo clippy -p dmnonce-jni --features testing --all-targets --locked -q -- -D warnings
cargo build -p dmnonce-jni --features testing --locked
# The daemon-backed tests skip (and say so) when these do not build or lack
# the interface they need; the JNI and forwarder tests run regardless.
if cargo build -p dmnonced -p dmnoncectl -p dmnonce-testserver --locked; then
    # Built: then every test must run; a skip would hide a regression.
    export DMNONCE_JVM_REQUIRE_ALL=1
else
    say "dmnonced/dmnoncectl/dmnonce-testserver did not build; daemon tests will be SKIPPED" >&2
fi

out=$target/jvm
rm -rf "$out"
mkdir -p "$out/api" "$out/receiver" "$out/tests"
cp=$junit:$hamcrest

# -Werror: the API must stay warning-free under -Xlint:all. -h writes the
# JNI headers, whose function names are checked against the library below.
javac -Xlint:all -Werror --release 11 -h "$out/headers" -d "$out/api" $(find android/java -name '*.java')
# The BroadcastReceiver needs android.jar, which Debian does not ship (see
# android/README.md); its plain-Java logic compiles and is tested here.
javac -Xlint:all -Werror --release 11 -cp "$out/api" -d "$out/receiver" \
    android/receiver/java/org/dmnonce/receiver/WapPushForwarder.java
javac -Xlint:all,-try -cp "$cp:$out/api:$out/receiver" -d "$out/tests" $(find tests/java -name '*.java')

# Every native method javac declares must be exported by the library, and
# the library must export nothing else under Java_ (drift between the two
# shows up here instead of as UnsatisfiedLinkError at run time).
jni_symbols() { nm -D --defined-only "$1" | awk '{print $3}' | grep '^Java_' | sort; }
declared=$(grep -ho 'Java_[A-Za-z0-9_]*' "$out"/headers/*.h | sort -u)
exported=$(jni_symbols "$target/debug/libdmnonce_jni.so" | grep -v '^Java_org_dmnonce_NativeTesting_' || true)
if [[ "$declared" != "$exported" ]]; then
    say "native methods declared in Java and exported by libdmnonce_jni differ:" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    exit 1
fi
say "$(echo "$declared" | wc -l) native methods match the library's exports"

log=$out/junit.log
set +e
java -Xcheck:jni \
    -Djava.library.path="$target/debug" \
    -Ddmnonce.bin.dir="$target/debug" \
    -cp "$cp:$out/api:$out/receiver:$out/tests" \
    org.dmnonce.JvmSuite \
    org.dmnonce.BoundaryTest \
    org.dmnonce.SubscriptionTest \
    org.dmnonce.receiver.WapPushForwarderTest \
    org.dmnonce.DaemonTest \
    org.dmnonce.DaemonGoneTest \
    org.dmnonce.DaemonIdleTest \
    org.dmnonce.ConcurrencyTest \
    2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# HotSpot's -Xcheck:jni reports misuse (pending exceptions ignored, local
# reference overflow, wrong thread) as "WARNING" lines without failing.
if grep -E '^WARNING|WARNING in native method|JNI local refs' "$log" >/dev/null; then
    say "-Xcheck:jni reported problems:" >&2
    grep -E '^WARNING|WARNING in native method|JNI local refs' "$log" >&2
    status=1
fi

# The jar a build other than Soong depends on (scripts/build-jar.sh,
# android/README.md): the API classes and nothing of the tests or the
# receiver, the workspace version in the manifest, sources and Javadoc, and
# usable as a dependency on its own. Checks return 1 instead of exiting, so
# the production-library check below still runs.
check_jar() {
    local paths classes sources javadoc version entry top consumer
    paths=$(bash scripts/build-jar.sh) || { say "scripts/build-jar.sh failed" >&2; return 1; }
    classes=$(sed -n 1p <<<"$paths")
    sources=$(sed -n 2p <<<"$paths")
    javadoc=$(sed -n 3p <<<"$paths")
    jar tf "$classes" >"$out/jar-classes.txt" || return 1
    grep -qx 'org/dmnonce/DmNonce.class' "$out/jar-classes.txt" ||
        { say "$classes lacks org/dmnonce/DmNonce.class" >&2; return 1; }
    # Every class is one of android/java's (inner classes by their outer
    # one): nothing from tests/java (NativeTesting, ...) or the receiver.
    while read -r entry; do
        top=${entry%.class}
        top=${top%%\$*}
        [[ -e "android/java/$top.java" ]] ||
            { say "$classes has $entry, which is not a class of android/java" >&2; return 1; }
    done < <(grep '\.class$' "$out/jar-classes.txt")
    while read -r entry; do
        entry=${entry#tests/java/}
        entry=${entry#android/receiver/java/}
        if grep -E "^${entry%.java}(\\$.*)?\\.class\$" "$out/jar-classes.txt" >&2; then
            say "$classes has a class of tests/java or android/receiver (above)" >&2
            return 1
        fi
    done < <(find tests/java android/receiver/java -name '*.java')
    if grep NativeTesting "$out/jar-classes.txt" >&2; then
        say "$classes has the test-only NativeTesting" >&2
        return 1
    fi
    version=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "dmnonce-jni"))')
    unzip -p "$classes" META-INF/MANIFEST.MF | tr -d '\r' | grep -x "Implementation-Version: $version" >/dev/null ||
        { say "$classes manifest lacks Implementation-Version: $version" >&2; return 1; }
    jar tf "$sources" | grep -x 'org/dmnonce/DmNonce.java' >/dev/null ||
        { say "$sources lacks org/dmnonce/DmNonce.java" >&2; return 1; }
    jar tf "$javadoc" | grep -x 'index.html' >/dev/null ||
        { say "$javadoc lacks index.html" >&2; return 1; }
    # A consumer compiled against the jar alone (no sourcepath, no api dir).
    consumer=$out/jar-consumer
    mkdir -p "$consumer/src/com/example" "$consumer/classes"
    cat >"$consumer/src/com/example/Consumer.java" <<'EOF'
package com.example;

import org.dmnonce.Chal;
import org.dmnonce.DmNonce;
import org.dmnonce.DmNonceException;
import org.dmnonce.Encoding;

final class Consumer {
    private Consumer() {}

    static String chal(String serverId) throws DmNonceException {
        try (DmNonce dm = DmNonce.connect(DmNonce.ANDROID_SOCKET)) {
            Chal chal = dm.issueChal(serverId, Encoding.XML);
            return chal.fragment();
        }
    }
}
EOF
    javac -Xlint:all -Werror --release 11 -implicit:none -sourcepath '' -cp "$classes" -d "$consumer/classes" \
        "$consumer/src/com/example/Consumer.java" ||
        { say "a consumer does not compile against $classes alone" >&2; return 1; }
    say "$(basename "$classes") $version: $(grep -c '\.class$' "$out/jar-classes.txt") classes, only android/java's (no test or receiver classes), sources and Javadoc jars; a consumer compiles against it alone"
}
if [[ $status -eq 0 ]]; then
    say "building dmnonce.jar (scripts/build-jar.sh)"
    check_jar || status=1
else
    say "JUnit or -Xcheck:jni failed; the jar check (scripts/build-jar.sh) is not run" >&2
fi

# The library Android.bp ships is built without the "testing" feature: it
# must not export the test-only entry points (provoked panics and the like).
cargo build -p dmnonce-jni --locked -q
if jni_symbols "$target/debug/libdmnonce_jni.so" | grep NativeTesting >/dev/null; then
    say "libdmnonce_jni without --features testing exports test entry points" >&2
    status=1
else
    say "the production build of libdmnonce_jni exports no test entry points"
fi
exit "$status"
