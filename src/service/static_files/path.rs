//! URL path to a safe path relative to the root.
