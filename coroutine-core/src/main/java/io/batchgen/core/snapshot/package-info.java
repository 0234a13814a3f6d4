/**
 * Sequence snapshots for migration and checkpointing, and their versioned Kryo 5 encoding.
 */
package io.batchgen.core.snapshot;
