package io.batchgen.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * Writes {@link PromptRequest}s as a Parquet prompt table in the canonical layout (default column
 * names, every optional column, Spark's standard LIST encoding): for converting OpenAI batch JSONL
 * into a table, and for building test datasets. Streams rows; nothing is held but the open row
 * group.
 */
public final class ParquetPromptWriter implements AutoCloseable {

  private final ParquetWriter<Group> writer;
  private final SimpleGroupFactory groups;
  private final IdType idType;
  private final String path;

  private ParquetPromptWriter(ParquetWriter<Group> writer, MessageType schema, IdType idType,
      String path) {
    this.writer = writer;
    this.groups = new SimpleGroupFactory(schema);
    this.idType = idType;
    this.path = path;
  }

  /** The canonical Parquet prompt schema. */
  public static MessageType parquetSchema(IdType idType) {
    return MessageTypeParser.parseMessageType("message batchgen_prompt {\n"
        + (idType == IdType.LONG ? "  required int64 id;\n" : "  required binary id (STRING);\n")
        + "  optional binary prompt (STRING);\n"
        + "  optional group messages (LIST) {\n"
        + "    repeated group list {\n"
        + "      optional group element {\n"
        + "        optional binary role (STRING);\n"
        + "        optional binary content (STRING);\n"
        + "      }\n"
        + "    }\n"
        + "  }\n"
        + "  optional int32 max_new_tokens;\n"
        + "  optional double temperature;\n"
        + "  optional double top_p;\n"
        + "  optional int32 top_k;\n"
        + "  optional int64 seed;\n"
        + "  optional group stop (LIST) {\n"
        + "    repeated group list {\n"
        + "      optional binary element (STRING);\n"
        + "    }\n"
        + "  }\n"
        + "}\n");
  }

  /** Creates {@code file} (which must not exist). */
  public static ParquetPromptWriter create(Path file, Configuration conf, IdType idType) {
    MessageType schema = parquetSchema(idType);
    try {
      ParquetWriter<Group> w = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(file, conf))
          .withConf(conf)
          .withType(schema)
          .withWriteMode(ParquetFileWriter.Mode.CREATE)
          .withCompressionCodec(CompressionCodecName.SNAPPY)
          .withRowGroupSize(ParquetResultWriter.DEFAULT_ROW_GROUP_BYTES)
          .build();
      return new ParquetPromptWriter(w, schema, idType, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create prompt file [" + file + "]: "
          + e.getMessage(), e);
    }
  }

  /** Appends one prompt row. */
  public void write(PromptRequest r) {
    Group g = groups.newGroup();
    if (idType == IdType.LONG) {
      g.add(PromptSchema.DEFAULT_ID, Long.parseLong(r.id()));
    } else {
      g.add(PromptSchema.DEFAULT_ID, r.id());
    }
    if (r.prompt() != null) {
      g.add(PromptSchema.DEFAULT_PROMPT, r.prompt());
    }
    if (r.messages() != null) {
      Group list = g.addGroup(PromptSchema.DEFAULT_MESSAGES);
      for (ChatMessage m : r.messages()) {
        Group element = list.addGroup("list").addGroup("element");
        element.add(PromptSchema.ROLE, m.role());
        element.add(PromptSchema.CONTENT, m.content());
      }
    }
    GenerationOverrides o = r.overrides();
    if (o.maxNewTokens() != null) {
      g.add(PromptSchema.MAX_NEW_TOKENS, o.maxNewTokens());
    }
    if (o.temperature() != null) {
      g.add(PromptSchema.TEMPERATURE, o.temperature());
    }
    if (o.topP() != null) {
      g.add(PromptSchema.TOP_P, o.topP());
    }
    if (o.topK() != null) {
      g.add(PromptSchema.TOP_K, o.topK());
    }
    if (o.seed() != null) {
      g.add(PromptSchema.SEED, o.seed());
    }
    if (o.stop() != null) {
      Group list = g.addGroup(PromptSchema.STOP);
      for (String s : o.stop()) {
        list.addGroup("list").add("element", s);
      }
    }
    try {
      writer.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write prompt [" + r.id() + "] to [" + path + "]: "
          + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      writer.close();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot finish prompt file [" + path + "]: "
          + e.getMessage(), e);
    }
  }
}
