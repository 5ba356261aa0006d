//! Column names as the user sees them, and as Lance stores them.
//!
//! Lance refuses a top-level column name with a dot (`Sepal.Length`, common in
//! R and pandas exports) and repeated names. Such a column is stored under a
//! name Lance accepts (`Sepal_Length`), and the user's name travels with it in
//! the field's metadata under [`USER_NAME_KEY`], where pylance sees it too.
//! This module is the one place that maps between the two: SQL, the catalog,
//! profiles, search and the window all show the user's name.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};

/// Field metadata key holding the user's name of a column stored under another.
pub const USER_NAME_KEY: &str = "lakebook:name";

/// Longest column name kept, in characters; longer ones (a 50 MB header line
/// with no newline) are cut, with a warning.
pub const MAX_COLUMN_NAME_CHARS: usize = 256;

/// The name the user knows a stored column by.
pub fn user_name(field: &Field) -> &str {
    field
        .metadata()
        .get(USER_NAME_KEY)
        .map(String::as_str)
        .unwrap_or(field.name())
}

/// Whether any column of the schema is stored under another name.
pub fn has_renamed(schema: &Schema) -> bool {
    schema
        .fields()
        .iter()
        .any(|f| f.metadata().contains_key(USER_NAME_KEY))
}

/// The schema with the user's names, as SQL and the window show it.
pub fn user_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut metadata = f.metadata().clone();
            let name = metadata.remove(USER_NAME_KEY);
            let field = f.as_ref().clone().with_metadata(metadata);
            match name {
                Some(n) => field.with_name(n),
                None => field,
            }
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// The batch with each column that `schema` stores under another name renamed
/// to the user's name (for batches Lance returns with extra columns, such as scores).
pub fn as_named_in(
    batch: RecordBatch,
    schema: &Schema,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    if !has_renamed(schema) {
        return Ok(batch);
    }
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let mut field = f.as_ref().clone();
            if let Ok(stored) = schema.field_with_name(f.name()) {
                let mut metadata = field.metadata().clone();
                metadata.remove(USER_NAME_KEY);
                field = field.with_name(user_name(stored)).with_metadata(metadata);
            }
            field
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), batch.columns().to_vec())
}

/// The stored name of the user's column `name`, if the schema has it.
pub fn stored_name<'a>(schema: &'a Schema, name: &str) -> Option<&'a str> {
    schema
        .fields()
        .iter()
        .find(|f| user_name(f) == name)
        .map(|f| f.name().as_str())
}

/// User name → stored name, for the columns stored under another name.
pub fn renames(schema: &Schema) -> HashMap<String, String> {
    schema
        .fields()
        .iter()
        .filter(|f| f.metadata().contains_key(USER_NAME_KEY))
        .map(|f| (user_name(f).to_string(), f.name().clone()))
        .collect()
}

/// A source's schema made storable: names cut to [`MAX_COLUMN_NAME_CHARS`],
/// repeats made unique (`a`, `a_2`), and names Lance refuses stored under a
/// name it accepts, with the user's name in the field's metadata. Returns
/// the schema and a warning for each name that the user will see changed.
pub fn storable_schema(source: &Schema) -> (SchemaRef, Vec<String>) {
    let mut warnings = Vec::new();
    let mut user_names: Vec<String> = Vec::with_capacity(source.fields().len());
    for (i, field) in source.fields().iter().enumerate() {
        let mut name = user_name(field).to_string();
        let chars = name.chars().count();
        if chars > MAX_COLUMN_NAME_CHARS {
            name = name.chars().take(MAX_COLUMN_NAME_CHARS).collect();
            warnings.push(format!(
                "column {}'s name is {chars} characters long; kept its first {MAX_COLUMN_NAME_CHARS}",
                i + 1
            ));
        }
        if user_names.contains(&name) {
            let base = name.clone();
            let mut k = 2;
            while user_names.contains(&name) {
                name = format!("{base}_{k}");
                k += 1;
            }
            warnings.push(format!(
                "column name '{base}' repeats; the repeat is called '{name}'"
            ));
        }
        user_names.push(name);
    }
    let mut taken: HashSet<String> = user_names
        .iter()
        .filter(|n| lance_accepts(n))
        .cloned()
        .collect();
    let fields: Vec<Field> = source
        .fields()
        .iter()
        .zip(&user_names)
        .map(|(field, user)| {
            let mut metadata = field.metadata().clone();
            metadata.remove(USER_NAME_KEY);
            let field = field.as_ref().clone();
            if lance_accepts(user) {
                return field.with_name(user.clone()).with_metadata(metadata);
            }
            let base = user.replace('.', "_");
            let mut stored = base.clone();
            let mut k = 2;
            while taken.contains(&stored) {
                stored = format!("{base}_{k}");
                k += 1;
            }
            taken.insert(stored.clone());
            metadata.insert(USER_NAME_KEY.to_string(), user.clone());
            field.with_name(stored).with_metadata(metadata)
        })
        .collect();
    (
        Arc::new(Schema::new_with_metadata(fields, source.metadata().clone())),
        warnings,
    )
}

/// Whether Lance takes `name` as a top-level column name.
fn lance_accepts(name: &str) -> bool {
    !name.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::DataType;

    fn schema(names: &[&str]) -> Schema {
        Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Int64, true))
                .collect::<Vec<_>>(),
        )
    }

    fn names(schema: &Schema) -> Vec<String> {
        schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    #[test]
    fn dotted_and_repeated_names_are_stored_apart_and_read_back() {
        let source = schema(&["Sepal.Length", "Sepal_Length", "a", "a", "x.y.z"]);
        let (stored, warnings) = storable_schema(&source);
        assert_eq!(
            names(&stored),
            ["Sepal_Length_2", "Sepal_Length", "a", "a_2", "x_y_z"]
        );
        assert_eq!(
            warnings,
            ["column name 'a' repeats; the repeat is called 'a_2'"]
        );
        assert_eq!(
            names(&user_schema(&stored)),
            ["Sepal.Length", "Sepal_Length", "a", "a_2", "x.y.z"]
        );
        assert_eq!(stored_name(&stored, "Sepal.Length"), Some("Sepal_Length_2"));
        assert_eq!(stored_name(&stored, "a_2"), Some("a_2"));
        assert!(has_renamed(&stored));
        assert!(
            user_schema(&stored)
                .fields()
                .iter()
                .all(|f| f.metadata().is_empty())
        );
        // Storing again (an overwrite of a dataset read back) changes nothing.
        let (again, warnings) = storable_schema(&stored);
        assert_eq!(again, stored);
        assert!(warnings.is_empty());
    }

    #[test]
    fn overlong_names_are_cut() {
        let long = "é".repeat(MAX_COLUMN_NAME_CHARS * 4);
        let (stored, warnings) = storable_schema(&schema(&[&long, "b"]));
        assert_eq!(stored.field(0).name(), &"é".repeat(MAX_COLUMN_NAME_CHARS));
        assert_eq!(
            warnings,
            [format!(
                "column 1's name is {} characters long; kept its first {MAX_COLUMN_NAME_CHARS}",
                MAX_COLUMN_NAME_CHARS * 4
            )]
        );
        assert!(!has_renamed(&stored));
    }
}
