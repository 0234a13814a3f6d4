#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh needs on a GPU machine that has no JDK and no network, into
# .gpu-bundle/batchgen-gpu.tar.gz (ignored by git; name `.gpu-bundle` in the device tool's
# `carry`): a jlink'ed JDK 17 runtime with only the modules the engine and its tests use
# (compressed, no debug data), the engine's jars (gpu-executor, coroutine-core, their runtime
# dependencies; JCuda's natives cut down to the driver binding, DJL's tokenizer natives left
# out: the GPU checks never open a tokenizer; logging through java.util.logging), gpu-executor's
# test classes, and the JUnit console launcher. Needs a JDK 17 with jlink and Maven Central (or a filled ~/.m2).
#
#   scripts/gpu-bundle.sh            build it (about a minute; prints the size)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.gpu-bundle"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cd "$root"
mvn=(./mvnw -B -q)
if [[ "${BATCHGEN_OFFLINE:-}" == "1" ]]; then
  mvn+=(-o)
fi

echo "gpu-bundle: compiling gpu-executor and its tests"
"${mvn[@]}" -pl gpu-executor -am -DskipTests -Dbatchgen.tokenizers.skip=true package \
  dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$stage/cp.txt"
junit_version=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
platform_version="1.${junit_version#5.}"
slf4j_version=$(sed -n 's:.*<slf4j.version>\(.*\)</slf4j.version>.*:\1:p' pom.xml)
for artifact in "org.junit.platform:junit-platform-console-standalone:$platform_version" \
    "org.slf4j:slf4j-jdk14:$slf4j_version"; do
  "${mvn[@]}" dependency:copy -Dartifact="$artifact" -DoutputDirectory="$stage/lib" \
    -pl coroutine-core
done

mkdir -p "$stage/bundle/lib"
cp gpu-executor/target/batchgen-gpu-executor-*.jar coroutine-core/target/batchgen-coroutine-core-*.jar \
  "$stage/bundle/lib/"
cp "$stage/lib/"*.jar "$stage/bundle/lib/"
for jar in $(tr ':' '\n' < "$stage/cp.txt"); do
  case "$jar" in
    */target/classes) ;;                                   # packaged above
    */ai/djl/huggingface/tokenizers/*) ;;                  # 19 MB of tokenizer natives
    */net/bytebuddy/*) ;;                                  # AssertJ's optional proxies
    */org/junit/*|*/org/opentest4j/*|*/org/apiguardian/*) ;;  # in the console launcher
    */org/apache/logging/log4j/*) ;;  # log4j-core needs java.desktop: slf4j-jdk14 instead
    */jcuda-natives-*)
      mkdir -p "$stage/natives" && (cd "$stage/natives" && unzip -q -o "$jar" 'lib/libJCudaDriver-*' \
        && zip -q -r "$stage/bundle/lib/$(basename "$jar")" lib) ;;
    *) cp "$jar" "$stage/bundle/lib/" ;;
  esac
done
cp -r gpu-executor/target/test-classes "$stage/bundle/test-classes"
rm -rf "$stage/bundle/test-classes/chat-conformance"

echo "gpu-bundle: linking a Java runtime"
jlink --add-modules java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported \
  --compress=2 --strip-debug --no-header-files --no-man-pages --output "$stage/bundle/jdk"

mkdir -p "$out"
tar -C "$stage/bundle" -czf "$out/batchgen-gpu.tar.gz" .
echo "gpu-bundle: $out/batchgen-gpu.tar.gz $(du -h "$out/batchgen-gpu.tar.gz" | cut -f1)" \
  "(runtime $(du -sh "$stage/bundle/jdk" | cut -f1), jars $(du -sh "$stage/bundle/lib" | cut -f1))"
