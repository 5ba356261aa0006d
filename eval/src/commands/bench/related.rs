//! `bench related`: lake-wide discovery (`RelatedIndex`) on a synthetic lake
//! of table sketches, LSH against scoring every table.
//!
//! The lake is made of sketches directly (no Lance data). Columns draw their
//! values from a pool of value domains (popular ones more often, as dates and
//! countries are) and their names from the domain's name, sometimes renamed
//! (abbreviated, camel case, tagged). Each query table has a key column of
//! its own domain, and a few partners are planted: joinable ones (a column
//! mostly contained in the query's key)
//! and unionable ones (mostly the same domains and alike names, other rows).
//! The rest of the lake is random. Reported: index build time, query
//! latencies of `related` and `related_brute_force`, and how many planted
//! partners each finds in its top 10.

use std::collections::HashSet;
use std::io::Write;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use lakebook_core::matching::related::{ColumnSketch, RelatedIndex, TableSketch};
use lakebook_core::profile::name_tokens;
use lakebook_core::profile::sketch::{MinHash, hash_value};

/// How `bench related` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Every figure, as JSON.
    Json,
    /// A short summary.
    Table,
}

/// Value domains in the pool.
const DOMAINS: usize = 2000;
/// Zipf exponent of domain popularity.
const ZIPF: f64 = 0.8;
/// Joinable and unionable partners planted per query table.
const JOIN_PARTNERS: usize = 2;
/// See [`JOIN_PARTNERS`].
const UNION_PARTNERS: usize = 2;
/// Results asked of each query.
const TOP: usize = 10;

/// Options of `bench related`.
#[derive(Debug, Args)]
pub struct RelatedBenchArgs {
    /// Tables in the synthetic lake.
    #[arg(long, default_value_t = 5000)]
    tables: usize,
    /// Columns per table.
    #[arg(long, default_value_t = 8)]
    columns: usize,
    /// Query tables (each with planted partners; at most a tenth of the lake).
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Random seed (the same seed makes the same lake).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// `json` (default) or `table` (a short summary).
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

/// SplitMix64: a small deterministic random number generator.
struct Rng(u64);

impl Rng {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + self.unit() * (hi - lo)
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Log-uniform in [lo, hi).
    fn log_uniform(&mut self, lo: f64, hi: f64) -> usize {
        self.range(lo.ln(), hi.ln()).exp() as usize
    }

    /// One element of a non-empty slice.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Fisher-Yates shuffle.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// What column names are made of: entity and attribute words.
const ENTITIES: &[&str] = &[
    "customer",
    "order",
    "product",
    "employee",
    "department",
    "account",
    "transaction",
    "city",
    "country",
    "store",
    "supplier",
    "invoice",
    "payment",
    "shipment",
    "station",
    "patient",
    "doctor",
    "school",
    "student",
    "course",
    "vehicle",
    "flight",
    "airport",
    "route",
    "hotel",
    "booking",
    "event",
    "device",
    "sensor",
    "user",
    "session",
    "campaign",
    "region",
    "warehouse",
    "brand",
    "project",
    "ticket",
    "movie",
    "artist",
    "team",
];
/// See [`ENTITIES`].
const ATTRIBUTES: &[&str] = &[
    "id",
    "number",
    "name",
    "code",
    "date",
    "amount",
    "quantity",
    "price",
    "status",
    "type",
    "address",
    "phone",
    "email",
    "year",
    "month",
    "count",
    "rate",
    "score",
    "description",
    "reference",
    "balance",
    "latitude",
    "longitude",
    "postcode",
    "category",
    "title",
    "level",
    "total",
    "weight",
    "source",
];
/// Abbreviations used when renaming (ones the name matcher knows).
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("customer", "cust"),
    ("number", "no"),
    ("quantity", "qty"),
    ("amount", "amt"),
    ("address", "addr"),
    ("description", "desc"),
    ("department", "dept"),
    ("employee", "emp"),
    ("product", "prod"),
    ("reference", "ref"),
    ("transaction", "txn"),
    ("account", "acct"),
    ("category", "cat"),
    ("balance", "bal"),
    ("latitude", "lat"),
    ("longitude", "lon"),
    ("postcode", "zip"),
];

/// A pool of values shared by columns of many tables.
struct Domain {
    /// Name words (`customer`, `id`).
    words: Vec<&'static str>,
    /// Arrow type name.
    data_type: &'static str,
    /// Hash of each value `d{k}_v{i}`.
    hashes: Vec<u64>,
}

/// The Arrow type of an attribute's values.
fn attribute_type(attribute: &str) -> &'static str {
    match attribute {
        "id" | "number" | "year" | "month" | "count" | "quantity" | "level" => "Int64",
        "amount" | "price" | "rate" | "score" | "balance" | "latitude" | "longitude" | "total"
        | "weight" => "Float64",
        "date" => "Date32",
        _ => "Utf8",
    }
}

/// The domain pool: 50 to 5000 values each (log-uniform).
fn domains(rng: &mut Rng) -> Vec<Domain> {
    (0..DOMAINS)
        .map(|k| {
            let attribute = *rng.pick(ATTRIBUTES);
            let mut words = vec![attribute];
            if rng.unit() < 0.85 {
                words.insert(0, *rng.pick(ENTITIES));
            }
            let size = rng.log_uniform(50.0, 5000.0);
            Domain {
                words,
                data_type: attribute_type(attribute),
                hashes: (0..size)
                    .map(|i| hash_value(&format!("d{k}_v{i}")))
                    .collect(),
            }
        })
        .collect()
}

/// A column name for `words`: as is (snake case) or, when `rename`, one of
/// the ways schemas spell the same thing.
fn spell(words: &[&str], rename: bool, rng: &mut Rng) -> String {
    if !rename {
        return words.join("_");
    }
    match rng.below(5) {
        0 => {
            let mut s = words[0].to_string();
            for w in &words[1..] {
                s.push_str(&w[..1].to_uppercase());
                s.push_str(&w[1..]);
            }
            s
        }
        1 => words
            .iter()
            .map(|w| {
                ABBREVIATIONS
                    .iter()
                    .find(|(long, _)| long == w)
                    .map_or(*w, |(_, short)| short)
            })
            .collect::<Vec<_>>()
            .join("_"),
        2 if words.len() > 1 => words[1..].join("_"),
        3 => format!(
            "{}_{}",
            rng.pick(&["src", "tgt", "s1", "x"]),
            words.join("_")
        ),
        _ => words.join(" ").to_uppercase(),
    }
}

/// A column before sketching: its domain, name words and value indices.
struct Column {
    /// Index into the domain pool.
    domain: usize,
    /// Indices of the domain values the column holds.
    indices: Vec<u32>,
    /// Values from outside the domain's pool (join partners' strays).
    strays: usize,
    /// Whether the name is spelled differently from the domain's.
    rename: bool,
}

/// A query table and the partners planted for it.
struct Planted {
    /// The query table.
    query: String,
    /// Tables with a column mostly contained in the query's key.
    joins: Vec<String>,
    /// Each joinable partner's key size relative to the query key.
    sizes: Vec<f64>,
    /// Tables with mostly the same domains and alike names.
    unions: Vec<String>,
}

/// The synthetic lake and its planted partners.
struct Synthetic {
    /// Every table of the lake.
    tables: Vec<TableSketch>,
    /// The query tables.
    queries: Vec<Planted>,
}

/// Makes the lake.
struct Maker {
    /// The random source.
    rng: Rng,
    /// The shared pool ([`DOMAINS`] of them), then the query tables' key domains.
    domains: Vec<Domain>,
    /// Cumulative Zipf weights of the domains.
    popularity: Vec<f64>,
    /// Columns per table.
    columns: usize,
}

impl Maker {
    /// A domain, popular ones more often.
    fn popular_domain(&mut self) -> usize {
        let total = self.popularity.last().copied().unwrap_or(1.0);
        let x = self.rng.unit() * total;
        self.popularity.partition_point(|c| *c < x).min(DOMAINS - 1)
    }

    /// A new domain of 200 to 5000 ids (an entity's key), outside the pool
    /// that random columns draw from.
    fn key_domain(&mut self) -> usize {
        let k = self.domains.len();
        let size = self.rng.log_uniform(200.0, 5000.0);
        self.domains.push(Domain {
            words: vec![*self.rng.pick(ENTITIES), "id"],
            data_type: if self.rng.unit() < 0.5 {
                "Int64"
            } else {
                "Utf8"
            },
            hashes: (0..size)
                .map(|i| hash_value(&format!("d{k}_v{i}")))
                .collect(),
        });
        k
    }

    /// A random share (`lo`..1) of domain `d`'s values.
    fn sample(&mut self, d: usize, lo: f64) -> Vec<u32> {
        let share = self.rng.range(lo, 1.0);
        let n = self.domains[d].hashes.len() as u32;
        (0..n).filter(|_| self.rng.unit() < share).collect()
    }

    /// A column of a random popular domain.
    fn random_column(&mut self) -> Column {
        let domain = self.popular_domain();
        Column {
            domain,
            indices: self.sample(domain, 0.2),
            strays: 0,
            rename: self.rng.unit() < 0.4,
        }
    }

    /// Sketches a table; a column with more values than `rows` keeps those
    /// that `rows` random draws would hit.
    fn sketch(&mut self, name: String, rows: usize, mut columns: Vec<Column>) -> TableSketch {
        self.rng.shuffle(&mut columns);
        let columns = columns
            .into_iter()
            .map(|mut c| {
                let domain = &self.domains[c.domain];
                let pool = c.indices.len() + c.strays;
                if pool > rows {
                    // `rows` draws from the pool (with repeats) hit this many values.
                    let hit = pool as f64 * (1.0 - (-(rows as f64) / pool as f64).exp());
                    self.rng.shuffle(&mut c.indices);
                    c.indices.truncate(hit.round() as usize);
                    c.strays = 0;
                }
                let mut minhash = MinHash::default();
                for &i in &c.indices {
                    minhash.add(domain.hashes[i as usize]);
                }
                for s in 0..c.strays {
                    minhash.add(hash_value(&format!("{name}_stray{s}")));
                }
                let distinct = c.indices.len() + c.strays;
                let col_name = spell(&domain.words, c.rename, &mut self.rng);
                ColumnSketch {
                    tokens: name_tokens(&col_name),
                    name: col_name,
                    data_type: domain.data_type.to_string(),
                    distinct: distinct as u64,
                    uniqueness: distinct as f64 / rows.max(1) as f64,
                    minhash,
                    row_index: false,
                    row_names: false,
                }
            })
            .collect();
        TableSketch {
            name,
            version: 1,
            rows: rows as u64,
            columns,
        }
    }

    /// The lake: `queries` query tables with their partners, then random tables.
    fn lake(mut self, tables: usize, queries: usize) -> Synthetic {
        // Names in random order, so that where a table was made says nothing.
        let mut ids: Vec<usize> = (0..tables).collect();
        self.rng.shuffle(&mut ids);
        let mut names = ids.into_iter().map(|i| format!("t{i:05}"));
        let mut next_name = || names.next().unwrap_or_default();
        let mut out = Vec::with_capacity(tables);
        let mut planted = Vec::new();
        for _ in 0..queries {
            // The query: a key column (every value once) of a key domain of
            // its own, shared only with its partners, and random columns.
            let key_domain = self.key_domain();
            let key = self.sample(key_domain, 0.5);
            let rows = key.len();
            let mut shape: Vec<(usize, bool)> = vec![(key_domain, false)];
            let mut cols = vec![Column {
                domain: key_domain,
                indices: key.clone(),
                strays: 0,
                rename: false,
            }];
            for _ in 1..self.columns {
                let c = self.random_column();
                shape.push((c.domain, c.rename));
                cols.push(c);
            }
            let query = next_name();
            out.push(self.sketch(query.clone(), rows, cols));
            // Joinable: a column holding 10-100% as many values as the query
            // key, 80-100% of them from it.
            let (mut joins, mut sizes) = (Vec::new(), Vec::new());
            for _ in 0..JOIN_PARTNERS {
                let share = self.rng.range(0.1, 1.0);
                let inside = self.rng.range(0.8, 1.0);
                let n = ((rows as f64 * share).round() as usize).max(3);
                let mut from_key = key.clone();
                self.rng.shuffle(&mut from_key);
                from_key.truncate((n as f64 * inside).round() as usize);
                let prows = n.max(self.rng.log_uniform(1_000.0, 100_000.0));
                let mut cols = vec![Column {
                    domain: key_domain,
                    strays: n - from_key.len(),
                    indices: from_key,
                    rename: self.rng.unit() < 0.5,
                }];
                cols.extend((1..self.columns).map(|_| self.random_column()));
                let name = next_name();
                out.push(self.sketch(name.clone(), prows, cols));
                joins.push(name);
                sizes.push(share);
            }
            // Unionable: three in four columns from the query's domains (other
            // rows), alike names; the rest random.
            let mut unions = Vec::new();
            for _ in 0..UNION_PARTNERS {
                let mut cols = Vec::new();
                for (i, &(domain, renamed)) in shape.iter().enumerate() {
                    if i * 4 < self.columns * 3 {
                        cols.push(Column {
                            domain,
                            indices: self.sample(domain, 0.3),
                            strays: 0,
                            rename: renamed ^ (self.rng.unit() < 0.3),
                        });
                    } else {
                        cols.push(self.random_column());
                    }
                }
                let name = next_name();
                let prows = self.rng.log_uniform(1_000.0, 100_000.0);
                out.push(self.sketch(name.clone(), prows, cols));
                unions.push(name);
            }
            planted.push(Planted {
                query,
                joins,
                sizes,
                unions,
            });
        }
        while out.len() < tables {
            let cols = (0..self.columns).map(|_| self.random_column()).collect();
            let rows = self.rng.log_uniform(1_000.0, 100_000.0);
            let name = next_name();
            out.push(self.sketch(name, rows, cols));
        }
        Synthetic {
            tables: out,
            queries: planted,
        }
    }
}

/// The value at percentile `p` of sorted `ms`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len().saturating_sub(1) as f64).round() as usize;
    sorted.get(rank).copied().unwrap_or(0.0)
}

/// Milliseconds since `t`.
fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Share of `wanted` found in `got`.
fn found(wanted: &[String], got: &HashSet<&str>) -> (usize, usize) {
    let n = wanted.iter().filter(|w| got.contains(w.as_str())).count();
    (n, wanted.len())
}

/// Running sums of hits and totals.
#[derive(Default, Clone, Copy)]
struct Recall(usize, usize);

impl Recall {
    /// Adds hits out of a total.
    fn add(&mut self, (hits, total): (usize, usize)) {
        self.0 += hits;
        self.1 += total;
    }
    /// The share, rounded to three decimals.
    fn share(self) -> f64 {
        round3(self.0 as f64 / self.1.max(1) as f64)
    }
}

/// `x` rounded to three decimals.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs `bench related` and writes its report.
pub fn run(args: RelatedBenchArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    if args.tables < 10 || args.columns < 2 {
        bail!("bench related needs at least 10 tables of 2 columns");
    }
    let queries = args.queries.min(args.tables / 10).max(1);
    let started = Instant::now();
    let mut rng = Rng(args.seed);
    let domains = domains(&mut rng);
    let mut popularity = Vec::with_capacity(DOMAINS);
    let mut total = 0.0;
    for rank in 1..=DOMAINS {
        total += 1.0 / (rank as f64).powf(ZIPF);
        popularity.push(total);
    }
    let lake = Maker {
        rng,
        domains,
        popularity,
        columns: args.columns,
    }
    .lake(args.tables, queries);
    let synth_ms = ms(started);

    let started = Instant::now();
    let index = RelatedIndex::build(lake.tables);
    let build_ms = ms(started);

    let (mut lsh_ms, mut brute_ms) = (Vec::new(), Vec::new());
    let (mut lsh, mut brute) = (Recall::default(), Recall::default());
    let (mut lsh_join, mut lsh_union) = (Recall::default(), Recall::default());
    let (mut brute_join, mut brute_union) = (Recall::default(), Recall::default());
    let (mut small_join, mut large_join) = (Recall::default(), Recall::default());
    let (mut precision, mut agreement) = (Recall::default(), Recall::default());
    for Planted {
        query,
        joins,
        sizes,
        unions,
    } in &lake.queries
    {
        let t = Instant::now();
        let fast = index.related(query, TOP).unwrap_or_default();
        lsh_ms.push(ms(t));
        let t = Instant::now();
        let exact = index.related_brute_force(query, TOP).unwrap_or_default();
        brute_ms.push(ms(t));
        let fast_names: HashSet<&str> = fast.iter().map(|r| r.table.as_str()).collect();
        let exact_names: HashSet<&str> = exact.iter().map(|r| r.table.as_str()).collect();
        for (found_in, all, join, union) in [
            (&fast_names, &mut lsh, &mut lsh_join, &mut lsh_union),
            (&exact_names, &mut brute, &mut brute_join, &mut brute_union),
        ] {
            join.add(found(joins, found_in));
            union.add(found(unions, found_in));
            all.add(found(joins, found_in));
            all.add(found(unions, found_in));
        }
        for (name, share) in joins.iter().zip(sizes) {
            let hit = usize::from(fast_names.contains(name.as_str()));
            let bucket = if *share < 0.3 {
                &mut small_join
            } else {
                &mut large_join
            };
            bucket.add((hit, 1));
        }
        // Precision: planted partners among LSH's first (planted-count) results.
        let planted: HashSet<&str> = joins.iter().chain(unions).map(String::as_str).collect();
        let head = fast.iter().take(planted.len());
        precision.add((
            head.filter(|r| planted.contains(r.table.as_str())).count(),
            planted.len(),
        ));
        agreement.add((
            fast_names.intersection(&exact_names).count(),
            exact_names.len(),
        ));
    }
    lsh_ms.sort_by(f64::total_cmp);
    brute_ms.sort_by(f64::total_cmp);
    let (p50, p95) = (percentile(&lsh_ms, 50.0), percentile(&lsh_ms, 95.0));
    let (bp50, bp95) = (percentile(&brute_ms, 50.0), percentile(&brute_ms, 95.0));
    let ratio = bp50 / p50.max(1e-9);
    let summary = format!(
        "{} tables × {} columns: index built in {:.0} ms; related() p50 {:.2} ms, p95 {:.2} ms \
         (scoring every table: p50 {:.1} ms, {:.0}× slower); planted partners in the top {TOP}: \
         {:.0}% with LSH, {:.0}% scoring every table",
        args.tables,
        args.columns,
        build_ms,
        p50,
        p95,
        bp50,
        ratio,
        lsh.share() * 100.0,
        brute.share() * 100.0,
    );
    let report = serde_json::json!({
        "tables": args.tables,
        "columns": args.columns,
        "queries": queries,
        "planted_per_query": { "joinable": JOIN_PARTNERS, "unionable": UNION_PARTNERS },
        "seed": args.seed,
        "synth_ms": round3(synth_ms),
        "build_ms": round3(build_ms),
        "query_p50_ms": round3(p50),
        "query_p95_ms": round3(p95),
        "query_max_ms": round3(lsh_ms.last().copied().unwrap_or(0.0)),
        "brute_p50_ms": round3(bp50),
        "brute_p95_ms": round3(bp95),
        "ratio": round3(ratio),
        "recall_lsh": lsh.share(),
        "recall_brute": brute.share(),
        "recall_lsh_join": lsh_join.share(),
        "recall_lsh_union": lsh_union.share(),
        "recall_brute_join": brute_join.share(),
        "recall_brute_union": brute_union.share(),
        "recall_lsh_join_key_lt_30pct": small_join.share(),
        "recall_lsh_join_key_ge_30pct": large_join.share(),
        "precision_lsh": precision.share(),
        "agreement_lsh_brute_top10": agreement.share(),
        "summary": summary,
    });
    if args.format == Format::Table {
        writeln!(out, "{summary}")?;
        writeln!(
            out,
            "recall (LSH / every table): joinable {:.2} / {:.2} (LSH, key < 30%: {:.2}), \
             unionable {:.2} / {:.2}; LSH precision {:.2}; LSH top {TOP} = exact top {TOP}: {:.2}",
            lsh_join.share(),
            brute_join.share(),
            small_join.share(),
            lsh_union.share(),
            brute_union.share(),
            precision.share(),
            agreement.share(),
        )?;
    } else {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}
