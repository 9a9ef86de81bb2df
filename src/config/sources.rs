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
//! A flag added to [`Cli`] is covered without any code here. A repeatable
//! flag (`--trusted-proxies`) takes a TOML array, and a value given on a
//! higher layer replaces the whole array. Booleans take `true`/`false`, in
//! the file and in the environment. A few flags also have a table where it
//! reads better (`[headers]`, `[cors]`: [`file_tables`]).
//!
//! Each layer's values are checked on their own, with the argument's own
//! value parser, before the layers are merged: an error can then name its
//! source and key (`httpserver.toml:12: unknown key "max_conections"`,
//! `HTTPSERVER_PORT: not a valid port: "80a" (...)`). [`Origins`] keeps
//! where each merged value came from, so that a mistake found later
//! ([`ConfigError`]) is named the same way.

use super::error::long_flag;
use super::file_tables::{self, FileTable, Layout, FILE_TABLES};
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
    /// `_` for `-`; tables [headers] Name = "value" and [cors] origin); the
    /// command line and HTTPSERVER_* variables win over it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check the configuration (file, environment, flags, root, --spa file,
    /// access-log file, pid-file directory, addresses: this host's, not
    /// overlapping; ports are not tried) and exit: 0 if valid, 2 if not
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
    /// The `--config` file as shown in messages, and the line and key of
    /// each value it set, by argument id.
    file: Option<(String, FileKeys)>,
    /// The port came from `PORT`.
    platform_port: bool,
}

/// By argument id: the line of the file that set it, and the key as the
/// file wrote it (`max_body_bytes`, `headers`, `cors.origin`).
type FileKeys = BTreeMap<String, (usize, String)>;

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
            // A file that cannot be read is named by where its path came
            // from, like any other value.
            let variable = command
                .get_arguments()
                .find(|a| a.get_id() == "config")
                .and_then(env_name);
            let given = match (first.value_source("config"), variable) {
                (Some(clap::parser::ValueSource::EnvVariable), Some(name)) => name,
                _ => "--config".to_owned(),
            };
            let file = read_file(&command, path, &given)?;
            (file.values, Some((path.display().to_string(), file.keys)))
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

/// What a `--config` file gives: values by argument id, each checked with
/// its argument's parser, and where each was set.
#[derive(Debug, Default)]
struct FileValues {
    values: BTreeMap<String, Vec<String>>,
    keys: FileKeys,
}

impl FileValues {
    /// Record `values` for `arg`, set by `key` at `line`; a flag set twice
    /// (a flat key and its table) is a mistake.
    fn set(
        &mut self,
        arg: &Arg,
        values: Vec<String>,
        place: &str,
        line: usize,
        key: String,
    ) -> Result<(), SourceError> {
        let id = arg.get_id().to_string();
        if let Some((first, other)) = self.keys.get(&id) {
            return Err(SourceError::Source(format!(
                "{place}: {key}: --{} is already set by {other} at line {first}; keep one",
                arg.get_long().unwrap_or_default()
            )));
        }
        self.values.insert(id.clone(), values);
        self.keys.insert(id, (line, key));
        Ok(())
    }
}

/// Check `values` with `arg`'s own parser, as clap would read them.
fn check_values(arg: &Arg, values: &[String]) -> Result<(), clap::Error> {
    let alone = Command::new("httpserver").no_binary_name(true).arg(
        arg.clone()
            .env(None::<&str>)
            .default_values(values.to_vec()),
    );
    alone.try_get_matches_from(Vec::<OsString>::new()).map(drop)
}

/// A file's text and how messages name its places.
struct FileText {
    shown: String,
    text: String,
}

impl FileText {
    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        line_of(&self.text, offset)
    }

    /// `file:line` of a byte offset.
    fn place(&self, offset: usize) -> String {
        format!("{}:{}", self.shown, self.line(offset))
    }
}

/// Read and check a `--config` file: flat keys and the tables of
/// [`file_tables`]. `given` names where the path came from.
fn read_file(command: &Command, path: &Path, given: &str) -> Result<FileValues, SourceError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SourceError::Source(format!("{given}: cannot read {shown}: {e}")))?;
    let file_text = FileText { shown, text };
    let syntax = |e: toml::de::Error| {
        let place = match e.span() {
            Some(span) => file_text.place(span.start),
            None => file_text.shown.clone(),
        };
        let message = e.message().trim();
        // toml's message does not say which key; its span covers it.
        let key = e
            .span()
            .and_then(|span| file_text.text.get(span))
            .map(str::trim)
            .filter(|key| message == "duplicate key" && !key.is_empty());
        match key {
            Some(key) => SourceError::Source(format!("{place}: duplicate key {key:?}")),
            None => SourceError::Source(format!("{place}: {message}")),
        }
    };
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
        toml::from_str(&file_text.text).map_err(syntax)?;
    // The same document with the place of every key, tables' included.
    let document = toml::de::DeTable::parse(&file_text.text).map_err(syntax)?;
    let mut by_key: BTreeMap<String, &Arg> = BTreeMap::new();
    for arg in command.get_arguments() {
        if let Some(key) = file_key(arg) {
            by_key.insert(key, arg);
        }
    }
    // In the file's order, so that the first mistake is reported first.
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    let mut file = FileValues::default();
    for (key, value) in entries {
        let start = key.span().start;
        let place = file_text.place(start);
        let name = key.get_ref().as_str();
        if let (toml::Value::Table(inner), Some(file_table)) =
            (value.get_ref(), file_tables::table(name))
        {
            // The table's keys in the file's order, with their offsets.
            let mut keys: Vec<(&str, usize)> = document
                .get_ref()
                .iter()
                .filter(|(k, _)| k.get_ref() == name)
                .filter_map(|(_, v)| match v.get_ref() {
                    toml::de::DeValue::Table(t) => Some(t),
                    _ => None,
                })
                .flat_map(|t| {
                    t.iter()
                        .map(|(k, _)| (k.get_ref().as_ref(), k.span().start))
                })
                .collect();
            keys.sort_by_key(|(_, start)| *start);
            let table_at = (start, place.as_str());
            read_table(
                command, &file_text, file_table, table_at, inner, &keys, &mut file,
            )?;
            continue;
        }
        let Some(arg) = by_key.get(name) else {
            // A flag's name with its dashes: the key has underscores.
            let underscored = name.replace('-', "_");
            let hint = match by_key.contains_key(&underscored) {
                true => format!(" (keys use _ where flags use -: {underscored:?})"),
                false => String::new(),
            };
            return Err(SourceError::Source(format!(
                "{place}: unknown key {name:?}{hint}"
            )));
        };
        let values = read_value(arg, name, value.get_ref(), &place)?;
        file.set(arg, values, &place, file_text.line(start), name.to_owned())?;
    }
    Ok(file)
}

/// Read one of [`file_tables`]: its entries `keys` (name, offset, in the
/// file's order) with their values in `inner`; `table_at` is the offset and
/// place of the table's own key.
fn read_table(
    command: &Command,
    file_text: &FileText,
    file_table: &FileTable,
    table_at: (usize, &str),
    inner: &toml::Table,
    keys: &[(&str, usize)],
    file: &mut FileValues,
) -> Result<(), SourceError> {
    let by_id = |id: &str| command.get_arguments().find(|a| a.get_id() == id);
    let name = file_table.name;
    match &file_table.layout {
        Layout::Fields { id } => {
            let arg = by_id(id).expect("a file table names an argument");
            let mut fields = Vec::new();
            for &(field, start) in keys {
                let place = file_text.place(start);
                let given = &inner[field];
                let one = scalar(given).map_err(|_| {
                    SourceError::Source(format!(
                        "{place}: {name}.{field}: takes one string, the field's value"
                    ))
                })?;
                let flag_value = file_tables::field_value(field, &one);
                if let Err(e) = check_values(arg, std::slice::from_ref(&flag_value)) {
                    return Err(SourceError::Source(format!(
                        "{place}: not a valid {name} entry: {} = {given} ({})",
                        file_tables::toml_key(field),
                        reason(&e)
                    )));
                }
                fields.push(flag_value);
            }
            // An empty table gives what the default gives, no field; it
            // sets nothing, so that it may stand beside the flat key
            // (`--print-config` prints both when it must use the flat key).
            if fields.is_empty() {
                return Ok(());
            }
            let (start, place) = table_at;
            file.set(arg, fields, place, file_text.line(start), name.to_owned())
        }
        Layout::Keys(known) => {
            for &(inner_key, start) in keys {
                let place = file_text.place(start);
                let dotted = format!("{name}.{inner_key}");
                let Some(arg) = known
                    .iter()
                    .find(|(k, _)| *k == inner_key)
                    .and_then(|(_, id)| by_id(id))
                else {
                    return Err(SourceError::Source(format!(
                        "{place}: unknown key {dotted:?}"
                    )));
                };
                let values = read_value(arg, &dotted, &inner[inner_key], &place)?;
                file.set(arg, values, &place, file_text.line(start), dotted)?;
            }
            Ok(())
        }
    }
}

/// The values of `arg` that `key = value` gives at `place`, checked.
fn read_value(
    arg: &Arg,
    key: &str,
    value: &toml::Value,
    place: &str,
) -> Result<Vec<String>, SourceError> {
    let values =
        toml_values(arg, value).map_err(|e| SourceError::Source(format!("{place}: {key}: {e}")))?;
    if let Err(e) = check_values(arg, &values) {
        return Err(SourceError::Source(format!(
            "{place}: not a valid {key}: {value} ({})",
            reason(&e)
        )));
    }
    Ok(values)
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
        toml::Value::Table(_) => Err("takes a value, not a table".to_owned()),
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
            _ => match &self.file {
                Some((shown, keys)) => match keys.get(id) {
                    Some((line, key)) => Origin::File {
                        place: format!("{shown}:{line}"),
                        key: key.clone(),
                    },
                    None => Origin::Default,
                },
                None => Origin::Default,
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
    /// every flat key, in `--help` order, then the tables of
    /// [`file_tables`]; a flag with no value is a comment.
    pub fn to_toml(&self) -> String {
        let mut out = String::from("# httpserver --print-config\n");
        for arg in self.command.get_arguments() {
            let Some(key) = file_key(arg) else { continue };
            match file_tables::place_of(arg.get_id().as_str()) {
                // Fields whose names repeat cannot be one table: TOML keys
                // are unique. The flat key keeps them all, in order.
                Some((_, None)) if repeats_a_name(&self.raw_values(arg)) => {}
                Some(_) => continue,
                None => {}
            }
            out.push_str(&entry_line(arg, &key, &self.raw_values(arg)));
        }
        for table in FILE_TABLES {
            out.push_str(&format!("\n[{}]\n", table.name));
            match &table.layout {
                Layout::Fields { id } => {
                    let Some(arg) = self.argument(id) else {
                        continue;
                    };
                    let values = self.raw_values(arg);
                    if repeats_a_name(&values) {
                        out.push_str("# a name repeats: the fields are in the flat key above\n");
                        continue;
                    }
                    for flag_value in values {
                        let (name, value) = file_tables::field_entry(&flag_value);
                        let value = toml::Value::String(value.to_owned());
                        out.push_str(&format!("{} = {value}\n", file_tables::toml_key(name)));
                    }
                }
                Layout::Keys(keys) => {
                    for (key, id) in *keys {
                        let Some(arg) = self.argument(id) else {
                            continue;
                        };
                        out.push_str(&entry_line(arg, key, &self.raw_values(arg)));
                    }
                }
            }
        }
        out
    }

    fn argument(&self, id: &str) -> Option<&Arg> {
        self.command.get_arguments().find(|a| a.get_id() == id)
    }

    /// The values in force for `arg`, as clap read them.
    fn raw_values(&self, arg: &Arg) -> Vec<String> {
        self.matches
            .get_raw(arg.get_id().as_str())
            .map(|raw| raw.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    }
}

/// Whether two of these `--header` values have the same name (the same
/// TOML key).
fn repeats_a_name(flag_values: &[String]) -> bool {
    let mut names: Vec<&str> = flag_values
        .iter()
        .map(|v| file_tables::field_entry(v).0)
        .collect();
    names.sort_unstable();
    names.windows(2).any(|pair| pair[0] == pair[1])
}

/// `key = value` and a newline, or a comment for a flag with no value.
fn entry_line(arg: &Arg, key: &str, values: &[String]) -> String {
    if values.is_empty() && !is_repeatable(arg) {
        format!("# {key} is not set\n")
    } else {
        format!("{}\n", toml_line(arg, key, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commented example at the repository root lists every key, each
    /// with clap's default, flat or in its table; a flag added without its
    /// key fails here.
    #[test]
    fn the_example_file_matches_the_flags() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("httpserver.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let example: toml::Table = toml::from_str(&text).unwrap();
        let mut command = command();
        // Built, so that switches have their implicit `false` default.
        command.build();
        let mut expected: Vec<String> = Vec::new();
        let empty = toml::Table::new();
        let table_of = |name: &str| -> &toml::Table {
            match example.get(name) {
                Some(toml::Value::Table(t)) => t,
                _ => panic!("httpserver.example.toml has no [{name}] table"),
            }
        };
        for arg in command.get_arguments() {
            let Some(flat_key) = file_key(arg) else {
                continue;
            };
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            // Where the example must show it: flat, or in a table.
            let (within, key) = match file_tables::place_of(arg.get_id().as_str()) {
                None => (&example, flat_key.clone()),
                Some((table, Some(key))) => (table_of(table.name), key.to_owned()),
                Some((table, None)) => {
                    // A table of fields: none by default.
                    assert!(defaults.is_empty(), "--{flat_key} has defaults");
                    assert_eq!(
                        table_of(table.name),
                        &empty,
                        "[{}] lists no field",
                        table.name
                    );
                    assert!(
                        !example.contains_key(&flat_key),
                        "{flat_key}: use [{}]",
                        table.name
                    );
                    continue;
                }
            };
            if std::ptr::eq(within, &example) {
                expected.push(key.clone());
            } else {
                // Shown in its table, so not as a flat key too.
                let flat = example.get(&flat_key);
                assert!(
                    flat.is_none_or(toml::Value::is_table),
                    "{flat_key}: use its table"
                );
            }
            if defaults.is_empty() && !is_repeatable(arg) {
                // No default: the example names the key in a comment.
                assert!(
                    text.lines().any(|l| l.starts_with(&format!("# {key} = "))),
                    "httpserver.example.toml has no `# {key} = ...` line for --{}",
                    arg.get_long().unwrap()
                );
                assert!(!within.contains_key(&key), "{key} has no default to show");
            } else {
                let line = toml_line(arg, &key, &defaults);
                let want: toml::Table = toml::from_str(&line).unwrap();
                assert_eq!(
                    within.get(&key),
                    want.get(&key),
                    "httpserver.example.toml: {key} must be `{line}` (clap's default)"
                );
            }
        }
        for (key, value) in &example {
            if let (Some(table), toml::Value::Table(inner)) = (file_tables::table(key), value) {
                if let Layout::Keys(known) = &table.layout {
                    for inner_key in inner.keys() {
                        assert!(
                            known.iter().any(|(k, _)| k == inner_key),
                            "{key}.{inner_key}"
                        );
                    }
                }
                continue;
            }
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
