//! [`ConfigError`]: a configuration mistake found after the sources were
//! read (a root that does not exist, a flag that needs another), keyed by
//! the arguments it is about.
//!
//! The code that finds a mistake knows which argument holds the bad value
//! but not where that value came from; [`super::sources::Origins`] knows
//! where every value came from but not what is wrong with it. So an error
//! names arguments by clap id (the [`super::Cli`] field name) and leaves
//! the wording of each name to whoever prints it: `--root` on the command
//! line, `HTTPSERVER_ROOT`, or `httpserver.toml:3: root`. A flag added to
//! `Cli` gets this for free: nothing here lists flags.

use clap::CommandFactory;

/// A configuration mistake, printed as one line; exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The argument whose value is at fault, if the mistake has one.
    at: Option<&'static str>,
    /// What is wrong, with other arguments named by id.
    message: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Argument(&'static str),
}

impl ConfigError {
    /// The value of argument `id` is wrong: `message` says why, without
    /// naming the argument (the printer puts its name and source first).
    pub fn in_value(id: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            at: Some(id),
            message: vec![Piece::Text(message.into())],
        }
    }

    /// A mistake that no single argument holds.
    pub fn general(message: impl Into<String>) -> ConfigError {
        ConfigError {
            at: None,
            message: vec![Piece::Text(message.into())],
        }
    }

    /// Continue the message with `text`.
    pub fn then(mut self, text: impl Into<String>) -> ConfigError {
        self.message.push(Piece::Text(text.into()));
        self
    }

    /// Continue the message with the name of argument `id`, worded by
    /// the printer for where that argument's value came from.
    pub fn naming(mut self, id: &'static str) -> ConfigError {
        self.message.push(Piece::Argument(id));
        self
    }

    /// The argument whose value is at fault.
    pub fn at(&self) -> Option<&'static str> {
        self.at
    }

    /// The message, each argument it names worded by `name`.
    pub fn message_with(&self, mut name: impl FnMut(&'static str) -> String) -> String {
        let mut out = String::new();
        for piece in &self.message {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Argument(id) => out.push_str(&name(id)),
            }
        }
        out
    }
}

/// `--long` of argument `id`, as `--help` shows it.
pub fn long_flag(id: &str) -> String {
    let command = super::Cli::command();
    let long = command
        .get_arguments()
        .find(|arg| arg.get_id() == id)
        .and_then(|arg| arg.get_long().map(str::to_owned));
    format!("--{}", long.unwrap_or_else(|| id.replace('_', "-")))
}

/// Without knowing the sources, every argument is named by its flag.
impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(id) = self.at {
            write!(f, "{}: ", long_flag(id))?;
        }
        f.write_str(&self.message_with(long_flag))
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_named_by_the_printer() {
        let e = ConfigError::in_value("proxy_protocol", "needs ")
            .naming("trusted_proxies")
            .then(" CIDR,...");
        assert_eq!(e.at(), Some("proxy_protocol"));
        assert_eq!(
            e.message_with(|id| format!("<{id}>")),
            "needs <trusted_proxies> CIDR,..."
        );
        assert_eq!(
            e.to_string(),
            "--proxy-protocol: needs --trusted-proxies CIDR,..."
        );
    }

    #[test]
    fn the_flag_is_the_long_name_not_the_field_name() {
        // `-H`/`--header` is the field `headers`.
        assert_eq!(long_flag("headers"), "--header");
        assert_eq!(long_flag("drain_delay"), "--drain-delay");
        assert_eq!(
            ConfigError::general("two listeners overlap").to_string(),
            "two listeners overlap"
        );
    }
}
