package io.batchgen.engine.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The supported architectures, with their Hugging Face {@code model_type} and llama.cpp GGUF
 * {@code general.architecture} names. Mixtral is stored by llama.cpp as {@code llama} with
 * experts.
 */
public enum Architecture {
  MIXTRAL("mixtral", "llama", true),
  QWEN2_MOE("qwen2_moe", "qwen2moe", true),
  QWEN3_MOE("qwen3_moe", "qwen3moe", true),
  OLMOE("olmoe", "olmoe", true),
  LLAMA("llama", "llama", false),
  QWEN2("qwen2", "qwen2", false),
  QWEN3("qwen3", "qwen3", false);

  private final String hfName;
  private final String ggufName;
  private final boolean moe;

  Architecture(String hfName, String ggufName, boolean moe) {
    this.hfName = hfName;
    this.ggufName = ggufName;
    this.moe = moe;
  }

  /** Hugging Face {@code model_type}. */
  public String hfName() {
    return hfName;
  }

  /** llama.cpp {@code general.architecture}. */
  public String ggufName() {
    return ggufName;
  }

  public boolean moe() {
    return moe;
  }

  /** Supported names for error messages. */
  public static String supportedHfNames() {
    return Arrays.stream(values()).map(Architecture::hfName).collect(Collectors.joining(", "));
  }

  /** Looks up by {@code model_type}, or null. */
  public static Architecture fromHf(String modelType) {
    for (Architecture a : values()) {
      if (a.hfName.equals(modelType)) {
        return a;
      }
    }
    return null;
  }
}
