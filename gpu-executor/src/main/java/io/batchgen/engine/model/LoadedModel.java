package io.batchgen.engine.model;

import io.batchgen.core.model.ModelShape;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A loaded checkpoint: immutable config, memory-mapped weights and the tokenizer. Shared by every
 * executor and thread; per-sequence state lives elsewhere. The tokenizer is opened on first use
 * (its native library is only needed when text is encoded).
 *
 * <p>{@link #close()} releases the tokenizer; the mapped weights are released by the GC when no
 * executor references them any more.
 */
public final class LoadedModel implements AutoCloseable {
  private final Path source;
  private final String format;
  private final ModelConfig config;
  private final ModelWeights weights;
  private final Supplier<TextTokenizer> tokenizerFactory;
  private final EmbeddedChatTemplates embeddedTemplates;
  private TextTokenizer tokenizer;

  LoadedModel(Path source, String format, ModelConfig config, ModelWeights weights,
      Supplier<TextTokenizer> tokenizerFactory, EmbeddedChatTemplates embeddedTemplates) {
    this.source = source;
    this.format = format;
    this.config = config;
    this.weights = weights;
    this.tokenizerFactory = tokenizerFactory;
    this.embeddedTemplates = embeddedTemplates;
  }

  /**
   * The chat templates inside the model file (GGUF); empty for a Hugging Face directory, whose
   * templates are in its tokenizer files.
   */
  public Optional<EmbeddedChatTemplates> embeddedChatTemplates() {
    return Optional.ofNullable(embeddedTemplates);
  }

  public Path source() {
    return source;
  }

  /** {@code "hf"} or {@code "gguf"}. */
  public String format() {
    return format;
  }

  public ModelConfig config() {
    return config;
  }

  public ModelWeights weights() {
    return weights;
  }

  public ModelShape shape() {
    return config.shape();
  }

  /** Element type of the expert weights, e.g. for logs. */
  public DType dtype() {
    return weights.expertDtype();
  }

  /**
   * The model's tokenizer, opened on first call.
   *
   * @throws io.batchgen.engine.format.ModelFormatException when the checkpoint has none usable
   */
  public synchronized TextTokenizer tokenizer() {
    if (tokenizer == null) {
      tokenizer = tokenizerFactory.get();
    }
    return tokenizer;
  }

  @Override
  public synchronized void close() {
    if (tokenizer != null) {
      tokenizer.close();
      tokenizer = null;
    }
  }

  @Override
  public String toString() {
    return config.arch().hfName() + " " + format + " " + dtype() + " at " + source;
  }
}
