//! Every reader against mutated files: bytes flipped, cut, repeated and
//! inserted into a valid file of its format, from a fixed seed so a failure
//! reproduces. No input may crash the process; every error names its file and
//! shows no internals.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use lakebook_core::Job;
use lakebook_core::ingest::{DocFormat, IngestOptions, documents::extract::extract, read_table};
use lakebook_core::rng::Rng;

use crate::support::{TestLake, demo_assets};

/// Mutations tried on each seed file.
const MUTATIONS: usize = 120;

/// One valid file per format the readers take.
fn seeds(t: &TestLake) -> Result<Vec<PathBuf>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
            Arc::new(Float64Array::from(vec![1.5, 2.0, -3.25])),
        ],
    )?;
    let parquet = t.src("seed.parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet)?,
        schema.clone(),
        None,
    )?;
    w.write(&batch)?;
    w.close()?;
    let ipc = t.src("seed.arrow");
    let mut w = arrow::ipc::writer::FileWriter::try_new(std::fs::File::create(&ipc)?, &schema)?;
    w.write(&batch)?;
    w.finish()?;
    let xlsx = t.src("seed.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write(0, 0, "name")?;
    sheet.write(0, 1, "value")?;
    sheet.write(1, 0, "a")?;
    sheet.write(1, 1, 1.5)?;
    book.save(&xlsx)?;
    let pdf = t.src("seed.pdf");
    std::fs::copy(
        demo_assets().join("docs/data-engineering/data-quality-checklist.pdf"),
        &pdf,
    )?;
    Ok(vec![
        t.file("seed.csv", "\"\",\"a.b\",c,d\n\"1\",1.5,x,2024-01-02\n\"2\",,\"y,z\",2024-02-03\n")?,
        t.file("seed.tsv", "a\tb\n1\tx\n2\ty\n")?,
        t.file("seed.json", "[{\"a\": 1, \"b\": \"x\", \"c\": [1, 2]}, {\"a\": 2.5, \"b\": null}]")?,
        t.file("seed.ndjson", "{\"a\": 1, \"b\": {\"x\": true}}\n{\"a\": NaN, \"b\": {\"x\": false}}\n")?,
        parquet,
        ipc,
        xlsx,
        t.file("seed.txt", "First paragraph.\n\nSecond one, café.\n")?,
        t.file("seed.md", "# Title\n\n> quote\n\n- a\n- b\n\n```\ncode\n```\n")?,
        t.file("seed.html", "<html><head><title>T</title></head><body><p>One<table><tr><td>x</td></tr></table></body></html>")?,
        pdf,
    ])
}

/// `bytes` changed in one of four ways.
fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        return vec![rng.below(256) as u8];
    }
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len().max(1));
        match rng.below(4) {
            0 => {
                let n = 1 + rng.below(8);
                for i in at..(at + n).min(out.len()) {
                    out[i] = rng.below(256) as u8;
                }
            }
            1 => out.truncate(at.max(1)),
            2 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                let slice = out[at..end].to_vec();
                out.splice(at..at, slice);
            }
            _ => {
                let junk: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| rng.below(256) as u8)
                    .collect();
                out.splice(at..at, junk);
            }
        }
    }
    out
}

fn document_format(path: &Path) -> Option<DocFormat> {
    match path.extension()?.to_str()? {
        "txt" => Some(DocFormat::Text),
        "md" => Some(DocFormat::Markdown),
        "html" => Some(DocFormat::Html),
        "pdf" => Some(DocFormat::Pdf),
        _ => None,
    }
}

#[test]
fn mutated_files_never_crash_a_reader() -> Result<()> {
    let t = TestLake::new()?;
    let mut rng = Rng::new(20261207);
    let options = IngestOptions::default();
    let mut contained = Vec::new();
    for seed in seeds(&t)? {
        let original = std::fs::read(&seed)?;
        let ext = seed
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_string();
        for i in 0..MUTATIONS {
            let path = t.file(&format!("m/{i}.{ext}"), mutate(&original, &mut rng))?;
            let name = path.display().to_string();
            let message = match document_format(&path) {
                Some(format) => extract(&path, format, None).err(),
                None => read_table(&path, &options, &Job::new())
                    .err()
                    .map(|e| e.to_string()),
            };
            let Some(message) = message else { continue };
            if document_format(&path).is_none() {
                assert!(
                    message.contains(&name),
                    "{name}: the error does not name the file: {message}"
                );
            }
            for inside in [".cargo/registry", "Error(", "panicked", "RUST_BACKTRACE"] {
                assert!(
                    !message.contains(inside),
                    "{name}: '{inside}' in: {message}"
                );
            }
            if message.contains("its reader failed on this file") {
                contained.push(name);
            }
        }
    }
    // Third-party readers may panic on broken input; each panic stays one file's error.
    println!(
        "{} mutated files made a reader panic, each contained",
        contained.len()
    );
    Ok(())
}
