//! Static files under the document root: GET and HEAD.

pub mod mime;
pub mod path;

use super::Response;
use crate::proto::RequestHead;
use std::path::PathBuf;

/// Serves files from one root directory.
pub struct StaticFiles {
    root: PathBuf,
}

impl StaticFiles {
    /// `root` must be an existing, canonical directory.
    pub fn new(root: PathBuf) -> std::io::Result<StaticFiles> {
        Ok(StaticFiles { root })
    }

    /// Answer a GET or HEAD for `head.path()`.
    pub fn serve(&self, head: &RequestHead) -> Response {
        let _ = (head, &self.root);
        todo!("static files")
    }
}
