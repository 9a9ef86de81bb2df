//! Response-writer microbenchmarks: encoding a status line and the fields of
//! typical responses into a reused `Vec<u8>`, in bytes of head per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use httpserver::proto::response::{encode_field, encode_status_line};
use std::hint::black_box;

/// The head of a small static file, as the server sends it.
const FILE_FIELDS: &[(&str, &[u8])] = &[
    ("Content-Type", b"text/html; charset=utf-8"),
    ("Last-Modified", b"Fri, 10 Jan 2025 14:32:01 GMT"),
    ("ETag", b"\"1736519521.123456789-156\""),
    ("Date", b"Fri, 10 Jan 2025 14:32:01 GMT"),
    ("Content-Length", b"156"),
    ("Connection", b"keep-alive"),
];

/// A 404 with the few fields an error carries.
const NOT_FOUND_FIELDS: &[(&str, &[u8])] = &[
    ("Content-Type", b"text/plain; charset=utf-8"),
    ("Date", b"Fri, 10 Jan 2025 14:32:01 GMT"),
    ("Content-Length", b"10"),
    ("Connection", b"keep-alive"),
];

fn encode(status: u16, fields: &[(&str, &[u8])], out: &mut Vec<u8>) {
    out.clear();
    encode_status_line(status, out);
    for (name, value) in fields {
        encode_field(name, value, out);
    }
    out.extend_from_slice(b"\r\n");
}

fn bench_encode_head(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_head");
    for (name, status, fields) in [
        ("file_200", 200, FILE_FIELDS),
        ("not_found_404", 404, NOT_FOUND_FIELDS),
    ] {
        let mut out = Vec::with_capacity(512);
        encode(status, fields, &mut out);
        group.throughput(Throughput::Bytes(out.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                encode(black_box(status), black_box(fields), &mut out);
                black_box(out.len())
            });
        });
    }
    group.finish();
}

fn bench_status_line(c: &mut Criterion) {
    let mut out = Vec::with_capacity(64);
    c.bench_function("encode_status_line", |b| {
        b.iter(|| {
            out.clear();
            encode_status_line(black_box(200), &mut out);
            black_box(out.len())
        });
    });
}

criterion_group!(benches, bench_encode_head, bench_status_line);
criterion_main!(benches);
