package io.batchgen.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * A Parquet prompt table: one file, a folder (searched recursively, skipping names that start
 * with {@code _} or {@code .}, as Spark does), or a glob, on any Hadoop file system.
 *
 * <p>For planning by cost: {@link #rowGroupCosts} reads only footers; {@link #forEachRowCost}
 * reads only the text columns and gives each row's prompt size. {@link #openReader} reads and
 * validates the rows, decoding only the columns it needs.
 */
public final class PromptDataset {

  private final String location;
  private final Configuration conf;
  private final List<Path> files;

  private PromptDataset(String location, Configuration conf, List<Path> files) {
    this.location = location;
    this.conf = conf;
    this.files = files;
  }

  /**
   * Resolves {@code location} to its Parquet files, sorted by path.
   *
   * @throws IllegalArgumentException when nothing matches
   */
  public static PromptDataset open(String location, Configuration conf) {
    return new PromptDataset(location, conf, dataFiles(location, conf, "Parquet"));
  }

  /**
   * The data files at {@code location} (a file, a folder searched recursively skipping names
   * that start with {@code _} or {@code .}, or a glob), sorted by path.
   *
   * @param kind names the files in the error ("Parquet")
   * @throws IllegalArgumentException when nothing matches
   */
  static List<Path> dataFiles(String location, Configuration conf, String kind) {
    Path pattern = new Path(location);
    try {
      FileSystem fs = pattern.getFileSystem(conf);
      FileStatus[] matches = fs.globStatus(pattern);
      List<Path> files = new ArrayList<>();
      if (matches != null) {
        for (FileStatus m : matches) {
          collect(fs, m, files);
        }
      }
      if (files.isEmpty()) {
        throw new IllegalArgumentException("No " + kind + " files at [" + location + "]: the path"
            + (matches == null || matches.length == 0 ? " does not exist or the glob matches"
            + " nothing" : " holds no data files (names starting with _ or . are skipped)")
            + ". Check the prompts path.");
      }
      files.sort(null);
      return List.copyOf(files);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list prompt files at [" + location + "]: "
          + e.getMessage(), e);
    }
  }

  private static void collect(FileSystem fs, FileStatus status, List<Path> out)
      throws IOException {
    String name = status.getPath().getName();
    if (name.startsWith("_") || name.startsWith(".")) {
      return;
    }
    if (status.isDirectory()) {
      for (FileStatus child : fs.listStatus(status.getPath())) {
        collect(fs, child, out);
      }
    } else {
      out.add(status.getPath());
    }
  }

  /** The data files, sorted. */
  public List<Path> files() {
    return files;
  }

  /**
   * Row counts and prompt sizes per row group, from the footers only (no column data is read).
   */
  public List<RowGroupCost> rowGroupCosts(PromptSchema schema) {
    List<RowGroupCost> out = new ArrayList<>();
    for (Path file : files) {
      try (ParquetFileReader reader =
          ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
        List<BlockMetaData> blocks = reader.getFooter().getBlocks();
        for (int i = 0; i < blocks.size(); i++) {
          long bytes = 0;
          for (ColumnChunkMetaData c : blocks.get(i).getColumns()) {
            String top = c.getPath().toArray()[0];
            if (top.equals(schema.promptColumn()) || top.equals(schema.messagesColumn())) {
              bytes += c.getTotalUncompressedSize();
            }
          }
          out.add(new RowGroupCost(file.toString(), i, blocks.get(i).getRowCount(), bytes));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read the Parquet footer of [" + file + "]: "
            + e.getMessage() + ". Is it a Parquet file?", e);
      }
    }
    return out;
  }

  /** Receives one row's cost estimate from {@link #forEachRowCost}. */
  @FunctionalInterface
  public interface RowCostConsumer {
    /**
     * @param file        the row's file
     * @param rowNumber   0-based row index in the file
     * @param promptBytes UTF-8 bytes of the prompt, or of all message contents of a chat row
     */
    void accept(Path file, long rowNumber, long promptBytes);
  }

  /**
   * Per-row prompt sizes, reading only the prompt and messages columns and decoding nothing (no
   * UTF-8 decoding, no validation): cheaper than {@link #openReader} for planning by cost. Rows
   * with neither column set report 0.
   */
  public void forEachRowCost(PromptSchema schema, RowCostConsumer each) {
    for (Path file : files) {
      try {
        MessageType fileSchema;
        try (ParquetFileReader footer =
            ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
          fileSchema = footer.getFooter().getFileMetaData().getSchema();
        }
        List<Type> keep = new ArrayList<>();
        for (String name : new String[] {schema.promptColumn(), schema.messagesColumn()}) {
          if (fileSchema.containsField(name)) {
            keep.add(fileSchema.getType(name));
          }
        }
        if (keep.isEmpty()) {
          throw BadInputException.schema(file.toString(), schema.promptColumn(), "neither a"
              + " prompt column '" + schema.promptColumn() + "' nor a messages column '"
              + schema.messagesColumn() + "' exists. Set the prompt/messages column option.");
        }
        Configuration projected = new Configuration(conf);
        projected.set(ReadSupport.PARQUET_READ_SCHEMA,
            new MessageType(fileSchema.getName(), keep).toString());
        try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), file)
            .withConf(projected).build()) {
          long row = 0;
          for (Group g = reader.read(); g != null; g = reader.read()) {
            each.accept(file, row++, textBytes(g));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read prompt sizes from [" + file + "]: "
            + e.getMessage(), e);
      }
    }
  }

  /** Bytes of every string value in {@code g}, recursively (prompt, or message roles/contents). */
  private static long textBytes(Group g) {
    long n = 0;
    GroupType type = g.getType();
    for (int f = 0; f < type.getFieldCount(); f++) {
      for (int r = 0; r < g.getFieldRepetitionCount(f); r++) {
        if (type.getType(f).isPrimitive()) {
          if (!PromptSchema.ROLE.equals(type.getType(f).getName())) {
            n += g.getBinary(f, r).length();
          }
        } else {
          n += textBytes(g.getGroup(f, r));
        }
      }
    }
    return n;
  }

  /**
   * Opens a reader over all files, in order, yielding batches of up to {@code batchRows} rows.
   * Row numbers in errors count from 0 within each file.
   */
  public ParquetPromptReader openReader(PromptSchema schema, BadRowPolicy policy, int batchRows) {
    return openReader(files, schema, policy, batchRows);
  }

  /** As {@link #openReader(PromptSchema, BadRowPolicy, int)} over a subset of the files. */
  public ParquetPromptReader openReader(List<Path> subset, PromptSchema schema,
      BadRowPolicy policy, int batchRows) {
    return new ParquetPromptReader(subset, conf, schema, policy, batchRows);
  }

  @Override
  public String toString() {
    return "PromptDataset[" + location + ", files=" + files.size() + "]";
  }
}
