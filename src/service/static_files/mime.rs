//! Media types from file extensions.
//!
//! A small fixed table instead of a crate: the server serves a handful of web
//! formats, and a table we own cannot change under us. Anything unknown is
//! `application/octet-stream`, which browsers download rather than render
//! (together with `X-Content-Type-Options: nosniff`).
//!
//! **Charset.** Only `text/*` types carry `charset=utf-8`, so browsers do not
//! guess the encoding (RFC 9110 §8.3.2). JSON has no charset parameter: it
//! is always UTF-8 (RFC 8259 §11). XML and SVG carry none either: an XML
//! document declares its own encoding, and a parameter that disagreed with
//! the declaration would win (RFC 7303 §3.2), so we stay out of it.
//! `application/wasm` is binary.
//!
//! [`is_compressible`] says which types get `Vary: Accept-Encoding` and a
//! look for precompressed sidecars.

/// The media type used when the extension is missing or unknown.
pub const DEFAULT_MEDIA_TYPE: &str = "application/octet-stream";

/// Extension (lowercase, without the dot) → media type.
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("cjs", "text/javascript; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
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
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
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

/// Whether a media type (as [`media_type_for`] returns it) is worth
/// compressing: text, JavaScript, JSON, XML and SVG, WebAssembly, and the
/// uncompressed font and icon formats. Images, audio, video, PDF and WOFF
/// are compressed already.
pub fn is_compressible(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence,
            "application/json"
                | "application/xml"
                | "application/wasm"
                | "image/x-icon"
                | "font/ttf"
                | "font/otf"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressible_types() {
        let cases: &[(&str, bool)] = &[
            ("a.html", true),
            ("a.css", true),
            ("a.js", true),
            ("a.mjs", true),
            ("a.json", true),
            ("a.js.map", true),
            ("a.webmanifest", true),
            ("a.svg", true),
            ("a.xml", true),
            ("a.wasm", true),
            ("a.txt", true),
            ("a.ttf", true),
            ("favicon.ico", true),
            ("a.png", false),
            ("a.webp", false),
            ("a.woff2", false),
            ("a.mp4", false),
            ("a.pdf", false),
            ("a.bin", false),
            ("a.gz", false),
        ];
        for (name, want) in cases {
            assert_eq!(is_compressible(media_type_for(name)), *want, "{name}");
        }
    }

    #[test]
    fn charset_only_on_text_types() {
        for (extension, media_type) in TABLE {
            assert_eq!(
                media_type.contains("charset"),
                media_type.starts_with("text/"),
                "{extension}: {media_type}"
            );
        }
    }

    #[test]
    fn media_types_from_extensions() {
        let cases: &[(&str, &str)] = &[
            ("index.html", "text/html; charset=utf-8"),
            ("INDEX.HTML", "text/html; charset=utf-8"),
            ("page.htm", "text/html; charset=utf-8"),
            ("site.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("mod.mjs", "text/javascript; charset=utf-8"),
            ("mod.cjs", "text/javascript; charset=utf-8"),
            ("t.csv", "text/csv; charset=utf-8"),
            ("README.md", "text/markdown; charset=utf-8"),
            ("f.ttf", "font/ttf"),
            ("f.otf", "font/otf"),
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
