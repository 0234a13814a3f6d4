/**
 * Paged KV cache bookkeeping: per-layer block tables over a backend's
 * {@link io.batchgen.core.model.KvStore}, the host tier budget for parked or offloaded KV, and the
 * block-size-independent layout KV takes outside the device.
 */
package io.batchgen.core.kv;
