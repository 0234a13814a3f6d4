package io.batchgen.engine.format;

/** Conversions between float and the 16-bit formats (IEEE half and bfloat16), on Java 17. */
public final class Half {
  private Half() {
  }

  /** bfloat16 bits to float: exact. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** float to bfloat16 bits, round to nearest even (NaN stays NaN). */
  public static short floatToBf16(float f) {
    int x = Float.floatToRawIntBits(f);
    if ((x & 0x7fffffff) > 0x7f800000) {
      return (short) ((x >>> 16) | 0x0040);
    }
    int rounding = 0x7fff + ((x >>> 16) & 1);
    return (short) ((x + rounding) >>> 16);
  }

  /** IEEE binary16 bits to float: exact, subnormals included. */
  public static float f16ToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1.0p-24f; // subnormal: mant * 2^-24, exact in float
      return sign == 0 ? v : -v;
    }
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** float to IEEE binary16 bits, round to nearest even, overflow to infinity. */
  public static short floatToF16(float f) {
    int x = Float.floatToRawIntBits(f);
    int sign = (x >>> 16) & 0x8000;
    int abs = x & 0x7fffffff;
    if (abs > 0x7f800000) {
      return (short) (sign | 0x7e00);
    }
    if (abs >= 0x477ff000) { // rounds to >= 65520: infinity
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below smallest normal half (2^-14): subnormal or zero
      float a = Float.intBitsToFloat(abs);
      int mant = Math.round(a * 0x1.0p24f); // Math.round is half-up; fix ties to even below
      float back = mant * 0x1.0p-24f;
      if (Math.abs(back - a) == 0x1.0p-25f && (mant & 1) == 1) {
        mant--;
      }
      return (short) (sign | mant);
    }
    int exp = ((abs >>> 23) - 127 + 15);
    int mant = abs & 0x7fffff;
    int half = (exp << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) {
      half++;
    }
    return (short) (sign | half);
  }
}
