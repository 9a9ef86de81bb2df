//! Where flag values come from: the command line, the environment, a TOML
//! file, and clap's defaults, in that order of precedence (issue 14.3).
//!
//! One definition covers every flag: the clap [`Command`] built from
//! [`Cli`]'s derive. Each argument with a long name gets
//!
//! - an environment variable, `HTTPSERVER_` and the long name upper-cased
//!   with `_` for `-` (clap's own `env`, so `--help` names it);
//! - a key in the `--config` file, the long name with `_` for `-`, whose
//!   value becomes the argument's default (so the command line and the
//!   environment still win over it).
//!
//! A flag added to [`Cli`] is covered without any code here. Keys are flat:
//! a repeatable flag (`-H`/`--header`, `--trusted-proxies`) takes a TOML
//! array, and a value given on a higher layer replaces the whole array.
//! Booleans take `true`/`false`, in the file and in the environment.
//!
//! Each layer's values are checked on their own, with the argument's own
//! value parser, before the layers are merged: an error can then name its
//! source and key (`httpserver.toml:12: unknown key "max_conections"`,
//! `HTTPSERVER_PORT: not a valid port: "80a" (...)`).

use super::error::long_flag;
use super::{Cli, ConfigError};
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The prefix of every flag's environment variable.
pub const ENV_PREFIX: &str = "HTTPSERVER_";

/// The container platforms' port variable, used when neither the command
/// line, `HTTPSERVER_PORT` nor the file gives a port.
pub const PORT_VARIABLE: &str = "PORT";

/// Flags that choose what to do with the configuration, not part of it: no
/// file key (`config` does have an environment variable).
const NOT_IN_FILE: [&str; 3] = ["config", "check-config", "print-config"];

/// Flags that do something once instead of serving: no environment
/// variable either.
const ACTIONS: [&str; 2] = ["check-config", "print-config"];

/// The flags of this module, flattened into [`Cli`].
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceFlags {
    /// Read flag values from this TOML file (keys: the long flag names with
    /// `_` for `-`); the command line and HTTPSERVER_* variables win over it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check the configuration (file, environment, flags, root, addresses)
    /// and exit: 0 if valid, 2 if not
    #[arg(long)]
    pub check_config: bool,
    /// Print the effective configuration as TOML (which --config accepts)
    /// and exit
    #[arg(long)]
    pub print_config: bool,
}

/// A mistake in one of the sources, reported as one line; exit code 2.
#[derive(Debug)]
pub enum SourceError {
    /// Named by source and key (a file line, an environment variable).
    Source(String),
    /// clap's own error for the command line (or `--help`, `--version`).
    Clap(clap::Error),
}

impl From<clap::Error> for SourceError {
    fn from(e: clap::Error) -> Self {
        SourceError::Clap(e)
    }
}

/// The flags parsed from every source, and where each value came from.
#[derive(Debug)]
pub struct Layered {
    pub cli: Cli,
    pub origins: Origins,
}

/// Where every argument's value came from: what an error needs to name its
/// source, and what `--print-config` prints.
#[derive(Debug)]
pub struct Origins {
    command: Command,
    matches: ArgMatches,
    /// The `--config` file as shown in messages, and the line of each key
    /// it set, by argument id.
    file: Option<(String, BTreeMap<String, usize>)>,
    /// The port came from `PORT`.
    platform_port: bool,
}

/// Where one argument's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--long` on the command line.
    CommandLine,
    /// An `HTTPSERVER_*` variable, named.
    Environment(String),
    /// `PORT`, the container platforms' variable.
    PlatformPort,
    /// A key of the `--config` file, at `file:line`.
    File { place: String, key: String },
    /// Nobody set it: clap's default.
    Default,
}

/// The file key of an argument: its long name with `_` for `-`. None for
/// arguments that have no place in a file.
pub fn file_key(arg: &Arg) -> Option<String> {
    let long = arg.get_long()?;
    if NOT_IN_FILE.contains(&long) || is_builtin(arg) {
        return None;
    }
    Some(long.replace('-', "_"))
}

/// The environment variable of an argument. None for the two that are
/// actions, not settings (a leftover `HTTPSERVER_PRINT_CONFIG` would stop
/// a server from serving).
pub fn env_name(arg: &Arg) -> Option<String> {
    let long = arg.get_long()?;
    if is_builtin(arg) || ACTIONS.contains(&long) {
        return None;
    }
    Some(format!(
        "{ENV_PREFIX}{}",
        long.replace('-', "_").to_uppercase()
    ))
}

fn is_builtin(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Help | ArgAction::Version)
}

fn is_switch(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
}

fn is_repeatable(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Append)
}

/// [`Cli`]'s command with an environment variable on every flag.
pub fn command() -> Command {
    Cli::command().mut_args(|arg| match env_name(&arg) {
        Some(name) => arg.env(name),
        None => arg,
    })
}

/// Parse `args` (with the program name first) against every source.
pub fn parse<I, T>(args: I) -> Result<Layered, SourceError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = command();
    check_environment(&command)?;
    // A first pass finds --config (and answers --help, and reports command
    // line mistakes the way clap does).
    let first = command.clone().try_get_matches_from(&args)?;
    let (mut defaults, file) = match first.get_one::<PathBuf>("config") {
        Some(path) => {
            let (values, lines) = read_file(&command, path)?;
            (values, Some((path.display().to_string(), lines)))
        }
        None => (BTreeMap::new(), None),
    };
    let port_given = defaults.contains_key("port")
        || first.value_source("port") == Some(clap::parser::ValueSource::CommandLine);
    let platform_port = match platform_port(&command, port_given)? {
        Some(port) => {
            defaults.insert("port".to_owned(), vec![port]);
            true
        }
        None => false,
    };
    // `mut_args` keeps the arguments in order (for --print-config).
    command = command.mut_args(|arg| match defaults.get(arg.get_id().as_str()) {
        Some(values) => arg.default_values(values.clone()),
        None => arg,
    });
    let matches = command.clone().try_get_matches_from(&args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok(Layered {
        cli,
        origins: Origins {
            command,
            matches,
            file,
            platform_port,
        },
    })
}

/// Check every `HTTPSERVER_*` variable that is set, with its flag's parser.
fn check_environment(command: &Command) -> Result<(), SourceError> {
    for arg in command.get_arguments() {
        let Some(name) = env_name(arg) else { continue };
        let Some(value) = std::env::var_os(&name) else {
            continue;
        };
        let alone = Command::new("httpserver")
            .no_binary_name(true)
            .arg(arg.clone());
        if let Err(e) = alone.try_get_matches_from(Vec::<OsString>::new()) {
            let key = arg.get_long().unwrap_or_default();
            return Err(SourceError::Source(format!(
                "{name}: not a valid {key}: {:?} ({})",
                value.to_string_lossy(),
                reason(&e)
            )));
        }
    }
    Ok(())
}

/// `PORT`, when no port is given otherwise (`port_given`: on the command
/// line or in the file; `HTTPSERVER_PORT` is looked at here), checked as a
/// port. A `PORT` that is not read is never an error.
fn platform_port(command: &Command, port_given: bool) -> Result<Option<String>, SourceError> {
    let Some(port_arg) = command.get_arguments().find(|a| a.get_id() == "port") else {
        return Ok(None);
    };
    let own = env_name(port_arg).unwrap_or_default();
    if port_given || std::env::var_os(own).is_some() {
        return Ok(None);
    }
    let Some(value) = std::env::var_os(PORT_VARIABLE) else {
        return Ok(None);
    };
    let value = value.to_string_lossy().into_owned();
    let alone = Command::new("httpserver").no_binary_name(true).arg(
        port_arg
            .clone()
            .env(None::<&str>)
            .default_value(value.clone()),
    );
    match alone.try_get_matches_from(Vec::<OsString>::new()) {
        Ok(_) => Ok(Some(value)),
        Err(e) => Err(SourceError::Source(format!(
            "{PORT_VARIABLE}: not a valid port: {value:?} ({})",
            reason(&e)
        ))),
    }
}

/// What a value parser said, without clap's framing.
fn reason(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    if let Some(source) = std::error::Error::source(e) {
        return source.to_string();
    }
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        return format!("expected one of: {}", valid.join(", "));
    }
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// The values a `--config` file gives, by argument id, each checked with
/// its argument's parser; and the line of each.
#[allow(clippy::type_complexity)]
fn read_file(
    command: &Command,
    path: &Path,
) -> Result<(BTreeMap<String, Vec<String>>, BTreeMap<String, usize>), SourceError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SourceError::Source(format!("{shown}: cannot read: {e}")))?;
    let at = |span: Option<std::ops::Range<usize>>| -> String {
        match span {
            Some(span) => format!("{shown}:{}", line_of(&text, span.start)),
            None => shown.to_string(),
        }
    };
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> = toml::from_str(&text)
        .map_err(|e| SourceError::Source(format!("{}: {}", at(e.span()), e.message().trim())))?;
    let mut by_key: BTreeMap<String, &Arg> = BTreeMap::new();
    for arg in command.get_arguments() {
        if let Some(key) = file_key(arg) {
            by_key.insert(key, arg);
        }
    }
    // In the file's order, so that the first mistake is reported first.
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    let mut defaults = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for (key, value) in entries {
        let place = at(Some(key.span()));
        let Some(arg) = by_key.get(key.get_ref().as_str()) else {
            return Err(SourceError::Source(format!(
                "{place}: unknown key {:?}",
                key.get_ref()
            )));
        };
        let values = toml_values(arg, value.get_ref())
            .map_err(|e| SourceError::Source(format!("{place}: {}: {e}", key.get_ref())))?;
        let alone = Command::new("httpserver").no_binary_name(true).arg(
            (*arg)
                .clone()
                .env(None::<&str>)
                .default_values(values.clone()),
        );
        if let Err(e) = alone.try_get_matches_from(Vec::<OsString>::new()) {
            return Err(SourceError::Source(format!(
                "{place}: not a valid {}: {} ({})",
                key.get_ref(),
                value.get_ref(),
                reason(&e)
            )));
        }
        defaults.insert(arg.get_id().to_string(), values);
        lines.insert(arg.get_id().to_string(), line_of(&text, key.span().start));
    }
    Ok((defaults, lines))
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A TOML value as the strings clap would have read on a command line.
fn toml_values(arg: &Arg, value: &toml::Value) -> Result<Vec<String>, String> {
    match value {
        toml::Value::Array(items) if is_repeatable(arg) => items.iter().map(scalar).collect(),
        toml::Value::Array(_) => Err("takes one value, not an array".to_owned()),
        other => scalar(other).map(|one| vec![one]),
    }
}

fn scalar(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(_) => Err("a date is not a valid value".to_owned()),
        toml::Value::Array(_) => Err("arrays cannot be nested".to_owned()),
        toml::Value::Table(_) => Err("tables are not supported: keys are flat".to_owned()),
    }
}

/// A flag's value as TOML: a boolean for a switch, a number when the text
/// is one (and prints back the same), a string otherwise.
pub fn toml_value(arg: &Arg, text: &str) -> toml::Value {
    if is_switch(arg) {
        if let Ok(b) = text.parse::<bool>() {
            return toml::Value::Boolean(b);
        }
    }
    if let Ok(i) = text.parse::<i64>() {
        if i.to_string() == text {
            return toml::Value::Integer(i);
        }
    }
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() && f.to_string() == text {
            return toml::Value::Float(f);
        }
    }
    toml::Value::String(text.to_owned())
}

/// One line of TOML, `key = value`, for an argument and its values.
pub fn toml_line(arg: &Arg, key: &str, values: &[String]) -> String {
    let value = if is_repeatable(arg) {
        toml::Value::Array(values.iter().map(|v| toml_value(arg, v)).collect())
    } else {
        toml_value(arg, values.first().map_or("", String::as_str))
    };
    format!("{key} = {value}")
}

impl Origins {
    /// Where the value of argument `id` came from.
    pub fn origin(&self, id: &str) -> Origin {
        use clap::parser::ValueSource;
        let arg = self.command.get_arguments().find(|a| a.get_id() == id);
        match self.matches.value_source(id) {
            Some(ValueSource::CommandLine) => Origin::CommandLine,
            Some(ValueSource::EnvVariable) => {
                Origin::Environment(arg.and_then(env_name).unwrap_or_default())
            }
            // The file's values and PORT reach clap as defaults.
            _ if id == "port" && self.platform_port => Origin::PlatformPort,
            _ => match (&self.file, arg.and_then(file_key)) {
                (Some((shown, lines)), Some(key)) if lines.contains_key(id) => Origin::File {
                    place: format!("{shown}:{}", lines[id]),
                    key,
                },
                _ => Origin::Default,
            },
        }
    }

    /// A configuration mistake as one line, naming where each value it is
    /// about came from: `--root: ...`, `HTTPSERVER_ROOT: ...`,
    /// `httpserver.toml:3: root: ...`, `--root (default): ...`. Another
    /// argument the message names is named by its own source when it was
    /// set, and otherwise the way the faulty value's source would set it.
    pub fn describe(&self, error: &ConfigError) -> String {
        let Some(at) = error.at() else {
            return error.to_string();
        };
        let origin = self.origin(at);
        let message = error.message_with(|id| self.name(id, &origin));
        let place = match &origin {
            Origin::CommandLine => long_flag(at),
            Origin::Environment(name) => name.clone(),
            Origin::PlatformPort => PORT_VARIABLE.to_owned(),
            Origin::File { place, key } => format!("{place}: {key}"),
            Origin::Default => format!("{} (default)", long_flag(at)),
        };
        format!("{place}: {message}")
    }

    /// How a message names argument `id`, given the `beside` origin of
    /// the value at fault.
    fn name(&self, id: &str, beside: &Origin) -> String {
        let arg = self.command.get_arguments().find(|a| a.get_id() == id);
        match self.origin(id) {
            Origin::CommandLine => long_flag(id),
            Origin::Environment(name) => name,
            Origin::PlatformPort => PORT_VARIABLE.to_owned(),
            Origin::File { place, key } => format!("{key} ({place})"),
            Origin::Default => match beside {
                Origin::Environment(_) => arg.and_then(env_name),
                Origin::File { .. } => arg.and_then(file_key),
                _ => None,
            }
            .unwrap_or_else(|| long_flag(id)),
        }
    }

    /// The effective configuration as TOML that `--config` reads back:
    /// every key, in `--help` order; a flag with no value is a comment.
    pub fn to_toml(&self) -> String {
        let mut out = String::from("# httpserver --print-config\n");
        for arg in self.command.get_arguments() {
            let Some(key) = file_key(arg) else { continue };
            let values: Vec<String> = self
                .matches
                .get_raw(arg.get_id().as_str())
                .map(|raw| raw.map(|v| v.to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            if values.is_empty() && !is_repeatable(arg) {
                out.push_str(&format!("# {key} is not set\n"));
            } else {
                out.push_str(&toml_line(arg, &key, &values));
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commented example at the repository root lists every key, each
    /// with clap's default; a flag added without its key fails here.
    #[test]
    fn the_example_file_matches_the_flags() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("httpserver.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let example: toml::Table = toml::from_str(&text).unwrap();
        let mut command = command();
        // Built, so that switches have their implicit `false` default.
        command.build();
        let mut expected = Vec::new();
        for arg in command.get_arguments() {
            let Some(key) = file_key(arg) else { continue };
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if defaults.is_empty() && !is_repeatable(arg) {
                // No default: the example names the key in a comment.
                assert!(
                    text.lines().any(|l| l.starts_with(&format!("# {key} = "))),
                    "httpserver.example.toml has no `# {key} = ...` line for --{}",
                    arg.get_long().unwrap()
                );
                assert!(!example.contains_key(&key), "{key} has no default to show");
            } else {
                let line = toml_line(arg, &key, &defaults);
                let want: toml::Table = toml::from_str(&line).unwrap();
                assert_eq!(
                    example.get(&key),
                    want.get(&key),
                    "httpserver.example.toml: {key} must be `{line}` (clap's default)"
                );
            }
            expected.push(key);
        }
        for key in example.keys() {
            assert!(expected.contains(key), "example key {key:?} is not a flag");
        }
    }

    #[test]
    fn keys_and_variables_follow_the_long_names() {
        let command = command();
        let header = command
            .get_arguments()
            .find(|a| a.get_long() == Some("header"))
            .unwrap();
        assert_eq!(file_key(header).as_deref(), Some("header"));
        assert_eq!(env_name(header).as_deref(), Some("HTTPSERVER_HEADER"));
        let body = command
            .get_arguments()
            .find(|a| a.get_long() == Some("max-body-bytes"))
            .unwrap();
        assert_eq!(file_key(body).as_deref(), Some("max_body_bytes"));
        assert_eq!(env_name(body).as_deref(), Some("HTTPSERVER_MAX_BODY_BYTES"));
        assert!(command
            .get_arguments()
            .filter_map(file_key)
            .all(|k| k != "config" && k != "help"));
    }

    #[test]
    fn values_print_as_their_toml_types() {
        let command = command();
        let find = |long| {
            command
                .get_arguments()
                .find(|a| a.get_long() == Some(long))
                .unwrap()
                .clone()
        };
        assert_eq!(
            toml_line(&find("port"), "port", &["80".into()]),
            "port = 80"
        );
        assert_eq!(
            toml_line(&find("listing"), "listing", &["false".into()]),
            "listing = false"
        );
        assert_eq!(
            toml_line(&find("header"), "header", &["X-A: 1".into()]),
            r#"header = ["X-A: 1"]"#
        );
        assert_eq!(
            toml_line(&find("idle-timeout"), "idle_timeout", &["2.5".into()]),
            "idle_timeout = 2.5"
        );
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
