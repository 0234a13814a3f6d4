package io.batchgen.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ParquetPromptReaderTest {

  @TempDir
  java.nio.file.Path dir;

  private final Configuration conf = new Configuration();

  @ParameterizedTest
  @EnumSource(IdType.class)
  void roundTripsEveryEdgeCaseInBatches(IdType idType) {
    Path file = path("prompts.parquet");
    try (ParquetPromptWriter w = ParquetPromptWriter.create(file, conf, idType)) {
      Fixtures.edgeCases().forEach(w::write);
    }

    List<PromptRequest> back = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    try (ParquetPromptReader r = PromptDataset.open(file.toString(), conf)
        .openReader(PromptSchema.DEFAULT, BadRowPolicy.FAIL, 3)) {
      for (PromptBatch b = r.next(); b != null; b = r.next()) {
        assertThat(b.errors()).isEmpty();
        sizes.add(b.rowCount());
        back.addAll(b.requests());
      }
      assertThat(r.idType()).isEqualTo(idType);
    }
    assertThat(sizes).containsExactly(3, 3, 1);
    assertThat(back).containsExactlyElementsOf(Fixtures.edgeCases());
  }

  @Test
  void readsFoldersRecursivelyAndGlobsSkippingHiddenFiles() throws Exception {
    java.nio.file.Path table = Files.createDirectories(dir.resolve("table/day=1"));
    write(new Path(table.getParent().resolve("part-0.parquet").toUri()),
        PromptRequest.ofText("1", "a"), PromptRequest.ofText("2", Fixtures.LONG_PROMPT));
    write(new Path(table.resolve("part-1.parquet").toUri()), PromptRequest.ofText("3", "c"));
    Files.writeString(table.getParent().resolve("_SUCCESS"), "");
    Files.writeString(table.resolve(".hidden-notes"), "not parquet");

    PromptDataset folder = PromptDataset.open(dir.resolve("table").toString(), conf);
    PromptDataset glob = PromptDataset.open(dir.resolve("table") + "/part-*.parquet", conf);

    // Sorted by full path: table/day=1/part-1 comes before table/part-0.
    assertThat(folder.files()).extracting(Path::getName)
        .containsExactly("part-1.parquet", "part-0.parquet");
    assertThat(ids(folder)).containsExactly("3", "1", "2");
    assertThat(glob.files()).extracting(Path::getName).containsExactly("part-0.parquet");

    List<RowGroupCost> costs = folder.rowGroupCosts(PromptSchema.DEFAULT);
    assertThat(costs).extracting(RowGroupCost::rowCount).containsExactly(1L, 2L);
    assertThat(costs.get(0).promptBytes()).isLessThan(1_000);
    assertThat(costs.get(1).promptBytes()).isGreaterThan(100_000); // the 100k-char prompt
  }

  @Test
  void rowCostsAreUtf8SizesOfPromptOrMessageContents() {
    Path file = path("costs.parquet");
    try (ParquetPromptWriter w = ParquetPromptWriter.create(file, conf, IdType.LONG)) {
      Fixtures.edgeCases().forEach(w::write);
    }
    List<Long> costs = new ArrayList<>();
    PromptDataset.open(file.toString(), conf).forEachRowCost(PromptSchema.DEFAULT,
        (f, row, bytes) -> {
          assertThat(row).isEqualTo(costs.size());
          costs.add(bytes);
        });

    List<Long> expected = Fixtures.edgeCases().stream().map(r -> r.isChat()
        ? r.messages().stream().mapToLong(m -> utf8Length(m.content())).sum()
        : utf8Length(r.prompt())).toList();
    assertThat(costs).containsExactlyElementsOf(expected);
    assertThat(costs.get(3)).isGreaterThan(100_000); // the 100k-character prompt
  }

  private static long utf8Length(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  @Test
  void readsOnlyNeededColumnsAndIgnoresOthersOfAnyType() {
    Path file = path("extra.parquet");
    writeGroups(file, "message m { required int32 id; optional binary prompt (STRING);"
        + " optional int96 legacy_ts; optional group props (MAP) { repeated group key_value {"
        + " required binary key (STRING); optional binary value (STRING); } } }",
        f -> List.of(f.newGroup().append("id", 7).append("prompt", "hi")
            .append("legacy_ts", Binary.fromConstantByteArray(new byte[12]))));

    assertThat(read(file, BadRowPolicy.FAIL).requests())
        .containsExactly(PromptRequest.ofText("7", "hi"));
  }

  @Test
  void wrongTypesNameTheColumnTheParquetTypeAndTheCast() {
    Path file = path("wrong.parquet");
    writeGroups(file, "message m { required int64 id; optional int32 prompt; }",
        f -> List.of(f.newGroup().append("id", 1L).append("prompt", 5)));
    assertThatThrownBy(() -> read(file, BadRowPolicy.ERROR_RECORD))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("wrong.parquet], column 'prompt': the column has Parquet type"
            + " [optional int32 prompt] but must be a string (BINARY STRING)")
        .hasMessageContaining("cast(\"string\")");

    Path tokens = path("tokens.parquet");
    writeGroups(tokens, "message m { required int64 id; optional binary prompt (STRING);"
        + " optional double max_new_tokens; }",
        f -> List.of(f.newGroup().append("id", 1L).append("prompt", "x")
            .append("max_new_tokens", 2.5)));
    assertThatThrownBy(() -> read(tokens, BadRowPolicy.FAIL))
        .hasMessageContaining("column 'max_new_tokens': the column has Parquet type [optional"
            + " double max_new_tokens] but must be an integer");
  }

  @Test
  void missingIdColumnListsTheColumns() {
    Path file = path("noid.parquet");
    writeGroups(file, "message m { optional binary prompt (STRING); optional int64 key; }",
        f -> List.of(f.newGroup().append("prompt", "x").append("key", 1L)));
    assertThatThrownBy(() -> read(file, BadRowPolicy.FAIL))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("column 'id': the id column is missing; columns are [prompt, key]");
  }

  @Test
  void nullIdInvalidUtf8AndDuplicatesAcrossFilesAreNamedByFileAndRow() {
    String schema = "message m { optional int64 id; optional binary prompt (STRING); }";
    Path first = path("a.parquet");
    Path second = path("b.parquet");
    writeGroups(first, schema, f -> List.of(f.newGroup().append("id", 1L).append("prompt", "ok"),
        f.newGroup().append("prompt", "no id")));
    writeGroups(second, schema, f -> List.of(
        f.newGroup().append("id", 2L)
            .append("prompt", Binary.fromConstantByteArray(new byte[] {'a', (byte) 0xFF})),
        f.newGroup().append("id", 1L).append("prompt", "again")));

    PromptDataset ds = PromptDataset.open(dir.toString() + "/*.parquet", conf);
    assertThatThrownBy(() -> readAll(ds, BadRowPolicy.FAIL))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("a.parquet] at row 1, column 'id': the id is null");

    List<RowError> errors = new ArrayList<>();
    List<String> good = new ArrayList<>();
    try (ParquetPromptReader r = ds.openReader(PromptSchema.DEFAULT, BadRowPolicy.ERROR_RECORD,
        100)) {
      for (PromptBatch b = r.next(); b != null; b = r.next()) {
        errors.addAll(b.errors());
        b.requests().forEach(q -> good.add(q.id()));
      }
    }
    assertThat(good).containsExactly("1");
    assertThat(errors).extracting(e -> e.source().replaceAll(".*/", ""), RowError::rowNumber,
        RowError::id, RowError::column).containsExactly(
        org.assertj.core.groups.Tuple.tuple("a.parquet", 1L, null, "id"),
        org.assertj.core.groups.Tuple.tuple("b.parquet", 0L, "2", "prompt"),
        org.assertj.core.groups.Tuple.tuple("b.parquet", 1L, "1", "id"));
    assertThat(errors.get(1).message()).contains("not valid UTF-8 (bad byte 0xFF at byte offset"
        + " 1 of 2)");
    assertThat(errors.get(2).message()).contains("the id [1] appeared before");
  }

  @Test
  void aPathWithNoFilesSaysSo() {
    assertThatThrownBy(() -> PromptDataset.open(dir.resolve("nothing-here").toString(), conf))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("No Parquet files at [")
        .hasMessageContaining("does not exist or the glob matches nothing");
  }

  private Path path(String name) {
    return new Path(dir.resolve(name).toUri());
  }

  private void write(Path file, PromptRequest... requests) {
    try (ParquetPromptWriter w = ParquetPromptWriter.create(file, conf, IdType.LONG)) {
      for (PromptRequest r : requests) {
        w.write(r);
      }
    }
  }

  private void writeGroups(Path file, String schema,
      Function<SimpleGroupFactory, List<Group>> rows) {
    MessageType type = MessageTypeParser.parseMessageType(schema);
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(file).withConf(conf)
        .withType(type).build()) {
      for (Group g : rows.apply(new SimpleGroupFactory(type))) {
        w.write(g);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private PromptBatch read(Path file, BadRowPolicy policy) {
    return readAll(PromptDataset.open(file.toString(), conf), policy);
  }

  private static PromptBatch readAll(PromptDataset ds, BadRowPolicy policy) {
    List<PromptRequest> requests = new ArrayList<>();
    List<RowError> errors = new ArrayList<>();
    try (ParquetPromptReader r = ds.openReader(PromptSchema.DEFAULT, policy, 2)) {
      for (PromptBatch b = r.next(); b != null; b = r.next()) {
        requests.addAll(b.requests());
        errors.addAll(b.errors());
      }
    }
    return new PromptBatch(requests, errors);
  }

  private static List<String> ids(PromptDataset ds) {
    return readAll(ds, BadRowPolicy.FAIL).requests().stream().map(PromptRequest::id).toList();
  }
}
