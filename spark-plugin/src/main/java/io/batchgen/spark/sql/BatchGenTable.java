package io.batchgen.spark.sql;

import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The {@code batchgen} table: as a sink it accepts any prompt DataFrame (the schema is checked
 * when the write is planned, naming the bad column); as a source its schema is the result table
 * of the prompt dataset named by option {@code prompts}.
 */
public final class BatchGenTable implements SupportsRead, SupportsWrite {
  private final StructType schema;
  private final Map<String, String> properties;

  public BatchGenTable(StructType schema, Map<String, String> properties) {
    this.schema = schema;
    this.properties = Map.copyOf(properties);
  }

  /** The table a read sees: the result schema of option {@code prompts}. */
  public static BatchGenTable forRead(CaseInsensitiveStringMap options) {
    return new BatchGenTable(BatchGenScanBuilder.plan(options).readSchema(), options);
  }

  @Override
  public String name() {
    return "batchgen";
  }

  @Override
  public StructType schema() {
    return schema;
  }

  @Override
  public Set<TableCapability> capabilities() {
    return Set.of(TableCapability.BATCH_READ, TableCapability.BATCH_WRITE,
        TableCapability.TRUNCATE, TableCapability.ACCEPT_ANY_SCHEMA);
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    return BatchGenScanBuilder.plan(options);
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new BatchGenWriteBuilder(info);
  }

  @Override
  public Map<String, String> properties() {
    return properties;
  }
}
