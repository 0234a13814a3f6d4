/**
 * Which sequences move between executors, and when: the driver-side rebalancing policy as plain,
 * Spark-free code, so that the Spark driver plugin and the cluster simulation of
 * {@code bin/batchgen bench rebalance} run the very same decisions. Inputs are the executors'
 * load reports ({@link io.batchgen.core.rebalance.ExecutorLoad}); outputs are
 * {@link io.batchgen.core.rebalance.Move}s that executors carry out with the runtime's migration
 * snapshots.
 */
package io.batchgen.core.rebalance;
