//! Which names the lake accepts, and the one place names become paths.
//!
//! A dataset name is what SQL and the user see; it never becomes a path as
//! it is. Its folder is a separate slug ([`dataset_dir_slug`]), and a folder
//! read back from `lake.json` must be one plain `*.lance` entry of the lake
//! folder ([`check_dataset_dir`]), so a crafted catalog cannot point outside.

/// Longest dataset name, in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// Longest dataset name, in bytes of UTF-8 (names also become file names,
/// e.g. a graph's record, and file names stop at 255 bytes).
pub const MAX_NAME_BYTES: usize = 200;

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{shown}' is not a usable dataset name: {reason}{}", suggestion_text(.suggestion))]
pub struct BadName {
    /// The name, with control characters escaped and long names cut.
    pub shown: String,
    /// What is wrong with it.
    pub reason: &'static str,
    /// A name that would be accepted, when one can be made.
    pub suggestion: Option<String>,
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (try '{s}')"),
        None => String::new(),
    }
}

/// Checks a dataset name: 1–128 characters (at most 200 bytes), no control
/// characters (newlines, tabs), no leading or trailing spaces, and none of
/// `@` (it marks a version, `name@3`), `/` or `\`.
pub fn check_dataset_name(name: &str) -> Result<(), BadName> {
    let reason = if name.is_empty() {
        Some("a name cannot be empty")
    } else if name.trim().is_empty() {
        Some("a name cannot be only spaces")
    } else if name.chars().any(char::is_control) {
        Some("a name cannot hold control characters such as newlines or tabs")
    } else if name.trim() != name {
        Some("a name cannot start or end with spaces")
    } else if name.contains('@') {
        Some("'@' marks a version in SQL (\"name@3\"), so names cannot hold it")
    } else if name.contains(['/', '\\']) {
        Some("a name cannot hold '/' or '\\'")
    } else if name.chars().count() > MAX_NAME_CHARS || name.len() > MAX_NAME_BYTES {
        Some("a name has at most 128 characters (200 bytes)")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => {
            let suggestion = usable_name(name);
            Err(BadName {
                shown: shown(name),
                reason,
                suggestion: (suggestion != name && !suggestion.is_empty()).then_some(suggestion),
            })
        }
    }
}

/// The nearest accepted name: refused characters become `_`, spaces at the
/// ends go, long names are cut; "" when nothing usable is left.
pub fn usable_name(raw: &str) -> String {
    let replaced: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '@' | '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut out = String::new();
    for c in replaced.trim().chars() {
        if out.chars().count() >= MAX_NAME_CHARS || out.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    out.trim_end().to_string()
}

/// A name as it can be shown in one line of an error.
fn shown(name: &str) -> String {
    let escaped: String = name.escape_debug().collect();
    if escaped.chars().count() > 60 {
        let cut: String = escaped.chars().take(57).collect();
        format!("{cut}...")
    } else {
        escaped
    }
}

/// The folder-safe stem of a dataset's folder: ASCII letters, digits, `-`
/// and `_`, at most 100 characters; `dataset` when nothing is left.
pub fn dataset_dir_slug(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if slug.trim_matches('_').is_empty() {
        "dataset".to_string()
    } else {
        slug
    }
}

/// Whether a catalog's folder for a dataset stays inside the lake: one plain
/// entry of the lake folder (no separators, not `.` or `..`, not hidden)
/// whose name ends in `.lance`.
pub fn check_dataset_dir(dir: &str) -> Result<(), &'static str> {
    if dir.contains(['/', '\\', '\0']) || dir.chars().any(char::is_control) {
        return Err("a dataset folder must be directly inside the lake folder");
    }
    if dir.starts_with('.') {
        return Err("a dataset folder cannot be hidden or a parent folder");
    }
    match dir.strip_suffix(".lance") {
        Some(stem) if !stem.is_empty() => Ok(()),
        _ => Err("a dataset folder's name ends in .lance"),
    }
}

/// Whether a notebook cell id is safe to name files by: 1–64 ASCII letters,
/// digits, `_` and `-`, starting with a letter or digit.
pub fn check_cell_id(id: &str) -> Result<(), String> {
    let ok = id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "cell id '{}' is not allowed: ids are 1 to 64 ASCII letters, digits, '_' and '-', starting with a letter or digit",
            shown(id)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass_and_odd_ones_are_refused_with_a_suggestion() {
        for ok in [
            "orders",
            "my café",
            "Sepal.Length",
            "x y",
            "x_y",
            "数据",
            "a-b",
        ] {
            assert_eq!(check_dataset_name(ok), Ok(()), "{ok}");
        }
        let refused = |n: &str| check_dataset_name(n).err().map(|e| e.suggestion);
        assert_eq!(refused(""), Some(None));
        assert_eq!(refused("   "), Some(None));
        assert_eq!(refused("base@1"), Some(Some("base_1".to_string())));
        assert_eq!(refused("a\nb"), Some(Some("a_b".to_string())));
        assert_eq!(refused(" padded "), Some(Some("padded".to_string())));
        assert_eq!(refused("../up"), Some(Some(".._up".to_string())));
        let long = "n".repeat(300);
        assert_eq!(refused(&long), Some(Some("n".repeat(MAX_NAME_CHARS))));
        let wide = "é".repeat(128);
        assert!(check_dataset_name(&wide).is_err(), "256 bytes");
        assert_eq!(usable_name(&wide).len(), MAX_NAME_BYTES);
    }

    #[test]
    fn a_refusal_shows_the_name_on_one_line() {
        let err = check_dataset_name("bad\nname").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "'bad\\nname' is not a usable dataset name: a name cannot hold control characters such as newlines or tabs (try 'bad_name')"
            )
        );
    }

    #[test]
    fn dataset_folders_stay_inside_the_lake() {
        for ok in ["t.lance", "my_caf_-2.lance"] {
            assert_eq!(check_dataset_dir(ok), Ok(()), "{ok}");
        }
        for bad in [
            "../victim/t.lance",
            "/etc/t.lance",
            "..",
            ".lance",
            ".hidden.lance",
            "a/b.lance",
            "a\\b.lance",
            "t",
            "",
        ] {
            assert!(check_dataset_dir(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cell_ids_cannot_become_paths() {
        for ok in ["c1", "cell_2", "A9", "top-products"] {
            assert_eq!(check_cell_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "../../../victimlake/lake",
            "",
            "a/b",
            "-c",
            "..",
            "c 1",
            "c1.json",
        ] {
            assert!(check_cell_id(bad).is_err(), "{bad}");
        }
        assert!(check_cell_id(&"c".repeat(65)).is_err());
    }
}
