package io.batchgen.spark.runtime;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchgen.engine.model.EmbeddedChatTemplates;
import io.batchgen.engine.tokenizer.PromptText;
import io.batchgen.engine.tokenizer.TextTokenizer;
import io.batchgen.io.ChatMessage;
import io.batchgen.io.ChatTemplate;
import io.batchgen.io.PromptRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one place a prompt becomes token ids: a text prompt is tokenized as plain text (BOS/EOS as
 * the model's tokenizer adds them); chat messages are rendered by the model's chat template and
 * the rendered text is tokenized without added special tokens (the template wrote them).
 * Used by every task of the sink and the source, and by {@code bin/batchgen tokenize}.
 *
 * <p>Thread-safe: the tokenizer and the parsed template are shared, read-only.
 */
public final class PromptEncoder {

  /** A prompt as the model sees it: the text that was tokenized and its ids. */
  public record Encoded(String text, int[] ids) {
  }

  private final TextTokenizer tokenizer;
  private final ChatTemplate template;
  /** Why chat rows cannot be rendered when {@code template} is null. */
  private final String noTemplate;

  private PromptEncoder(TextTokenizer tokenizer, ChatTemplate template, String noTemplate) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.noTemplate = noTemplate;
  }

  /**
   * An encoder for the model (or tokenizer) at {@code source}. Its chat template comes from the
   * GGUF file ({@code embedded}) or the directory's tokenizer files; when it has none, or the
   * template does not parse, text prompts still work and chat prompts fail with the reason.
   *
   * @param templateName      the named template to use; null for the default one
   * @param variablesJson     extra template variables as a JSON object; empty for none
   * @throws IllegalArgumentException when {@code variablesJson} is not a JSON object of data
   */
  public static PromptEncoder of(TextTokenizer tokenizer, Path source,
      Optional<EmbeddedChatTemplates> embedded, String templateName, String variablesJson) {
    Map<String, Object> variables = variables(variablesJson);
    try {
      ChatTemplate t = embedded.isPresent()
          ? ChatTemplate.select(embedded.get().templates(), templateName,
              embedded.get().specialTokens(), source.toString())
          : ChatTemplate.fromModelDirectory(source, templateName);
      return new PromptEncoder(tokenizer, t.withVariables(variables), null);
    } catch (IllegalArgumentException e) {
      return new PromptEncoder(tokenizer, null, e.getMessage());
    }
  }

  private static Map<String, Object> variables(String json) {
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      return new ObjectMapper().readValue(json, new TypeReference<Map<String, Object>>() { });
    } catch (IOException e) {
      throw new IllegalArgumentException("Option 'chatTemplateKwargs' must be a JSON object such"
          + " as {\"enable_thinking\": false}: " + e.getMessage(), e);
    }
  }

  /** Whether chat prompts can be rendered. */
  public boolean hasChatTemplate() {
    return template != null;
  }

  /**
   * The prompt of one row, rendered (chat rows, with the generation prompt) and tokenized.
   *
   * @throws IllegalArgumentException when a chat row cannot be rendered: no template, or the
   *     template refused the conversation (its own message is in the exception's)
   */
  public Encoded encode(PromptRequest request) {
    return request.isChat() ? encodeChat(request.messages(), true)
        : encodeText(request.prompt());
  }

  /** A plain text prompt: special tokens as the tokenizer adds them. */
  public Encoded encodeText(String text) {
    return new Encoded(text, tokenizer.encode(PromptText.plain(text)));
  }

  /**
   * A conversation rendered with the model's template and tokenized without added special
   * tokens.
   *
   * @throws IllegalArgumentException as {@link #encode}
   */
  public Encoded encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
    if (template == null) {
      throw new IllegalArgumentException(noTemplate);
    }
    String text = template.render(messages, addGenerationPrompt);
    return new Encoded(text, tokenizer.encode(PromptText.renderedChat(text)));
  }
}
