#!/usr/bin/env bash
# Installs "BatchGen (Java)", a Jupyter kernel for the notebooks in this folder: the Java kernel
# io.github.padreati:rapaio-jupyter-kernel (from Maven Central; JShell in the kernel's own JVM),
# started with the project's JVM flags (the Vector API module, Spark's and Arrow's opens) and
# bin/batchgen's classpath (BatchGen, Spark, Arrow, Parquet), handed to the kernel as
# RJK_CLASSPATH (';'-separated). Builds what it needs on first use.
#
#   notebooks/install-kernel.sh                 # for this user: ~/.local/share/jupyter/kernels
#   notebooks/install-kernel.sh --dir DIR       # into DIR/kernels (use with JUPYTER_PATH=DIR)
#
# Then: jupyter notebook notebooks/   (or headless: jupyter nbconvert --to notebook --execute
#   --ExecutePreprocessor.kernel_name=batchgen-java notebooks/quickstart.ipynb)
# KERNEL_JAVA_OPTS adds JVM options to the kernel (e.g. -Xmx8g).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${XDG_DATA_HOME:-$HOME/.local/share}/jupyter"
if [[ "${1:-}" == "--dir" ]]; then
  dir="$2"
fi
launcher="$root/spark-plugin/target/launcher"
kernel_jar="$root/notebooks/target/kernel/rapaio-jupyter-kernel.jar"
kernel_main="$root/notebooks/target/classes"

if [[ ! -f "$launcher/classpath" || ! -f "$kernel_jar" \
    || ! -f "$kernel_main/io/batchgen/notebooks/JupyterKernel.class" ]] \
    || ! compgen -G "$root/spark-plugin/target/batchgen-spark-plugin-*.jar" > /dev/null; then
  echo "install-kernel: building BatchGen and fetching the kernel (a minute)..." >&2
  "$root/mvnw" -B -q -Dmaven.test.skip=true package -pl spark-plugin,notebooks -am \
    -f "$root/pom.xml" >&2
fi
jar="$(ls "$root"/spark-plugin/target/batchgen-spark-plugin-*.jar \
  | grep -v -e '-sources' -e '-tests' -e '-bundle' | head -n 1)"
java_bin="java"
if [[ -n "${JAVA_HOME:-}" ]]; then java_bin="$JAVA_HOME/bin/java"; fi
java_bin="$(command -v "$java_bin")"

# SPARK_HOME with an empty jars/ (and SPARK_SCALA_VERSION): what a local-cluster master needs
# when Spark comes from the classpath, as bin/batchgen sets them.
spark_home="$launcher/spark-home"
mkdir -p "$spark_home/jars"

json_string() {
  local s="${1//\\/\\\\}"
  printf '"%s"' "${s//\"/\\\"}"
}

read -r -a flags < "$launcher/jvm-flags"
# shellcheck disable=SC2206
extra=(${KERNEL_JAVA_OPTS:-})
argv=("$java_bin" "${flags[@]}" "${extra[@]}"
  "-Dlog4j2.configurationFile=$launcher/log4j2-cli.properties"
  -cp "$kernel_jar:$kernel_main" io.batchgen.notebooks.JupyterKernel "{connection_file}")
args=""
for a in "${argv[@]}"; do
  args+="${args:+, }$(json_string "$a")"
done
target="$dir/kernels/batchgen-java"
mkdir -p "$target"
# The ~180 jars go into one "pathing" jar whose manifest Class-Path lists them: the kernel adds
# its classpath entries one by one at start (seconds for 180), and Jupyter's client waits for the
# kernel's ports meanwhile; with one entry it starts in a moment.
python3 - "$target/batchgen-classpath.jar" "$jar:$(cat "$launcher/classpath")" <<'PY'
import pathlib, sys, zipfile
out, entries = sys.argv[1], [e for e in sys.argv[2].split(":") if e]
urls = " ".join(pathlib.Path(e).absolute().as_uri() for e in entries)
lines = ["Manifest-Version: 1.0", "Created-By: BatchGen install-kernel.sh"]
text = "Class-Path: " + urls
lines.append(text[:70])
lines += [" " + text[i:i + 69] for i in range(70, len(text), 69)]
with zipfile.ZipFile(out, "w") as z:
    z.writestr("META-INF/MANIFEST.MF", "\r\n".join(lines) + "\r\n\r\n")
PY
classpath="$target/batchgen-classpath.jar"
cat > "$target/kernel.json" <<EOF
{
  "argv": [$args],
  "display_name": "BatchGen (Java)",
  "language": "java",
  "interrupt_mode": "message",
  "env": {
    "RJK_CLASSPATH": $(json_string "${classpath//:/;}"),
    "RJK_TIMEOUT_MILLIS": "-1",
    "SPARK_LOCAL_IP": "127.0.0.1",
    "SPARK_HOME": $(json_string "$spark_home"),
    "SPARK_SCALA_VERSION": "2.13"
  }
}
EOF
echo "install-kernel: installed kernel batchgen-java in $target"
