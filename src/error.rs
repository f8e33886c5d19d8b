//! The error type of the `sstable-lake` crate: every failure names the file it is about.

use std::path::PathBuf;

/// Errors of discovery, planning and the commands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file's bytes (or name) did not parse.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What the parser found.
        source: sstable_format::Error,
    },
    /// The inputs given to discovery are unusable (none given, or not files or directories).
    #[error("{}: {message}", path.display())]
    Discovery {
        /// The input concerned.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Invalid command-line arguments.
    #[error("{0}")]
    Usage(String),
    /// No SSTable was found under the inputs.
    #[error("no SSTables found under {}", display_paths(.0))]
    NothingFound(Vec<PathBuf>),
    /// Writing the output failed.
    #[error("writing the output: {0}")]
    Stdout(std::io::Error),
    /// The schema is missing, or disagrees with the SSTables.
    #[error("{0}")]
    Schema(String),
    /// A 2.x set for which no schema source exists (it stores no column names or types).
    #[error("{0}")]
    MissingSchema(String),
    /// Valid input that this version does not handle yet.
    #[error("{0}")]
    Unsupported(String),
    /// A set lacks a component it needs.
    #[error("{set}: missing {component}")]
    MissingComponent {
        /// The set (its Data.db path or base name).
        set: String,
        /// The missing component.
        component: &'static str,
    },
    /// `export` could not write a value or a file.
    #[error("export: {0}")]
    Export(String),
    /// The destination store failed.
    #[error("{path}: {message}")]
    Store {
        /// The object or directory.
        path: String,
        /// What the store said.
        message: String,
    },
    /// A decoding error met while reading a table's rows, before the caller adds the path of
    /// the SSTable it is about (see `read::open::TableInput::name_failed_set`).
    #[error("{0}")]
    Decode(#[source] sstable_format::Error),
    /// Several sets failed; the first error is shown.
    #[error("{count} SSTable sets failed; first: {first}")]
    Several {
        /// How many failed.
        count: usize,
        /// The first failure.
        first: Box<Error>,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A decoding error met while reading rows (the caller adds the file, see [`Error::Decode`]).
impl From<sstable_format::Error> for Error {
    fn from(e: sstable_format::Error) -> Self {
        Error::Decode(e)
    }
}

impl Error {
    /// Whether this is a write to standard output whose reader has gone (`dump ... | head`):
    /// not a failure of the run.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Stdout(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            Error::Several { first, .. } => first.is_broken_pipe(),
            _ => false,
        }
    }

    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file() {
        let e = Error::io(
            "/x/nb-1-big-Data.db",
            std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(e.to_string(), "/x/nb-1-big-Data.db: gone");
        let e = Error::Format {
            path: "/x/pa-1-big-Data.db".into(),
            source: "pa".parse::<sstable_format::Version>().unwrap_err(),
        };
        assert!(e
            .to_string()
            .starts_with("/x/pa-1-big-Data.db: unsupported"));
    }
}
