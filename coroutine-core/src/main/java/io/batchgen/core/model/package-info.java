/**
 * The module-level contract between the sequence coroutine runtime and the compute backends:
 * what a module batch is, how KV memory is held, and how MoE outputs combine.
 */
package io.batchgen.core.model;
