package io.batchgen.engine.tokenizer;

/**
 * Text to token ids and back, for one model. Implementations are thread-safe. Encoding never
 * truncates: a prompt longer than the model's context is the caller's decision to reject.
 *
 * <p>Lifecycle: opened by the model loader on first use, closed with the
 * {@link io.batchgen.engine.model.LoadedModel}.
 */
public interface TextTokenizer extends AutoCloseable {

  /** Token ids of {@code text}, with the special tokens the tokenizer itself adds (e.g. BOS). */
  int[] encode(String text);

  /** Text of {@code ids}, special tokens (EOS, BOS, ...) left out. */
  String decode(int[] ids);

  /** End-of-sequence ids; may be empty. */
  int[] eosTokenIds();

  /** One more than the largest token id the tokenizer can produce. */
  int vocabSize();

  @Override
  void close();
}
