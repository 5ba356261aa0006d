//! Real files as R, pandas and other tools write them: names Lance refuses
//! (`Sepal.Length`, repeats) keep working under the user's name everywhere.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::json;

use crate::support::TestLake;

/// An R `write.csv` export: unnamed row names, dotted column names, quoted header.
const IRIS: &str = "\"\",\"Sepal.Length\",\"Sepal.Width\",\"Species\"\n\
\"1\",5.1,3.5,\"setosa\"\n\
\"2\",4.9,3,\"setosa\"\n\
\"3\",7,3.2,\"versicolor\"\n";

#[tokio::test]
async fn dotted_column_names_work_in_sql_schema_appends_and_profiles() -> Result<()> {
    let t = TestLake::new()?;
    let iris = t.file("iris.csv", IRIS)?;
    t.ingest(&[&iris], &[]).await?;

    let schema = t.schema("iris").await?;
    let names: Vec<&str> = schema.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["Sepal.Length", "Sepal.Width", "Species", "rownames"]
    );
    assert_eq!(
        t.sql(r#"SELECT "Sepal.Length", "Species" FROM iris WHERE "Sepal.Width" > 3.1 ORDER BY "Sepal.Length""#)
            .await?,
        vec![
            json!({"Sepal.Length": 5.1, "Species": "setosa"}),
            json!({"Sepal.Length": 7.0, "Species": "versicolor"}),
        ]
    );
    assert_eq!(
        t.sql("SELECT * FROM iris ORDER BY rownames LIMIT 1")
            .await?,
        vec![json!({"rownames": 1, "Sepal.Length": 5.1, "Sepal.Width": 3.5, "Species": "setosa"})]
    );

    // Appending the same export maps its names onto the stored columns.
    let more = t.file(
        "iris2.csv",
        "\"\",\"Sepal.Length\",\"Sepal.Width\",\"Species\"\n\"4\",6.3,2.5,\"virginica\"\n",
    )?;
    t.ingest(&[&more], &["--name", "iris", "--mode", "append"])
        .await?;
    assert_eq!(
        t.scalar(r#"SELECT sum("Sepal.Length") FROM iris"#).await?,
        json!(23.3)
    );
    // A column the dataset lacks is still refused, under the user's names.
    let odd = t.file("odd.csv", "\"Petal.Width\"\n1\n")?;
    let err = t
        .run_err(&[
            "ingest",
            &odd.to_string_lossy(),
            "--name",
            "iris",
            "--mode",
            "append",
        ])
        .await;
    assert!(
        err.contains("column 'Petal.Width' is not in the dataset being appended to (its columns: rownames, Sepal.Length, Sepal.Width, Species)"),
        "{err}"
    );

    // Versions read through SQL keep the names too.
    assert_eq!(
        t.scalar(r#"SELECT count("Sepal.Width") FROM "iris@1""#)
            .await?,
        json!(3)
    );

    // Profiles and the catalog carry the user's names.
    let lake = lakebook_core::Lake::open(&t.lake()).await?;
    let profile =
        lakebook_core::profile::profile_dataset(&lake, "iris", &lakebook_core::Job::new()).await?;
    let profiled: Vec<&str> = profile.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        profiled,
        ["rownames", "Sepal.Length", "Sepal.Width", "Species"]
    );
    assert_eq!(profile.columns[1].distinct, 4);
    let catalog = std::fs::read_to_string(t.lake().join("lake.json"))?;
    assert!(catalog.contains("\"Sepal.Length\""), "{catalog}");

    // pylance reads the dataset, and finds the user's name beside the stored one.
    let dir = t.lake().join("iris.lance");
    let script = "import sys, lance\n\
ds = lance.dataset(sys.argv[1])\n\
f = ds.schema.field('Sepal_Length')\n\
print(ds.count_rows(), ds.schema.names, f.metadata[b'lakebook:name'].decode())\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, &dir.to_string_lossy()])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout)?.trim(),
        "4 ['rownames', 'Sepal_Length', 'Sepal_Width', 'Species'] Sepal.Length"
    );
    Ok(())
}

#[tokio::test]
async fn dotted_json_keys_and_repeated_parquet_columns_are_ingested() -> Result<()> {
    let t = TestLake::new()?;
    let json_file = t.file(
        "prices.json",
        "[{\"price.heinz\": 1.5, \"price.hunts\": 2}, {\"price.heinz\": 1.25, \"price.hunts\": 3}]",
    )?;
    t.ingest(&[&json_file], &[]).await?;
    assert_eq!(
        t.sql(r#"SELECT "price.heinz", "price.hunts" FROM prices ORDER BY "price.heinz""#)
            .await?,
        vec![
            json!({"price.heinz": 1.25, "price.hunts": 3}),
            json!({"price.heinz": 1.5, "price.hunts": 2}),
        ]
    );

    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Int64, true),
        Field::new("x", DataType::Int64, true),
        Field::new("x.y", DataType::Int64, true),
    ]));
    let column = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    let batch = RecordBatch::try_new(schema.clone(), vec![column(1), column(2), column(3)])?;
    let pq = t.src("repeats.parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&pq)?, schema, None)?;
    w.write(&batch)?;
    w.close()?;
    let out = t.ingest(&[&pq], &[]).await?;
    assert!(
        out.contains("column name 'x' repeats; the repeat is called 'x_2'"),
        "{out}"
    );
    assert_eq!(
        t.sql("SELECT * FROM repeats").await?,
        vec![json!({"x": 1, "x_2": 2, "x.y": 3})]
    );
    Ok(())
}

#[tokio::test]
async fn a_header_of_megabytes_becomes_a_short_column_name() -> Result<()> {
    let t = TestLake::new()?;
    let long = "n".repeat(1 << 20);
    let csv = t.file("wide.csv", format!("{long},b\n1,2\n"))?;
    let out = t.ingest(&[&csv], &[]).await?;
    assert!(
        out.contains("column 1's name is 1048576 characters long; kept its first 256"),
        "{out}"
    );
    let schema = t.schema("wide").await?;
    let names: Vec<String> = schema.keys().cloned().collect();
    assert_eq!(names, ["b".to_string(), "n".repeat(256)]);
    let catalog = std::fs::metadata(t.lake().join("lake.json"))?.len();
    assert!(catalog < 4096, "lake.json is {catalog} bytes");
    Ok(())
}

#[tokio::test]
async fn a_folder_takes_its_good_files_lists_the_bad_and_a_rerun_completes_it() -> Result<()> {
    let t = TestLake::new()?;
    t.file("batch/a_good.csv", "id,v\n1,x\n2,y\n")?;
    let bad = t.file("batch/b_bad.csv", "id,v\n1,x\n2\n")?;
    t.file("batch/c_good.json", "[{\"k\": 1}, {\"k\": 2}, {\"k\": 3}]")?;
    t.file("batch/d_empty.csv", "")?;
    t.file("batch/notes.md", "# Notes\n\nSome words.")?;
    let folder = t.src("batch").to_string_lossy().into_owned();

    let err = t.run_err(&["ingest", &folder]).await;
    let b = bad.display();
    let d = t.src("batch/d_empty.csv");
    assert_eq!(
        err,
        format!(
            "2 files could not be ingested and were left out; everything else is in:\n  \
             {b}: line 3: expected 2 fields (as in the first row), found 1; check for an unquoted delimiter or a missing quote, or use --on-error skip\n  \
             {}: the file is empty; there is nothing to ingest",
            d.display()
        )
    );
    let names: Vec<serde_json::Value> = t
        .sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
        .await?;
    assert_eq!(
        names,
        vec![
            json!({"table_name": "a_good"}),
            json!({"table_name": "c_good"}),
            json!({"table_name": "documents"}),
        ]
    );
    assert_eq!(t.scalar("SELECT sum(k) FROM c_good").await?, json!(6));

    // Fixed files, then the same command again: the rest goes in, nothing twice.
    std::fs::write(&bad, "id,v\n1,x\n2,z\n")?;
    std::fs::write(&d, "id\n9\n")?;
    let out = t.ingest(&[&t.src("batch")], &[]).await?;
    assert!(out.contains("a_good: already holds this file"), "{out}");
    assert!(out.contains("b_bad: +2 rows"), "{out}");
    assert!(out.contains("d_empty: +1 rows"), "{out}");
    assert_eq!(t.scalar("SELECT count(*) FROM a_good").await?, json!(2));
    assert_eq!(t.scalar("SELECT count(*) FROM documents").await?, json!(1));
    Ok(())
}

#[tokio::test]
async fn a_workbook_goes_in_whole_or_not_at_all() -> Result<()> {
    let t = TestLake::new()?;
    let book = t.src("book.xlsx");
    let write_book = |notes_header: &[&str]| -> Result<()> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sales = wb.add_worksheet();
        sales.set_name("sales")?;
        sales.write_row(0, 0, ["region", "units"])?;
        sales.write_row(1, 0, ["North", "3"])?;
        let notes = wb.add_worksheet();
        notes.set_name("notes")?;
        notes.write_row(0, 0, notes_header.iter().copied())?;
        notes.write_row(1, 0, notes_header.iter().map(|_| "hello"))?;
        wb.save(&book)?;
        Ok(())
    };
    write_book(&["text"])?;
    t.ingest(&[&book], &[]).await?;
    let other = t.file(
        "other.csv",
        "id
1
",
    )?;

    // The second sheet no longer fits its dataset: the first sheet, already
    // read, is left out with it, and the other file still goes in.
    write_book(&["text", "extra"])?;
    let book_arg = book.to_string_lossy().into_owned();
    let other_arg = other.to_string_lossy().into_owned();
    let err = t
        .run_err(&["ingest", &book_arg, &other_arg, "--mode", "append"])
        .await;
    let b = book.display();
    assert_eq!(
        err,
        format!(
            "2 files could not be ingested and were left out; everything else is in:\n  \
             {b}#notes: column 'extra' is not in the dataset being appended to (its columns: text); use --mode overwrite to replace the schema\n  \
             {b}#sales: not written, since another sheet of this workbook failed and a file goes in whole or not at all"
        )
    );
    assert_eq!(t.scalar("SELECT count(*) FROM book_sales").await?, json!(1));
    assert_eq!(t.scalar("SELECT count(*) FROM book_notes").await?, json!(1));
    assert_eq!(t.scalar("SELECT count(*) FROM other").await?, json!(1));

    // One file alone fails as a whole, with the sheet's own error.
    let err = t.run_err(&["ingest", &book_arg, "--mode", "append"]).await;
    assert_eq!(
        err,
        format!(
            "{b}#notes: column 'extra' is not in the dataset being appended to (its columns: text); use --mode overwrite to replace the schema"
        )
    );
    assert_eq!(t.scalar("SELECT count(*) FROM book_sales").await?, json!(1));
    Ok(())
}

#[tokio::test]
async fn headers_are_read_as_a_person_would() -> Result<()> {
    let t = TestLake::new()?;
    // R's export of a table of text columns: quoted numbers under an empty name.
    let titanic = t.file(
        "titanic.csv",
        "\"\",\"class\",\"age\"\n\"1\",\"1st class\",\"adults\"\n\"2\",\"2nd class\",\"adults\"\n\"3\",\"1st class\",\"child\"\n",
    )?;
    // Numbers for names (years), under R's empty corner.
    let years = t.file(
        "spend.csv",
        "\"\",\"1940\",\"1945\"\n\"Food\",22.2,44.5\n\"Rent\",10.5,15.5\n",
    )?;
    // A first row of data: numbers where numbers belong.
    let plain = t.file("plain.csv", "1,north\n2,south\n3,north\n")?;
    // Every column text: the first row is taken for names, and the report says it guessed.
    let words = t.file("words.csv", "a,b\nx,y\nz,w\n")?;
    let out = t.ingest(&[&titanic, &years, &plain, &words], &[]).await?;
    assert!(
        out.contains("words.csv: took the first row for column names, a guess since every column is text; use --no-header if it is data"),
        "{out}"
    );
    assert_eq!(
        t.sql("SELECT * FROM titanic ORDER BY rownames").await?,
        vec![
            json!({"rownames": 1, "class": "1st class", "age": "adults"}),
            json!({"rownames": 2, "class": "2nd class", "age": "adults"}),
            json!({"rownames": 3, "class": "1st class", "age": "child"}),
        ]
    );
    assert_eq!(
        t.sql(r#"SELECT "1945" FROM spend WHERE rownames = 'Rent'"#)
            .await?,
        vec![json!({"1945": 15.5})]
    );
    assert_eq!(t.scalar("SELECT count(*) FROM plain").await?, json!(3));
    // Whole numbers beyond 64 bits widen the column, and say so.
    let huge = t.file("huge.csv", "id,n\n1,99999999999999999999999\n2,3\n")?;
    let out = t.ingest(&[&huge], &[]).await?;
    assert!(
        out.contains(&format!(
            "{}: column 'n' holds whole numbers beyond the 64-bit range; read as floating point, which keeps about 16 significant digits",
            huge.display()
        )),
        "{out}"
    );
    assert_eq!(t.schema("huge").await?["n"], "Float64");
    assert_eq!(t.scalar("SELECT count(*) FROM words").await?, json!(2));
    // `schema` says so too, for as long as the dataset holds those rows.
    let schema = t.run(&["schema", "words"]).await?;
    assert!(
        schema.ends_with(&format!(
            "note: {}: took the first row for column names, a guess since every column is text; use --no-header if it is data\n",
            words.display()
        )),
        "{schema}"
    );
    Ok(())
}

/// Hostile and broken files, each with the only reading a person can use:
/// ingested, or an error that names the file and hides Lakebook's insides.
fn hostile_corpus(t: &TestLake) -> Result<Vec<std::path::PathBuf>> {
    let mut parquet = Vec::new();
    {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from((0..1000).collect::<Vec<i64>>())) as ArrayRef],
        )?;
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut parquet, schema, None)?;
        w.write(&batch)?;
        w.close()?;
    }
    let files = vec![
        t.file("h/truncated.parquet", &parquet[..parquet.len() / 2])?,
        t.file(
            "h/junk.parquet",
            b"PAR1 this is not parquet at all PAR1".as_slice(),
        )?,
        t.file("h/junk.arrow", b"ARROW1\0\0garbage".as_slice())?,
        t.file("h/junk.xlsx", b"PK\x03\x04 not a zip really".as_slice())?,
        t.file(
            "h/binary.csv",
            [0u8, 159, 146, 150, 255, 0, 1, 2].repeat(100),
        )?,
        t.file("h/latin1.csv", b"name\ncaf\xe9\n".as_slice())?,
        t.file(
            "h/deep.json",
            format!(
                "[{{\"a\": {}1{}}}]",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        )?,
        t.file("h/not_objects.ndjson", "1\n2\n")?,
        t.file("h/garbage.json", "{\"a\": tru")?,
        t.file(
            "h/junk.pdf",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> broken".as_slice(),
        )?,
        t.file(
            "h/deep.html",
            format!("{}x{}", "<div>".repeat(100_000), "</div>".repeat(100_000)),
        )?,
        t.file("h/deep.md", format!("{}quote", "> ".repeat(50_000)))?,
        t.file("h/huge_int.csv", format!("a\n{}\n", "9".repeat(400)))?,
        t.file("h/ragged.tsv", "a\tb\n1\n")?,
        t.file("h/empty.csv", "")?,
    ];
    Ok(files)
}

#[tokio::test]
async fn hostile_files_never_crash_and_every_message_names_its_file() -> Result<()> {
    let t = TestLake::new()?;
    let files = hostile_corpus(&t)?;
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let message = match t.ingest(&[file], &["--name", "h"]).await {
            Ok(out) => {
                t.run(&["rm", "h"]).await?;
                out
            }
            Err(e) => {
                let text = format!("{e:#}");
                assert!(
                    text.contains(name),
                    "{name}: the error does not name the file: {text}"
                );
                text
            }
        };
        for inside in [".cargo/registry", "Error(", "panicked", "RUST_BACKTRACE"] {
            assert!(
                !message.contains(inside),
                "{name}: '{inside}' in: {message}"
            );
        }
    }
    // All of them in one folder beside a good file: the good one goes in.
    t.file("h/good.csv", "id\n1\n2\n")?;
    let err = t.run_err(&["ingest", &t.src("h").to_string_lossy()]).await;
    assert!(err.contains("could not be ingested and"), "{err}");
    assert!(
        !err.contains(".cargo/registry") && !err.contains("Error("),
        "{err}"
    );
    assert_eq!(t.scalar("SELECT count(*) FROM good").await?, json!(2));
    Ok(())
}

#[tokio::test]
async fn row_names_are_no_evidence_that_tables_join() -> Result<()> {
    let t = TestLake::new()?;
    // Two unrelated R exports of the same length: only their row names agree.
    let rows = |f: &dyn Fn(usize) -> String| {
        (1..=300)
            .map(|i| format!("\"{i}\",{}\n", f(i)))
            .collect::<String>()
    };
    let a = t.file(
        "heights.csv",
        format!(
            "\"\",\"height\"\n{}",
            rows(&|i| format!("{}.5", 150 + i % 40))
        ),
    )?;
    let b = t.file(
        "towns.csv",
        format!("\"\",\"town\"\n{}", rows(&|i| format!("\"town{}\"", i * 7))),
    )?;
    // A real key: ids 1..300 under customers, repeated in their orders.
    let c = t.file(
        "customers.csv",
        format!(
            "id,name\n{}",
            (1..=300).map(|i| format!("{i},n{i}\n")).collect::<String>()
        ),
    )?;
    let o = t.file(
        "orders.csv",
        format!(
            "customer_id,qty\n{}",
            (1..=900)
                .map(|i| format!("{},{}\n", 1 + i % 300, i % 7))
                .collect::<String>()
        ),
    )?;
    t.ingest(&[&a, &b, &c, &o], &[]).await?;
    let lake = lakebook_core::Lake::open(&t.lake()).await?;
    let sketches =
        lakebook_core::matching::related::lake_sketches(&lake, &lakebook_core::Job::new()).await?;
    let index = lakebook_core::matching::related::RelatedIndex::build(sketches);
    let joins = |name: &str| -> Vec<(String, String)> {
        index
            .related(name, 10)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.join.map(|j| (r.table, j.column)))
            .collect()
    };
    assert_eq!(joins("heights"), Vec::<(String, String)>::new());
    assert_eq!(
        joins("orders"),
        vec![("customers".to_string(), "customer_id".to_string())]
    );
    Ok(())
}
