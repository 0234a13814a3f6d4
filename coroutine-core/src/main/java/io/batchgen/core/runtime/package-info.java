/**
 * The sequence coroutine runtime: {@link io.batchgen.core.runtime.SequenceRuntime} (the API),
 * one state machine per sequence, a wait queue per module, a pluggable
 * {@link io.batchgen.core.runtime.SchedulingPolicy}, and the lock-step baseline as a
 * {@link io.batchgen.core.runtime.SchedulingMode}. Configured by
 * {@link io.batchgen.core.runtime.RuntimeConfig}; no system properties.
 */
package io.batchgen.core.runtime;
