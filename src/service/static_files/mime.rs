//! Media types from file extensions.
