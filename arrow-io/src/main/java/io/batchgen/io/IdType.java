package io.batchgen.io;

/** The type of the id column, carried from the prompt table to the result table. */
public enum IdType {
  /** Any integer column; written back as a 64-bit long. */
  LONG,
  /** A string column. */
  STRING
}
