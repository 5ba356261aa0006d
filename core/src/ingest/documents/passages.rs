//! Cutting document text into passages at sentence and paragraph boundaries.

/// How documents are cut into passages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassageOptions {
    /// Target passage length in words (default 200).
    pub target_words: usize,
    /// Words of the previous passage repeated at the start of the next (default 30).
    pub overlap_words: usize,
}

impl Default for PassageOptions {
    fn default() -> Self {
        Self {
            target_words: 200,
            overlap_words: 30,
        }
    }
}

/// One passage: its text and where it sits in the document's text, in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// The passage text, as it appears in the document text.
    pub text: String,
    /// Offset of the first character.
    pub char_start: usize,
    /// Offset one past the last character.
    pub char_end: usize,
}

/// A sentence (or a piece of an over-long one) with byte and char offsets.
#[derive(Debug, Clone, Copy)]
struct Span {
    start_b: usize,
    end_b: usize,
    start_c: usize,
    end_c: usize,
    words: usize,
    paragraph_end: bool,
}

/// Splits text into sentence spans; sentences longer than `max_words` are cut at word boundaries.
fn spans(text: &str, max_words: usize) -> Vec<Span> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut start: Option<usize> = None; // index into chars
    let mut i = 0;
    let push = |out: &mut Vec<Span>, from: usize, to: usize, paragraph_end: bool| {
        // from..to are char indices (to exclusive); trim whitespace at both ends.
        let mut a = from;
        let mut b = to;
        while a < b && chars[a].1.is_whitespace() {
            a += 1;
        }
        while b > a && chars[b - 1].1.is_whitespace() {
            b -= 1;
        }
        if a == b {
            if paragraph_end && let Some(last) = out.last_mut() {
                last.paragraph_end = true;
            }
            return;
        }
        // Cut over-long sentences into pieces of at most max_words words.
        let mut piece_start = a;
        let mut words = 0;
        let mut in_word = false;
        for k in a..b {
            let ws = chars[k].1.is_whitespace();
            if !ws && !in_word {
                if words == max_words {
                    let mut e = k;
                    while e > piece_start && chars[e - 1].1.is_whitespace() {
                        e -= 1;
                    }
                    out.push(make_span(&chars, text.len(), piece_start, e, words, false));
                    piece_start = k;
                    words = 0;
                }
                words += 1;
            }
            in_word = !ws;
        }
        out.push(make_span(
            &chars,
            text.len(),
            piece_start,
            b,
            words,
            paragraph_end,
        ));
    };
    while i < chars.len() {
        let c = chars[i].1;
        if start.is_none() {
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            start = Some(i);
        }
        // Paragraph break: a newline followed by optional spaces and another newline.
        if c == '\n' {
            let mut k = i + 1;
            while k < chars.len() && chars[k].1 != '\n' && chars[k].1.is_whitespace() {
                k += 1;
            }
            if k < chars.len() && chars[k].1 == '\n' {
                if let Some(s) = start.take() {
                    push(&mut out, s, i, true);
                }
                i = k + 1;
                continue;
            }
        }
        if matches!(c, '.' | '!' | '?' | '。') {
            // Include closing quotes and brackets.
            let mut e = i + 1;
            while e < chars.len()
                && matches!(
                    chars[e].1,
                    '"' | '\'' | ')' | ']' | '”' | '’' | '.' | '!' | '?'
                )
            {
                e += 1;
            }
            let followed_by_space = e >= chars.len() || chars[e].1.is_whitespace();
            let next = chars[e..]
                .iter()
                .map(|(_, c)| *c)
                .find(|c| !c.is_whitespace());
            let starts_new = next.is_none_or(|n| {
                n.is_uppercase() || n.is_numeric() || matches!(n, '"' | '\'' | '“' | '(' | '‘')
            });
            if followed_by_space && starts_new && !is_abbreviation(&chars, start.unwrap_or(0), i) {
                if let Some(s) = start.take() {
                    push(&mut out, s, e, false);
                }
                i = e;
                continue;
            }
        }
        i += 1;
    }
    if let Some(s) = start {
        push(&mut out, s, chars.len(), true);
    }
    out
}

fn make_span(
    chars: &[(usize, char)],
    text_len: usize,
    a: usize,
    b: usize,
    words: usize,
    paragraph_end: bool,
) -> Span {
    Span {
        start_b: chars[a].0,
        end_b: chars.get(b).map(|(o, _)| *o).unwrap_or(text_len),
        start_c: a,
        end_c: b,
        words,
        paragraph_end,
    }
}

/// Whether the '.' at `dot` ends a common abbreviation or an initial ("e.g.", "Dr.", "J.").
fn is_abbreviation(chars: &[(usize, char)], sentence_start: usize, dot: usize) -> bool {
    if chars[dot].1 != '.' {
        return false;
    }
    let mut k = dot;
    while k > sentence_start && (chars[k - 1].1.is_alphabetic() || chars[k - 1].1 == '.') {
        k -= 1;
    }
    let word: String = chars[k..dot]
        .iter()
        .map(|(_, c)| c.to_ascii_lowercase())
        .collect();
    let word = word.trim_matches('.');
    word.chars().count() == 1
        || [
            "e.g", "i.e", "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "no", "approx",
            "fig", "inc", "ltd", "jr", "sr",
        ]
        .contains(&word)
}

/// Cuts `text` into passages of about `target_words` words with `overlap_words` of overlap.
pub fn split(text: &str, options: &PassageOptions) -> Vec<Passage> {
    let target = options.target_words.max(1);
    let overlap = options.overlap_words.min(target / 2);
    let spans = spans(text, target);
    let mut out = Vec::new();
    let mut i = 0;
    let mut must_reach = 0; // the next passage must include this span
    while i < spans.len() {
        let mut j = i;
        let mut words = 0;
        while j < spans.len() && (j <= must_reach || words + spans[j].words <= target) {
            words += spans[j].words;
            j += 1;
            if spans[j - 1].paragraph_end && j > must_reach && words * 10 >= target * 6 {
                break;
            }
        }
        let (a, b) = (spans[i], spans[j - 1]);
        out.push(Passage {
            text: text[a.start_b..b.end_b].to_string(),
            char_start: a.start_c,
            char_end: b.end_c,
        });
        if j >= spans.len() {
            break;
        }
        let mut k = j;
        let mut carried = 0;
        while k > i + 1 && carried + spans[k - 1].words <= overlap {
            carried += spans[k - 1].words;
            k -= 1;
        }
        must_reach = j;
        i = k;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize, tag: &str) -> String {
        let body: Vec<String> = (0..n).map(|i| format!("{tag}{i}")).collect();
        format!("{}.", body.join(" "))
    }

    #[test]
    fn passages_follow_sentences_and_offsets_point_into_the_text() {
        let text = format!(
            "{} {}\n\n{} {}",
            words(90, "a"),
            words(90, "b"),
            words(90, "c"),
            words(90, "d")
        )
        .replace("a0", "A0")
        .replace("b0", "B0")
        .replace("c0", "C0")
        .replace("d0", "D0");
        let ps = split(
            &text,
            &PassageOptions {
                target_words: 200,
                overlap_words: 0,
            },
        );
        assert_eq!(ps.len(), 2, "{ps:#?}");
        assert!(ps[0].text.starts_with("A0") && ps[0].text.ends_with("b89."));
        assert!(ps[1].text.starts_with("C0") && ps[1].text.ends_with("d89."));
        for p in &ps {
            let by_chars: String = text
                .chars()
                .skip(p.char_start)
                .take(p.char_end - p.char_start)
                .collect();
            assert_eq!(by_chars, p.text);
        }
    }

    #[test]
    fn overlap_repeats_the_last_sentence_and_always_moves_on() {
        let text = (0..20)
            .map(|i| format!("Sentence number {i} has six words."))
            .collect::<Vec<_>>()
            .join(" ");
        let ps = split(
            &text,
            &PassageOptions {
                target_words: 30,
                overlap_words: 7,
            },
        );
        assert!(ps.len() >= 4);
        for w in ps.windows(2) {
            assert!(w[1].char_start < w[0].char_end, "overlap expected");
            assert!(w[1].char_end > w[0].char_end, "must move on");
        }
        assert!(
            ps.last()
                .is_some_and(|p| p.text.ends_with("number 19 has six words."))
        );
    }

    #[test]
    fn abbreviations_do_not_end_sentences_and_huge_runs_are_cut() {
        let s = spans("See e.g. Dr. Smith today. Then go.", 200);
        assert_eq!(s.len(), 2);
        let long = "word ".repeat(1000);
        let ps = split(
            &long,
            &PassageOptions {
                target_words: 200,
                overlap_words: 0,
            },
        );
        assert_eq!(ps.len(), 5);
        assert!(ps.iter().all(|p| p.text.split_whitespace().count() == 200));
    }
}
