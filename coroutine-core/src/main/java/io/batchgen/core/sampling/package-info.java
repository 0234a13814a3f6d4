/**
 * Per-sequence sampling (greedy, temperature, top-k, top-p, min-p) with random numbers derived
 * from {@code (seed, step)} only, stop conditions' parameters, and the detokenizer seam used for
 * stop strings.
 */
package io.batchgen.core.sampling;
