package io.batchgen.spark.runtime;

/** The BatchGen version, from the jar manifest (or "dev" when running from classes). */
public final class EngineVersion {
  private EngineVersion() {
  }

  public static String get() {
    String v = EngineVersion.class.getPackage().getImplementationVersion();
    return "batchgen-" + (v == null ? "dev" : v);
  }
}
