//! Parser microbenchmarks: throughput of `parse_head` and the framing and
//! persistence decisions on typical request heads, in bytes per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use httpserver::proto::framing::expectation;
use httpserver::proto::{parse_head, request_framing, wants_keep_alive};
use httpserver::Limits;
use std::hint::black_box;

/// A minimal request, as `wrk` sends it.
const SMALL: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";

/// A browser-like request with a dozen fields.
const BROWSER: &[u8] = b"GET /static/app.js?v=3 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://www.example.com/index.html\r\n\
Connection: keep-alive\r\n\
Cookie: session=0123456789abcdef0123456789abcdef; theme=dark; lang=en\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: script\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Site: same-origin\r\n\
If-None-Match: \"5f3e-1a2b3c\"\r\n\
\r\n";

/// A POST with a body length, as `/echo` receives it.
const POST: &[u8] = b"POST /echo HTTP/1.1\r\nHost: localhost\r\n\
Content-Type: application/json\r\nContent-Length: 27\r\nExpect: 100-continue\r\n\r\n";

fn bench_parse_head(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("parse_head");
    for (name, input) in [("small", SMALL), ("browser", BROWSER), ("post", POST)] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_head(black_box(input), &limits));
        });
    }
    group.finish();
}

fn bench_decisions(c: &mut Criterion) {
    let limits = Limits::default();
    let Ok(Some((head, _))) = parse_head(POST, &limits) else {
        panic!("benchmark input must parse");
    };
    c.bench_function("framing_keep_alive_expectation", |b| {
        b.iter(|| {
            let head = black_box(&head);
            (
                request_framing(head, &limits),
                wants_keep_alive(head),
                expectation(head),
            )
        });
    });
}

criterion_group!(benches, bench_parse_head, bench_decisions);
criterion_main!(benches);
