//! Directory listings (`--listing`): off by default, HTML and JSON forms,
//! links that work for awkward names, and the hidden and symlink policies.

use crate::support::{start_server, TestServer};
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

/// Names a listing must escape in HTML and percent-encode in links.
const AWKWARD_NAMES: [&str; 9] = [
    "a b.txt",
    "c#d.txt",
    "q?x.txt",
    "\"quoted\".txt",
    "\u{fc}n\u{ef}.txt",
    "<tag>.txt",
    "50%.txt",
    "it's & more.txt",
    "line\nbreak.txt",
];

fn listing_server() -> TestServer {
    start_server(|config| config.static_files.listing = true)
}

fn get(server: &TestServer, path: &str, extra: &str) -> crate::support::Response {
    server.request(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes())
}

/// Every `href="..."` value in `html`, in order.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').expect("closing quote")].to_owned())
        .collect()
}

#[test]
fn listing_is_off_by_default() {
    let server = start_server(|_| {});
    assert_eq!(get(&server, "/empty/", "").status, 404);
}

#[test]
fn index_html_is_still_preferred_when_listing_is_on() {
    let server = listing_server();
    let root = get(&server, "/", "");
    assert_eq!(root.status, 200);
    assert!(root.text().contains("<h1>home</h1>"), "{}", root.text());
    assert!(get(&server, "/docs/", "").text().contains("<h1>docs</h1>"));
    // Without the trailing slash it is still a redirect, not a listing.
    assert_eq!(get(&server, "/empty", "").status, 301);
}

#[test]
fn listing_is_sorted_html_with_sizes_times_and_a_parent_link() {
    let server = listing_server();
    let dir = server.root.path().join("files");
    std::fs::create_dir(&dir).unwrap();
    std::fs::create_dir(dir.join("zeta")).unwrap();
    std::fs::create_dir(dir.join("alpha")).unwrap();
    std::fs::write(dir.join("b.bin"), vec![0u8; 1229]).unwrap();
    std::fs::write(dir.join("a.txt"), b"hello").unwrap();
    let response = get(&server, "/files/", "");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.field("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(response.field("Cache-Control"), Some("no-cache"));
    assert_eq!(response.field("Vary"), Some("Accept"));
    let html = response.text();
    assert!(html.contains("<title>Index of /files/</title>"));
    assert!(html.contains("<h1>Index of /files/</h1>"));
    assert!(!html.contains("<script"));
    assert_eq!(hrefs(&html), ["../", "alpha/", "zeta/", "a.txt", "b.bin"]);
    assert!(html.contains("<td class=\"size\">5 B</td>"));
    assert!(html.contains("<td class=\"size\">1.2 KiB</td>"));
    // Times are YYYY-MM-DD HH:MM in UTC.
    let year = &html[html.find("<td class=\"time\">2").expect("a time") + 17..][..16];
    assert!(
        year.as_bytes()[4] == b'-' && year.as_bytes()[13] == b':',
        "{year:?}"
    );

    // The empty directory at the fixture root: only the parent link.
    let empty = get(&server, "/empty/", "").text();
    assert_eq!(hrefs(&empty), ["../"]);
}

#[test]
fn every_link_in_a_listing_is_served_even_for_awkward_names() {
    let server = listing_server();
    let dir = server.root.path().join("odd dir");
    std::fs::create_dir(&dir).unwrap();
    std::fs::create_dir(dir.join("sub #1")).unwrap();
    for name in AWKWARD_NAMES {
        std::fs::write(dir.join(name), format!("content of {name}")).unwrap();
    }
    let response = get(&server, "/odd%20dir/", "");
    assert_eq!(response.status, 200);
    let html = response.text();
    assert!(html.contains("<h1>Index of /odd dir/</h1>"));
    for escaped in [
        "&quot;quoted&quot;.txt",
        "&lt;tag&gt;.txt",
        "it&#39;s &amp; more.txt",
    ] {
        assert!(html.contains(escaped), "{escaped} in {html}");
    }
    assert!(!html.contains("<tag>"));
    let links = hrefs(&html);
    assert_eq!(links.len(), AWKWARD_NAMES.len() + 2, "{links:?}");
    for href in links {
        assert!(
            href.bytes().all(|b| b.is_ascii_graphic()),
            "href is plain ASCII: {href:?}"
        );
        let path = if href == "../" {
            "/".to_owned()
        } else {
            format!("/odd%20dir/{href}")
        };
        let followed = get(&server, &path, "");
        assert_eq!(followed.status, 200, "{href}");
        if let Some(name) = AWKWARD_NAMES
            .iter()
            .find(|n| followed.text() == format!("content of {n}"))
        {
            assert!(html.contains(&*escape(name)), "{name:?} shown");
        } else {
            assert!(href == "../" || href == "sub%20%231/", "{href}");
        }
    }
}

fn escape(name: &str) -> String {
    name.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn json_when_the_client_accepts_it() {
    let server = listing_server();
    let dir = server.root.path().join("api");
    std::fs::create_dir(&dir).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("line\nbreak \"q\".txt"), b"12345").unwrap();
    let response = get(&server, "/api/", "Accept: application/json\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.field("Content-Type"), Some("application/json"));
    assert_eq!(response.field("Vary"), Some("Accept"));
    assert_eq!(response.field("Cache-Control"), Some("no-cache"));
    let parsed: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    let entries = parsed.as_array().expect("an array");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["name"], "sub");
    assert_eq!(entries[0]["type"], "dir");
    assert_eq!(entries[1]["name"], "line\nbreak \"q\".txt");
    assert_eq!(entries[1]["type"], "file");
    assert_eq!(entries[1]["size"], 5);
    let modified = entries[1]["modified"].as_str().expect("a date");
    assert!(
        modified.len() == 29 && modified.ends_with(" GMT"),
        "{modified}"
    );

    // q=0 refuses JSON; a browser's Accept gets HTML.
    for accept in [
        "application/json;q=0",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ] {
        let html = get(&server, "/api/", &format!("Accept: {accept}\r\n"));
        assert_eq!(
            html.field("Content-Type"),
            Some("text/html; charset=utf-8"),
            "{accept}"
        );
    }
}

#[test]
fn hidden_files_and_symlinks_leaving_the_root_are_not_listed() {
    let server = listing_server();
    let root = server.root.path();
    let dir = root.join("mixed");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("visible.txt"), b"v").unwrap();
    std::fs::write(dir.join(".env"), b"SECRET=1").unwrap();
    std::fs::create_dir(dir.join(".git")).unwrap();
    symlink("/etc/passwd", dir.join("passwd")).unwrap();
    symlink("../../", dir.join("up")).unwrap();
    symlink("../style.css", dir.join("style-link.css")).unwrap();
    symlink("../docs", dir.join("docs-link")).unwrap();
    symlink("nowhere", dir.join("dangling")).unwrap();
    let html = get(&server, "/mixed/", "").text();
    assert_eq!(
        hrefs(&html),
        ["../", "docs-link/", "style-link.css", "visible.txt"]
    );
    for hidden in [".env", ".git", "passwd", "up/", "dangling"] {
        assert!(!html.contains(hidden), "{hidden} listed");
    }
    // The listed symlinks are served.
    assert_eq!(get(&server, "/mixed/style-link.css", "").status, 200);
    assert_eq!(get(&server, "/mixed/docs-link/", "").status, 200);
}

#[test]
fn hidden_option_lists_dotfiles_and_symlink_policy_still_applies() {
    let server = start_server(|config| {
        config.static_files.listing = true;
        config.static_files.hidden = true;
    });
    let dir = server.root.path().join("mixed");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(".env"), b"X=1").unwrap();
    std::fs::write(dir.join("visible.txt"), b"v").unwrap();
    symlink("/etc/passwd", dir.join("passwd")).unwrap();
    let html = get(&server, "/mixed/", "").text();
    assert_eq!(hrefs(&html), ["../", ".env", "visible.txt"]);
    assert_eq!(get(&server, "/mixed/.env", "").status, 200);
}

#[test]
fn head_of_a_listing_has_the_fields_and_no_body() {
    let server = listing_server();
    let mut client = server.connect();
    client.send(b"HEAD /empty/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    assert_eq!(head.status, 200);
    let length: usize = head.field("Content-Length").unwrap().parse().unwrap();
    assert!(length > 0);
    // The next response starts right after the head.
    client.send(b"GET /empty/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let get = client.response();
    assert_eq!(get.status, 200);
    assert_eq!(get.body.len(), length);
}

#[test]
fn a_directory_over_the_cap_lists_the_first_entries_and_counts_the_rest() {
    let server = listing_server();
    let dir = server.root.path().join("big");
    std::fs::create_dir(&dir).unwrap();
    let total = httpserver::service::static_files::listing::MAX_LISTED_ENTRIES + 50;
    for i in 0..total {
        std::fs::File::create(dir.join(format!("f{i:06}"))).unwrap();
    }
    let started = Instant::now();
    let response = get(&server, "/big/", "");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let html = response.text();
    let links = hrefs(&html);
    assert_eq!(links.len(), 1 + total - 50);
    assert_eq!(links[1], "f000000");
    assert_eq!(links.last().unwrap(), "f009999");
    assert!(
        html.contains("<p>50 more not shown"),
        "{}",
        &html[html.len() - 200..]
    );
}

/// Issue 11: a listing of `/d/` showed `/d/.well-known/`, which answered
/// 404, because the listing and the resolver each had their own hidden-name
/// rule. `.well-known` is served only directly under the root (RFC 8615), so
/// it is listed only there, and every link in both listings is served.
#[test]
fn issue_11_well_known_is_listed_only_where_it_is_served() {
    let server = listing_server();
    let root = server.root.path();
    std::fs::remove_file(root.join("index.html")).unwrap();
    std::fs::create_dir(root.join(".well-known")).unwrap();
    std::fs::write(root.join(".well-known/security.txt"), "Contact: x\n").unwrap();
    std::fs::create_dir_all(root.join("d/.well-known")).unwrap();
    std::fs::write(root.join("d/.well-known/x.txt"), "x\n").unwrap();
    std::fs::write(root.join("d/a.txt"), "a\n").unwrap();

    let at_root = hrefs(&get(&server, "/", "").text());
    assert!(at_root.contains(&".well-known/".to_owned()), "{at_root:?}");
    let in_d = hrefs(&get(&server, "/d/", "").text());
    assert_eq!(in_d, ["../", "a.txt"]);
    assert_eq!(get(&server, "/d/.well-known/x.txt", "").status, 404);

    for (directory, links) in [("/", at_root), ("/d/", in_d)] {
        for href in links {
            let path = if href == "../" {
                "/".to_owned()
            } else {
                format!("{directory}{href}")
            };
            assert_eq!(get(&server, &path, "").status, 200, "{path}");
        }
    }
}

fn head(server: &TestServer, path: &str, extra: &str) -> crate::support::Response {
    let mut client = server.connect();
    client.send(format!("HEAD {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes());
    client.head_response()
}

/// Issue 11: a listing had no validator, so every revalidation downloaded it
/// again, and `If-None-Match: *` and `If-Match` were ignored. Each form now
/// has a strong ETag from its bytes and goes through the preconditions of
/// RFC 9110 §13.2.2; with no `Last-Modified`, the date fields are ignored.
#[test]
fn issue_11_a_listing_has_a_strong_etag_and_answers_preconditions() {
    let server = listing_server();
    let dir = server.root.path().join("tagged");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), b"a").unwrap();
    const JSON: &str = "Accept: application/json\r\n";

    let html = get(&server, "/tagged/", "");
    let html_tag = html.field("ETag").expect("an ETag").to_owned();
    assert!(
        html_tag.starts_with('"') && html_tag.ends_with('"'),
        "{html_tag}"
    );
    assert_eq!(html.field("Last-Modified"), None);
    // The same bytes get the same tag; the JSON form has its own.
    assert_eq!(get(&server, "/tagged/", "").field("ETag"), Some(&*html_tag));
    assert_eq!(
        head(&server, "/tagged/", "").field("ETag"),
        Some(&*html_tag)
    );
    let json_tag = get(&server, "/tagged/", JSON)
        .field("ETag")
        .unwrap()
        .to_owned();
    assert_ne!(json_tag, html_tag);

    // If-None-Match: 304 for the tag of the form asked for, and for `*`.
    for (accept, tag, value) in [
        ("", &html_tag, html_tag.as_str()),
        ("", &html_tag, "*"),
        (JSON, &json_tag, json_tag.as_str()),
        (JSON, &json_tag, "*"),
    ] {
        let fields = format!("{accept}If-None-Match: {value}\r\n");
        for response in [
            get(&server, "/tagged/", &fields),
            head(&server, "/tagged/", &fields),
        ] {
            assert_eq!(response.status, 304, "{fields:?}");
            assert_eq!(response.field("ETag"), Some(tag.as_str()), "{fields:?}");
            assert_eq!(response.field("Cache-Control"), Some("no-cache"));
            assert_eq!(response.field("Vary"), Some("Accept"));
            assert_eq!(response.field("Content-Type"), None);
            assert!(response.body.is_empty());
        }
    }
    // The other form's tag does not match.
    let fields = format!("{JSON}If-None-Match: {html_tag}\r\n");
    assert_eq!(get(&server, "/tagged/", &fields).status, 200);

    // If-Match compares strongly; `*` matches the existing listing.
    let weak = format!("W/{html_tag}");
    for (value, status) in [
        (html_tag.as_str(), 200),
        ("*", 200),
        ("\"other\"", 412),
        (weak.as_str(), 412),
    ] {
        let response = get(&server, "/tagged/", &format!("If-Match: {value}\r\n"));
        assert_eq!(response.status, status, "If-Match: {value}");
    }

    // No modification date: the date preconditions are ignored (§13.1.3,
    // §13.1.4), however far in the future or past.
    for fields in [
        "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n",
        "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
    ] {
        assert_eq!(get(&server, "/tagged/", fields).status, 200, "{fields}");
    }

    // A change to the directory changes the listing and so its tag.
    std::fs::write(dir.join("b.txt"), b"b").unwrap();
    let changed = get(
        &server,
        "/tagged/",
        &format!("If-None-Match: {html_tag}\r\n"),
    );
    assert_eq!(changed.status, 200);
    assert_ne!(changed.field("ETag"), Some(&*html_tag));
}
