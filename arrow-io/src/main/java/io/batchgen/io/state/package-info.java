/**
 * Sequence state on the wire: {@link io.batchgen.io.state.SequenceState} (the runtime's opaque,
 * versioned snapshot bytes plus KV blocks) encoded as Arrow IPC by
 * {@link io.batchgen.io.state.StateCodec} and validated on read;
 * {@link io.batchgen.io.state.KvBlocks} moves blocks between a {@code KvStore} and a state.
 */
package io.batchgen.io.state;
