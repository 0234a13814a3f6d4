package io.batchgen.engine.model;

import io.batchgen.engine.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A tokenizer loaded without its model ({@link ModelLoader#loadTokenizer}): what the
 * {@code tokenize} command and {@code make-model --tokenizer} need. Closing it closes the
 * tokenizer.
 *
 * @param source    the tokenizer directory or the GGUF file
 * @param format    {@code "hf"} or {@code "gguf"}
 * @param tokenizer the tokenizer
 * @param embedded  the GGUF file's chat templates; null for a directory (its templates are files)
 */
public record LoadedTokenizer(Path source, String format, TextTokenizer tokenizer,
    EmbeddedChatTemplates embedded) implements AutoCloseable {

  public Optional<EmbeddedChatTemplates> embeddedChatTemplates() {
    return Optional.ofNullable(embedded);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
