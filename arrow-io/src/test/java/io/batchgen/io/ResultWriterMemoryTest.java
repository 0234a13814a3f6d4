package io.batchgen.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writing 1,000,000 results keeps the heap bounded: the writers run in a forked JVM with
 * {@code -Xmx} = {@value #HEAP_MB} MiB while the results carry about 200 MB of completion text
 * and 32 MB of token ids, so holding the partition would throw OutOfMemoryError; the child also
 * reports its live heap after a full GC every 100,000 rows, which must stay under 32 MiB. The Arrow path
 * also runs under a 32 MiB allocator limit, which bounds its off-heap batches.
 */
class ResultWriterMemoryTest {

  static final int HEAP_MB = 48;
  static final long ROWS = 1_000_000;

  @TempDir
  Path dir;

  @Test
  void oneMillionResultsFitInASmallHeap() throws Exception {
    Path file = dir.resolve("million.parquet");
    String classpath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    Process p = new ProcessBuilder(
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
        "-Xmx" + HEAP_MB + "m", "-XX:+UseSerialGC",
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Dlog4j2.configurationFile=log4j2-test.properties",
        "-cp", classpath, ResultWriterMemoryCheck.class.getName(),
        Long.toString(ROWS), file.toUri().toString())
        .redirectErrorStream(true).start();
    boolean done = p.waitFor(5, TimeUnit.MINUTES);
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!done) {
      p.destroyForcibly();
    }

    assertThat(done).as("forked writer finished").isTrue();
    assertThat(p.exitValue()).as("forked writer exit code; output:%n%s", output).isZero();
    Matcher m = Pattern.compile("rows=(\\d+) maxHeapBytes=(\\d+) maxLiveHeapBytes=(\\d+) .*"
        + "arrowPeakDirectBytes=(\\d+)").matcher(output);
    assertThat(m.find()).as("figures line in:%n%s", output).isTrue();
    assertThat(Long.parseLong(m.group(1))).isEqualTo(ROWS);
    assertThat(Long.parseLong(m.group(2))).isLessThanOrEqualTo((long) HEAP_MB << 20);
    // The live set after GC stays under 32 MiB: one row group plus the JVM's own classes.
    assertThat(Long.parseLong(m.group(3))).isLessThan(32L << 20);
    assertThat(Long.parseLong(m.group(4))).isLessThanOrEqualTo(32L << 20);
    System.out.println(output.lines().filter(l -> l.startsWith("rows=")).findFirst().orElse(""));

    Configuration conf = new Configuration();
    try (ParquetFileReader reader = ParquetFileReader.open(
        HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), conf))) {
      assertThat(reader.getRecordCount()).isEqualTo(ROWS);
      assertThat(reader.getRowGroups()).hasSizeGreaterThan(5); // about 8 MiB each, compressed
    }
  }
}
