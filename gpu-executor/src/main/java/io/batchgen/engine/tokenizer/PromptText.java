package io.batchgen.engine.tokenizer;

import java.util.Objects;

/**
 * Text on its way to becoming token ids, and which kind it is, because the kind decides the
 * special tokens: a plain prompt gets the BOS/EOS its tokenizer adds to any text
 * ({@code add_bos_token}/{@code add_eos_token} of tokenizer_config.json and the post-processor
 * of tokenizer.json), while a rendered chat already holds every special token its template wrote
 * (Llama 3's and Gemma's write BOS themselves), so nothing is added: Hugging Face tokenizes
 * rendered chats with {@code add_special_tokens=False}.
 */
public sealed interface PromptText {
  String text();

  /** A prompt given as text: special tokens as the tokenizer adds them. */
  record Plain(String text) implements PromptText {
    public Plain {
      Objects.requireNonNull(text, "text");
    }
  }

  /** A conversation rendered by the model's chat template: no special tokens added. */
  record RenderedChat(String text) implements PromptText {
    public RenderedChat {
      Objects.requireNonNull(text, "text");
    }
  }

  static PromptText plain(String text) {
    return new Plain(text);
  }

  static PromptText renderedChat(String text) {
    return new RenderedChat(text);
  }
}
