//! Fabricated table pairs with known correspondences (Valentine's protocol).
//!
//! Valentine (Koutras et al., ICDE 2021) evaluates schema matchers on pairs of
//! tables cut from one real table, so that the true column correspondences are
//! known. Four scenarios decide how the base table is cut (rows, columns or
//! both); noise on the target's column names and values makes the pair harder.
//! Everything here is deterministic given a seed: a small SplitMix64 generator
//! drives every random choice.

use std::collections::HashSet;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray, UInt64Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{
    DataType, Date32Type, Field, Float64Type, Int64Type, Schema, TimeUnit, TimestampMicrosecondType,
};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;

use lakebook_core::rng::Rng;

/// The smallest base table a pair can be cut from: columns.
const MIN_COLUMNS: usize = 2;
/// The smallest base table a pair can be cut from: rows.
const MIN_ROWS: usize = 10;
/// The chance that a noisy-schema pair also renames a source column.
const SOURCE_RENAME_CHANCE: f64 = 0.15;
/// The chance that a second name transform is stacked on the first.
const STACK_CHANCE: f64 = 0.25;
/// The share of a semantically-joinable key's cells left verbatim.
const SEMANTIC_KEEP_CHANCE: f64 = 0.1;

/// How the two tables of a pair are cut from the base table (Valentine's four scenarios).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Horizontal split: every column on both sides, the rows divided between them.
    Unionable,
    /// Horizontal split without shared rows plus a vertical split: some columns on both sides.
    ViewUnionable,
    /// Vertical split around a shared key-like column, with a large row overlap.
    Joinable,
    /// As joinable, but the key's values in the target are noisy versions of the source's.
    SemanticallyJoinable,
}

impl Scenario {
    /// Every scenario, in Valentine's order.
    pub const ALL: [Scenario; 4] = [
        Scenario::Unionable,
        Scenario::ViewUnionable,
        Scenario::Joinable,
        Scenario::SemanticallyJoinable,
    ];

    /// The scenario's kebab-case label, as used in ids and `meta.json`.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Unionable => "unionable",
            Scenario::ViewUnionable => "view-unionable",
            Scenario::Joinable => "joinable",
            Scenario::SemanticallyJoinable => "semantically-joinable",
        }
    }
}

/// One way of fabricating a pair: a scenario and its noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Variant {
    /// How the base table is cut.
    pub scenario: Scenario,
    /// Whether the target's column names are perturbed (and, rarely, the source's).
    pub noisy_schema: bool,
    /// Whether the target's values are perturbed.
    pub noisy_instances: bool,
    /// Unionable and view-unionable: the share of each table's rows that also appear in
    /// the other. Joinable scenarios: the smallest share of the base rows the target keeps
    /// (it keeps a random share between this and all of them).
    pub row_overlap: f64,
}

impl Variant {
    /// A file-name-safe id, e.g. `unionable-ov50-noisyschema-verbatiminstances`.
    pub fn id(&self) -> String {
        let overlap = (self.row_overlap.clamp(0.0, 1.0) * 100.0).round() as u32;
        format!(
            "{}-ov{overlap}-{}schema-{}instances",
            self.scenario.label(),
            noise_word(self.noisy_schema),
            noise_word(self.noisy_instances)
        )
    }
}

/// `noisy` or `verbatim`, for ids.
fn noise_word(noisy: bool) -> &'static str {
    if noisy { "noisy" } else { "verbatim" }
}

/// The standard suite: every scenario × {verbatim, noisy} schema × {verbatim, noisy}
/// instances, and for Unionable both 0% and 50% row overlap (so 4+4+4+8 = 20 variants
/// per base table). View-unionable uses 0% overlap; the joinable scenarios let the
/// target keep 50–100% of the rows.
pub fn suite() -> Vec<Variant> {
    let mut variants = Vec::with_capacity(20);
    for scenario in Scenario::ALL {
        for &row_overlap in suite_overlaps(scenario) {
            for noisy_schema in [false, true] {
                for noisy_instances in [false, true] {
                    variants.push(Variant {
                        scenario,
                        noisy_schema,
                        noisy_instances,
                        row_overlap,
                    });
                }
            }
        }
    }
    variants
}

/// The row overlaps the standard suite uses for a scenario.
fn suite_overlaps(scenario: Scenario) -> &'static [f64] {
    match scenario {
        Scenario::Unionable => &[0.0, 0.5],
        Scenario::ViewUnionable => &[0.0],
        Scenario::Joinable | Scenario::SemanticallyJoinable => &[0.5],
    }
}

/// A fabricated pair: two tables cut from one base table and their true correspondences.
#[derive(Debug, Clone)]
pub struct FabricatedPair {
    /// A file-name-safe id: base name, variant id and seed.
    pub id: String,
    /// The name of the base table.
    pub base: String,
    /// How the pair was fabricated.
    pub variant: Variant,
    /// The seed the pair was fabricated with.
    pub seed: u64,
    /// The source table.
    pub source: RecordBatch,
    /// The target table.
    pub target: RecordBatch,
    /// The true correspondences, as (source column, target column) names.
    pub truth: Vec<(String, String)>,
}

/// Why a pair could not be fabricated or written.
#[derive(Debug, thiserror::Error)]
pub enum FabricateError {
    /// The base table has fewer than 2 columns or fewer than 10 rows.
    #[error(
        "base table {base:?} is too small to fabricate pairs from: {columns} columns and {rows} rows (needs at least 2 columns and 10 rows)"
    )]
    TooSmall {
        /// The base table's name.
        base: String,
        /// Its number of columns.
        columns: usize,
        /// Its number of rows.
        rows: usize,
    },
    /// The variant's row overlap is not a share between 0 and 1.
    #[error("row overlap {0} is not a share between 0 and 1")]
    BadOverlap(f64),
    /// Arrow refused an operation while a table of the pair was built.
    #[error("cannot build the {table} table from {base:?}: {source}")]
    Arrow {
        /// The base table's name.
        base: String,
        /// `source` or `target`.
        table: &'static str,
        /// Arrow's error.
        #[source]
        source: ArrowError,
    },
    /// A file or folder of the pair could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A table could not be written as CSV.
    #[error("cannot write {} as CSV: {source}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// Arrow's error.
        #[source]
        source: ArrowError,
    },
    /// A JSON file could not be encoded.
    #[error("cannot encode {}: {source}", path.display())]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
}

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

/// The generator for one pair: the seed mixed with the variant and the base name.
fn pair_rng(seed: u64, base_name: &str, variant: &Variant) -> Rng {
    Rng::new(seed ^ hash_text(&variant.id()) ^ hash_text(base_name).rotate_left(29))
}

/// FNV-1a of a text, to mix names into seeds.
fn hash_text(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

// ---------------------------------------------------------------------------
// Fabrication
// ---------------------------------------------------------------------------

/// Fabricates one pair from `base` following `variant`; the same seed gives the same pair.
pub fn fabricate(
    base: &RecordBatch,
    base_name: &str,
    variant: &Variant,
    seed: u64,
) -> Result<FabricatedPair, FabricateError> {
    check_base(base, base_name, variant)?;
    let mut rng = pair_rng(seed, base_name, variant);
    let layout = plan(base, variant, &mut rng);
    let names = column_names(base, base_name, variant, &mut rng);
    let arrow_error = |table| {
        let base = base_name.to_owned();
        move |source| FabricateError::Arrow {
            base,
            table,
            source,
        }
    };
    let source = build_source(base, &layout, &names.source).map_err(arrow_error("source"))?;
    let target = build_target(base, &layout, &names.target, variant, &mut rng)
        .map_err(arrow_error("target"))?;
    Ok(FabricatedPair {
        id: format!("{}--{}--s{seed}", slug(base_name), variant.id()),
        base: base_name.to_owned(),
        variant: *variant,
        seed,
        source,
        target,
        truth: truth(&layout, &names),
    })
}

/// Refuses base tables too small to split and overlaps that are not shares.
fn check_base(base: &RecordBatch, name: &str, variant: &Variant) -> Result<(), FabricateError> {
    let (columns, rows) = (base.num_columns(), base.num_rows());
    if columns < MIN_COLUMNS || rows < MIN_ROWS {
        return Err(FabricateError::TooSmall {
            base: name.to_owned(),
            columns,
            rows,
        });
    }
    if !(0.0..=1.0).contains(&variant.row_overlap) {
        return Err(FabricateError::BadOverlap(variant.row_overlap));
    }
    Ok(())
}

/// A file-name-safe version of a name: lowercase letters, digits, `_` and `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            out.push(ch);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "base".to_owned()
    } else {
        out.to_owned()
    }
}

/// Which base rows and columns go to each side of the pair.
struct Layout {
    /// Base row indices of the source, in order.
    source_rows: Vec<u64>,
    /// Base row indices of the target, in order.
    target_rows: Vec<u64>,
    /// Base column indices of the source, in base order.
    source_cols: Vec<usize>,
    /// Base column indices of the target, in their (shuffled) order.
    target_cols: Vec<usize>,
    /// The join key of the joinable scenarios.
    key: Option<usize>,
}

/// Cuts the base table according to the scenario.
fn plan(base: &RecordBatch, variant: &Variant, rng: &mut Rng) -> Layout {
    let (rows, columns) = (base.num_rows(), base.num_columns());
    let (source_rows, target_rows, source_cols, mut target_cols, key) = match variant.scenario {
        Scenario::Unionable => {
            let (s, t) = split_rows(rows, variant.row_overlap, rng);
            (s, t, (0..columns).collect(), (0..columns).collect(), None)
        }
        Scenario::ViewUnionable => {
            let (s, t) = split_rows(rows, variant.row_overlap, rng);
            let (sc, tc) = split_view_columns(columns, rng);
            (s, t, sc, tc, None)
        }
        Scenario::Joinable | Scenario::SemanticallyJoinable => {
            let key = choose_key(base);
            let (sc, tc) = split_join_columns(columns, key, rng);
            let t = join_target_rows(rows, variant.row_overlap, rng);
            ((0..rows as u64).collect(), t, sc, tc, Some(key))
        }
    };
    shuffle_moving(&mut target_cols, rng);
    Layout {
        source_rows,
        target_rows,
        source_cols,
        target_cols,
        key,
    }
}

/// Shuffles, and makes sure two or more items do not stay in their order.
fn shuffle_moving<T: PartialEq + Clone>(items: &mut [T], rng: &mut Rng) {
    let before = items.to_vec();
    rng.shuffle(items);
    if items.len() >= 2 && items == before.as_slice() {
        items.rotate_left(1);
    }
}

/// Splits `rows` rows so that a share `overlap` of each side's rows is on both sides.
fn split_rows(rows: usize, overlap: f64, rng: &mut Rng) -> (Vec<u64>, Vec<u64>) {
    let mut order: Vec<u64> = (0..rows as u64).collect();
    rng.shuffle(&mut order);
    // Shared s and exclusive a per side: s / (s + a) = overlap with s + 2a = rows.
    let shared = ((overlap * rows as f64) / (2.0 - overlap)).round() as usize;
    let shared = shared.min(rows);
    let rest = rows - shared;
    let half = rest / 2 + usize::from(rest % 2 == 1 && rng.chance(0.5));
    let (both, others) = order.split_at(shared);
    let (only_source, only_target) = others.split_at(half);
    let mut source = [both, only_source].concat();
    source.sort_unstable();
    let mut target = [both, only_target].concat();
    rng.shuffle(&mut target);
    (source, target)
}

/// The joinable target's rows: a random share between `least` and all of them, shuffled.
fn join_target_rows(rows: usize, least: f64, rng: &mut Rng) -> Vec<u64> {
    let keep = (rows as f64 * rng.range(least, 1.0)).round() as usize;
    let mut order: Vec<u64> = (0..rows as u64).collect();
    rng.shuffle(&mut order);
    order.truncate(keep.clamp(1, rows));
    order
}

/// View-unionable columns: 30–70% shared, and (with 3 or more) some on each side only.
fn split_view_columns(columns: usize, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..columns).collect();
    rng.shuffle(&mut order);
    let most = if columns >= 3 { columns - 2 } else { 1 };
    let shared = (columns as f64 * rng.range(0.3, 0.7)).round() as usize;
    divide_columns(&order, shared.clamp(1, most), rng)
}

/// Joinable columns: the key, 0–30% more shared, the rest divided between the sides.
fn split_join_columns(columns: usize, key: usize, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let mut others: Vec<usize> = (0..columns).filter(|&c| c != key).collect();
    rng.shuffle(&mut others);
    let most = others.len().saturating_sub(2);
    let extra = ((columns as f64 * rng.range(0.0, 0.3)).floor() as usize).min(most);
    let mut order = vec![key];
    order.extend(others);
    divide_columns(&order, 1 + extra, rng)
}

/// The first `shared` of `order` go to both sides; the rest are divided, one or more each.
fn divide_columns(order: &[usize], shared: usize, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let (both, rest) = order.split_at(shared.min(order.len()));
    let cut = match rest.len() {
        0 => 0,
        1 => rng.below(2),
        n => 1 + rng.below(n - 1),
    };
    let mut source = [both, &rest[..cut]].concat();
    source.sort_unstable();
    let target = [both, &rest[cut..]].concat();
    (source, target)
}

/// The most key-like column: most distinct values per row, floats and booleans penalised.
fn choose_key(base: &RecordBatch) -> usize {
    let mut best = (0, f64::MIN);
    for (index, column) in base.columns().iter().enumerate() {
        let distinct = cell_texts(column.as_ref()).map_or(0, |cells| {
            cells.into_iter().flatten().collect::<HashSet<_>>().len()
        });
        let ratio = distinct as f64 / base.num_rows().max(1) as f64;
        let penalty = match kind_of(column.data_type()) {
            Kind::Float | Kind::Boolean => 0.5,
            _ => 1.0,
        };
        if ratio * penalty > best.1 {
            best = (index, ratio * penalty);
        }
    }
    best.0
}

/// Every cell of a column as display text (None for nulls).
fn cell_texts(column: &dyn Array) -> Result<Vec<Option<String>>, ArrowError> {
    let options = FormatOptions::default();
    let formatter = ArrayFormatter::try_new(column, &options)?;
    Ok((0..column.len())
        .map(|i| (!column.is_null(i)).then(|| formatter.value(i).to_string()))
        .collect())
}

/// The true correspondences: the base columns on both sides, in source order.
fn truth(layout: &Layout, names: &Names) -> Vec<(String, String)> {
    layout
        .source_cols
        .iter()
        .filter(|&&c| layout.target_cols.contains(&c))
        .map(|&c| (names.source[c].clone(), names.target[c].clone()))
        .collect()
}

/// Builds the source table: the chosen rows and columns, verbatim.
fn build_source(
    base: &RecordBatch,
    layout: &Layout,
    names: &[String],
) -> Result<RecordBatch, ArrowError> {
    let rows = UInt64Array::from(layout.source_rows.clone());
    let mut fields = Vec::with_capacity(layout.source_cols.len());
    let mut arrays = Vec::with_capacity(layout.source_cols.len());
    for &c in &layout.source_cols {
        let values = take(base.column(c).as_ref(), &rows, None)?;
        let nullable = base.schema().field(c).is_nullable();
        fields.push(Field::new(
            names[c].clone(),
            values.data_type().clone(),
            nullable,
        ));
        arrays.push(values);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// Builds the target table: the chosen rows and columns, with the variant's noise.
fn build_target(
    base: &RecordBatch,
    layout: &Layout,
    names: &[String],
    variant: &Variant,
    rng: &mut Rng,
) -> Result<RecordBatch, ArrowError> {
    let rows = UInt64Array::from(layout.target_rows.clone());
    let mut fields = Vec::with_capacity(layout.target_cols.len());
    let mut arrays = Vec::with_capacity(layout.target_cols.len());
    for &c in &layout.target_cols {
        let taken = take(base.column(c).as_ref(), &rows, None)?;
        let values = perturb(&taken, noise_for(variant, layout.key == Some(c)), rng)?;
        let nullable = base.schema().field(c).is_nullable();
        fields.push(Field::new(
            names[c].clone(),
            values.data_type().clone(),
            nullable,
        ));
        arrays.push(values);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

// ---------------------------------------------------------------------------
// Schema noise
// ---------------------------------------------------------------------------

/// Each base column's name in the source and in the target.
struct Names {
    /// Indexed by base column.
    source: Vec<String>,
    /// Indexed by base column.
    target: Vec<String>,
}

/// Names both sides' columns: verbatim, or renamed under a noisy schema.
fn column_names(base: &RecordBatch, base_name: &str, variant: &Variant, rng: &mut Rng) -> Names {
    let originals: Vec<String> = base
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if !variant.noisy_schema {
        return Names {
            source: originals.clone(),
            target: originals,
        };
    }
    let table = table_abbreviation(base_name);
    let target = rename_all(&originals, &["tgt", "t2", &table], 1.0, rng);
    let source = rename_all(
        &originals,
        &["src", "s1", &table],
        SOURCE_RENAME_CHANCE,
        rng,
    );
    Names { source, target }
}

/// Renames each name with probability `chance`, keeping the names unique (also ignoring
/// case, except that a column may re-case its own name) and never taking any column's
/// original name.
fn rename_all(originals: &[String], prefixes: &[&str], chance: f64, rng: &mut Rng) -> Vec<String> {
    let mut exact: HashSet<String> = originals.iter().cloned().collect();
    let mut folded: HashSet<String> = originals.iter().map(|n| n.to_lowercase()).collect();
    let mut names = Vec::with_capacity(originals.len());
    for name in originals {
        if !rng.chance(chance) {
            names.push(name.clone());
            continue;
        }
        let own = name.to_lowercase();
        let free = |candidate: &str| {
            let lower = candidate.to_lowercase();
            !exact.contains(candidate)
                && !candidate.trim().is_empty()
                && (lower == own || !folded.contains(&lower))
        };
        let renamed = rename_one(name, prefixes, rng, free);
        folded.insert(renamed.to_lowercase());
        exact.insert(renamed.clone());
        names.push(renamed);
    }
    names
}

/// The ways a column name is perturbed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rename {
    /// `customer_number` → `cstmr_nmbr` or `cust_numb`.
    Abbreviate,
    /// `customer_number` → `tgt_customer_number`.
    Prefix,
    /// `customer_number` → `cutsomer_number`.
    Typo,
    /// `customer_number` → `customerNumber`, `CUSTOMER_NUMBER`, `Customer Number`.
    Recase,
    /// `customer_number` → `client_number`.
    Synonym,
}

/// Renames one column with random transforms (sometimes two stacked) that `free` accepts;
/// falls back to a numbered suffix.
fn rename_one(name: &str, prefixes: &[&str], rng: &mut Rng, free: impl Fn(&str) -> bool) -> String {
    let mut kinds = [
        Rename::Abbreviate,
        Rename::Prefix,
        Rename::Typo,
        Rename::Recase,
        Rename::Synonym,
    ];
    rng.shuffle(&mut kinds);
    for (i, &kind) in kinds.iter().enumerate() {
        let Some(first) = apply_rename(kind, name, prefixes, rng).filter(|c| free(c)) else {
            continue;
        };
        if rng.chance(STACK_CHANCE) {
            let second = kinds[(i + 1 + rng.below(kinds.len() - 1)) % kinds.len()];
            if let Some(both) = apply_rename(second, &first, prefixes, rng).filter(|c| free(c)) {
                return both;
            }
        }
        return first;
    }
    (2u32..)
        .map(|n| format!("{name}_{n}"))
        .find(|c| free(c))
        .unwrap_or_else(|| format!("{name}_x"))
}

/// One transform of a name; None when it does not apply.
fn apply_rename(kind: Rename, name: &str, prefixes: &[&str], rng: &mut Rng) -> Option<String> {
    match kind {
        Rename::Abbreviate => abbreviate_name(name, rng.chance(0.5), rng),
        Rename::Prefix => Some(prefix_name(name, rng.pick(prefixes))),
        Rename::Typo => name_typo(name, rng),
        Rename::Recase => recase_name(name, rng),
        Rename::Synonym => synonym_name(name, rng),
    }
}

/// A short table-ish word from the base name: initials, or its first three letters.
fn table_abbreviation(base_name: &str) -> String {
    let words = split_words(base_name);
    let abbreviation: String = if words.len() >= 2 {
        words.iter().filter_map(|w| w.chars().next()).collect()
    } else {
        words
            .first()
            .map(|w| w.chars().take(3).collect())
            .unwrap_or_default()
    };
    let abbreviation: String = abbreviation
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if abbreviation.is_empty() {
        "tbl".to_owned()
    } else {
        abbreviation
    }
}

/// How a name joins its words.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    /// `customer_number`
    Snake,
    /// `customerNumber`
    Camel,
    /// `CustomerNumber`
    Pascal,
    /// `CUSTOMER_NUMBER`
    Upper,
    /// `Customer Number`
    Title,
}

/// The lowercase words of a name: split on punctuation, spaces and camelCase humps.
fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut after_lower = false;
    for ch in name.chars() {
        let boundary = !ch.is_alphanumeric() || (ch.is_uppercase() && after_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if ch.is_alphanumeric() {
            word.extend(ch.to_lowercase());
        }
        after_lower = ch.is_lowercase() || ch.is_ascii_digit();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The case style a name is written in.
fn detect_case(name: &str) -> Case {
    let has_lower = name.chars().any(char::is_lowercase);
    let has_upper = name.chars().any(char::is_uppercase);
    if name.contains(' ') {
        Case::Title
    } else if has_upper && !has_lower {
        Case::Upper
    } else if name.contains(['_', '-']) || !has_upper {
        Case::Snake
    } else if name.chars().next().is_some_and(char::is_uppercase) {
        Case::Pascal
    } else {
        Case::Camel
    }
}

/// A word with its first letter upper-cased.
fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Joins lowercase words in a case style.
fn join_words(words: &[String], case: Case) -> String {
    match case {
        Case::Snake => words.join("_"),
        Case::Upper => words.join("_").to_uppercase(),
        Case::Title => words
            .iter()
            .map(|w| capitalize(w))
            .collect::<Vec<_>>()
            .join(" "),
        Case::Pascal => words.iter().map(|w| capitalize(w)).collect(),
        Case::Camel => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.clone() } else { capitalize(w) })
            .collect(),
    }
}

/// Abbreviates each long word: drop its vowels after the first letter, or keep its first
/// three or four letters.
fn abbreviate_name(name: &str, drop_vowels: bool, rng: &mut Rng) -> Option<String> {
    let words = split_words(name);
    if words.is_empty() {
        return None;
    }
    let short: Vec<String> = words
        .iter()
        .map(|w| {
            if drop_vowels {
                without_vowels(w)
            } else {
                truncate_word(w, 3 + rng.below(2))
            }
        })
        .collect();
    Some(join_words(&short, detect_case(name)))
}

/// `customer` → `cstmr`: words of four or more letters lose their inner vowels.
fn without_vowels(word: &str) -> String {
    if word.chars().count() < 4 {
        return word.to_owned();
    }
    let mut chars = word.chars();
    let first = chars.next().into_iter();
    first
        .chain(chars.filter(|c| !"aeiou".contains(*c)))
        .collect()
}

/// `customer` → `cust`: words longer than `keep` + 1 letters are cut to `keep`.
fn truncate_word(word: &str, keep: usize) -> String {
    if word.chars().count() <= keep + 1 {
        word.to_owned()
    } else {
        word.chars().take(keep).collect()
    }
}

/// Prefixes a table-ish word in the name's own case style.
fn prefix_name(name: &str, prefix: &str) -> String {
    match detect_case(name) {
        Case::Snake => format!("{prefix}_{name}"),
        Case::Upper => format!("{}_{name}", prefix.to_uppercase()),
        Case::Camel => format!("{prefix}{}", capitalize(name)),
        Case::Pascal => format!("{}{name}", capitalize(prefix)),
        Case::Title => format!("{} {name}", capitalize(prefix)),
    }
}

/// A single-letter typo in a name: swap two neighbours, drop or duplicate a letter.
fn name_typo(name: &str, rng: &mut Rng) -> Option<String> {
    let mut chars: Vec<char> = name.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    if letters.is_empty() {
        return None;
    }
    let swaps: Vec<usize> = (0..chars.len().saturating_sub(1))
        .filter(|&i| chars[i].is_alphabetic() && chars[i + 1].is_alphabetic())
        .filter(|&i| chars[i] != chars[i + 1])
        .collect();
    match rng.below(3) {
        0 if !swaps.is_empty() => {
            let at = rng.pick(&swaps);
            chars.swap(at, at + 1);
        }
        1 if letters.len() > 2 => {
            chars.remove(rng.pick(&letters));
        }
        _ => {
            let at = rng.pick(&letters);
            chars.insert(at, chars[at]);
        }
    }
    Some(chars.into_iter().collect())
}

/// The name in another case style.
fn recase_name(name: &str, rng: &mut Rng) -> Option<String> {
    let words = split_words(name);
    let mut cases = [
        Case::Snake,
        Case::Camel,
        Case::Pascal,
        Case::Upper,
        Case::Title,
    ];
    rng.shuffle(&mut cases);
    cases
        .into_iter()
        .map(|case| join_words(&words, case))
        .find(|candidate| candidate != name && !candidate.is_empty())
}

/// Replaces one word of the name that has a synonym in [`SYNONYMS`].
fn synonym_name(name: &str, rng: &mut Rng) -> Option<String> {
    let mut words = split_words(name);
    let known: Vec<usize> = (0..words.len())
        .filter(|&i| synonyms_of(&words[i]).is_some())
        .collect();
    if known.is_empty() {
        return None;
    }
    let at = rng.pick(&known);
    let group = synonyms_of(&words[at])?;
    let others: Vec<&str> = group.iter().copied().filter(|w| *w != words[at]).collect();
    words[at] = rng.pick(&others).to_owned();
    Some(join_words(&words, detect_case(name)))
}

/// The synonym group a lowercase word belongs to.
fn synonyms_of(word: &str) -> Option<&'static [&'static str]> {
    SYNONYMS.iter().copied().find(|group| group.contains(&word))
}

/// Groups of interchangeable column-name words (each word in one group only).
const SYNONYMS: &[&[&str]] = &[
    &["name", "title", "label"],
    &["id", "identifier", "key", "code"],
    &["date", "day", "dt"],
    &["amount", "total", "sum"],
    &["price", "cost", "fee"],
    &["city", "town", "municipality"],
    &["country", "nation"],
    &["phone", "telephone", "tel"],
    &["email", "mail"],
    &["address", "addr", "location"],
    &["number", "no", "num", "nr"],
    &["quantity", "qty", "units"],
    &["description", "desc", "details"],
    &["category", "type", "kind", "class"],
    &["year", "yr"],
    &["month", "mon", "mo"],
    &["first", "given"],
    &["last", "family", "surname"],
    &["zip", "postcode", "postal"],
    &["state", "province", "region"],
    &["count", "cnt", "tally"],
    &["average", "avg", "mean"],
    &["latitude", "lat"],
    &["longitude", "lon", "lng"],
    &["height", "tall", "elevation"],
    &["weight", "mass"],
    &["customer", "client", "cust"],
    &["product", "item", "article"],
    &["company", "firm", "business"],
    &["employee", "staff", "worker"],
    &["start", "begin"],
    &["end", "finish", "stop"],
    &["created", "inserted"],
    &["updated", "modified", "changed"],
    &["status", "condition"],
    &["percent", "pct", "percentage"],
    &["minimum", "min", "lowest"],
    &["maximum", "max", "highest"],
    &["street", "road"],
    &["url", "link", "website"],
    &["comment", "note", "remark"],
    &["score", "rating", "grade"],
    &["temperature", "temp"],
    &["distance", "dist", "length"],
    &["duration", "period"],
    &["gender", "sex"],
    &["population", "pop", "inhabitants"],
    &["revenue", "income", "sales"],
    &["order", "purchase"],
    &["value", "val"],
    &["image", "picture", "photo"],
    &["author", "writer", "creator"],
    &["language", "lang"],
    &["size", "dimension"],
];

// ---------------------------------------------------------------------------
// Instance noise
// ---------------------------------------------------------------------------

/// What happens to a target column's values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Noise {
    /// Kept exactly.
    Verbatim,
    /// Typos, re-casing, unit scaling, rounding, reformatting.
    Instances,
    /// Every value rewritten so that it still means the same (semantically-joinable key).
    SemanticKey,
}

/// The noise a target column gets under a variant.
fn noise_for(variant: &Variant, is_key: bool) -> Noise {
    if is_key && variant.scenario == Scenario::SemanticallyJoinable {
        Noise::SemanticKey
    } else if variant.noisy_instances {
        Noise::Instances
    } else {
        Noise::Verbatim
    }
}

/// The families of column types noise treats alike.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Utf8, LargeUtf8, Utf8View.
    Text,
    /// Integers that fit an Int64.
    Integer,
    /// Floats, decimals and UInt64.
    Float,
    /// Date32, Date64.
    Date,
    /// Timestamps of any unit and zone.
    Timestamp,
    /// Booleans.
    Boolean,
    /// Everything else: left alone by instance noise.
    Other,
}

/// The family of a column type.
fn kind_of(data_type: &DataType) -> Kind {
    use DataType::*;
    match data_type {
        Utf8 | LargeUtf8 | Utf8View => Kind::Text,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 => Kind::Integer,
        UInt64 | Float16 | Float32 | Float64 => Kind::Float,
        Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => Kind::Float,
        Date32 | Date64 => Kind::Date,
        Timestamp(..) => Kind::Timestamp,
        Boolean => Kind::Boolean,
        _ => Kind::Other,
    }
}

/// Date formats other than ISO 8601.
const DATE_FORMATS: &[&str] = &[
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%-d %b %Y",
    "%b %-d, %Y",
    "%Y%m%d",
    "%d.%m.%Y",
    "%Y/%m/%d",
];
/// Timestamp formats other than ISO 8601.
const TIMESTAMP_FORMATS: &[&str] = &[
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%-d %b %Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
];
/// Words for true and false.
const BOOLEAN_WORDS: &[(&str, &str)] = &[("yes", "no"), ("Yes", "No"), ("Y", "N")];

/// Applies a noise to a column; nulls stay nulls.
fn perturb(column: &ArrayRef, noise: Noise, rng: &mut Rng) -> Result<ArrayRef, ArrowError> {
    match noise {
        Noise::Verbatim => Ok(Arc::clone(column)),
        Noise::Instances => instance_noise(column, rng),
        Noise::SemanticKey => semantic_noise(column, rng),
    }
}

/// Valentine's noisy instances for one column, by type.
fn instance_noise(column: &ArrayRef, rng: &mut Rng) -> Result<ArrayRef, ArrowError> {
    match kind_of(column.data_type()) {
        Kind::Text => text_noise(column, rng),
        Kind::Integer => integer_noise(column, rng),
        Kind::Float => float_noise(column, rng),
        Kind::Date => reformat_dates(column, rng.pick(DATE_FORMATS)),
        Kind::Timestamp => reformat_timestamps(column, rng.pick(TIMESTAMP_FORMATS)),
        Kind::Boolean => boolean_words(column, rng.pick(BOOLEAN_WORDS)),
        Kind::Other => Ok(Arc::clone(column)),
    }
}

/// Text cells: re-cased (when a case changes most cells), else typos in 20–30% of them.
fn text_noise(column: &ArrayRef, rng: &mut Rng) -> Result<ArrayRef, ArrowError> {
    if rng.chance(0.4) {
        let cells: Vec<String> = texts(column)?.into_iter().flatten().collect();
        let mut cases = [ValueCase::Upper, ValueCase::Lower, ValueCase::Title];
        rng.shuffle(&mut cases);
        let changes_most = |case: ValueCase| {
            let changed = cells
                .iter()
                .filter(|v| recase_value(v, case) != **v)
                .count();
            changed * 2 > cells.len()
        };
        if let Some(case) = cases.into_iter().find(|&case| changes_most(case)) {
            return map_texts(column, |v| recase_value(v, case));
        }
    }
    let rate = rng.range(0.2, 0.3);
    map_texts(column, |v| {
        if rng.chance(rate) {
            value_typo(v, rng)
        } else {
            v.to_owned()
        }
    })
}

/// A semantically-joinable key: values that mean the same but rarely match exactly.
fn semantic_noise(column: &ArrayRef, rng: &mut Rng) -> Result<ArrayRef, ArrowError> {
    match kind_of(column.data_type()) {
        Kind::Text => map_texts(column, |v| {
            if rng.chance(SEMANTIC_KEEP_CHANCE) {
                v.to_owned()
            } else {
                semantic_text(v, rng)
            }
        }),
        Kind::Float if has_fraction(column)? && rng.chance(0.5) => round_floats(column),
        Kind::Integer | Kind::Float | Kind::Other => number_codes(column, rng),
        Kind::Date => reformat_dates(column, rng.pick(DATE_FORMATS)),
        Kind::Timestamp => reformat_timestamps(column, rng.pick(TIMESTAMP_FORMATS)),
        Kind::Boolean => boolean_words(column, rng.pick(BOOLEAN_WORDS)),
    }
}

/// A column's cells as UTF-8 strings.
fn texts(column: &ArrayRef) -> Result<Vec<Option<String>>, ArrowError> {
    let utf8 = cast(column, &DataType::Utf8)?;
    Ok(utf8
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect())
}

/// Rewrites every non-null cell of a text column.
fn map_texts(
    column: &ArrayRef,
    mut change: impl FnMut(&str) -> String,
) -> Result<ArrayRef, ArrowError> {
    let values = texts(column)?;
    let changed: StringArray = values
        .iter()
        .map(|v| v.as_deref().map(&mut change))
        .collect();
    Ok(Arc::new(changed))
}

/// A typo in a value: swap two neighbours, drop a character or insert a letter; the
/// result always differs from the value.
fn value_typo(value: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let op = if chars.len() < 2 { 2 } else { rng.below(3) };
    match op {
        0 => {
            let at = rng.below(chars.len() - 1);
            if chars[at] == chars[at + 1] {
                chars.insert(at, random_letter(rng));
            } else {
                chars.swap(at, at + 1);
            }
        }
        1 => {
            chars.remove(rng.below(chars.len()));
        }
        _ => {
            let at = rng.below(chars.len() + 1);
            chars.insert(at, random_letter(rng));
        }
    }
    chars.into_iter().collect()
}

/// A random lowercase ASCII letter.
fn random_letter(rng: &mut Rng) -> char {
    char::from(b'a' + rng.below(26) as u8)
}

/// How a value is re-cased.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ValueCase {
    /// `NEW YORK`
    Upper,
    /// `new york`
    Lower,
    /// `New York`
    Title,
}

/// A value re-cased.
fn recase_value(value: &str, case: ValueCase) -> String {
    match case {
        ValueCase::Upper => value.to_uppercase(),
        ValueCase::Lower => value.to_lowercase(),
        ValueCase::Title => value
            .split(' ')
            .map(|w| capitalize(&w.to_lowercase()))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A text key value rewritten: a typo, a case change, stray whitespace or an
/// abbreviation; always different from the value.
fn semantic_text(value: &str, rng: &mut Rng) -> String {
    let changed = match rng.below(4) {
        0 => value_typo(value, rng),
        1 if value.to_uppercase() != value => value.to_uppercase(),
        1 => value.to_lowercase(),
        2 => stray_whitespace(value, rng),
        _ => abbreviate_value(value),
    };
    if changed == value {
        value_typo(value, rng)
    } else {
        changed
    }
}

/// A value with a leading, trailing or doubled space.
fn stray_whitespace(value: &str, rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!(" {value}"),
        1 => format!("{value} "),
        _ if value.contains(' ') => value.replacen(' ', "  ", 1),
        _ => format!("{value}  "),
    }
}

/// `John Smith` → `J. Smith`; `London` → `Lond.`; short single words stay.
fn abbreviate_value(value: &str) -> String {
    let words: Vec<&str> = value.split_whitespace().collect();
    match words.as_slice() {
        [first, rest @ ..] if !rest.is_empty() => {
            let initial: String = first.chars().take(1).collect();
            format!("{initial}. {}", rest.join(" "))
        }
        [word] if word.chars().count() > 4 => {
            format!("{}.", word.chars().take(4).collect::<String>())
        }
        _ => value.to_owned(),
    }
}

/// Integers scaled by a unit factor (×10, ×100, ×1000, ×0.001) or nudged by a few percent.
fn integer_noise(column: &ArrayRef, rng: &mut Rng) -> Result<ArrayRef, ArrowError> {
    let wide = cast(column, &DataType::Int64)?;
    let ints = wide.as_primitive::<Int64Type>();
    match rng.below(3) {
        0 => {
            let factor = rng.pick(&[10i64, 100, 1000]);
            match ints.try_unary::<_, Int64Type, ()>(|v| v.checked_mul(factor).ok_or(())) {
                Ok(scaled) => Ok(Arc::new(scaled)),
                Err(()) => Ok(Arc::new(nudge_integers(ints, rng))),
            }
        }
        1 => Ok(Arc::new(
            ints.unary::<_, Float64Type>(|v| v as f64 / 1000.0),
        )),
        _ => Ok(Arc::new(nudge_integers(ints, rng))),
    }
}

/// A fifth to two fifths of the cells moved by 1–5% (at least 1).
fn nudge_integers(ints: &Int64Array, rng: &mut Rng) -> Int64Array {
    let rate = rng.range(0.2, 0.4);
    ints.iter()
        .map(|v| {
            v.map(|x| {
                if !rng.chance(rate) {
                    return x;
                }
                let step = ((x.unsigned_abs() as f64) * rng.range(0.01, 0.05))
                    .round()
                    .max(1.0) as i64;
                if rng.chance(0.5) {
                    x.saturating_add(step)
                } else {
                    x.saturating_sub(step)
                }
            })
        })
        .collect()
}

/// Floats scaled by a unit factor, rounded to whole numbers, or nudged by a few percent;
/// results keep the column's precision (no `2395.0000000000005`).
fn float_noise(column: &ArrayRef, rng: &mut Rng) -> Result<ArrayRef, ArrowError> {
    let wide = cast(column, &DataType::Float64)?;
    let floats = wide.as_primitive::<Float64Type>();
    let decimals = decimals_of(floats);
    match rng.below(3) {
        0 => {
            let (factor, shift) = rng.pick(&[(10.0, 1), (100.0, 2), (1000.0, 3), (0.001, -3)]);
            let decimals = (decimals - shift).max(0);
            Ok(Arc::new(floats.unary::<_, Float64Type>(|v| {
                round_to(v * factor, decimals)
            })))
        }
        1 if decimals > 0 => round_floats(column),
        _ => {
            let rate = rng.range(0.2, 0.4);
            let nudged: Float64Array = floats
                .iter()
                .map(|v| {
                    v.map(|x| {
                        if rng.chance(rate) {
                            round_to(x * (1.0 + rng.range(-0.05, 0.05)), decimals)
                        } else {
                            x
                        }
                    })
                })
                .collect();
            Ok(Arc::new(nudged))
        }
    }
}

/// The fewest decimals (up to 6) that write every value of a column; 15 when more.
fn decimals_of(floats: &Float64Array) -> i32 {
    let fits = |d: i32| {
        floats
            .iter()
            .flatten()
            .filter(|x| x.is_finite())
            .all(|x| (round_to(x, d) - x).abs() <= 1e-9 * x.abs().max(1.0))
    };
    (0..=6).find(|&d| fits(d)).unwrap_or(15)
}

/// A float rounded to `decimals` decimals (unchanged when that cannot be done exactly).
fn round_to(x: f64, decimals: i32) -> f64 {
    if decimals >= 15 {
        return x;
    }
    let scale = 10f64.powi(decimals);
    let scaled = (x * scale).round() / scale;
    if scaled.is_finite() { scaled } else { x }
}

/// Whether any value of a numeric column has a fractional part.
fn has_fraction(column: &ArrayRef) -> Result<bool, ArrowError> {
    let wide = cast(column, &DataType::Float64)?;
    Ok(wide
        .as_primitive::<Float64Type>()
        .iter()
        .flatten()
        .any(|x| x.fract() != 0.0))
}

/// Floats rounded to whole numbers (a coarser rounding than the base's).
fn round_floats(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let wide = cast(column, &DataType::Float64)?;
    Ok(Arc::new(
        wide.as_primitive::<Float64Type>()
            .unary::<_, Float64Type>(f64::round),
    ))
}

/// Numbers turned into codes: a prefix, a suffix or zero padding (`ID-42`, `42-A`, `C000042`).
fn number_codes(column: &ArrayRef, rng: &mut Rng) -> Result<ArrayRef, ArrowError> {
    let cells = cell_texts(column.as_ref())?;
    let style = rng.below(3);
    let prefix = rng.pick(&["ID-", "K", "#", "No. "]);
    let suffix = rng.pick(&["-A", "/01", "X"]);
    let codes: StringArray = cells
        .iter()
        .map(|cell| {
            cell.as_ref().map(|v| match style {
                0 => format!("{prefix}{v}"),
                1 => format!("{v}{suffix}"),
                _ => format!("C{v:0>6}"),
            })
        })
        .collect();
    Ok(Arc::new(codes))
}

/// Dates (Date32 or Date64) as strings in another format.
fn reformat_dates(column: &ArrayRef, format: &str) -> Result<ArrayRef, ArrowError> {
    let days = cast(column, &DataType::Date32)?;
    let days = days.as_primitive::<Date32Type>();
    let out: StringArray = (0..days.len())
        .map(|i| {
            (!days.is_null(i)).then(|| match days.value_as_date(i) {
                Some(date) => date.format(format).to_string(),
                None => days.value(i).to_string(),
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// Timestamps as strings in another format.
fn reformat_timestamps(column: &ArrayRef, format: &str) -> Result<ArrayRef, ArrowError> {
    let micros = cast(column, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    let out: StringArray = (0..micros.len())
        .map(|i| {
            (!micros.is_null(i)).then(|| match micros.value_as_datetime(i) {
                Some(at) => at.format(format).to_string(),
                None => micros.value(i).to_string(),
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// Booleans as words.
fn boolean_words(column: &ArrayRef, (yes, no): (&str, &str)) -> Result<ArrayRef, ArrowError> {
    let flags = cast(column, &DataType::Boolean)?;
    let out: StringArray = flags
        .as_boolean()
        .iter()
        .map(|v| v.map(|b| if b { yes } else { no }))
        .collect();
    Ok(Arc::new(out))
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// Writes DIR/source.csv, DIR/target.csv (with header, via arrow::csv::Writer),
/// DIR/truth.json = {"matches":[{"source_column":..,"target_column":..}]} and
/// DIR/meta.json = {"base":..,"scenario":label,"noisy_schema":..,"noisy_instances":..,
/// "row_overlap":..,"seed":..,"source_rows":..,"target_rows":..}; creates DIR if needed.
pub fn write_pair(dir: &Path, pair: &FabricatedPair) -> Result<(), FabricateError> {
    fs::create_dir_all(dir).map_err(|source| FabricateError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_csv(&dir.join("source.csv"), &pair.source)?;
    write_csv(&dir.join("target.csv"), &pair.target)?;
    write_json(&dir.join("truth.json"), &truth_json(pair))?;
    write_json(&dir.join("meta.json"), &meta_json(pair))
}

/// The ground truth as JSON.
fn truth_json(pair: &FabricatedPair) -> serde_json::Value {
    let matches: Vec<serde_json::Value> = pair
        .truth
        .iter()
        .map(|(s, t)| serde_json::json!({"source_column": s, "target_column": t}))
        .collect();
    serde_json::json!({ "matches": matches })
}

/// How the pair was made, as JSON.
fn meta_json(pair: &FabricatedPair) -> serde_json::Value {
    serde_json::json!({
        "base": pair.base,
        "scenario": pair.variant.scenario.label(),
        "noisy_schema": pair.variant.noisy_schema,
        "noisy_instances": pair.variant.noisy_instances,
        "row_overlap": pair.variant.row_overlap,
        "seed": pair.seed,
        "source_rows": pair.source.num_rows(),
        "target_rows": pair.target.num_rows(),
    })
}

/// Writes one table as CSV with a header line.
fn write_csv(path: &Path, batch: &RecordBatch) -> Result<(), FabricateError> {
    let io_error = |source| FabricateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::create(path).map_err(io_error)?;
    let mut writer = arrow::csv::Writer::new(BufWriter::new(file));
    writer.write(batch).map_err(|source| FabricateError::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    writer.into_inner().flush().map_err(io_error)
}

/// Writes one pretty-printed JSON file.
fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), FabricateError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| FabricateError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    fs::write(path, bytes).map_err(|source| FabricateError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BooleanArray, Date32Array, Int32Array, LargeStringArray, TimestampMillisecondArray,
    };

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const PEOPLE: [&str; 12] = [
        "Alice Martin",
        "Bob",
        "Carla Diaz",
        "Dmitri",
        "Eve Adams",
        "Farid",
        "Grace Hopper",
        "Hanna",
        "Ivan Petrov",
        "Julia",
        "Kenji Sato",
        "Lena",
    ];
    const CITIES: [&str; 5] = ["Berlin", "Paris", "Lisbon", "New York", "Sao Paulo"];

    /// 30 rows: id Int64, name Utf8, city Utf8 (with nulls), price Float64, day Date32.
    fn base() -> Result<RecordBatch, ArrowError> {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, false),
            Field::new("city", DataType::Utf8, true),
            Field::new("price", DataType::Float64, false),
            Field::new("day", DataType::Date32, false),
        ]);
        let cities: StringArray = (0..30)
            .map(|i| (i % 7 != 3).then_some(CITIES[i % 5]))
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(1..=30)),
            Arc::new(StringArray::from_iter_values(
                (0..30).map(|i| PEOPLE[i % 12]),
            )),
            Arc::new(cities),
            Arc::new(Float64Array::from_iter_values(
                (0..30).map(|i| 10.25 + 1.37 * f64::from(i)),
            )),
            Arc::new(Date32Array::from_iter_values(
                (0..30).map(|i| 18_700 + 3 * i),
            )),
        ];
        RecordBatch::try_new(Arc::new(Schema::new(schema.fields().clone())), columns)
    }

    fn names(batch: &RecordBatch) -> Vec<String> {
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The source's id column: its only Int64 column (the source is never noisy).
    fn source_id(pair: &FabricatedPair) -> Result<String, String> {
        let schema = pair.source.schema();
        let ints: Vec<&Arc<Field>> = schema
            .fields()
            .iter()
            .filter(|f| f.data_type() == &DataType::Int64)
            .collect();
        match ints.as_slice() {
            [field] => Ok(field.name().clone()),
            _ => Err(format!("{}: no single Int64 column in the source", pair.id)),
        }
    }

    /// The target column the truth maps a source column to.
    fn target_of<'a>(pair: &'a FabricatedPair, source: &str) -> Option<&'a str> {
        pair.truth
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, t)| t.as_str())
    }

    /// The Int64 values of a column.
    fn ints(batch: &RecordBatch, name: &str) -> Result<HashSet<i64>, String> {
        let column = batch
            .column_by_name(name)
            .ok_or(format!("no column {name}"))?;
        let values = column
            .as_primitive_opt::<Int64Type>()
            .ok_or(format!("{name} is not Int64"))?;
        Ok(values.iter().flatten().collect())
    }

    #[test]
    fn the_suite_has_twenty_distinct_variants() {
        let variants = suite();
        assert_eq!(variants.len(), 20);
        let ids: HashSet<String> = variants.iter().map(Variant::id).collect();
        assert_eq!(ids.len(), 20);
        assert!(ids.contains("unionable-ov50-noisyschema-verbatiminstances"));
        assert!(
            ids.iter()
                .all(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        );
    }

    #[test]
    fn truth_columns_exist_on_both_sides() -> TestResult {
        let base = base()?;
        for variant in suite() {
            let pair = fabricate(&base, "shop orders", &variant, 7)?;
            assert!(!pair.truth.is_empty(), "{}", pair.id);
            let (source, target) = (names(&pair.source), names(&pair.target));
            for (s, t) in &pair.truth {
                assert!(
                    source.contains(s) && target.contains(t),
                    "{}: {s} -> {t}",
                    pair.id
                );
            }
            for side in [&source, &target] {
                let lower: HashSet<String> = side.iter().map(|n| n.to_lowercase()).collect();
                assert_eq!(
                    lower.len(),
                    side.len(),
                    "{}: duplicate names {side:?}",
                    pair.id
                );
            }
        }
        Ok(())
    }

    #[test]
    fn unionable_rows_follow_the_overlap() -> TestResult {
        let base = base()?;
        let variants = suite()
            .into_iter()
            .filter(|v| v.scenario == Scenario::Unionable);
        for variant in variants.filter(|v| !v.noisy_instances) {
            let pair = fabricate(&base, "orders", &variant, 11)?;
            assert_eq!(pair.truth.len(), 5, "{}", pair.id);
            let id = source_id(&pair)?;
            let source = ints(&pair.source, &id)?;
            let target = ints(&pair.target, target_of(&pair, &id).ok_or("id not matched")?)?;
            let shared = source.intersection(&target).count();
            if variant.row_overlap == 0.0 {
                assert_eq!(shared, 0, "{}", pair.id);
                assert_eq!(pair.source.num_rows() + pair.target.num_rows(), 30);
                assert_eq!(source.union(&target).count(), 30);
            } else {
                for side in [&source, &target] {
                    let share = shared as f64 / side.len() as f64;
                    assert!((0.4..=0.6).contains(&share), "{}: share {share}", pair.id);
                }
            }
        }
        Ok(())
    }

    #[test]
    fn view_unionable_shares_some_columns_and_no_rows() -> TestResult {
        let base = base()?;
        for variant in suite()
            .into_iter()
            .filter(|v| v.scenario == Scenario::ViewUnionable)
        {
            for seed in 0..10 {
                let pair = fabricate(&base, "orders", &variant, seed)?;
                let shared = pair.truth.len();
                assert!((1..=3).contains(&shared), "{}: {shared} shared", pair.id);
                assert!(pair.source.num_columns() > shared, "{}", pair.id);
                assert!(pair.target.num_columns() > shared, "{}", pair.id);
                assert_eq!(pair.source.num_rows() + pair.target.num_rows(), 30);
            }
        }
        Ok(())
    }

    #[test]
    fn joinable_targets_contain_the_key() -> TestResult {
        let base = base()?;
        let joinable = |v: &Variant| {
            matches!(
                v.scenario,
                Scenario::Joinable | Scenario::SemanticallyJoinable
            )
        };
        for variant in suite().into_iter().filter(joinable) {
            let pair = fabricate(&base, "orders", &variant, 3)?;
            // The key is `id`: unique and not a float; the source keeps every row.
            let id = source_id(&pair)?;
            let key = target_of(&pair, &id).ok_or(format!("{}: key not shared", pair.id))?;
            assert_eq!(pair.source.num_rows(), 30);
            assert!((15..=30).contains(&pair.target.num_rows()), "{}", pair.id);
            let column = pair
                .target
                .column_by_name(key)
                .ok_or("key missing in target")?;
            if variant.scenario == Scenario::SemanticallyJoinable {
                let source: HashSet<String> =
                    cell_texts(pair.source.column_by_name(&id).ok_or("id")?)?
                        .into_iter()
                        .flatten()
                        .collect();
                let exact = cell_texts(column)?
                    .into_iter()
                    .flatten()
                    .filter(|v| source.contains(v))
                    .count();
                assert!(
                    exact * 2 < pair.target.num_rows(),
                    "{}: {exact} exact key values",
                    pair.id
                );
            } else if !variant.noisy_instances {
                assert!(
                    ints(&pair.target, key)?
                        .iter()
                        .all(|v| (1..=30).contains(v))
                );
            }
        }
        Ok(())
    }

    #[test]
    fn noisy_schema_renames_every_target_column() -> TestResult {
        let base = base()?;
        let originals = names(&base);
        for variant in suite() {
            let pair = fabricate(&base, "orders", &variant, 5)?;
            for name in names(&pair.target) {
                assert_eq!(
                    originals.contains(&name),
                    !variant.noisy_schema,
                    "{}: {name}",
                    pair.id
                );
            }
        }
        Ok(())
    }

    #[test]
    fn noisy_instances_change_values_and_keep_nulls() -> TestResult {
        let base = base()?;
        let base_nulls = base.column(2).null_count();
        for variant in suite().into_iter().filter(|v| v.noisy_instances) {
            let pair = fabricate(&base, "orders", &variant, 9)?;
            for (s, t) in &pair.truth {
                let source = pair.source.column_by_name(s).ok_or("source column")?;
                let target = pair.target.column_by_name(t).ok_or("target column")?;
                if source.data_type() == &DataType::Date32 {
                    assert_eq!(target.data_type(), &DataType::Utf8, "{}: {t}", pair.id);
                }
                if source.data_type() == &DataType::Utf8 {
                    let before: HashSet<String> =
                        cell_texts(source)?.into_iter().flatten().collect();
                    let changed = cell_texts(target)?
                        .into_iter()
                        .flatten()
                        .any(|v| !before.contains(&v));
                    assert!(changed, "{}: {t} unchanged", pair.id);
                }
            }
            if variant.scenario == Scenario::Unionable && variant.row_overlap == 0.0 {
                let target_city = target_of(&pair, &names(&pair.source)[2]).ok_or("city")?;
                let nulls = pair.source.column(2).null_count()
                    + pair
                        .target
                        .column_by_name(target_city)
                        .ok_or("city")?
                        .null_count();
                assert_eq!(nulls, base_nulls, "{}", pair.id);
            }
        }
        Ok(())
    }

    #[test]
    fn fabrication_is_deterministic() -> TestResult {
        let base = base()?;
        for variant in suite() {
            let a = fabricate(&base, "orders", &variant, 42)?;
            let b = fabricate(&base, "orders", &variant, 42)?;
            assert_eq!(
                (&a.source, &a.target, &a.truth),
                (&b.source, &b.target, &b.truth)
            );
            let c = fabricate(&base, "orders", &variant, 43)?;
            assert!(a.source != c.source || a.target != c.target, "{}", a.id);
        }
        Ok(())
    }

    #[test]
    fn write_pair_writes_four_files() -> TestResult {
        let base = base()?;
        let dir = tempfile::tempdir()?;
        let variant = suite()[5];
        let pair = fabricate(&base, "orders", &variant, 1)?;
        let folder = dir.path().join(&pair.id);
        write_pair(&folder, &pair)?;
        let source = fs::read_to_string(folder.join("source.csv"))?;
        assert_eq!(source.lines().count(), pair.source.num_rows() + 1);
        let target = fs::read_to_string(folder.join("target.csv"))?;
        assert_eq!(target.lines().count(), pair.target.num_rows() + 1);
        let truth: serde_json::Value =
            serde_json::from_slice(&fs::read(folder.join("truth.json"))?)?;
        let matches = truth["matches"].as_array().ok_or("no matches")?;
        let read: Vec<(String, String)> = matches
            .iter()
            .map(|m| {
                (
                    m["source_column"].as_str().unwrap_or("").to_owned(),
                    m["target_column"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(read, pair.truth);
        let meta: serde_json::Value = serde_json::from_slice(&fs::read(folder.join("meta.json"))?)?;
        assert_eq!(meta["scenario"], variant.scenario.label());
        assert_eq!(meta["seed"], 1);
        assert_eq!(meta["target_rows"], pair.target.num_rows());
        Ok(())
    }

    #[test]
    fn small_tables_and_bad_overlaps_are_refused() -> TestResult {
        let base = base()?;
        let variant = suite()[0];
        let few_rows = base.slice(0, 9);
        assert!(matches!(
            fabricate(&few_rows, "t", &variant, 0),
            Err(FabricateError::TooSmall { .. })
        ));
        let one_column = base.project(&[0])?;
        assert!(matches!(
            fabricate(&one_column, "t", &variant, 0),
            Err(FabricateError::TooSmall { .. })
        ));
        let bad = Variant {
            row_overlap: 1.5,
            ..variant
        };
        assert!(matches!(
            fabricate(&base, "t", &bad, 0),
            Err(FabricateError::BadOverlap(_))
        ));
        Ok(())
    }

    #[test]
    fn every_column_type_survives_every_variant() -> TestResult {
        let schema = Schema::new(vec![
            Field::new("code", DataType::LargeUtf8, true),
            Field::new("qty", DataType::Int32, true),
            Field::new("in_stock", DataType::Boolean, true),
            Field::new(
                "updatedAt",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                (0..20)
                    .map(|i| (i != 4).then(|| format!("sku-{i:03}")))
                    .collect::<LargeStringArray>(),
            ),
            Arc::new(
                (0..20)
                    .map(|i| (i != 7).then_some(i * 3))
                    .collect::<Int32Array>(),
            ),
            Arc::new(
                (0..20)
                    .map(|i| (i != 9).then_some(i % 2 == 0))
                    .collect::<BooleanArray>(),
            ),
            Arc::new(
                TimestampMillisecondArray::from_iter_values(
                    (0..20).map(|i| 1_600_000_000_000 + i * 86_400_000),
                )
                .with_timezone("UTC"),
            ),
        ];
        let base = RecordBatch::try_new(Arc::new(schema), columns)?;
        let nulls: usize = base.columns().iter().map(|c| c.null_count()).sum();
        for variant in suite() {
            let pair = fabricate(&base, "stock", &variant, 2)?;
            assert!(!pair.truth.is_empty());
            if variant.scenario == Scenario::Unionable && variant.row_overlap == 0.0 {
                let both: usize = [&pair.source, &pair.target]
                    .iter()
                    .flat_map(|b| b.columns())
                    .map(|c| c.null_count())
                    .sum();
                assert_eq!(both, nulls, "{}", pair.id);
            }
        }
        Ok(())
    }

    #[test]
    fn name_transforms() {
        assert_eq!(split_words("customerNumber"), ["customer", "number"]);
        assert_eq!(split_words("Customer Number"), ["customer", "number"]);
        assert_eq!(without_vowels("customer"), "cstmr");
        assert_eq!(truncate_word("customer", 4), "cust");
        assert_eq!(prefix_name("customerNumber", "tgt"), "tgtCustomerNumber");
        assert_eq!(
            join_words(&split_words("customer_number"), Case::Title),
            "Customer Number"
        );
        assert_eq!(table_abbreviation("sales_orders"), "so");
        let mut rng = Rng::new(1);
        for name in ["city", "id", "customer_number", "x", "Total Price"] {
            let typo = name_typo(name, &mut rng);
            assert!(typo.is_some_and(|t| t != name), "{name}");
            assert_ne!(recase_name(name, &mut rng).as_deref(), Some(name));
        }
        let synonym = synonym_name("city", &mut rng);
        assert!(matches!(synonym.as_deref(), Some("town" | "municipality")));
        assert!(SYNONYMS.len() >= 40);
    }

    #[test]
    fn semantic_text_noise_always_changes_the_value() {
        let mut rng = Rng::new(7);
        for value in PEOPLE.iter().chain(&CITIES).chain(&["a", "", "42"]) {
            for _ in 0..20 {
                assert_ne!(semantic_text(value, &mut rng), *value);
            }
        }
    }

    #[test]
    fn awkward_names_stay_unique_and_renamed() -> TestResult {
        let schema = Schema::new(vec![
            Field::new("", DataType::Utf8, true),
            Field::new("_", DataType::Float64, true),
            Field::new("Name", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![None::<&str>; 10])),
            Arc::new(Float64Array::from(vec![None; 10])),
            Arc::new(StringArray::from(vec![Some(""); 10])),
            Arc::new(StringArray::from(vec![Some("x"); 10])),
        ];
        let base = RecordBatch::try_new(Arc::new(schema), columns)?;
        let originals = names(&base);
        for variant in suite().into_iter().filter(|v| v.noisy_schema) {
            for seed in 0..20 {
                let target = names(&fabricate(&base, "t", &variant, seed)?.target);
                assert_eq!(target.iter().collect::<HashSet<_>>().len(), target.len());
                assert!(target.iter().all(|n| !originals.contains(n)), "{target:?}");
            }
        }
        Ok(())
    }
}
