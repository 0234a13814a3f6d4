package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ArrowResultBatcherTest {

  private final BufferAllocator allocator = new RootAllocator();

  @AfterEach
  void closeAllocator() {
    allocator.close(); // throws if a batch leaked
  }

  @ParameterizedTest
  @CsvSource({"LONG, true", "LONG, false", "STRING, true", "STRING, false"})
  void roundTripsEveryEdgeCaseThroughReusedBatches(IdType idType, boolean tokenIds) {
    ResultSchema schema = new ResultSchema(idType, tokenIds);
    List<GenerationResult> back = new ArrayList<>();
    List<Integer> batchSizes = new ArrayList<>();
    try (ArrowResultBatcher w = ArrowResultBatcher.toSink(schema, allocator, 3, 1 << 20,
        root -> {
          batchSizes.add(root.getRowCount());
          back.addAll(ArrowResultReader.read(root));
        })) {
      Fixtures.results().forEach(w::write);
      assertThat(w.rowsWritten()).isEqualTo(7);
    }

    // 3 rows per batch; the 100k-character completion (about 110 KB) stays under 1 MiB.
    assertThat(batchSizes).containsExactly(3, 3, 1);
    assertThat(back).containsExactlyElementsOf(
        tokenIds ? Fixtures.results() : Fixtures.withoutTokenIds(Fixtures.results()));
  }

  @Test
  void flushesEarlyWhenTextBytesReachTheBudget() {
    List<Integer> batchSizes = new ArrayList<>();
    try (ArrowResultBatcher w = ArrowResultBatcher.toSink(new ResultSchema(IdType.LONG, false),
        allocator, 1000, 150_000, root -> batchSizes.add(root.getRowCount()))) {
      for (int i = 0; i < 5; i++) {
        w.write(GenerationResult.completed(Integer.toString(i), Fixtures.longText(60_000), null,
            1, FinishReason.LENGTH, null, Fixtures.PROVENANCE));
      }
    }
    assertThat(batchSizes).containsExactly(3, 2);
  }

  @Test
  void ipcStreamRoundTrips() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ResultSchema schema = new ResultSchema(IdType.STRING, true);
    try (ArrowResultBatcher w = ArrowResultBatcher.toIpcStream(schema, allocator, 2, 1 << 20,
        bytes)) {
      Fixtures.results().forEach(w::write);
    }

    List<GenerationResult> back = new ArrayList<>();
    try (ArrowStreamReader reader =
        new ArrowStreamReader(new ByteArrayInputStream(bytes.toByteArray()), allocator)) {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      while (reader.loadNextBatch()) {
        back.addAll(ArrowResultReader.read(root));
      }
    }
    assertThat(back).containsExactlyElementsOf(Fixtures.results());
  }

  @Test
  void aTextIdInALongIdTableIsAClearError() {
    try (ArrowResultBatcher w = ArrowResultBatcher.toSink(new ResultSchema(IdType.LONG, false),
        allocator, 10, 1 << 20, root -> {})) {
      assertThatThrownBy(() -> w.write(GenerationResult.failed("req-7", "x", Fixtures.PROVENANCE)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("Result id [req-7] is not a long")
          .hasMessageContaining("IdType.STRING");
    }
  }

  @Test
  void readerRejectsAForeignLayout() {
    try (VectorSchemaRoot root = new TestTable(allocator, 0)
        .add("id", org.apache.arrow.vector.BigIntVector.class).build()) {
      assertThatThrownBy(() -> ArrowResultReader.read(root))
          .hasMessageContaining("not in the BatchGen result layout")
          .hasMessageContaining("docs/schemas.md");
    }
  }
}
