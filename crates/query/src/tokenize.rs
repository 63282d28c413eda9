//! The message tokenizer: the one definition of a "word" that every store and the in-memory
//! evaluator use, so that a word query finds the same records everywhere.
//!
//! - A word is a run of letters and digits (`char::is_alphanumeric`), lower-cased. Everything
//!   else separates words: `com.example.Foo` is `com`, `example`, `foo`; `user_id` is `user`, `id`.
//! - Chinese, Japanese and Korean characters are indexed as overlapping **bigrams** of each run
//!   of CJK characters (`用户登录` → `用户`, `户登`, `登录`), as OpenSearch's `cjk_bigram` does; a
//!   lone CJK character is a unigram. A query word is tokenized the same way and its tokens must
//!   appear at consecutive positions, so `登录` is found inside `用户登录失败`.
//! - Tokens longer than [`MAX_TOKEN_BYTES`] are dropped (base64 blobs, hashes of megabytes):
//!   they are never found by a word, in any store.
//!
//! OpenSearch receives the tokens already made (`message_terms`, split on spaces by its
//! `whitespace` tokenizer), and Tantivy runs this function as its tokenizer, so neither store's
//! own text analysis can make it disagree with the other or with [`crate::matches`].

/// Longer tokens are not indexed.
pub const MAX_TOKEN_BYTES: usize = 255;

/// One token of a text, with its place: `position` counts tokens, `start..end` are byte offsets
/// into the text (for highlighting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub position: usize,
    pub start: usize,
    pub end: usize,
}

/// Whether `c` is written without spaces between words (Han, Hiragana, Katakana, Hangul), so
/// that words are found by bigrams.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x2E80..=0x2FDF     // CJK radicals
        | 0x3005..=0x3007     // 々 〆 〇
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xA960..=0xA97F     // Hangul Jamo extended A
        | 0xAC00..=0xD7FF     // Hangul syllables, Jamo extended B
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // half-width Katakana
        | 0x20000..=0x3134F   // CJK extensions B–G
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The tokens of `text`, in order. See the module documentation for the rules.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut position = 0;
    let mut push = |out: &mut Vec<Token>, text: String, start: usize, end: usize| {
        if !text.is_empty() && text.len() <= MAX_TOKEN_BYTES {
            out.push(Token { text, position, start, end });
            position += 1;
        }
    };
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if is_cjk(c) {
            // A run of CJK characters: bigrams, or the character alone.
            let mut run: Vec<(usize, char)> = Vec::new();
            while let Some(&(i, c)) = chars.peek() {
                if !is_cjk(c) {
                    break;
                }
                run.push((i, c));
                chars.next();
            }
            if run.len() == 1 {
                push(&mut out, run[0].1.to_string(), start, start + run[0].1.len_utf8());
            } else {
                for pair in run.windows(2) {
                    let (i, a) = pair[0];
                    let (j, b) = pair[1];
                    let mut t = String::with_capacity(8);
                    t.push(a);
                    t.push(b);
                    push(&mut out, t, i, j + b.len_utf8());
                }
            }
        } else if is_word_char(c) {
            let mut end = start;
            let mut word = String::new();
            while let Some(&(i, c)) = chars.peek() {
                if !is_word_char(c) || is_cjk(c) {
                    break;
                }
                if c.is_ascii() {
                    word.push(c.to_ascii_lowercase());
                } else {
                    word.extend(c.to_lowercase());
                }
                end = i + c.len_utf8();
                chars.next();
            }
            push(&mut out, word, start, end);
        } else {
            chars.next();
        }
    }
    out
}

/// Just the token texts of `text`.
pub fn terms(text: &str) -> Vec<String> {
    tokenize(text).into_iter().map(|t| t.text).collect()
}

/// The tokens of `text` joined by single spaces: what OpenSearch indexes as `message_terms`
/// with its `whitespace` tokenizer (a token never contains whitespace).
pub fn joined_terms(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 8);
    for t in tokenize(text) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&t.text);
    }
    s
}

/// Whether `needle` (a word's or phrase's tokens) occurs at consecutive positions in `haystack`.
/// An empty needle occurs nowhere: a word without letters or digits matches nothing, as in the
/// stores (OpenSearch's `match_none`).
pub fn contains_phrase(haystack: &[Token], needle: &[String]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w.iter().zip(needle).all(|(t, n)| t.text == *n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_punctuation_and_lowercase() {
        assert_eq!(terms("Error in com.example.Foo: user_id=42"), ["error", "in", "com", "example", "foo", "user", "id", "42"]);
        assert_eq!(terms("ÉCOLE Straße"), ["école", "straße"]);
        assert_eq!(terms("--- ... ---"), Vec::<String>::new());
    }

    #[test]
    fn cjk_runs_become_bigrams() {
        assert_eq!(terms("用户登录失败"), ["用户", "户登", "登录", "录失", "失败"]);
        assert_eq!(terms("用户abc登录"), ["用户", "abc", "登录"]);
        assert_eq!(terms("错 误"), ["错", "误"]);
        assert_eq!(terms("ログイン失敗"), ["ログ", "グイ", "イン", "ン失", "失敗"]);
        assert_eq!(terms("로그인 실패"), ["로그", "그인", "실패"]);
        let t = tokenize("a 用户登录");
        assert_eq!((t[1].start, t[1].end), (2, 8));
    }

    #[test]
    fn phrases_need_consecutive_tokens() {
        let hay = tokenize("用户登录失败 at gateway");
        assert!(contains_phrase(&hay, &terms("登录")));
        assert!(contains_phrase(&hay, &terms("登录失败")));
        assert!(!contains_phrase(&hay, &terms("失败登录")));
        assert!(contains_phrase(&hay, &terms("at gateway")));
        assert!(!contains_phrase(&hay, &terms("gateway at")));
        assert!(!contains_phrase(&hay, &[]));
    }

    #[test]
    fn long_tokens_are_dropped() {
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(terms(&format!("a {long} b")), ["a", "b"]);
        assert_eq!(joined_terms("A  b,c"), "a b c");
    }
}
