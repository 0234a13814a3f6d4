package io.batchgen.engine.tokenizer;

/**
 * Text to token ids and back, for one model. Implementations are thread-safe. Encoding never
 * truncates: a prompt longer than the model's context is the caller's decision to reject.
 *
 * <p>Lifecycle: opened by the model loader on first use, closed with the
 * {@link io.batchgen.engine.model.LoadedModel}.
 */
public interface TextTokenizer extends AutoCloseable {

  /**
   * Token ids of a prompt. A {@link PromptText.Plain} prompt gets the special tokens the
   * tokenizer adds to text (BOS/EOS, each at most once); a {@link PromptText.RenderedChat} gets
   * none, since its template wrote them.
   */
  int[] encode(PromptText prompt);

  /** A plain prompt's ids: {@code encode(PromptText.plain(text))}. */
  default int[] encode(String text) {
    return encode(PromptText.plain(text));
  }

  /** Text of {@code ids}, special tokens (EOS, BOS, ...) left out. */
  String decode(int[] ids);

  /** End-of-sequence ids; may be empty. */
  int[] eosTokenIds();

  /** One more than the largest token id the tokenizer can produce. */
  int vocabSize();

  @Override
  void close();
}
