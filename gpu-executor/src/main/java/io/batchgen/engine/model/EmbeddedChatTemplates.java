package io.batchgen.engine.model;

import java.util.Map;

/**
 * The chat templates a GGUF file carries ({@code tokenizer.chat_template}, named ones as
 * {@code tokenizer.chat_template.NAME}) and the texts of its special tokens, as the template's
 * variables ({@code bos_token}, {@code eos_token}, ...). A Hugging Face directory keeps these in
 * its tokenizer files instead.
 *
 * @param templates     template name to Jinja source; {@code "default"} for the main one
 * @param specialTokens template variable name to token text
 */
public record EmbeddedChatTemplates(Map<String, String> templates,
    Map<String, String> specialTokens) {

  public EmbeddedChatTemplates {
    templates = Map.copyOf(templates);
    specialTokens = Map.copyOf(specialTokens);
  }
}
