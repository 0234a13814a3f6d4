package io.batchgen.engine.backend;

import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width the {@code cpu} backend's kernels run at. {@link #preferred()} is what the
 * JVM reports for this machine ({@code FloatVector.SPECIES_PREFERRED}: 256 bits on AVX2, 512 on
 * AVX-512); the others can be forced (tests run every width; {@code bench kernels --species}).
 * A width wider than the hardware's runs correctly but emulated, far slower.
 *
 * <p>Every kernel of the backend gives bitwise the same results at every width: a vector only
 * runs several independent sequential chains side by side (across output columns, key positions
 * or elements), never a horizontal sum whose order would depend on the lane count.
 */
public enum VectorWidth {
  W128(128),
  W256(256),
  W512(512);

  private final int bits;

  VectorWidth(int bits) {
    this.bits = bits;
  }

  public int bits() {
    return bits;
  }

  /** f32 lanes per vector. */
  public int lanes() {
    return bits / 32;
  }

  VectorSpecies<Float> species() {
    return VectorSpecies.of(float.class, jdk.incubator.vector.VectorShape.forBitSize(bits));
  }

  /** The width the JVM prefers on this machine; 128 bits where it reports less. */
  public static VectorWidth preferred() {
    int b = FloatVector.SPECIES_PREFERRED.vectorBitSize();
    return b >= 512 ? W512 : b >= 256 ? W256 : W128;
  }

  /**
   * Parses {@code preferred}, {@code 128}, {@code 256} or {@code 512}.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static VectorWidth parse(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "preferred" -> preferred();
      case "128" -> W128;
      case "256" -> W256;
      case "512" -> W512;
      default -> throw new IllegalArgumentException("Unknown vector width [" + s
          + "]; supported: preferred, 128, 256, 512");
    };
  }

  @Override
  public String toString() {
    return bits + "-bit";
  }
}
