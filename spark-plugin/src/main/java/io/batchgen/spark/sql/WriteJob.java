package io.batchgen.spark.sql;

import java.io.Serializable;
import org.apache.spark.broadcast.Broadcast;

/**
 * What every write task of one job needs, planned on the driver and shipped with the tasks.
 *
 * @param options the job's resolved options
 * @param rows    how to read the input rows
 * @param table   where files go
 * @param done    ids finished by earlier runs (resume), or null
 */
record WriteJob(JobOptions options, SparkPromptRows rows, ResultTable table,
    Broadcast<DoneIds> done) implements Serializable {

  /** The finished ids, or null when this job resumes nothing. */
  DoneIds doneIds() {
    return done == null ? null : done.value();
  }
}
