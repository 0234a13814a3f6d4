package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParquetResultWriterTest {

  @TempDir
  java.nio.file.Path dir;

  private final Configuration conf = new Configuration();

  @ParameterizedTest
  @CsvSource({"LONG, true", "LONG, false", "STRING, true", "STRING, false"})
  void roundTripsEveryEdgeCase(IdType idType, boolean tokenIds) {
    Path file = new Path(dir.resolve("results.parquet").toUri());
    try (ParquetResultWriter w =
        ParquetResultWriter.open(file, conf, new ResultSchema(idType, tokenIds))) {
      Fixtures.results().forEach(w::write);
      assertThat(w.rowsWritten()).isEqualTo(7);
    }

    assertThat(ParquetResultReader.readAll(file, conf)).containsExactlyElementsOf(
        tokenIds ? Fixtures.results() : Fixtures.withoutTokenIds(Fixtures.results()));
  }

  @Test
  void writesManySmallRowGroupsIncrementally() throws Exception {
    Path file = new Path(dir.resolve("many.parquet").toUri());
    long rowsInFirstGroups;
    try (ParquetResultWriter w = ParquetResultWriter.open(file, conf,
        new ResultSchema(IdType.LONG, true), 64 << 10)) {
      for (int i = 0; i < 20_000; i++) {
        w.write(GenerationResult.completed(Integer.toString(i), "completion number " + i,
            new int[] {i, i + 1}, 10, FinishReason.STOP, (long) i, Fixtures.PROVENANCE));
      }
      // Row groups reached the file before close: the writer does not hold the partition.
      assertThat(w.bytesWritten()).isGreaterThan(64 << 10);
      rowsInFirstGroups = w.rowsWritten();
    }
    assertThat(rowsInFirstGroups).isEqualTo(20_000);
    try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(
        org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(file, conf))) {
      assertThat(reader.getRowGroups()).hasSizeGreaterThan(3);
      assertThat(reader.getRecordCount()).isEqualTo(20_000);
    }
    long[] count = {0};
    ParquetResultReader.forEach(file, conf, r -> {
      assertThat(r.id()).isEqualTo(Long.toString(count[0]));
      count[0]++;
    });
    assertThat(count[0]).isEqualTo(20_000);
  }

  @Test
  void refusesToReplaceAnExistingFile() throws Exception {
    java.nio.file.Path existing = Files.writeString(dir.resolve("taken.parquet"), "x");
    assertThatThrownBy(() -> ParquetResultWriter.open(new Path(existing.toUri()), conf,
        new ResultSchema(IdType.LONG, false)))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("Cannot create result file [")
        .hasMessageContaining("taken.parquet")
        .hasMessageContaining("does not exist yet");
  }
}
