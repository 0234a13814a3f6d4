package io.batchgen.spark.sql;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchgen.spark.progress.WriteProgress;
import io.batchgen.spark.runtime.EngineVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit protocol of a {@code batchgen} write (layout and moves: {@link ResultTable}).
 * Tasks write one file per attempt; Spark's commit coordinator lets exactly one attempt of each
 * partition commit, and that task makes its file durable. The driver's job commit then publishes
 * exactly the files named by the committed messages (plus, with resume, the finished files
 * earlier failed runs left), so retried and speculative attempts never add duplicates; appends
 * never touch earlier files and an overwrite swaps whole tables. A failed job keeps its committed
 * tasks' files for a resume.
 */
final class BatchGenBatchWrite implements BatchWrite {
  private static final Logger LOG = LoggerFactory.getLogger(BatchGenBatchWrite.class);

  private final WriteJob job;
  private final boolean overwrite;
  private final String queryId;
  private final SerializableConfiguration hadoopConf;
  private final List<ResultTable.Adopted> adopted;
  private final String modelFingerprint;
  private final JobReports.Start start;
  /** The job's progress; null when the driver plugin is not running (tests of the protocol). */
  private final WriteProgress progress;

  BatchGenBatchWrite(WriteJob job, boolean overwrite, String queryId,
      SerializableConfiguration hadoopConf, List<ResultTable.Adopted> adopted,
      String modelFingerprint, JobReports.Start start, WriteProgress progress) {
    this.job = job;
    this.overwrite = overwrite;
    this.queryId = queryId;
    this.hadoopConf = hadoopConf;
    this.adopted = List.copyOf(adopted);
    this.modelFingerprint = modelFingerprint;
    this.start = start;
    this.progress = progress;
  }

  @Override
  public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
    return new BatchGenWriterFactory(job, hadoopConf);
  }

  @Override
  public boolean useCommitCoordinator() {
    return true;
  }

  /** Spark calls this on the driver once per partition, for the attempt that committed. */
  @Override
  public void onDataWriterCommit(WriterCommitMessage message) {
    if (progress != null) {
      TaskCommit c = (TaskCommit) message;
      progress.taskCommitted(c.partition(), c.progress());
    }
  }

  @Override
  public void commit(WriterCommitMessage[] messages) {
    ResultTable table = job.table();
    try {
      ObjectMapper json = new ObjectMapper();
      ObjectNode entry = json.createObjectNode();
      List<String> files = new ArrayList<>();
      long rows = 0;
      long failed = 0;
      long skipped = 0;
      long promptTokens = 0;
      long generated = 0;
      List<TaskCommit> commits = new ArrayList<>();
      for (WriterCommitMessage m : messages) {
        TaskCommit c = (TaskCommit) m;
        commits.add(c);
        files.add(c.file());
        rows += c.rows();
        failed += c.failedRows();
        skipped += c.skippedRows();
        promptTokens += c.promptTokens();
        generated += c.generatedTokens();
      }
      JobOptions options = job.options();
      entry.put("jobId", table.jobId());
      entry.put("queryId", queryId);
      entry.put("mode", overwrite ? "overwrite" : "append");
      entry.put("resume", options.resume());
      entry.put("committedAt", Instant.now().toString());
      entry.put("engineVersion", EngineVersion.get());
      entry.put("model", options.engine().modelPath());
      entry.put("modelHash", modelFingerprint);
      entry.set("options", json.valueToTree(options));
      entry.put("rows", rows);
      entry.put("failedRows", failed);
      entry.put("skippedRows", skipped);
      entry.put("promptTokens", promptTokens);
      entry.put("generatedTokens", generated);
      ArrayNode names = entry.putArray("files");
      files.forEach(names::add);
      ArrayNode adoptedJson = entry.putArray("adopted");
      long adoptedRows = 0;
      for (ResultTable.Adopted a : adopted) {
        adoptedJson.addObject().put("jobId", a.jobId()).put("file", a.file().getName())
            .put("rows", a.rows());
        adoptedRows += a.rows();
      }
      byte[] report = JobReports.render(table, options, overwrite, start, commits,
          new long[] {rows, failed, skipped, promptTokens, generated});
      ResultTable.JobEntry jobEntry = new ResultTable.JobEntry(entry, files, adopted, report);
      if (overwrite) {
        table.commitOverwrite(hadoopConf.value(), jobEntry);
      } else {
        table.commitAppend(hadoopConf.value(), jobEntry);
      }
      LOG.info("batchgen job {} committed {} rows ({} failed, {} tokens generated) in {} files to"
          + " {}{}", table.jobId(), rows, failed, generated, files.size(), table.out(),
          adopted.isEmpty() ? "" : ", keeping " + adoptedRows + " rows of " + adopted.size()
              + " files finished by earlier runs");
      if (progress != null) {
        progress.end(true); // 100%: the table is published
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Could not commit the batchgen write to [" + table.out()
          + "]: " + e.getMessage(), e);
    } finally {
      release(job.done());
    }
  }

  @Override
  public void abort(WriterCommitMessage[] messages) {
    try {
      job.table().abort(hadoopConf.value());
    } finally {
      release(job.done());
      if (progress != null) {
        progress.end(false);
      }
    }
  }

  private static void release(Broadcast<DoneIds> done) {
    if (done != null) {
      done.destroy();
    }
  }
}
