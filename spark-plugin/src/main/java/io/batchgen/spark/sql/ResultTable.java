package io.batchgen.spark.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layout of a {@code batchgen} output folder and the file moves that publish into it.
 *
 * <pre>
 * OUT/part-PPPPP-JOB-tTASK.parquet      published results; JOB is unique per write job, so no
 *                                        later job's files can replace them
 * OUT/_batchgen_manifest.json           every job that contributed: options, counts, files
 * OUT/_batchgen_report.html             the report of the job that wrote last (HTML, charts)
 * OUT/_SUCCESS
 * OUT/_temporary/JOB/attempts/…         files of running task attempts
 * OUT/_temporary/JOB/tasks/…            files of committed tasks: durable, they survive a failed
 *                                        job and a later run with resume=true adopts them
 * OUT/_temporary/JOB/table/…            an overwrite's complete new table, before the swap
 * PARENT/.NAME.batchgen-prev-JOB        the old table during an overwrite's swap
 * PARENT/.NAME.batchgen-next-JOB        the new table during an overwrite's swap
 * </pre>
 *
 * <p>An overwrite builds the whole new table beside the old one and swaps them with directory
 * renames ({@code OUT → prev}, {@code next → OUT}), the new table becoming the table at the
 * second rename. A failure before that rename puts the old table back; a driver that dies in the
 * middle leaves the sibling folders, and the next write to {@code OUT} finishes or undoes the swap
 * ({@link #recover}) before anything else. Readers see the old table or the new one; only between
 * the two renames (or until recovery, after a crash there) does {@code OUT} not exist.
 *
 * <p>Serializable: tasks use it to place their files. Driver methods say so.
 */
final class ResultTable implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ResultTable.class);

  static final String STAGING = "_temporary";
  static final String MANIFEST = "_batchgen_manifest.json";
  /** The last job's report; the leading underscore makes Spark's readers skip it. */
  static final String REPORT = "_batchgen_report.html";
  static final String SUCCESS = "_SUCCESS";
  private static final String ATTEMPTS = "attempts";
  private static final String TASKS = "tasks";
  private static final String TABLE = "table";
  private static final Pattern PART =
      Pattern.compile("part-(\\d{5})-([0-9a-z]+)-t(\\d+)\\.parquet");

  private final String out;
  private final String jobId;

  ResultTable(String out, String jobId) {
    this.out = out;
    this.jobId = jobId;
  }

  /** A job id from Spark's query id: 12 hex digits, unique among the jobs of one folder. */
  static String jobIdOf(String queryId) {
    String hex = queryId.replace("-", "").toLowerCase(java.util.Locale.ROOT);
    return hex.length() > 12 ? hex.substring(0, 12) : hex;
  }

  String jobId() {
    return jobId;
  }

  Path out() {
    return new Path(out);
  }

  private Path jobDir() {
    return new Path(new Path(out(), STAGING), jobId);
  }

  // ------------------------------------------------------------------------------ task side

  /** The file a task attempt writes: the partition, this job and the attempt in its name. */
  Path attemptFile(int partition, long taskId) {
    return new Path(new Path(jobDir(), ATTEMPTS),
        String.format("part-%05d-%s-t%d.parquet", partition, jobId, taskId));
  }

  /**
   * Makes a committed task's file durable (called by the task Spark's commit coordinator
   * authorized): it moves to {@code tasks/}, where a failed job leaves it for a resume.
   *
   * @return the file's name
   */
  String commitTask(Path attemptFile, Configuration conf) throws IOException {
    FileSystem fs = attemptFile.getFileSystem(conf);
    Path tasks = new Path(jobDir(), TASKS);
    fs.mkdirs(tasks);
    if (!fs.rename(attemptFile, new Path(tasks, attemptFile.getName()))) {
      throw new IOException("could not move " + attemptFile + " into " + tasks);
    }
    return attemptFile.getName();
  }

  // ---------------------------------------------------------------------------- driver side

  /**
   * Before any work (driver): finishes or undoes an overwrite an earlier driver left half done,
   * checks that the folder can be written, and creates this job's staging folder.
   *
   * @param overwrite whether this job replaces the table (it then also needs the parent folder)
   * @throws IllegalArgumentException naming the path and the fix
   */
  void prepare(Configuration conf, boolean overwrite) {
    try {
      FileSystem fs = out().getFileSystem(conf);
      recover(fs);
      if (fs.exists(out()) && !fs.getFileStatus(out()).isDirectory()) {
        throw new IOException(out() + " is a file, not a folder");
      }
      if (overwrite && fs.exists(out())) {
        List<String> foreign = new ArrayList<>();
        for (FileStatus st : fs.listStatus(out())) {
          if (!isOurs(st.getPath().getName())) {
            foreign.add(st.getPath().getName());
          }
        }
        if (!foreign.isEmpty()) {
          throw new IllegalArgumentException("Output [" + out + "] holds files that batchgen did"
              + " not write (" + String.join(", ", foreign.subList(0, Math.min(5,
              foreign.size()))) + (foreign.size() > 5 ? ", ..." : "") + "), which overwrite"
              + " would delete. Write to an empty folder or one that only batchgen writes.");
        }
      }
      if (!fs.mkdirs(jobDir())) {
        throw new IOException("mkdirs returned false");
      }
      if (overwrite) {
        Path probe = sibling("probe");
        if (!fs.mkdirs(probe) || !fs.delete(probe, true)) {
          throw new IOException("cannot create folders next to it in " + out().getParent()
              + ", which overwrite needs to swap the tables");
        }
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException("Cannot write the output [" + out + "]: "
          + e.getMessage() + ". Choose an output path this job can create and write (and, for"
          + " overwrite, whose parent folder it can write).", e);
    }
  }

  private static boolean isOurs(String name) {
    return name.startsWith("part-") && name.endsWith(".parquet") || name.equals(SUCCESS)
        || name.equals(MANIFEST) || name.equals(STAGING) || name.startsWith("_batchgen")
        || name.startsWith(".") && name.endsWith(".crc");
  }

  private Path sibling(String kind) {
    return sibling(kind, jobId);
  }

  private Path sibling(String kind, String job) {
    Path o = out();
    return new Path(o.getParent(), "." + o.getName() + ".batchgen-" + kind + "-" + job);
  }

  /**
   * Completes or undoes an overwrite swap a dead driver left: with the old table moved aside and
   * no table in place, the old one goes back (the swap had not happened); with a table in place,
   * a leftover old table is deleted (it had) and a leftover new table goes back into its job's
   * staging folder, so that a resume can still adopt its rows.
   */
  void recover(FileSystem fs) throws IOException {
    Path parent = out().getParent();
    if (parent == null || !fs.exists(parent)) {
      return;
    }
    String prefix = "." + out().getName() + ".batchgen-";
    for (FileStatus st : fs.listStatus(parent)) {
      String name = st.getPath().getName();
      if (!name.startsWith(prefix + "prev-")) {
        continue;
      }
      if (!fs.exists(out())) {
        LOG.warn("Output {}: an earlier overwrite stopped halfway; putting the old table back",
            out);
        rename(fs, st.getPath(), out());
      } else {
        fs.delete(st.getPath(), true);
      }
    }
    for (FileStatus st : fs.listStatus(parent)) {
      String name = st.getPath().getName();
      if (name.startsWith(prefix + "next-") && fs.exists(out())) {
        String job = name.substring((prefix + "next-").length());
        Path staged = new Path(new Path(new Path(out(), STAGING), job), TABLE);
        LOG.warn("Output {}: keeping the rows of unfinished overwrite job {} for a resume", out,
            job);
        fs.mkdirs(staged.getParent());
        rename(fs, st.getPath(), staged);
      }
    }
  }

  /**
   * Committed task files that earlier jobs (not this one) left behind: one file per earlier job
   * and partition (two committed attempts of one partition hold the same rows), each readable.
   */
  List<Adopted> adoptable(Configuration conf) throws IOException {
    FileSystem fs = out().getFileSystem(conf);
    Path staging = new Path(out(), STAGING);
    Map<String, Adopted> byPartition = new LinkedHashMap<>();
    if (!fs.exists(staging)) {
      return List.of();
    }
    for (FileStatus job : fs.listStatus(staging)) {
      if (!job.isDirectory() || job.getPath().getName().equals(jobId)) {
        continue;
      }
      for (String area : List.of(TASKS, TABLE)) {
        Path dir = new Path(job.getPath(), area);
        if (!fs.exists(dir)) {
          continue;
        }
        FileStatus[] files = fs.listStatus(dir);
        java.util.Arrays.sort(files, Comparator.comparing(f -> f.getPath().getName()));
        for (FileStatus f : files) {
          Matcher m = PART.matcher(f.getPath().getName());
          if (!m.matches()) {
            continue;
          }
          String key = m.group(2) + "/" + m.group(1);
          if (byPartition.containsKey(key)) {
            continue;
          }
          long rows;
          try (ParquetFileReader r = ParquetFileReader.open(
              HadoopInputFile.fromPath(f.getPath(), conf))) {
            rows = r.getRecordCount();
          } catch (IOException | RuntimeException e) {
            LOG.warn("Not adopting {}: it cannot be read ({}); its rows are generated again",
                f.getPath(), e.toString());
            continue;
          }
          byPartition.put(key, new Adopted(m.group(2), f.getPath(), rows));
        }
      }
    }
    return new ArrayList<>(byPartition.values());
  }

  /** A finished file of an earlier, failed job, taken into this job's output. */
  record Adopted(String jobId, Path file, long rows) {
  }

  /**
   * What one job adds to the table: its manifest entry, its files, and its report (HTML; null
   * when it could not be made, which never fails the job).
   */
  record JobEntry(ObjectNode json, List<String> taskFiles, List<Adopted> adopted,
      byte[] report) {
  }

  /**
   * Appends (driver): moves this job's committed task files and the adopted ones into the
   * folder, then records the job in the manifest. Earlier files are never touched. On a failure
   * the files moved so far are moved back, so the job can be resumed.
   */
  void commitAppend(Configuration conf, JobEntry entry) throws IOException {
    FileSystem fs = out().getFileSystem(conf);
    List<Path[]> moved = new ArrayList<>();
    try {
      for (Path[] move : moves(entry, out())) {
        rename(fs, move[0], move[1]);
        moved.add(move);
      }
      ObjectNode manifest = readManifest(fs, out());
      ((ArrayNode) manifest.withArray("jobs")).add(entry.json());
      writeReport(fs, out(), entry);
      writeAtomically(fs, new Path(out(), MANIFEST), manifest);
      writeAtomically(fs, new Path(out(), SUCCESS), new byte[0]);
    } catch (IOException | RuntimeException e) {
      for (int i = moved.size() - 1; i >= 0; i--) {
        try {
          rename(fs, moved.get(i)[1], moved.get(i)[0]);
        } catch (IOException | RuntimeException undo) {
          e.addSuppressed(undo);
        }
      }
      throw e;
    }
    fs.delete(jobDir(), true);
    deleteAdoptedJobs(fs, entry);
  }

  /**
   * Overwrites (driver): builds the new table (this job's files, adopted files, manifest,
   * {@code _SUCCESS}) in the staging folder, then swaps it with the old one (see the class
   * comment). On a failure before the new table is in place the old one is put back.
   */
  void commitOverwrite(Configuration conf, JobEntry entry) throws IOException {
    FileSystem fs = out().getFileSystem(conf);
    Path table = new Path(jobDir(), TABLE);
    fs.mkdirs(table);
    for (Path[] move : moves(entry, table)) {
      rename(fs, move[0], move[1]);
    }
    ObjectNode manifest = new ObjectMapper().createObjectNode();
    manifest.put("format", 2);
    manifest.putArray("jobs").add(entry.json());
    writeReport(fs, table, entry);
    writeAtomically(fs, new Path(table, MANIFEST), manifest);
    writeAtomically(fs, new Path(table, SUCCESS), new byte[0]);

    Path next = sibling("next");
    Path prev = sibling("prev");
    rename(fs, table, next);
    boolean hadOld = fs.exists(out());
    try {
      if (hadOld) {
        rename(fs, out(), prev);
      }
    } catch (IOException | RuntimeException e) {
      undo(fs, () -> rename(fs, next, table), e);
      throw e;
    }
    try {
      rename(fs, next, out());
    } catch (IOException | RuntimeException e) {
      if (hadOld) {
        undo(fs, () -> rename(fs, prev, out()), e);
        undo(fs, () -> {
          fs.mkdirs(jobDir());
          rename(fs, next, table);
        }, e);
      }
      throw e;
    }
    // The new table is in place: the old one (with any staging of earlier jobs) goes.
    if (hadOld && !fs.delete(prev, true)) {
      LOG.warn("Could not delete the replaced table {}; the next write removes it", prev);
    }
  }

  private interface Step {
    void run() throws IOException;
  }

  private static void undo(FileSystem fs, Step step, Exception failure) {
    try {
      step.run();
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  private List<Path[]> moves(JobEntry entry, Path into) {
    List<Path[]> moves = new ArrayList<>();
    Path tasks = new Path(jobDir(), TASKS);
    for (String f : entry.taskFiles()) {
      moves.add(new Path[] {new Path(tasks, f), new Path(into, f)});
    }
    for (Adopted a : entry.adopted()) {
      moves.add(new Path[] {a.file(), new Path(into, a.file().getName())});
    }
    return moves;
  }

  private void deleteAdoptedJobs(FileSystem fs, JobEntry entry) throws IOException {
    for (Adopted a : entry.adopted()) {
      Path job = new Path(new Path(out(), STAGING), a.jobId());
      if (fs.exists(job)) {
        fs.delete(job, true);
      }
    }
    Path staging = new Path(out(), STAGING);
    if (fs.exists(staging) && fs.listStatus(staging).length == 0) {
      fs.delete(staging, false);
    }
  }

  /**
   * A failed job (driver): deletes its unfinished attempts and keeps its committed task files.
   *
   * @return rows kept for a resume
   */
  long abort(Configuration conf) {
    try {
      FileSystem fs = out().getFileSystem(conf);
      fs.delete(new Path(jobDir(), ATTEMPTS), true);
      Path tasks = new Path(jobDir(), TASKS);
      long kept = 0;
      int files = 0;
      if (fs.exists(tasks)) {
        for (FileStatus f : fs.listStatus(tasks)) {
          try (ParquetFileReader r = ParquetFileReader.open(
              HadoopInputFile.fromPath(f.getPath(), conf))) {
            kept += r.getRecordCount();
            files++;
          } catch (IOException | RuntimeException e) {
            fs.delete(f.getPath(), false);
          }
        }
      }
      if (files == 0) {
        fs.delete(jobDir(), true);
        Path staging = new Path(out(), STAGING);
        if (fs.exists(staging) && fs.listStatus(staging).length == 0) {
          fs.delete(staging, false);
        }
      } else {
        LOG.warn("batchgen job {} failed; the {} rows of its {} finished tasks are kept in {}:"
            + " run it again with option resume=true to keep them and generate only the rest",
            jobId, kept, files, tasks);
      }
      return kept;
    } catch (IOException e) {
      LOG.warn("Could not clean up the staging folder {} of failed job {}: {}", jobDir(), jobId,
          e.toString());
      return 0;
    }
  }

  /** The published result files of the table now (what a resume in append mode keeps). */
  List<Path> publishedFiles(Configuration conf) throws IOException {
    FileSystem fs = out().getFileSystem(conf);
    List<Path> files = new ArrayList<>();
    if (fs.exists(out())) {
      for (FileStatus st : fs.listStatus(out())) {
        if (st.isFile() && PART.matcher(st.getPath().getName()).matches()) {
          files.add(st.getPath());
        }
      }
    }
    return files;
  }

  /** The manifest of {@code dir}, an empty format-2 one when there is none. */
  static ObjectNode readManifest(FileSystem fs, Path dir) throws IOException {
    ObjectMapper json = new ObjectMapper();
    Path file = new Path(dir, MANIFEST);
    if (!fs.exists(file)) {
      ObjectNode m = json.createObjectNode();
      m.put("format", 2);
      m.putArray("jobs");
      return m;
    }
    JsonNode node;
    try (InputStream in = fs.open(file)) {
      node = json.readTree(in);
    }
    if (node.has("jobs")) {
      return (ObjectNode) node;
    }
    // Format 1 described a single job at the top level: keep it as the first job.
    ObjectNode m = json.createObjectNode();
    m.put("format", 2);
    m.putArray("jobs").add(node);
    return m;
  }

  /** The job's report into {@code dir}, named in its manifest entry; none when it has none. */
  private static void writeReport(FileSystem fs, Path dir, JobEntry entry) throws IOException {
    if (entry.report() != null) {
      writeAtomically(fs, new Path(dir, REPORT), entry.report());
      entry.json().put("report", REPORT);
    }
  }

  /** Writes {@code content} as JSON to a temporary name, then moves it. */
  private static void writeAtomically(FileSystem fs, Path file, JsonNode content)
      throws IOException {
    writeAtomically(fs, file, new ObjectMapper().writerWithDefaultPrettyPrinter()
        .writeValueAsString(content).getBytes(StandardCharsets.UTF_8));
  }

  private static void writeAtomically(FileSystem fs, Path file, byte[] content)
      throws IOException {
    Path tmp = new Path(file.getParent(), "." + file.getName() + ".tmp");
    try (OutputStream o = fs.create(tmp, true)) {
      o.write(content);
    }
    if (fs.exists(file)) {
      fs.delete(file, false);
    }
    rename(fs, tmp, file);
  }

  private static void rename(FileSystem fs, Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("could not move " + from + " to " + to);
    }
  }
}
