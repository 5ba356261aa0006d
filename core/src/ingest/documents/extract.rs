//! Plain text out of documents: txt, Markdown, HTML and PDF.

use std::cell::Cell;
use std::path::Path;
use std::sync::Once;

use encoding_rs::Encoding;

use super::super::DocFormat;

/// A document's title and plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Title: `<title>`, the first heading, or the first line.
    pub title: String,
    /// Paragraphs separated by blank lines.
    pub text: String,
}

/// Reads a document and returns its text, or why it cannot be read.
pub fn extract(
    path: &Path,
    format: DocFormat,
    encoding: Option<&'static Encoding>,
) -> Result<Extracted, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (title, text) = match format {
        DocFormat::Pdf => {
            let text = pdf_text(&bytes)?;
            (None, text)
        }
        DocFormat::Text => (None, decode(&bytes, encoding)?),
        DocFormat::Markdown => markdown_text(&decode(&bytes, encoding)?),
        DocFormat::Html => html_text(&decode(&bytes, encoding)?),
    };
    let text = normalise(&text);
    if text.trim().is_empty() {
        return Err("no text found in the document".into());
    }
    let title = title
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .or_else(|| {
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| l.chars().take(120).collect())
        })
        .unwrap_or(stem);
    Ok(Extracted { title, text })
}

/// Decodes text: a BOM wins, then `--encoding`, else strict UTF-8.
fn decode(bytes: &[u8], encoding: Option<&'static Encoding>) -> Result<String, String> {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return Ok(enc.decode_with_bom_removal(bytes).0.into_owned());
    }
    if let Some(enc) = encoding {
        return Ok(enc.decode_without_bom_handling(bytes).0.into_owned());
    }
    if let Some(pos) = bytes.iter().position(|b| *b == 0) {
        return Err(format!(
            "binary data, not text (a NUL byte at offset {pos})"
        ));
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        format!("not valid UTF-8 at line {line} (byte {at}); pass --encoding (e.g. windows-1252) if the file uses another encoding")
    })
}

/// Unifies line ends, trims line ends, and keeps at most one blank line between paragraphs.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

fn markdown_text(source: &str) -> (Option<String>, String) {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = String::new();
    let mut title: Option<String> = None;
    let mut in_heading = false;
    let mut heading = String::new();
    for event in Parser::new(source) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                in_heading = true;
                heading.clear();
            }
            Event::End(TagEnd::Heading(_)) => {
                in_heading = false;
                if title.is_none() {
                    title = Some(heading.clone());
                }
                out.push_str("\n\n");
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading {
                    heading.push_str(&t);
                }
                out.push_str(&t);
            }
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::Item
                | TagEnd::TableRow,
            ) => out.push_str("\n\n"),
            Event::End(TagEnd::TableCell) => out.push_str(" | "),
            _ => {}
        }
    }
    (title, out)
}

/// Nesting beyond which HTML is read as text between tags instead of parsed:
/// the HTML parser's time grows with the square of the depth (100,000 nested
/// `<div>`s took a minute). Browsers stop nesting at 512.
const MAX_PARSED_DEPTH: usize = 4096;

/// The deepest nesting of start tags over end tags (void elements count as
/// open; enough to tell a page from a hostile file).
fn rough_depth(source: &str) -> usize {
    let bytes = source.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'<' {
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            _ => {}
        }
    }
    deepest
}

/// The text between tags, paragraphs at block tags, without scripts and styles.
fn strip_tags(source: &str) -> String {
    let lower = source.to_ascii_lowercase();
    let mut out = String::with_capacity(source.len() / 2);
    let mut i = 0;
    while let Some(open) = source[i..].find('<') {
        out.push_str(&source[i..i + open]);
        let tag_start = i + open;
        let Some(close) = source[tag_start..].find('>') else {
            i = source.len();
            break;
        };
        let tag = &lower[tag_start + 1..tag_start + close];
        i = tag_start + close + 1;
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name == "script" || name == "style" {
            let end = format!("</{name}");
            i = lower[i..].find(&end).map_or(source.len(), |e| i + e);
        } else if matches!(
            name.as_str(),
            "p" | "div" | "br" | "li" | "tr" | "h1" | "h2" | "h3"
        ) {
            out.push_str("\n\n");
        }
    }
    out.push_str(&source[i.min(source.len())..]);
    out.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn html_text(source: &str) -> (Option<String>, String) {
    use ego_tree::iter::Edge;
    use scraper::{Html, Node};
    const SKIP: [&str; 7] = [
        "script", "style", "noscript", "template", "head", "svg", "iframe",
    ];
    const BLOCK: [&str; 24] = [
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "table",
        "tr",
        "blockquote",
        "pre",
        "br",
        "hr",
    ];
    if rough_depth(source) > MAX_PARSED_DEPTH {
        return (None, strip_tags(source));
    }
    let doc = Html::parse_document(source);
    let pick = |sel: &str| {
        scraper::Selector::parse(sel)
            .ok()
            .and_then(|s| doc.select(&s).next().map(|e| e.text().collect::<String>()))
            .filter(|t| !t.trim().is_empty())
    };
    let title = pick("title").or_else(|| pick("h1"));
    // An iterative walk: nesting as deep as the input likes cannot overflow the stack.
    let mut out = String::new();
    let mut skipped_depth = 0usize;
    for edge in doc.root_element().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    if skipped_depth > 0 || SKIP.contains(&e.name()) {
                        skipped_depth += 1;
                    } else if BLOCK.contains(&e.name()) {
                        out.push_str("\n\n");
                    }
                }
                Node::Text(t) if skipped_depth == 0 => out.push_str(t),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    if skipped_depth > 0 {
                        skipped_depth -= 1;
                    } else if BLOCK.contains(&e.name()) {
                        out.push_str("\n\n");
                    } else if matches!(e.name(), "td" | "th") {
                        out.push_str(" | ");
                    }
                }
            }
        }
    }
    // Inside a paragraph, HTML whitespace (newlines included) is one space.
    let text = out
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    (title, text)
}

thread_local! {
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent for panics we catch on purpose.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Extracts PDF text; the third-party parser may panic on hostile files, which is contained here.
fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    if !bytes.starts_with(b"%PDF") {
        return Err("not a PDF file (no %PDF header)".into());
    }
    install_quiet_hook();
    QUIET_PANICS.with(|q| q.set(true));
    let result = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    QUIET_PANICS.with(|q| q.set(false));
    match result {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(format!("the PDF cannot be read: {e}")),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown reason".into());
            Err(format!(
                "the PDF reader failed on this file ({why}); it may be damaged or use unsupported features"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_drops_scripts_and_keeps_paragraphs() {
        let (title, text) = html_text(
            "<html><head><title>T  one</title><style>p{}</style></head><body><h1>Head</h1>\
             <p>First   para\ngraph.</p><script>var x = 1;</script><ul><li>a</li><li>b</li></ul></body></html>",
        );
        assert_eq!(title.as_deref(), Some("T  one"));
        assert_eq!(text, "Head\n\nFirst para graph.\n\na\n\nb");
    }

    #[test]
    fn deeply_nested_html_is_read_without_recursion() {
        // A few KB of nesting crashed the recursive walk (a stack overflow aborts the process).
        let depth = 3_000;
        let source = format!("{}deep{}", "<div>".repeat(depth), "</div>".repeat(depth));
        let (_, text) = html_text(&source);
        assert_eq!(text, "deep");
        // Deeper still is read between the tags, in linear time.
        let depth = 1_000_000;
        let source = format!(
            "<p>top</p><script>x</script>{}deep &amp; down{}",
            "<div><b>".repeat(depth),
            "</b></div>".repeat(depth)
        );
        let (_, text) = html_text(&source);
        assert_eq!(text, "top\n\ndeep &amp; down");
    }

    #[test]
    fn markdown_becomes_plain_paragraphs() {
        let (title, text) =
            markdown_text("# Brewing *tea*\n\nUse **hot** water,\nnot boiling.\n\n- one\n- two\n");
        assert_eq!(title.as_deref(), Some("Brewing tea"));
        assert_eq!(
            normalise(&text),
            "Brewing tea\n\nUse hot water, not boiling.\n\none\n\ntwo"
        );
    }

    #[test]
    fn text_decoding_is_strict_unless_told() {
        assert!(decode(b"caf\xe9", None).is_err_and(|e| e.contains("--encoding")));
        assert_eq!(
            decode(b"caf\xe9", Some(encoding_rs::WINDOWS_1252))
                .ok()
                .as_deref(),
            Some("café")
        );
        assert_eq!(decode(b"\xef\xbb\xbfhi", None).ok().as_deref(), Some("hi"));
        assert!(decode(b"a\0b", None).is_err_and(|e| e.contains("binary")));
    }

    #[test]
    fn a_broken_pdf_is_an_error_not_a_crash() {
        let r = pdf_text(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage");
        assert!(r.is_err());
    }
}
