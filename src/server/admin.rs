//! The admin listener's service: `GET /livez`, `GET /readyz` and
//! `GET /metrics` (and `HEAD` of each), and nothing else (404).
//!
//! It is served on its own listener (`--admin ADDR:PORT`), which has its own
//! small connection cap, so a probe is answered even when the site's cap is
//! reached; it is never behind the PROXY protocol, and not access-logged
//! unless `--admin-access-log` asks. Its requests are not counted in the
//! site's metrics.

use super::metrics::exposition::{self, CONTENT_TYPE};
use super::metrics::process::ProcessStats;
use super::metrics::{Metrics, Readiness};
use crate::proto::{Method, RequestHead};
use crate::service::{Body, Response, Router};
use bytes::Bytes;
use std::sync::Arc;

/// Connections the admin listener keeps open at once: probes and scrapes
/// are few. Further ones wait in the kernel's accept queue.
pub const ADMIN_MAX_CONNECTIONS: usize = 64;

/// The admin service over `metrics`.
pub fn router(metrics: Arc<Metrics>) -> Router {
    let ready = Arc::clone(&metrics);
    let ready_head = Arc::clone(&metrics);
    let scraped_head = Arc::clone(&metrics);
    Router::new()
        .with_route(Method::Get, "/livez", |_: &RequestHead, _: &[u8]| livez())
        .with_route(Method::Head, "/livez", |_: &RequestHead, _: &[u8]| livez())
        .with_route(Method::Get, "/readyz", move |_: &RequestHead, _: &[u8]| {
            readyz(ready.readiness())
        })
        .with_route(Method::Head, "/readyz", move |_: &RequestHead, _: &[u8]| {
            readyz(ready_head.readiness())
        })
        .with_route(Method::Get, "/metrics", move |_: &RequestHead, _: &[u8]| {
            scrape(&metrics)
        })
        .with_route(
            Method::Head,
            "/metrics",
            move |_: &RequestHead, _: &[u8]| scrape(&scraped_head),
        )
}

/// 200 for as long as the process answers at all.
fn livez() -> Response {
    Response::text(200, "ok\n").with_field("Cache-Control", "no-store")
}

/// 200 when the server wants new work; 503 while draining or at the
/// connection cap, so a balancer sends new work elsewhere.
pub fn readyz(readiness: Readiness) -> Response {
    let response = match readiness {
        Readiness::Ready => Response::text(200, "ready\n"),
        Readiness::Draining => Response::text(503, "draining\n"),
        Readiness::AtConnectionCap => Response::text(503, "at connection cap\n"),
    };
    response.with_field("Cache-Control", "no-store")
}

fn scrape(metrics: &Metrics) -> Response {
    let mut text = String::with_capacity(8 * 1024);
    exposition::render(&metrics.snapshot(), &ProcessStats::read(), &mut text);
    Response {
        status: 200,
        fields: vec![
            ("Content-Type", CONTENT_TYPE.into()),
            ("Cache-Control", "no-store".into()),
        ],
        body: Body::Bytes(Bytes::from(text)),
    }
}
