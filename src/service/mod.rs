//! What answers a request. Services see a parsed [`RequestHead`] (and, for
//! routes that take one, the whole body) and return a [`Response`]; they never
//! see a socket.

pub mod echo;
pub mod response;
pub mod static_files;

pub use response::{Body, Response};

use crate::proto::{Method, RequestHead};
use static_files::StaticFiles;

/// A handler for a route that needs the request body, called once the driver
/// has read all of it.
pub type BodyHandler = fn(&RequestHead, &[u8]) -> Response;

/// The router's answer to a head: respond now, or read the body first.
pub enum Routed {
    Respond(Response),
    ReadBody(BodyHandler),
}

/// Maps a request head to the code that answers it: registered routes first,
/// then static files from the root.
pub struct Router {
    routes: Vec<Route>,
    static_files: StaticFiles,
}

struct Route {
    path: &'static str,
    method: Method,
    allow: &'static str,
    handler: BodyHandler,
}

impl Router {
    pub fn new(static_files: StaticFiles) -> Router {
        let _ = static_files;
        todo!("router")
    }

    /// Decide how to answer `head`.
    pub fn route(&self, head: &RequestHead) -> Routed {
        let _ = (head, &self.routes, &self.static_files);
        todo!("router")
    }
}
