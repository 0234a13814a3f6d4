package io.batchgen.engine.tokenizer;

import static io.batchgen.engine.tokenizer.SpmTestVocab.A;
import static io.batchgen.engine.tokenizer.SpmTestVocab.AB;
import static io.batchgen.engine.tokenizer.SpmTestVocab.B;
import static io.batchgen.engine.tokenizer.SpmTestVocab.BC;
import static io.batchgen.engine.tokenizer.SpmTestVocab.BOS;
import static io.batchgen.engine.tokenizer.SpmTestVocab.C;
import static io.batchgen.engine.tokenizer.SpmTestVocab.EOS;
import static io.batchgen.engine.tokenizer.SpmTestVocab.E_ACUTE;
import static io.batchgen.engine.tokenizer.SpmTestVocab.SPACE;
import static io.batchgen.engine.tokenizer.SpmTestVocab.SPACE_A;
import static io.batchgen.engine.tokenizer.SpmTestVocab.SPACE_HELLO;
import static io.batchgen.engine.tokenizer.SpmTestVocab.UNK;
import static io.batchgen.engine.tokenizer.SpmTestVocab.byteId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Expected ids are worked out by hand from {@link SpmTestVocab}: the text gets a leading space,
 * spaces become "▁", and the highest-scoring adjacent pair in the vocabulary merges first.
 */
class SentencePieceBpeTokenizerTest {
  private final SentencePieceBpeTokenizer spm = SpmTestVocab.standard().tokenizer();

  @Test
  void higherScoreMergesFirstNotLeftmost() {
    // "▁abc": pairs ▁a (-4), ab (-3), bc (-2). bc merges first, which makes ab stale; then ▁a.
    assertThat(spm.encode("abc")).containsExactly(BOS, SPACE_A, BC);
    // Swap the scores of ab and bc: ab (-2) merges first, then neither ▁ab nor abc is a piece
    // and ▁a is stale.
    SentencePieceBpeTokenizer swapped = SpmTestVocab.withPairScores(-2f, -3f).tokenizer();
    assertThat(swapped.encode("abc")).containsExactly(BOS, SPACE, AB, C);
  }

  @Test
  void equalScoresMergeLeftmostFirst() {
    SentencePieceBpeTokenizer tie = SpmTestVocab.withPairScores(-3f, -3f).tokenizer(false, false);
    assertThat(tie.encode("abc")).containsExactly(AB, C);
    // without the space prefix and BOS, the standard scores give a, bc
    assertThat(SpmTestVocab.standard().tokenizer(false, false).encode("abc"))
        .containsExactly(A, BC);
  }

  @Test
  void mergesChainIntoLongPieces() {
    // "▁hello": ll (-1), he (-5), llo (-6), ▁he (-7), then ▁hello (-9); hello (-8) is stale by
    // the time it is popped because ▁he took its left symbol.
    assertThat(spm.encode("hello")).containsExactly(BOS, SPACE_HELLO);
    assertThat(spm.encode("hello abc")).containsExactly(BOS, SPACE_HELLO, SPACE_A, BC);
    // two spaces: "▁a▁▁b" -> ▁a, ▁, ▁, b (no "▁▁" or "▁b" piece)
    assertThat(spm.encode("a  b")).containsExactly(BOS, SPACE_A, SPACE, SPACE, B);
  }

  @Test
  void charactersOutsideTheVocabFallBackToUtf8Bytes() {
    // "▁café": é is a piece, f is not: byte 0x66
    assertThat(spm.encode("café")).containsExactly(BOS, SPACE, C, A, byteId(0x66), E_ACUTE);
    // ü = C3 BC
    assertThat(spm.encode("ü")).containsExactly(BOS, SPACE, byteId(0xC3), byteId(0xBC));
    // U+1F600 (a surrogate pair in Java) = F0 9F 98 80, after the merged ▁a
    assertThat(spm.encode("a😀")).containsExactly(BOS, SPACE_A, byteId(0xF0), byteId(0x9F),
        byteId(0x98), byteId(0x80));
  }

  @Test
  void specialTokensInTheTextAreMatchedAndFollowedByASpacePrefix() {
    // as llama.cpp: the fragment after a special token gets the space prefix again
    assertThat(spm.encode("a</s>b")).containsExactly(BOS, SPACE_A, EOS, SPACE, B);
    assertThat(spm.encode("")).containsExactly(BOS);
    assertThat(spm.encode("<s>")).containsExactly(BOS, BOS);
    // adjacent specials, then a fragment that starts after one ("x" is byte 0x78)
    assertThat(spm.encode("<s></s>x")).containsExactly(BOS, BOS, EOS, SPACE, byteId(0x78));
    // "<unk" is no token: only the complete "<unk>" is matched
    assertThat(spm.encode("b<unk<unk>")).containsExactly(BOS, SPACE, B, byteId('<'),
        byteId('u'), byteId('n'), byteId('k'), UNK);
  }

  @Test
  void decodeDropsSpecialsReassemblesBytesAndStripsThePrefixSpace() {
    assertThat(spm.decode(new int[] {BOS, SPACE_A, BC})).isEqualTo("abc");
    assertThat(spm.decode(new int[] {BOS, SPACE_HELLO, SPACE_A, BC, EOS})).isEqualTo("hello abc");
    assertThat(spm.decode(new int[] {A, BC})).isEqualTo("abc");
    assertThat(spm.decode(new int[] {UNK, SPACE_A, byteId(0xC3), byteId(0xBC)})).isEqualTo("aü");
    assertThat(spm.decode(new int[] {SPACE, SPACE, B})).isEqualTo(" b");
    // without the space prefix nothing is stripped
    assertThat(SpmTestVocab.standard().tokenizer(false, false).decode(new int[] {SPACE_A}))
        .isEqualTo(" a");
  }

  @Test
  void decodeOfEncodeIsTheText() {
    for (String s : List.of("abc", "hello abc", "  two  spaces\tand\nlines  ", " leading",
        "Ünïcödé ✓ 漢字 😀!", "café au lait", "x", "😀😀", "")) {
      assertThat(spm.decode(spm.encode(s))).as(s).isEqualTo(s);
      SentencePieceBpeTokenizer plain = SpmTestVocab.standard().tokenizer(false, false);
      assertThat(plain.decode(plain.encode(s))).as(s).isEqualTo(s);
    }
  }

  @Test
  void longInputsMergeInOnePass() {
    String text = "hello abc ".repeat(5_000); // 50,000 characters
    int[] ids = spm.encode(text);
    assertThat(ids).hasSize(1 + 3 * 5_000 + 1); // BOS, (▁hello ▁a bc) x 5000, trailing ▁
    assertThat(ids[ids.length - 1]).isEqualTo(SPACE);
    assertThat(spm.decode(ids)).isEqualTo(text);
  }

  @Test
  void vocabWithoutByteTokensUsesTheUnknownToken() {
    List<String> tokens = List.of("<unk>", "<s>", "</s>", "▁", "a");
    int[] types = {2, 3, 3, 1, 1};
    SentencePieceBpeTokenizer t = new SentencePieceBpeTokenizer(tokens, new float[5], types,
        new SentencePieceBpeTokenizer.Options(1, 2, 0, true, true, true));
    assertThat(t.encode("aüa")).containsExactly(1, 3, 4, 0, 4, 2);
    assertThat(t.eosTokenIds()).containsExactly(2);
    assertThat(t.vocabSize()).isEqualTo(5);
    SentencePieceBpeTokenizer noUnk = new SentencePieceBpeTokenizer(tokens, new float[5], types,
        new SentencePieceBpeTokenizer.Options(1, 2, -1, true, false, true));
    assertThatThrownBy(() -> noUnk.encode("ü")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("neither byte tokens <0x00>..<0xFF> nor an unknown token");
  }
}
