#!/usr/bin/env bash
# Builds the org.dmnonce Java API (android/java/org/dmnonce/) as a plain jar,
# for a build that is not Soong (an app, a host tool, a Maven/Gradle
# repository): with javac --release 11 (the level scripts/test.d/40-jvm.sh
# compiles and tests it at), no Gradle/Maven, no network, no Android SDK.
#
#   scripts/build-jar.sh
#
# Writes into <cargo target dir>/jar/ and prints the three paths:
#   dmnonce.jar          the API classes; manifest with Implementation-Title,
#                        Implementation-Version (the workspace version from
#                        Cargo.toml [workspace.package]) and
#                        Automatic-Module-Name: org.dmnonce
#   dmnonce-sources.jar  the .java files
#   dmnonce-javadoc.jar  javadoc -Xdoclint:all,-missing, warnings are errors
# Only the API is in them: the receiver (android/receiver/) needs android.jar
# and the test classes (tests/java/, NativeTesting among them) stay out.
# The native library is not in the jar: libdmnonce_jni (cargo build -p
# dmnonce-jni; libdmnonce_jni in Android.bp) is loaded at run time by
# NativeLibrary (android/README.md, "The Java API as a jar").
#
# Reproducible: sorted file lists, no javadoc timestamp, and every entry
# dated SOURCE_DATE_EPOCH if set, else 1980-01-01T00:00:02Z (jar --date,
# JDK 17 and later; an older jar dates entries with the build time). Needs a
# JDK >= 11 (javac, javadoc, jar) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/target-dir.sh
source scripts/lib/target-dir.sh

for tool in javac javadoc jar python3; do
    command -v "$tool" >/dev/null || { echo "build-jar: $tool missing (a JDK: scripts/ci-deps.sh)" >&2; exit 1; }
done

version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')
[[ -n "$version" ]] || { echo "build-jar: no [workspace.package] version in Cargo.toml" >&2; exit 1; }

out=$(cargo_target_dir)/jar
work=$out/work
rm -rf "$out"
mkdir -p "$work/classes" "$work/sources" "$work/javadoc"

# The API and nothing else, as 40-jvm.sh compiles it (its "api" step).
mapfile -t sources < <(find android/java -name '*.java' | LC_ALL=C sort)
[[ ${#sources[@]} -gt 0 ]] || { echo "build-jar: no sources under android/java" >&2; exit 1; }

javac -Xlint:all -Werror --release 11 -encoding UTF-8 -d "$work/classes" "${sources[@]}"
javadoc -quiet -Werror -Xdoclint:all,-missing --release 11 -encoding UTF-8 \
    -docencoding UTF-8 -charset UTF-8 -notimestamp \
    -windowtitle "dmnonce $version" -doctitle "dmnonce $version: the org.dmnonce Java API" \
    -d "$work/javadoc" "${sources[@]}"
(cd android/java && find . -name '*.java' -exec cp --parents -t "$work/sources" {} +)

date_opt=()
if jar --help 2>&1 | grep -q -- '--date'; then
    if [[ -n "${SOURCE_DATE_EPOCH:-}" ]]; then
        date_opt=("--date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)")
    else
        date_opt=(--date=1980-01-01T00:00:02Z)
    fi
fi

cat >"$work/MANIFEST.MF" <<EOF
Implementation-Title: dmnonce
Implementation-Version: $version
Automatic-Module-Name: org.dmnonce
EOF

# make_jar JAR DIR [jar options]: DIR's files, in sorted order, into JAR.
make_jar() {
    local jarfile=$1 dir=$2
    shift 2
    (cd "$dir" && find . -type f | sed 's|^\./||' | LC_ALL=C sort >"$work/list" &&
        jar --create --file "$jarfile" "${date_opt[@]}" "$@" "@$work/list")
}
make_jar "$out/dmnonce.jar" "$work/classes" --manifest "$work/MANIFEST.MF"
make_jar "$out/dmnonce-sources.jar" "$work/sources" --manifest "$work/MANIFEST.MF"
make_jar "$out/dmnonce-javadoc.jar" "$work/javadoc" --manifest "$work/MANIFEST.MF"

echo "$out/dmnonce.jar"
echo "$out/dmnonce-sources.jar"
echo "$out/dmnonce-javadoc.jar"
