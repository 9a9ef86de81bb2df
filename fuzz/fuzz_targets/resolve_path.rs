//! `service::static_files::path::resolve_path`: URL path to a path under the
//! root, or an error.
//!
//! Invariants for every `Ok`: the path is relative (not absolute), has no
//! `..`, `.` or empty segment, no NUL or backslash, `segments()` joined by
//! `/` is `as_str()` (or `.` for the root), and joining it under a root and
//! normalising lexically stays under that root. The same input always gives
//! the same answer, and its status is 400 or 404.
#![no_main]

use httpserver::service::static_files::path::resolve_path;
use libfuzzer_sys::fuzz_target;
use std::path::{Component, Path, PathBuf};

fuzz_target!(|data: &[u8]| {
    let result = resolve_path(data);
    assert_eq!(resolve_path(data), result, "not deterministic");
    let path = match result {
        Err(error) => {
            assert!(matches!(error.status(), 400 | 404));
            return;
        }
        Ok(path) => path,
    };
    assert_eq!(data.first(), Some(&b'/'), "only origin-form resolves");
    let text = path.as_str();
    assert!(!text.is_empty());
    assert!(!text.starts_with('/'), "absolute: {text:?}");
    assert!(!text.contains('\0') && !text.contains('\\'), "{text:?}");
    assert_eq!(path.has_trailing_slash(), data.ends_with(b"/"));

    let segments: Vec<&str> = path.segments().collect();
    if path.is_root() {
        assert_eq!(text, ".");
        assert!(segments.is_empty());
    } else {
        assert_eq!(segments.join("/"), text);
        assert_eq!(
            text.split('/').count(),
            segments.len(),
            "empty segment in {text:?}"
        );
        for segment in &segments {
            assert!(!segment.is_empty() && *segment != "." && *segment != "..");
            assert!(!segment.starts_with('.') || *segment == ".well-known");
        }
    }

    // Lexical containment: under any root, every component is a plain name.
    let root = Path::new("/srv/www/root");
    let joined = root.join(text);
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                assert!(normal.pop(), "walked above /: {text:?}");
            }
            Component::CurDir => {}
            other => normal.push(other.as_os_str()),
        }
    }
    assert!(
        normal.starts_with(root),
        "{text:?} left the root: {normal:?}"
    );
    assert!(Path::new(text)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir)));
});
