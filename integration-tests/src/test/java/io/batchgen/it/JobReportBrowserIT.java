package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The job report of {@code bin/batchgen demo}, rendered by Debian's headless Chromium: every chart
 * the demo has data for is in the browser's DOM with its data (SVG marks with coordinates), and
 * the screenshot shows the charts' ink. The screenshot is kept as a build artefact
 * ({@code target/report-it/demo-report.png}). The module's build installs Chromium on a bare
 * Debian CI machine ({@code tools/ci/ensure-packages.sh}).
 */
class JobReportBrowserIT {
  static final Path ROOT = Path.of(System.getProperty("batchgen.it.repoRoot", ".."))
      .toAbsolutePath().normalize();
  static final Path OUT = Path.of(System.getProperty("batchgen.it.reportDir",
      "target/report-it")).toAbsolutePath();
  static final String CHROMIUM = System.getProperty("batchgen.it.chromium", "/usr/bin/chromium");
  /** The first series colour of every chart (SvgChart.PALETTE[0]). */
  static final int INK = 0x1f77b4;

  @Test
  void theDemosReportDrawsItsChartsInAHeadlessBrowser() throws Exception {
    assertThat(Path.of(CHROMIUM)).as("Chromium is needed to render the job report; on Debian"
        + " install it with tools/ci/ensure-packages.sh /usr/bin/chromium chromium (the build"
        + " does so as root), or set -Dbatchgen.it.chromium=PATH").exists();
    Files.createDirectories(OUT);
    Path work = OUT.resolve("demo");

    // Load reports every 250 ms, so even a short demo job draws lines.
    List<String> demo = run(List.of(ROOT.resolve("bin/batchgen").toString(), "demo", "--work",
        work.toString(), "--rows", "300", "--maxNewTokens", "24"), 600,
        "-Dspark.batchgen.rebalance.loadReportInterval=250ms");
    String reportLine = demo.stream().filter(l -> l.startsWith("batchgen: job report in "))
        .findFirst().orElseThrow(() -> new AssertionError("demo printed no report path:\n"
            + String.join("\n", demo)));
    Path report = Path.of(reportLine.substring("batchgen: job report in ".length()).trim());
    assertThat(report).exists().hasFileName("_batchgen_report.html");

    String dom = String.join("\n", run(browser("--dump-dom", report), 180, null));
    assertThat(dom).contains("<h1>batchgen job ");
    for (String chart : List.of("tokens-per-second", "expert-batch-sizes", "kv-use",
        "finish-reasons")) {
      assertThat(dataPoints(dom, chart)).as("points drawn in chart " + chart).isPositive();
    }
    assertThat(marks(dom, "<path class=\"series\"[^>]* d=\"M[0-9.]+ [0-9.]+ L"))
        .as("line charts with at least two points").isGreaterThanOrEqualTo(2);
    assertThat(marks(dom, "<rect class=\"bar\"[^>]* height=\"[1-9]"))
        .as("bars with height").isGreaterThanOrEqualTo(3);

    Path png = OUT.resolve("demo-report.png");
    Files.deleteIfExists(png);
    run(browser("--screenshot=" + png, report), 180, null);
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image).as("screenshot " + png).isNotNull();
    assertThat(inkPixels(image)).as("pixels of the charts' colour in " + png)
        .isGreaterThan(2_000);
  }

  static List<String> browser(String mode, Path page) {
    return List.of(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--window-size=1000,3400", mode, page.toUri().toString());
  }

  /** The {@code data-points} of the chart {@code id} in {@code html}. */
  static int dataPoints(String html, String id) {
    Matcher m = Pattern.compile("id=\"" + id + "\">\\s*<svg[^>]* data-points=\"(\\d+)\"")
        .matcher(html);
    assertThat(m.find()).as("chart " + id + " in the page").isTrue();
    return Integer.parseInt(m.group(1));
  }

  static int marks(String html, String regex) {
    Matcher m = Pattern.compile(regex).matcher(html);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  static int inkPixels(BufferedImage image) {
    int n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int rgb = image.getRGB(x, y) & 0xffffff;
        if (Math.abs((rgb >> 16) - (INK >> 16)) < 12
            && Math.abs(((rgb >> 8) & 0xff) - ((INK >> 8) & 0xff)) < 12
            && Math.abs((rgb & 0xff) - (INK & 0xff)) < 12) {
          n++;
        }
      }
    }
    return n;
  }

  /** Runs {@code command}, returns its stdout lines; fails with its output when it fails. */
  static List<String> run(List<String> command, int timeoutSeconds, String javaOpts)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile());
    Path log = Files.createTempFile(OUT, "process", ".log");
    pb.redirectErrorStream(false).redirectError(log.toFile());
    if (javaOpts != null) {
      pb.environment().put("JAVA_OPTS", javaOpts);
    }
    Process p = pb.start();
    List<String> out = new ArrayList<>();
    Thread reader = new Thread(() -> {
      try {
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
            .forEach(out::add);
      } catch (IOException e) {
        out.add("(stdout unreadable: " + e + ")");
      }
    });
    reader.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command.get(0) + " did not finish in " + timeoutSeconds
          + " s; stderr in " + log);
    }
    reader.join(10_000);
    assertThat(p.exitValue()).as(String.join(" ", command) + " exit code; stdout:\n"
        + String.join("\n", out) + "\nstderr tail:\n" + tail(log)).isZero();
    return out;
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }
}
