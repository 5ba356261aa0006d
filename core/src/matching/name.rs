//! The name matcher: how alike two column names are, read as words.
//!
//! Names are cut into words (`custNo` → `cust`, `no`), abbreviations are
//! expanded (`no` → `number`, `dob` → `date of birth`), and words common to
//! nearly every column of a table (a prefix such as `tgt_`) are set aside.
//! Words then match exactly, as an abbreviation (prefix, or the letters of the
//! longer word in order), as initials, as a typo (one edit) or by character
//! trigrams; whole names are also compared by trigrams and edit distance.

use std::collections::HashSet;

/// Words that carry no meaning in a column name.
const STOP_WORDS: &[&str] = &["of", "the", "a", "an", "in", "at", "by", "for", "to", "and"];

/// Abbreviations and synonyms common in schemas, each with its canonical words.
const LEXICON: &[(&str, &str)] = &[
    ("no", "number"),
    ("nr", "number"),
    ("nbr", "number"),
    ("num", "number"),
    ("qty", "quantity"),
    ("amt", "amount"),
    ("addr", "address"),
    ("desc", "description"),
    ("descr", "description"),
    ("cat", "category"),
    ("dept", "department"),
    ("emp", "employee"),
    ("cust", "customer"),
    ("client", "customer"),
    ("prod", "product"),
    ("org", "organisation"),
    ("organization", "organisation"),
    ("yr", "year"),
    ("mo", "month"),
    ("dt", "date"),
    ("tel", "phone"),
    ("telephone", "phone"),
    ("mobile", "phone"),
    ("pct", "percent"),
    ("percentage", "percent"),
    ("avg", "average"),
    ("mean", "average"),
    ("cnt", "count"),
    ("min", "minimum"),
    ("max", "maximum"),
    ("lat", "latitude"),
    ("lon", "longitude"),
    ("lng", "longitude"),
    ("long", "longitude"),
    ("zip", "postcode"),
    ("zipcode", "postcode"),
    ("postal", "postcode"),
    ("fname", "first name"),
    ("lname", "last name"),
    ("surname", "last name"),
    ("forename", "first name"),
    ("given", "first"),
    ("family", "last"),
    ("dob", "date birth"),
    ("birthday", "date birth"),
    ("birthdate", "date birth"),
    ("temp", "temperature"),
    ("precip", "precipitation"),
    ("pop", "population"),
    ("info", "information"),
    ("msg", "message"),
    ("img", "image"),
    ("loc", "location"),
    ("acct", "account"),
    ("bal", "balance"),
    ("txn", "transaction"),
    ("src", "source"),
    ("dest", "destination"),
    ("dst", "destination"),
    ("ref", "reference"),
    ("sal", "salary"),
    ("hr", "hour"),
    ("identifier", "id"),
    ("mail", "email"),
    ("town", "city"),
    ("nation", "country"),
    ("cost", "price"),
    ("total", "amount"),
    ("sum", "amount"),
    ("kind", "type"),
    ("sex", "gender"),
    ("lowest", "minimum"),
    ("smallest", "minimum"),
    ("highest", "maximum"),
    ("largest", "maximum"),
    ("wt", "weight"),
    ("ht", "height"),
    ("len", "length"),
    ("cty", "city"),
    ("ctry", "country"),
    ("st", "state"),
    ("prov", "province"),
    ("co", "company"),
    ("firm", "company"),
    ("ts", "timestamp"),
    ("time", "timestamp"),
    ("datetime", "timestamp"),
];

/// Words that look or sit alike in names but mean the opposite: a pair of
/// names that differ by one of these are different columns (`temp_min`,
/// `temp_max`).
const CONTRASTS: &[(&str, &str)] = &[
    ("minimum", "maximum"),
    ("first", "last"),
    ("start", "end"),
    ("begin", "end"),
    ("from", "to"),
    ("low", "high"),
    ("lower", "upper"),
    ("dep", "arr"),
    ("departure", "arrival"),
    ("origin", "destination"),
    ("source", "destination"),
    ("in", "out"),
    ("input", "output"),
    ("open", "close"),
    ("buy", "sell"),
    ("debit", "credit"),
    ("male", "female"),
    ("before", "after"),
    ("home", "away"),
    ("left", "right"),
    ("north", "south"),
    ("east", "west"),
    ("latitude", "longitude"),
    ("width", "height"),
    ("length", "depth"),
    ("min", "max"),
    ("sent", "received"),
    ("win", "loss"),
];

/// Whether two words mean opposite things.
fn contrasting(a: &str, b: &str) -> bool {
    CONTRASTS
        .iter()
        .any(|(x, y)| (a == *x && b == *y) || (a == *y && b == *x))
}

/// The words of a name, abbreviations expanded and stop words dropped.
pub fn canonical_words(tokens: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokens {
        let expanded = LEXICON
            .iter()
            .find(|(short, _)| short == t)
            .map(|(_, long)| long.split(' ').map(str::to_string).collect())
            .unwrap_or_else(|| vec![t.clone()]);
        for w in expanded {
            if !STOP_WORDS.contains(&w.as_str()) {
                out.push(w);
            }
        }
    }
    if out.is_empty() {
        out = tokens.to_vec();
    }
    out
}

/// Words shared by most columns of a table (a table-wide prefix such as
/// `tgt_`), which say nothing about any one column.
pub fn table_noise(columns: &[Vec<String>]) -> HashSet<String> {
    if columns.len() < 3 {
        return HashSet::new();
    }
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for words in columns {
        let unique: HashSet<&str> = words.iter().map(String::as_str).collect();
        for w in unique {
            *counts.entry(w).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n * 10 >= columns.len() * 6)
        .map(|(w, _)| w.to_string())
        .collect()
}

/// A column name prepared for matching.
#[derive(Debug, Clone)]
pub struct NameKey {
    /// The name as written.
    pub raw: String,
    /// Canonical words (abbreviations expanded, table noise removed).
    pub words: Vec<String>,
    /// The words as written, joined without separators (`firstname`).
    pub joined: String,
    /// Initials of the written words (`date_of_birth` → `dob`).
    pub initials: String,
}

impl NameKey {
    /// Prepares `raw` (cut into `tokens`), leaving out the table's `noise` words.
    pub fn new(raw: &str, tokens: &[String], noise: &HashSet<String>) -> Self {
        let kept: Vec<String> = tokens
            .iter()
            .filter(|t| !noise.contains(*t))
            .cloned()
            .collect();
        let kept = if kept.is_empty() {
            tokens.to_vec()
        } else {
            kept
        };
        Self {
            raw: raw.to_string(),
            words: canonical_words(&kept),
            joined: kept.concat(),
            initials: kept.iter().filter_map(|w| w.chars().next()).collect(),
        }
    }
}

/// How two single words relate.
fn word_similarity(a: &str, b: &str) -> (f64, &'static str) {
    if a == b {
        return (1.0, "same word");
    }
    if contrasting(a, b) {
        return (0.0, "");
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let digits = |s: &str| s.chars().any(|c| c.is_ascii_digit());
    if digits(short) || digits(long) {
        return (0.0, "");
    }
    if short.len() >= 2 && long.len() >= 4 && long.starts_with(short) {
        return (0.9, "abbreviation");
    }
    if (short.len() >= 3 || long.len() <= 6) && short.len() >= 2 && is_abbreviation(short, long) {
        return (0.85, "abbreviation");
    }
    // A slip of one or two letters: the longer the word, the surer.
    let edits = edit_distance(short, long);
    if (short.len() >= 4 && edits == 1) || (short.len() >= 5 && edits == 2) {
        let sure = 1.0 - edits as f64 / long.chars().count() as f64;
        return (sure.clamp(0.7, 0.95), "typo");
    }
    let t = trigram_dice(short, long);
    if t >= 0.5 {
        return (0.8 * t, "similar spelling");
    }
    (0.0, "")
}

/// Whether `short` is `long` with letters left out (same first letter, the rest in order).
fn is_abbreviation(short: &str, long: &str) -> bool {
    let mut rest = long.chars();
    if short.chars().next() != rest.next() {
        return false;
    }
    short.chars().skip(1).all(|c| rest.any(|l| l == c))
}

/// Edit distance over characters: insertions, deletions, substitutions and
/// swaps of neighbours each count one (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let change = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = change.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// How much a word counts in a name: digits and single letters (`s1`, `2`) little.
fn word_weight(w: &str) -> f64 {
    if w.chars().count() <= 1 || w.chars().all(|c| c.is_ascii_digit()) {
        0.3
    } else {
        1.0
    }
}

/// Dice coefficient of the padded character trigrams of two strings.
pub fn trigram_dice(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> HashSet<[char; 3]> {
        let chars: Vec<char> = format!("##{s}#").chars().collect();
        chars.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
    };
    let (ga, gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    2.0 * ga.intersection(&gb).count() as f64 / (ga.len() + gb.len()) as f64
}

/// A pair of opposite words between the two names (`min` / `max`), if any.
pub fn contrast<'a>(a: &'a NameKey, b: &'a NameKey) -> Option<(&'a str, &'a str)> {
    a.words
        .iter()
        .flat_map(|x| b.words.iter().map(move |y| (x.as_str(), y.as_str())))
        .find(|(x, y)| contrasting(x, y))
}

/// Name similarity in [0, 1], with the reason.
pub fn name_similarity(a: &NameKey, b: &NameKey) -> (f64, String) {
    if a.joined == b.joined {
        return (1.0, "same name".into());
    }
    if a.words == b.words {
        return (
            1.0,
            format!(
                "same words once abbreviations and synonyms are expanded ({})",
                a.words.join(" ")
            ),
        );
    }
    if let Some((x, y)) = contrast(a, b) {
        return (0.1, format!("{x} is the opposite of {y}"));
    }
    let mut candidates: Vec<(f64, String)> = Vec::new();
    candidates.push(soft_word_overlap(&a.words, &b.words));
    for (one, other) in [(a, b), (b, a)] {
        if one.joined.len() >= 2
            && one.joined.len() <= 5
            && other.words.len() >= 2
            && one.joined == other.initials
        {
            candidates.push((0.9, format!("'{}' = initials of '{}'", one.raw, other.raw)));
        }
    }
    if let Some(c) = covered_with_prefix(a, b) {
        candidates.push(c);
    }
    let whole = trigram_dice(&a.joined, &b.joined);
    candidates.push((0.9 * whole, format!("trigram similarity {whole:.2}")));
    let longest = a
        .joined
        .chars()
        .count()
        .max(b.joined.chars().count())
        .max(1);
    let edit = 1.0 - edit_distance(&a.joined, &b.joined) as f64 / longest as f64;
    candidates.push((0.9 * edit, format!("edit similarity {edit:.2}")));
    candidates
        .into_iter()
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .unwrap_or((0.0, String::new()))
}

/// One name is the other with a short tag added (`tgt_city`, `s1_murder`):
/// every word of the shorter name has a partner and the extra words are tags
/// of at most three characters.
fn covered_with_prefix(a: &NameKey, b: &NameKey) -> Option<(f64, String)> {
    let (short, long) = if a.words.len() <= b.words.len() {
        (a, b)
    } else {
        (b, a)
    };
    if short.words.is_empty() || short.words.len() == long.words.len() {
        return None;
    }
    let mut used = vec![false; long.words.len()];
    let mut total = 0.0;
    for w in &short.words {
        let (best, at) = long
            .words
            .iter()
            .enumerate()
            .filter(|(k, _)| !used[*k])
            .map(|(k, o)| (word_similarity(w, o).0, k))
            .max_by(|x, y| x.0.total_cmp(&y.0))?;
        if best < 0.7 {
            return None;
        }
        used[at] = true;
        total += best;
    }
    let tags: Vec<&String> = long
        .words
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(w, _)| w)
        .collect();
    if tags.iter().any(|t| t.chars().count() > 3) {
        return None;
    }
    let score = 0.9 * total / short.words.len() as f64;
    Some((
        score,
        format!(
            "'{}' with a tag ({})",
            short.raw,
            tags.iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// Symmetric soft overlap of two word lists: each word's best partner, averaged.
fn soft_word_overlap(a: &[String], b: &[String]) -> (f64, String) {
    if a.is_empty() || b.is_empty() {
        return (0.0, String::new());
    }
    let mut total = 0.0;
    let mut weight = 0.0;
    let mut reasons = Vec::new();
    for (from, to) in [(a, b), (b, a)] {
        for w in from {
            let (best, partner, why) = to
                .iter()
                .map(|o| {
                    let (s, why) = word_similarity(w, o);
                    (s, o, why)
                })
                .max_by(|x, y| x.0.total_cmp(&y.0))
                .unwrap_or((0.0, w, ""));
            total += best * word_weight(w);
            weight += word_weight(w);
            if from == a && best > 0.0 && best < 1.0 {
                reasons.push(format!("{w} ~ {partner} ({why})"));
            }
        }
    }
    let score = total / weight;
    let why = if reasons.is_empty() {
        format!("shared words {score:.2}")
    } else {
        reasons.join(", ")
    };
    (score, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::name_tokens;

    fn key(name: &str) -> NameKey {
        NameKey::new(name, &name_tokens(name), &HashSet::new())
    }

    fn sim(a: &str, b: &str) -> f64 {
        name_similarity(&key(a), &key(b)).0
    }

    #[test]
    fn abbreviations_and_spellings_match() {
        assert!(sim("cust_no", "customer_number") > 0.85);
        assert!(sim("dob", "date_of_birth") > 0.85);
        assert!(sim("CustomerName", "customer_name") > 0.99);
        assert!(sim("cstmr_nm", "customer_name") > 0.8);
        assert!(sim("adress", "address") > 0.8);
        assert!(sim("qty", "quantity") > 0.9);
        assert!(sim("price", "city") < 0.4);
        assert!(sim("order_id", "customer_id") < 0.6);
        assert!(sim("tgt_violent", "violent") > 0.85);
        assert!(sim("order_id", "id") < 0.8);
        assert!(sim("Displacement", "Dsiplacement") > 0.9);
        assert!(sim("temp_min", "temp_max") < 0.2);
        assert!(sim("dep_delay", "arr_delay") < 0.2);
    }

    #[test]
    fn table_wide_prefixes_are_ignored() {
        let names = ["tgt_city", "tgt_price", "tgt_name", "tgt_id"];
        let tokens: Vec<Vec<String>> = names.iter().map(|n| name_tokens(n)).collect();
        let noise = table_noise(&tokens);
        assert!(noise.contains("tgt"));
        let city = NameKey::new("tgt_city", &tokens[0], &noise);
        assert_eq!(name_similarity(&city, &key("city")).0, 1.0);
    }

    #[test]
    fn edit_distance_counts_changes() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("sttae", "state"), 1);
    }
}
