package io.batchgen.spark.sql;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.connector.read.InputPartition;

/** One read task's share of the prompts: slices of files, and their summed estimated cost. */
record PromptPartition(int index, List<PromptSlice> slices, double cost)
    implements InputPartition, Serializable {

  PromptPartition {
    slices = List.copyOf(slices);
  }
}
