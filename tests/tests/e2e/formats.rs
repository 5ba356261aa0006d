//! Every format in, values and types out.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float32Array, Int32Array, ListBuilder, RecordBatch,
    StringArray, StringBuilder, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde_json::json;

use crate::support::{TestLake, demo_assets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_types_are_inferred_like_a_person_would() -> Result<()> {
    let t = TestLake::new()?;
    let csv = t.file(
        "people.csv",
        "id,name,price,seen_at,born,active,zip\n\
         1,Ada,3.5,2024-01-02 10:00:00,1990-05-17,true,01234\n\
         2,\"Bo, Jr\",,2024-02-03T11:30:00,1985-12-01,false,99999\n\
         3,Cé,NA,2024-03-04 12:00:00,,TRUE,00042\n",
    )?;
    let out = t.ingest(&[&csv], &[]).await?;
    assert!(out.contains("people: +3 rows"), "{out}");
    let schema = t.schema("people").await?;
    assert_eq!(schema["id"], "Int64");
    assert_eq!(schema["name"], "Utf8");
    assert_eq!(schema["price"], "Float64");
    assert_eq!(schema["seen_at"], "Timestamp(µs)");
    assert_eq!(schema["born"], "Date32");
    assert_eq!(schema["active"], "Boolean");
    assert_eq!(
        schema["zip"], "Utf8",
        "leading zeros keep identifiers as text"
    );
    let rows = t.sql("SELECT * FROM people ORDER BY id").await?;
    assert_eq!(rows[1]["name"], "Bo, Jr");
    assert_eq!(rows[0]["price"], 3.5);
    assert!(
        rows[1].get("price").is_none() && rows[2].get("price").is_none(),
        "empty and NA are null"
    );
    assert_eq!(rows[2]["name"], "Cé");
    assert_eq!(rows[0]["born"], "1990-05-17");
    assert_eq!(rows[1]["seen_at"], "2024-02-03T11:30:00");
    assert_eq!(rows[2]["active"], true);
    assert_eq!(rows[0]["zip"], "01234");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delimiters_bom_headerless_and_other_encodings() -> Result<()> {
    let t = TestLake::new()?;
    let semi = t.file("semi.csv", "\u{feff}city;count\nLisboa;3\nPorto;4\n")?;
    let tsv = t.file("tabs.tsv", "a\tb\nx\t1\ny\t2\n")?;
    let headerless = t.file("bare.csv", "1,2.5\n2,3.5\n3,4.5\n")?;
    let latin = t.file("latin.csv", b"name,n\ncaf\xe9,1\n".as_slice())?;
    t.ingest(&[&semi, &tsv, &headerless], &[]).await?;
    assert_eq!(
        t.schema("semi").await?.keys().cloned().collect::<Vec<_>>(),
        ["city", "count"]
    );
    assert_eq!(t.scalar("SELECT sum(count) FROM semi").await?, json!(7));
    assert_eq!(t.scalar("SELECT sum(b) FROM tabs").await?, json!(3));
    assert_eq!(
        t.scalar("SELECT sum(column_2) FROM bare").await?,
        json!(10.5)
    );
    let err = t
        .ingest(&[&latin], &[])
        .await
        .map_err(|e| format!("{e:#}"))
        .err()
        .unwrap_or_default();
    assert!(
        err.contains("latin.csv") && err.contains("UTF-8") && err.contains("--encoding"),
        "{err}"
    );
    t.ingest(&[&latin], &["--encoding", "windows-1252"]).await?;
    assert_eq!(t.scalar("SELECT name FROM latin").await?, json!("café"));
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("k,v\nä,1\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let wide = t.file("wide.csv", utf16)?;
    t.ingest(&[&wide], &[]).await?;
    assert_eq!(t.scalar("SELECT k FROM wide").await?, json!("ä"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_and_arrow_ipc_keep_their_types() -> Result<()> {
    let t = TestLake::new()?;
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.values().append_value("a");
    tags.values().append_value("b");
    tags.append(true);
    tags.append(false);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("score", DataType::Float32, true),
        Field::new("label", DataType::Utf8, true),
        Field::new("day", DataType::Date32, true),
        Field::new("at", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("ok", DataType::Boolean, true),
        Field::new(
            "tags",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![7, 8])),
        Arc::new(Float32Array::from(vec![Some(0.5), None])),
        Arc::new(StringArray::from(vec![Some("x"), Some("y")])),
        Arc::new(Date32Array::from(vec![Some(19_000), None])),
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_000),
            Some(2_000),
        ])),
        Arc::new(BooleanArray::from(vec![Some(true), Some(false)])),
        Arc::new(tags.finish()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;

    let pq = t.src("typed.parquet");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&pq)?, schema.clone(), None)?;
    w.write(&batch)?;
    w.close()?;
    let ipc = t.src("typed.arrow");
    let mut w = arrow::ipc::writer::FileWriter::try_new(std::fs::File::create(&ipc)?, &schema)?;
    w.write(&batch)?;
    w.finish()?;
    let stream = t.src("typed_stream.arrows");
    let mut w =
        arrow::ipc::writer::StreamWriter::try_new(std::fs::File::create(&stream)?, &schema)?;
    w.write(&batch)?;
    w.finish()?;

    t.ingest(&[&pq, &ipc, &stream], &[]).await?;
    for name in ["typed", "typed_2", "typed_stream"] {
        let s = t.schema(name).await?;
        assert_eq!(s["id"], "Int32", "{name}");
        assert_eq!(s["score"], "Float32", "{name}");
        assert_eq!(s["day"], "Date32", "{name}");
        assert_eq!(s["at"], "Timestamp(ms)", "{name}");
        assert!(s["tags"].starts_with("List("), "{name}: {}", s["tags"]);
        let rows = t
            .sql(&format!(
                "SELECT id, score, label, ok, tags FROM \"{name}\" ORDER BY id"
            ))
            .await?;
        assert_eq!(
            rows[0],
            json!({"id": 7, "score": 0.5, "label": "x", "ok": true, "tags": ["a", "b"]}),
            "{name}"
        );
        assert_eq!(rows[1]["label"], "y");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_arrays_and_ndjson_with_nesting() -> Result<()> {
    let t = TestLake::new()?;
    let arr = t.file(
        "items.json",
        r#"[{"sku":"A","price":2,"dims":{"w":1.5,"h":2},"tags":["x","y"],"note":null},
            {"sku":"B","price":2.5,"dims":{"w":3,"h":4},"tags":[],"note":null}]"#,
    )?;
    let nd = t.file(
        "events.ndjson",
        "{\"n\":1,\"kind\":\"a\"}\n\n{\"n\":2,\"kind\":\"b\",\"extra\":true}\n",
    )?;
    t.ingest(&[&arr, &nd], &[]).await?;
    let s = t.schema("items").await?;
    assert_eq!(s["price"], "Float64");
    assert!(s["dims"].starts_with("Struct("), "{}", s["dims"]);
    assert_eq!(s["note"], "Utf8", "all-null columns are read as text");
    assert_eq!(t.scalar("SELECT sum(price) FROM items").await?, json!(4.5));
    assert_eq!(
        t.scalar("SELECT dims['h'] FROM items WHERE sku = 'B'")
            .await?
            .as_f64(),
        Some(4.0)
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM events WHERE extra IS NULL")
            .await?,
        json!(1)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excel_sheets_become_typed_datasets() -> Result<()> {
    let t = TestLake::new()?;
    let path = t.src("book.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let date_fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let s1 = wb.add_worksheet();
    s1.set_name("sales")?;
    s1.write_row(0, 0, ["region", "units", "revenue", "day", "won"])?;
    for (i, (r, u, v)) in [("North", 3, 10.5), ("South", 4, 20.25)]
        .into_iter()
        .enumerate()
    {
        let row = i as u32 + 1;
        s1.write(row, 0, r)?;
        s1.write(row, 1, u)?;
        s1.write(row, 2, v)?;
        let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 1, row as u8)?;
        s1.write_with_format(row, 3, &d, &date_fmt)?;
        s1.write(row, 4, row == 1)?;
    }
    let s2 = wb.add_worksheet();
    s2.set_name("notes")?;
    s2.write_row(0, 0, ["text"])?;
    s2.write(1, 0, "hello")?;
    wb.add_worksheet().set_name("empty")?;
    wb.save(&path)?;

    let out = t.ingest(&[&path], &[]).await?;
    assert!(
        out.contains("book_sales: +2 rows") && out.contains("book_notes: +1 rows"),
        "{out}"
    );
    assert!(
        !out.contains("book_empty"),
        "empty sheets are left out: {out}"
    );
    let s = t.schema("book_sales").await?;
    assert_eq!(
        (
            s["region"].as_str(),
            s["units"].as_str(),
            s["revenue"].as_str()
        ),
        ("Utf8", "Int64", "Float64")
    );
    assert_eq!(
        (s["day"].as_str(), s["won"].as_str()),
        ("Date32", "Boolean")
    );
    let rows = t.sql("SELECT * FROM book_sales ORDER BY units").await?;
    assert_eq!(
        rows[1],
        json!({"region": "South", "units": 4, "revenue": 20.25, "day": "2024-01-02", "won": false})
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_become_passages_with_offsets() -> Result<()> {
    let t = TestLake::new()?;
    let para = |topic: &str| format!("{topic} is the subject of this sentence. ").repeat(30);
    t.file("docs/a.txt", format!("Plain Title\n\n{}", para("Tea")))?;
    t.file(
        "docs/b.md",
        format!(
            "# Markdown Title\n\n{}\n\n{}",
            para("Soil"),
            para("Compost")
        ),
    )?;
    t.file(
        "docs/c.html",
        format!("<html><head><title>Html Title</title><script>secretmarker()</script></head><body><p>{}</p></body></html>", para("Comets")),
    )?;
    std::fs::copy(
        demo_assets().join("docs/astronomy/comets-and-their-tails.pdf"),
        t.src("docs/comets.pdf"),
    )?;
    t.file(
        "docs/broken.pdf",
        b"%PDF-1.7\n% not really a pdf \x00\x01\x02".as_slice(),
    )?;
    t.file("docs/image.png", b"\x89PNG....".as_slice())?;
    // The bad PDF is left out and named; the exit status says so (3).
    let err = t
        .run_err(&[
            "ingest",
            &t.src("docs").to_string_lossy(),
            "--passage-words",
            "100",
            "--overlap-words",
            "10",
        ])
        .await;
    assert!(
        err.starts_with("1 file could not be ingested and was left out; everything else is in:")
            && err.contains(&format!(
                "{}: the PDF cannot be read",
                t.src("docs/broken.pdf").display()
            )),
        "{err}"
    );
    let out = t.run(&["ls"]).await?;
    assert!(out.contains("documents"), "{out}");
    let titles = t
        .sql("SELECT DISTINCT title, format FROM documents ORDER BY format")
        .await?;
    let titles: Vec<&str> = titles.iter().filter_map(|r| r["title"].as_str()).collect();
    assert!(
        titles.contains(&"Plain Title")
            && titles.contains(&"Markdown Title")
            && titles.contains(&"Html Title"),
        "{titles:?}"
    );
    assert_eq!(
        t.scalar("SELECT count(*) FROM documents WHERE text LIKE '%secretmarker%'")
            .await?,
        json!(0)
    );
    assert_eq!(
        t.scalar("SELECT count(DISTINCT doc_id) FROM documents WHERE text LIKE '%perihelion%'")
            .await?,
        json!(1)
    );
    // Passages of about 100 words, numbered from 0, with increasing offsets.
    let rows = t.sql("SELECT passage, char_start, char_end, text FROM documents WHERE path LIKE '%b.md' ORDER BY passage").await?;
    assert!(rows.len() >= 3, "{rows:?}");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["passage"], json!(i));
        let words = r["text"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .count();
        assert!(words <= 110, "passage {i} has {words} words");
        let (a, b) = (
            r["char_start"].as_i64().unwrap_or(-1),
            r["char_end"].as_i64().unwrap_or(-1),
        );
        assert_eq!(
            b - a,
            r["text"].as_str().unwrap_or_default().chars().count() as i64
        );
    }
    Ok(())
}
