//! Media types from file extensions.
//!
//! A small fixed table instead of a crate: the server serves a handful of web
//! formats, and a table we own cannot change under us. Text types carry
//! `charset=utf-8` so browsers do not guess the encoding (RFC 9110 §8.3.2).
//! Anything unknown is `application/octet-stream`, which browsers download
//! rather than render (together with `X-Content-Type-Options: nosniff`).

/// The media type used when the extension is missing or unknown.
pub const DEFAULT_MEDIA_TYPE: &str = "application/octet-stream";

/// Extension (lowercase, without the dot) → media type.
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("webmanifest", "application/manifest+json"),
    ("txt", "text/plain; charset=utf-8"),
    ("xml", "application/xml"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/x-icon"),
    ("wasm", "application/wasm"),
    ("pdf", "application/pdf"),
    ("woff2", "font/woff2"),
    ("woff", "font/woff"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mp3", "audio/mpeg"),
];

/// The media type for a file name (or path), from its extension, compared
/// case-insensitively. A leading dot alone (`.bashrc`) is not an extension.
pub fn media_type_for(file_name: &str) -> &'static str {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    let extension = match base.rfind('.') {
        Some(dot) if dot > 0 => &base[dot + 1..],
        _ => return DEFAULT_MEDIA_TYPE,
    };
    TABLE
        .iter()
        .find(|(ext, _)| ext.eq_ignore_ascii_case(extension))
        .map_or(DEFAULT_MEDIA_TYPE, |(_, media_type)| media_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_from_extensions() {
        let cases: &[(&str, &str)] = &[
            ("index.html", "text/html; charset=utf-8"),
            ("INDEX.HTML", "text/html; charset=utf-8"),
            ("page.htm", "text/html; charset=utf-8"),
            ("site.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("mod.mjs", "text/javascript; charset=utf-8"),
            ("data.json", "application/json"),
            ("app.js.map", "application/json"),
            ("site.webmanifest", "application/manifest+json"),
            ("readme.txt", "text/plain; charset=utf-8"),
            ("feed.xml", "application/xml"),
            ("logo.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.JPG", "image/jpeg"),
            ("a.jpeg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("a.avif", "image/avif"),
            ("favicon.ico", "image/x-icon"),
            ("m.wasm", "application/wasm"),
            ("doc.pdf", "application/pdf"),
            ("f.woff2", "font/woff2"),
            ("f.woff", "font/woff"),
            ("v.mp4", "video/mp4"),
            ("v.webm", "video/webm"),
            ("s.mp3", "audio/mpeg"),
            ("archive.tar.gz", DEFAULT_MEDIA_TYPE),
            ("Makefile", DEFAULT_MEDIA_TYPE),
            ("trailingdot.", DEFAULT_MEDIA_TYPE),
            (".bashrc", DEFAULT_MEDIA_TYPE),
            ("dir.html/file", DEFAULT_MEDIA_TYPE),
            ("dir/page.html", "text/html; charset=utf-8"),
            ("", DEFAULT_MEDIA_TYPE),
        ];
        for (name, want) in cases {
            assert_eq!(media_type_for(name), *want, "file name {name:?}");
        }
    }
}
