package io.batchgen.io;

/**
 * What one Parquet row group of a prompt dataset will cost, known from the file footer alone (no
 * data is read): for planning partitions by estimated work rather than by row count.
 *
 * @param file        the file's path
 * @param index       the row group's index in the file
 * @param rowCount    rows in the row group
 * @param promptBytes uncompressed bytes of the prompt and messages column chunks: a proxy for
 *                    prompt tokens (about 4 bytes per token for English text)
 */
public record RowGroupCost(String file, int index, long rowCount, long promptBytes) {}
