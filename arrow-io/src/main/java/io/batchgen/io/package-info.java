/**
 * Columnar input and output for BatchGen: prompt requests in (Arrow record batches, Parquet
 * datasets, raw rows, OpenAI batch JSONL), results out (Arrow record batches, incremental Parquet
 * files, OpenAI batch JSONL), and chat-template rendering. The column layouts are documented in
 * {@code docs/schemas.md} at the repository root.
 *
 * <p>Entry points for input: {@link io.batchgen.io.ArrowPromptConverter},
 * {@link io.batchgen.io.PromptDataset}, {@link io.batchgen.io.PromptRowAssembler},
 * {@link io.batchgen.io.OpenAiBatchReader}, {@link io.batchgen.io.ChatTemplate}. For output:
 * {@link io.batchgen.io.ResultWriter} with {@link io.batchgen.io.ArrowResultBatcher} and
 * {@link io.batchgen.io.ParquetResultWriter}; {@link io.batchgen.io.OpenAiBatchWriter}. Sequence
 * state moving between executors has one format, {@code io.batchgen.core.snapshot.SnapshotCodec}
 * in coroutine-core.
 *
 * <p>Bad input never disappears silently: a schema problem throws
 * {@link io.batchgen.io.BadInputException} naming the column and the fix; a bad row either throws
 * the same (policy {@link io.batchgen.io.BadRowPolicy#FAIL}) or becomes a
 * {@link io.batchgen.io.RowError} that the caller turns into an error result
 * ({@link io.batchgen.io.BadRowPolicy#ERROR_RECORD}).
 */
package io.batchgen.io;
