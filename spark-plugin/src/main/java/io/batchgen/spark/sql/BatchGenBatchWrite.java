package io.batchgen.spark.sql;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchgen.spark.runtime.EngineVersion;
import io.batchgen.spark.runtime.ModelFingerprint;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit protocol of a {@code batchgen} write. Tasks write into a staging folder private to
 * this job ({@code <path>/_temporary/<queryId>/}), one file per task attempt. Spark's commit
 * coordinator lets exactly one attempt of each partition commit; the driver then moves exactly
 * the files named by the committed messages into {@code <path>}, so retried and speculative
 * attempts never add duplicates, and writes {@code _SUCCESS} and {@code _batchgen_manifest.json}.
 * An aborted job deletes its staging folder and leaves {@code <path>} as it was.
 */
final class BatchGenBatchWrite implements BatchWrite {
  static final String STAGING = "_temporary";
  static final String MANIFEST = "_batchgen_manifest.json";
  private static final Logger LOG = LoggerFactory.getLogger(BatchGenBatchWrite.class);

  private final JobOptions options;
  private final PromptRows rows;
  private final String path;
  private final boolean truncate;
  private final String queryId;
  private final SerializableConfiguration hadoopConf;

  BatchGenBatchWrite(JobOptions options, PromptRows rows, String path, boolean truncate,
      String queryId, SerializableConfiguration hadoopConf) {
    this.options = options;
    this.rows = rows;
    this.path = path;
    this.truncate = truncate;
    this.queryId = queryId;
    this.hadoopConf = hadoopConf;
  }

  private Path stagingDir() {
    return new Path(new Path(path, STAGING), queryId);
  }

  @Override
  public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
    return new BatchGenWriterFactory(options, rows, stagingDir().toString(), hadoopConf);
  }

  @Override
  public boolean useCommitCoordinator() {
    return true;
  }

  @Override
  public void commit(WriterCommitMessage[] messages) {
    Path out = new Path(path);
    try {
      FileSystem fs = out.getFileSystem(hadoopConf.value());
      fs.mkdirs(out);
      if (truncate) {
        deleteOutputs(fs, out);
      }
      long rowsTotal = 0;
      long failed = 0;
      long promptTokens = 0;
      long generated = 0;
      ObjectMapper json = new ObjectMapper();
      ArrayNode files = json.createArrayNode();
      for (WriterCommitMessage m : messages) {
        TaskCommit c = (TaskCommit) m;
        Path target = new Path(out, c.file());
        if (!fs.rename(new Path(stagingDir(), c.file()), target)) {
          throw new IOException("could not move " + c.file() + " into " + out);
        }
        files.add(c.file());
        rowsTotal += c.rows();
        failed += c.failedRows();
        promptTokens += c.promptTokens();
        generated += c.generatedTokens();
      }
      fs.delete(stagingDir(), true);
      deleteIfEmpty(fs, new Path(out, STAGING));

      ObjectNode manifest = json.createObjectNode();
      manifest.put("engineVersion", EngineVersion.get());
      manifest.put("committedAt", Instant.now().toString());
      manifest.put("queryId", queryId);
      manifest.put("model", options.engine().modelPath());
      manifest.put("modelHash", ModelFingerprint.of(java.nio.file.Path.of(
          options.engine().modelPath())));
      manifest.set("options", json.valueToTree(options));
      manifest.put("rows", rowsTotal);
      manifest.put("failedRows", failed);
      manifest.put("promptTokens", promptTokens);
      manifest.put("generatedTokens", generated);
      manifest.set("files", files);
      writeFile(fs, new Path(out, MANIFEST), json.writerWithDefaultPrettyPrinter()
          .writeValueAsString(manifest));
      writeFile(fs, new Path(out, "_SUCCESS"), "");
      LOG.info("batchgen write committed {} rows ({} failed, {} tokens generated) in {} files to {}",
          rowsTotal, failed, generated, messages.length, out);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not commit the batchgen write to [" + path + "]: "
          + e.getMessage(), e);
    }
  }

  @Override
  public void abort(WriterCommitMessage[] messages) {
    try {
      Path out = new Path(path);
      FileSystem fs = out.getFileSystem(hadoopConf.value());
      fs.delete(stagingDir(), true);
      deleteIfEmpty(fs, new Path(out, STAGING));
    } catch (IOException e) {
      LOG.warn("Could not clean up the staging folder {} of an aborted batchgen write: {}",
          stagingDir(), e.toString());
    }
  }

  /** Overwrite: removes the result files and markers of earlier writes, nothing else. */
  private static void deleteOutputs(FileSystem fs, Path out) throws IOException {
    for (FileStatus st : fs.listStatus(out)) {
      String name = st.getPath().getName();
      if (st.isFile() && (name.endsWith(".parquet") || name.equals("_SUCCESS")
          || name.equals(MANIFEST))) {
        fs.delete(st.getPath(), false);
      }
    }
  }

  private static void deleteIfEmpty(FileSystem fs, Path dir) throws IOException {
    if (fs.exists(dir) && fs.listStatus(dir).length == 0) {
      fs.delete(dir, false);
    }
  }

  private static void writeFile(FileSystem fs, Path file, String text) throws IOException {
    try (OutputStream o = fs.create(file, true)) {
      o.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
