package io.batchgen.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ArrowPromptConverterTest {

  private final BufferAllocator allocator = new RootAllocator();

  @AfterEach
  void closeAllocator() {
    allocator.close(); // throws if a test leaked Arrow memory
  }

  @ParameterizedTest
  @EnumSource(IdType.class)
  void roundTripsEveryEdgeCase(IdType idType) {
    List<PromptRequest> in = Fixtures.edgeCases();
    try (VectorSchemaRoot root = ArrowPromptWriter.write(in, idType, allocator)) {
      assertThat(ArrowPromptConverter.idType(root.getSchema(), PromptSchema.DEFAULT))
          .isEqualTo(idType);

      PromptBatch out = new ArrowPromptConverter("test", PromptSchema.DEFAULT, BadRowPolicy.FAIL)
          .convert(root);

      assertThat(out.errors()).isEmpty();
      assertThat(out.requests()).containsExactlyElementsOf(in);
      assertThat(out.requests().get(3).prompt()).hasSize(100_000);
      assertThat(out.requests().get(3).promptChars()).isEqualTo(100_000);
    }
  }

  @Test
  void acceptsOtherColumnNamesNarrowerTypesAndSingleStopString() {
    try (VectorSchemaRoot root = new TestTable(allocator, 3)
        .add("request_key", VarCharVector.class, v -> {
          for (int i = 0; i < 3; i++) {
            v.setSafe(i, ("k" + i).getBytes(StandardCharsets.UTF_8));
          }
        })
        .add("text", VarCharVector.class, v -> {
          for (int i = 0; i < 3; i++) {
            v.setSafe(i, ("p" + i).getBytes(StandardCharsets.UTF_8));
          }
        })
        .add(PromptSchema.TEMPERATURE, Float4Vector.class, v -> v.setSafe(0, 0.5f))
        .add(PromptSchema.TOP_P, IntVector.class, v -> v.setSafe(1, 1))
        .add(PromptSchema.STOP, VarCharVector.class,
            v -> v.setSafe(2, "###".getBytes(StandardCharsets.UTF_8)))
        .build()) {

      PromptBatch out = new ArrowPromptConverter("t", PromptSchema.DEFAULT
          .withIdColumn("request_key").withPromptColumn("text"), BadRowPolicy.FAIL).convert(root);

      assertThat(out.requests()).containsExactly(
          new PromptRequest("k0", "p0", null, new GenerationOverrides(null, 0.5, null, null, null,
              null)),
          new PromptRequest("k1", "p1", null, new GenerationOverrides(null, null, 1.0, null, null,
              null)),
          new PromptRequest("k2", "p2", null, new GenerationOverrides(null, null, null, null, null,
              List.of("###"))));
    }
  }

  @Test
  void missingIdColumnNamesTheColumnsAndTheFix() {
    try (VectorSchemaRoot root = new TestTable(allocator, 1).add("prompt", VarCharVector.class)
        .add("key", BigIntVector.class).build()) {
      assertThatThrownBy(() -> convert(root, BadRowPolicy.ERROR_RECORD))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("column 'id'")
          .hasMessageContaining("id column is missing; columns are [prompt, key]")
          .hasMessageContaining("set the id column option");
    }
  }

  @Test
  void missingPromptAndMessagesColumnsIsASchemaError() {
    try (VectorSchemaRoot root = new TestTable(allocator, 1).add("id", BigIntVector.class)
        .add("question", VarCharVector.class).build()) {
      assertThatThrownBy(() -> convert(root, BadRowPolicy.FAIL))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("neither a prompt column 'prompt' nor a messages column"
              + " 'messages' exists; columns are [id, question]");
    }
  }

  @Test
  void wrongColumnTypesNameColumnTypeAndCast() {
    try (VectorSchemaRoot root = new TestTable(allocator, 1).add("id", Float8Vector.class)
        .add("prompt", VarCharVector.class).build()) {
      assertThatThrownBy(() -> convert(root, BadRowPolicy.ERROR_RECORD))
          .hasMessageContaining("column 'id': the column has type double but must"
              + " be a long (any integer) or a string");
    }
    try (VectorSchemaRoot root = new TestTable(allocator, 1).add("id", BigIntVector.class)
        .add("prompt", IntVector.class).build()) {
      assertThatThrownBy(() -> convert(root, BadRowPolicy.FAIL))
          .hasMessageContaining("column 'prompt': the column has type int but must be a"
              + " string. Cast it to string");
    }
    try (VectorSchemaRoot root = new TestTable(allocator, 1).add("id", BigIntVector.class)
        .add("prompt", VarCharVector.class).add("max_new_tokens", Float8Vector.class).build()) {
      assertThatThrownBy(() -> convert(root, BadRowPolicy.FAIL))
          .hasMessageContaining("column 'max_new_tokens': the column has type"
              + " double but must be an integer")
          .hasMessageContaining("cast(\"long\")");
    }
  }

  @Test
  void nullIdFailsNamingRowAndColumnOrBecomesAnErrorRecord() {
    try (VectorSchemaRoot root =
        idsAndPrompts(new Long[] {10L, null, 12L}, "a", "b", "c").build()) {
      assertThatThrownBy(() -> convert(root, BadRowPolicy.FAIL))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("Bad prompt row in [src] at row 1, column 'id': the id is null")
          .hasMessageContaining("BadRowPolicy.ERROR_RECORD")
          .satisfies(e -> assertThat(((BadInputException) e).rowNumber()).isEqualTo(1));

      PromptBatch batch = convert(root, BadRowPolicy.ERROR_RECORD);
      assertThat(batch.requests()).extracting(PromptRequest::id).containsExactly("10", "12");
      assertThat(batch.errors()).singleElement().satisfies(e -> {
        assertThat(e.rowNumber()).isEqualTo(1);
        assertThat(e.id()).isNull();
        assertThat(e.column()).isEqualTo("id");
      });
    }
  }

  @Test
  void duplicateIdsAreCaughtAcrossBatchesWithGlobalRowNumbers() {
    ArrowPromptConverter converter =
        new ArrowPromptConverter("part-3", PromptSchema.DEFAULT, BadRowPolicy.ERROR_RECORD);
    try (VectorSchemaRoot first = idsAndPrompts(new Long[] {1L, 2L}, "a", "b").build();
        VectorSchemaRoot second = idsAndPrompts(new Long[] {3L, 1L}, "c", "d").build()) {
      assertThat(converter.convert(first).errors()).isEmpty();
      PromptBatch batch = converter.convert(second);

      assertThat(batch.requests()).extracting(PromptRequest::id).containsExactly("3");
      assertThat(batch.errors()).singleElement().satisfies(e -> assertThat(e.describe())
          .isEqualTo("Bad prompt row in [part-3] at row 3 (id 1), column 'id': the id [1]"
              + " appeared before in this input. Ids must be unique because results are matched"
              + " to prompts by id; de-duplicate the input (e.g. dropDuplicates on the id"
              + " column)."));
      assertThat(converter.rowsRead()).isEqualTo(4);
    }
  }

  @Test
  void duplicateCheckCanBeSwitchedOff() {
    try (VectorSchemaRoot root = idsAndPrompts(new Long[] {1L, 1L}, "a", "b").build()) {
      PromptBatch batch = new ArrowPromptConverter("s",
          PromptSchema.DEFAULT.withDuplicateIdCheck(false), BadRowPolicy.FAIL).convert(root);
      assertThat(batch.requests()).hasSize(2);
    }
  }

  @Test
  void invalidUtf8NamesRowColumnAndByteOffset() {
    try (VectorSchemaRoot root = idsAndPrompts(new Long[] {1L, 2L}, "fine", "x").build()) {
      byte[] bad = {'o', 'k', (byte) 0xC3, '(', 'z'}; // 0xC3 must be followed by a continuation
      ((VarCharVector) root.getVector("prompt")).setSafe(1, bad);

      assertThatThrownBy(() -> convert(root, BadRowPolicy.FAIL))
          .hasMessageContaining("at row 1 (id 2), column 'prompt': the value is not valid UTF-8"
              + " (bad byte 0xC3 at byte offset 2 of 5). Re-encode the column as UTF-8");
      assertThat(convert(root, BadRowPolicy.ERROR_RECORD).errors()).extracting(RowError::id)
          .containsExactly("2");
    }
  }

  @Test
  void rowWithNeitherPromptNorMessagesAndBadOverrideAreRowErrors() {
    try (VectorSchemaRoot root = idsAndPrompts(new Long[] {1L, 2L, 3L}, null, "b", "c")
        .add("top_p", Float8Vector.class, v -> v.setSafe(2, 1.5)).build()) {

      PromptBatch batch = convert(root, BadRowPolicy.ERROR_RECORD);

      assertThat(batch.requests()).extracting(PromptRequest::id).containsExactly("2");
      assertThat(batch.errors()).extracting(RowError::describe).containsExactly(
          "Bad prompt row in [src] at row 0 (id 1), column 'prompt': the row has neither prompt"
              + " text ('prompt') nor chat messages ('messages'). Set exactly one of them.",
          "Bad prompt row in [src] at row 2 (id 3), column 'top_p': top_p is 1.5 but must be in"
              + " (0, 1]. Fix the value, or set it null to use the job option.");
    }
  }

  @Test
  void rowWithBothPromptAndMessagesIsRejected() {
    PromptRequest chat = PromptRequest.ofChat("1", List.of(ChatMessage.user("hi")));
    try (VectorSchemaRoot root = ArrowPromptWriter.write(List.of(chat), IdType.LONG, allocator)) {
      ((VarCharVector) root.getVector("prompt")).setSafe(0, "also".getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> convert(root, BadRowPolicy.FAIL))
          .hasMessageContaining("column 'messages': the row has both prompt text");
    }
  }

  private PromptBatch convert(VectorSchemaRoot root, BadRowPolicy policy) {
    return new ArrowPromptConverter("src", PromptSchema.DEFAULT, policy).convert(root);
  }

  private TestTable idsAndPrompts(Long[] ids, String... prompts) {
    return new TestTable(allocator, ids.length)
        .add("id", BigIntVector.class, v -> {
          for (int i = 0; i < ids.length; i++) {
            if (ids[i] != null) {
              v.setSafe(i, ids[i]);
            }
          }
        })
        .add("prompt", VarCharVector.class, v -> {
          for (int i = 0; i < prompts.length; i++) {
            if (prompts[i] != null) {
              v.setSafe(i, prompts[i].getBytes(StandardCharsets.UTF_8));
            }
          }
        });
  }
}
