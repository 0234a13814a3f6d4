package io.batchgen.notebooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every Jupyter notebook in {@code notebooks/} executed headless, as a user would run it: the
 * kernel installed by {@code install-kernel.sh} (the Java kernel from Maven Central with
 * BatchGen's classpath and JVM flags), each notebook run top to bottom by Debian's
 * {@code jupyter nbconvert --execute}, and its outputs checked: no cell failed, each notebook
 * printed what its flow promises, and its job report is in its outputs with drawn charts. The
 * executed copies stay in {@code target/notebooks-it/executed}. The Databricks-style source
 * notebooks cannot run here (no Databricks runtime): each is compiled against this build by the
 * Scala compiler, with {@code spark}, {@code display} and {@code displayHTML} as Databricks
 * provides them.
 */
class NotebooksIT {
  static final Path ROOT = Path.of(System.getProperty("batchgen.nb.repoRoot", ".."))
      .toAbsolutePath().normalize();
  static final Path WORK = Path.of(System.getProperty("batchgen.nb.workDir",
      "target/notebooks-it")).toAbsolutePath();
  static final Path NOTEBOOKS = ROOT.resolve("notebooks");
  static final String JUPYTER = System.getProperty("batchgen.nb.jupyter", "/usr/bin/jupyter");
  static final ObjectMapper JSON = new ObjectMapper();
  /** Kernel starts a notebook gets (see {@link #execute}), and what a failed start says. */
  static final int STARTS = 3;
  static final String NO_ANSWER = "Kernel didn't respond in";

  @BeforeAll
  static void installKernel() throws Exception {
    assertThat(Path.of(JUPYTER + "-nbconvert")).as("Jupyter's nbconvert runs the notebooks; on"
        + " Debian install it with tools/ci/ensure-packages.sh /usr/bin/jupyter-nbconvert"
        + " jupyter-nbconvert python3-nbclient jupyter-client (the build does so as root), or"
        + " set -Dbatchgen.nb.jupyter=PATH").exists();
    Files.createDirectories(WORK);
    run(List.of("bash", NOTEBOOKS.resolve("install-kernel.sh").toString(), "--dir",
        WORK.resolve("jupyter").toString()), Map.of(), 600);
  }

  @Test
  void quickstartGeneratesReadsAndShowsItsReport() throws Exception {
    Executed nb = execute("quickstart");
    assertThat(nb.text()).contains("tokenizer_config.json").contains("rows: 210")
        .containsPattern("\\|\\s*length\\|\\s*\\d+\\|").contains("_batchgen_report.html");
    assertReport(nb);
  }

  @Test
  void rebalancingMovesSequencesOnTwoExecutors() throws Exception {
    Executed nb = execute("rebalancing");
    assertThat(nb.text()).contains("executors: [0, 1]")
        .contains("rows: 48, distinct ids: 48, errors: 0");
    Matcher moved = Pattern.compile("sequences moved: (\\d+)").matcher(nb.text());
    assertThat(moved.find()).isTrue();
    assertThat(Long.parseLong(moved.group(1))).as("sequences the rebalancer moved").isPositive();
    assertThat(nb.text()).containsPattern("move \\d+: [01] -> [01], ");
    assertReport(nb);
    assertThat(nb.html()).contains("<th>move</th>");
  }

  @Test
  void databricksNotebooksCompileAgainstThisBuild() throws Exception {
    List<Path> sources;
    try (Stream<Path> s = Files.list(NOTEBOOKS.resolve("databricks"))) {
      sources = s.filter(p -> p.toString().endsWith(".scala")).sorted().toList();
    }
    assertThat(sources).extracting(p -> p.getFileName().toString())
        .containsExactly("Quickstart.scala", "Rebalancing.scala");
    Path out = Files.createDirectories(WORK.resolve("databricks-classes"));
    List<String> args = new ArrayList<>(List.of("-usejavacp", "-nowarn", "-d", out.toString()));
    for (Path source : sources) {
      String text = Files.readString(source, StandardCharsets.UTF_8);
      assertThat(text).as(source.toString()).startsWith("// Databricks notebook source\n");
      assertThat(text.split("// COMMAND ----------", -1)).as("cells of " + source).hasSizeGreaterThan(4);
      String name = source.getFileName().toString().replace(".scala", "");
      // What Databricks gives a notebook: the session and the display functions.
      Path wrapped = WORK.resolve(name + "Notebook.scala");
      Files.writeString(wrapped, "object " + name + "Notebook {\n"
          + "  val spark: org.apache.spark.sql.SparkSession = null\n"
          + "  def display(df: org.apache.spark.sql.Dataset[_]): Unit = ()\n"
          + "  def displayHTML(html: String): Unit = ()\n"
          + "  def run(): Unit = {\n" + text + "\n  }\n}\n");
      args.add(wrapped.toString());
    }
    boolean ok = scala.tools.nsc.Main.process(args.toArray(String[]::new));
    assertThat(ok).as("the Databricks notebooks compile (errors above)").isTrue();
  }

  /** An executed notebook's outputs. */
  record Executed(String name, String text, String html) {
  }

  /**
   * Runs notebook {@code name} with {@code jupyter nbconvert --execute}. A kernel that never
   * answers Jupyter's first request is started again, up to {@link #STARTS} times: Jupyter's
   * client connects to the kernel's ports before the kernel's JVM binds them, and on loopback
   * such a connection can now and then join itself (its ephemeral source port is the port it
   * dials), after which the client waits for an answer that never comes (seen here about once in
   * ten starts under heavy load; nothing of ours runs yet).
   */
  static Executed execute(String name) throws Exception {
    Path executed = WORK.resolve("executed");
    Files.createDirectories(executed);
    List<String> command = List.of(JUPYTER, "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.kernel_name=batchgen-java",
        "--ExecutePreprocessor.timeout=900", "--ExecutePreprocessor.startup_timeout=90",
        "--output-dir", executed.toString(), NOTEBOOKS.resolve(name + ".ipynb").toString());
    Map<String, String> env = Map.of("JUPYTER_PATH", WORK.resolve("jupyter").toString(),
        "JUPYTER_RUNTIME_DIR", WORK.resolve("jupyter-runtime").toString(),
        "JUPYTER_DATA_DIR", WORK.resolve("jupyter-data").toString(),
        "BATCHGEN_WORK", WORK.resolve("work").resolve(name).toString());
    for (int start = 1; ; start++) {
      try {
        run(command, env, 1500);
        break;
      } catch (AssertionError e) {
        if (start == STARTS || !String.valueOf(e.getMessage()).contains(NO_ANSWER)) {
          throw e;
        }
        System.err.println(name + ": the kernel did not answer its first request; starting it"
            + " again (" + (start + 1) + " of " + STARTS + ")");
      }
    }
    JsonNode nb = JSON.readTree(executed.resolve(name + ".ipynb").toFile());
    StringBuilder text = new StringBuilder();
    StringBuilder html = new StringBuilder();
    for (JsonNode cell : nb.path("cells")) {
      if (!cell.path("cell_type").asText().equals("code")) {
        continue;
      }
      assertThat(cell.path("execution_count").isNumber()).as(name + ": a cell did not run: "
          + cell.path("source")).isTrue();
      for (JsonNode o : cell.path("outputs")) {
        assertThat(o.path("output_type").asText()).as(name + ": cell failed: "
            + o.path("ename").asText() + " " + o.path("evalue").asText()).isNotEqualTo("error");
        text.append(join(o.path("text")));
        html.append(join(o.path("data").path("text/html")));
      }
    }
    return new Executed(name, text.toString(), html.toString());
  }

  /** The notebook showed its job report, with data in the charts every job has. */
  static void assertReport(Executed nb) {
    for (String chart : List.of("finish-reasons", "expert-batch-sizes")) {
      Matcher m = Pattern.compile("id=\"" + chart + "\">\\s*<svg[^>]* data-points=\"(\\d+)\"")
          .matcher(nb.html());
      assertThat(m.find()).as(nb.name() + ": chart " + chart + " in its outputs").isTrue();
      assertThat(Integer.parseInt(m.group(1))).as(nb.name() + ": points in " + chart)
          .isPositive();
    }
  }

  private static String join(JsonNode textOrLines) {
    if (textOrLines.isArray()) {
      StringBuilder b = new StringBuilder();
      textOrLines.forEach(l -> b.append(l.asText()));
      return b.toString();
    }
    return textOrLines.asText("");
  }

  static void run(List<String> command, Map<String, String> env, int timeoutSeconds)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile(WORK, "process", ".log");
    ProcessBuilder pb = new ProcessBuilder(command).directory(NOTEBOOKS.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish in "
          + timeoutSeconds + " s; output in " + log);
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(String.join(" ", command) + " failed; output ends:\n"
        + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())))
        .isZero();
  }
}
