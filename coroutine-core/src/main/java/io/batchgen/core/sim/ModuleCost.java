package io.batchgen.core.sim;

/**
 * The virtual time one module call of one (real) layer costs on the simulated device:
 *
 * <pre>
 *   nanos(rows, context) = fixed + perRow * max(rows, kneeRows) + perContextToken * context
 * </pre>
 *
 * <p>{@code kneeRows} is the roofline's ridge: below it the call is bound by reading the module's
 * weights (memory-bound decode: the cost does not fall with fewer rows), above it by arithmetic.
 * A CPU, compute-bound from the first row, has {@code kneeRows = 0}. {@code context} counts the
 * cached positions the call reads (attention only: the sum over its sequences of position plus
 * new rows).
 *
 * @param fixedNanos          per call: launch and dispatch overhead
 * @param perRowNanos         per row (token) above the knee
 * @param kneeRows            rows below which the call costs as much as at the knee
 * @param perContextNanos     per cached position read (attention's KV)
 */
public record ModuleCost(double fixedNanos, double perRowNanos, double kneeRows,
    double perContextNanos) {

  public ModuleCost {
    if (!(fixedNanos >= 0) || !(perRowNanos >= 0) || !(kneeRows >= 0) || !(perContextNanos >= 0)) {
      throw new IllegalArgumentException("Module costs must be finite and >= 0, got fixed="
          + fixedNanos + " perRow=" + perRowNanos + " knee=" + kneeRows + " perContext="
          + perContextNanos);
    }
  }

  /** Compute-bound: {@code fixed + perRow * rows (+ perContext * context)}. */
  public static ModuleCost linear(double fixedNanos, double perRowNanos, double perContextNanos) {
    return new ModuleCost(fixedNanos, perRowNanos, 0, perContextNanos);
  }

  /** Cost of one call over {@code rows} rows reading {@code context} cached positions. */
  public double nanos(double rows, long context) {
    return fixedNanos + perRowNanos * Math.max(rows, kneeRows) + perContextNanos * context;
  }
}
