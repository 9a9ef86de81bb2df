//! The `--config` file's tables: flags that read better grouped than as
//! flat keys (issue 14.3).
//!
//! - `[headers]`: one entry per `-H`/`--header` field, `Name = "value"`,
//!   instead of `header = ["Name: value", ...]`.
//! - `[cors]`: `origin = "..."` for `--cors`, the place for any CORS flag
//!   to come.
//!
//! The flat keys (`header = [...]`, `cors = "..."`) are still accepted, so
//! a file written before the tables still works; one flag set both ways in
//! one file is a mistake. `--print-config` prints the tables, after every
//! flat key (in TOML every key after a `[table]` line belongs to it).

use std::borrow::Cow;

/// A table of the file and the flags it stands for.
pub struct FileTable {
    /// The table's name: `headers` for `[headers]`.
    pub name: &'static str,
    pub layout: Layout,
}

/// How a table's entries become flag values.
pub enum Layout {
    /// Every entry `Name = "value"` is one value `Name: value` of the
    /// repeatable argument with this id (header fields).
    Fields { id: &'static str },
    /// Every key is one argument: (key in the table, argument id).
    Keys(&'static [(&'static str, &'static str)]),
}

/// Every table a file may hold, in the order `--print-config` prints them.
pub const FILE_TABLES: &[FileTable] = &[
    FileTable {
        name: "headers",
        layout: Layout::Fields { id: "headers" },
    },
    FileTable {
        name: "cors",
        layout: Layout::Keys(&[("origin", "cors")]),
    },
];

/// The table named `name`, if a file may have it.
pub fn table(name: &str) -> Option<&'static FileTable> {
    FILE_TABLES.iter().find(|t| t.name == name)
}

/// Where the argument `id` lives in a file's tables: the table, and its
/// key there (None for a `Fields` table, whose keys are field names).
pub fn place_of(id: &str) -> Option<(&'static FileTable, Option<&'static str>)> {
    FILE_TABLES.iter().find_map(|t| match &t.layout {
        Layout::Fields { id: own } => (*own == id).then_some((t, None)),
        Layout::Keys(keys) => keys
            .iter()
            .find(|(_, own)| *own == id)
            .map(|(key, _)| (t, Some(*key))),
    })
}

/// A header field as the `--header` value it stands for.
pub fn field_value(name: &str, value: &str) -> String {
    format!("{name}: {value}")
}

/// A `--header` value as its `[headers]` entry: the name, and the value
/// without the whitespace around it (which the flag ignores too).
pub fn field_entry(flag_value: &str) -> (&str, &str) {
    let (name, value) = flag_value.split_once(':').unwrap_or((flag_value, ""));
    (name, value.trim_matches([' ', '\t']))
}

/// A TOML key: bare when it can be, quoted otherwise. A field name may hold
/// `.`, which in a bare key would make a table.
pub fn toml_key(key: &str) -> Cow<'_, str> {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(toml::Value::String(key.to_owned()).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_entries_are_each_others_inverse() {
        assert_eq!(field_entry("X-A:  1 "), ("X-A", "1"));
        assert_eq!(field_entry("X-Empty:"), ("X-Empty", ""));
        assert_eq!(field_value("X-A", "1"), "X-A: 1");
        assert_eq!(
            field_entry("Cache-Control: no-store, \"q\""),
            ("Cache-Control", "no-store, \"q\"")
        );
    }

    #[test]
    fn keys_are_quoted_unless_bare() {
        assert_eq!(toml_key("X-Frame-Options"), "X-Frame-Options");
        assert_eq!(toml_key("X.Dotted"), "\"X.Dotted\"");
        assert_eq!(toml_key("a'b"), "\"a'b\"");
        let parsed: toml::Table = toml::from_str(&format!("{} = 1", toml_key("X.Dotted"))).unwrap();
        assert!(parsed.contains_key("X.Dotted"));
    }

    #[test]
    fn every_table_names_its_flags() {
        assert_eq!(
            place_of("headers").map(|(t, k)| (t.name, k)),
            Some(("headers", None))
        );
        assert_eq!(
            place_of("cors").map(|(t, k)| (t.name, k)),
            Some(("cors", Some("origin")))
        );
        assert!(place_of("port").is_none());
        assert!(table("headers").is_some() && table("header").is_none());
    }
}
