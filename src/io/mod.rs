//! Where input files live and how their bytes are read: local paths (memory-mapped), or
//! objects under `s3://BUCKET/PREFIX` and `gs://BUCKET/PREFIX` read in place. The bottom of
//! the pipeline: it knows nothing of SSTables.
//!
//! * Paths stay [`PathBuf`]s everywhere (discovery, sets, error messages): an object is the
//!   path `s3://bucket/key` or `gs://bucket/key`, and [`Location::of`] tells the two apart by
//!   the scheme. `Path::parent`, `file_name` and `join` work on such paths as on local ones,
//!   so discovery classifies an object listing with the same rules as a directory walk.
//! * One [`Io`] handle per run, made by `main` from the validated options and passed down to
//!   every stage that reads (there is no process-wide state). It builds the object store
//!   client of each bucket once ([`remote::build_store`], shared with `export`'s
//!   destinations) from the `--endpoint`, `--region`, `--allow-http`, `--s3-url-style`,
//!   `--gcs-service-account` flags and each cloud's standard credential chain; requests are
//!   retried by object_store ([`remote::retry_config`]). It owns the run's one async runtime,
//!   on which both the input reads and `export`'s uploads run.
//! * Small components (TOC, Statistics, CompressionInfo, CRC, Digest, Index, Summary,
//!   Partitions, Rows, `schema.cql`, `manifest.json`, transaction logs) are fetched whole
//!   into memory ([`Io::read_whole`]): Index.db and Partitions.db are therefore held in memory.
//! * `Data.db` is never downloaded whole: a [`remote::BlockReader`] reads it with ranged GETs
//!   of `--read-block-size` bytes, `--read-ahead` further blocks being fetched on the
//!   runtime's worker threads while the current one is decoded. Memory per open reader is at
//!   most block size x (1 + read-ahead), plus one chunk when a chunk straddles two blocks.

pub mod remote;
pub mod secrets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::SystemTime;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::config::{ReadOptions, RemoteStore, StoreOptions};
use crate::error::Error;

use remote::{build_store, retry_config, store_err, Object, RemoteFile};

/// An input path: a local file or directory, or an object (prefix) of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location<'a> {
    /// A local path.
    Local(&'a Path),
    /// `s3://bucket/key` or `gs://bucket/key` (the key may be empty or a prefix).
    Object {
        /// Which store.
        store: RemoteStore,
        /// Bucket.
        bucket: &'a str,
        /// Key, without leading or trailing `/`.
        key: &'a str,
    },
}

impl<'a> Location<'a> {
    /// Where `path` is: by its `s3://` or `gs://` scheme, else local.
    pub fn of(path: &'a Path) -> Location<'a> {
        let Some(s) = path.to_str() else {
            return Location::Local(path);
        };
        let (store, rest) = if let Some(r) = s.strip_prefix("s3://") {
            (RemoteStore::S3, r)
        } else if let Some(r) = s.strip_prefix("gs://") {
            (RemoteStore::Gcs, r)
        } else {
            return Location::Local(path);
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        Location::Object {
            store,
            bucket,
            key: key.trim_matches('/'),
        }
    }

    /// Whether this is an object.
    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Object { .. })
    }
}

/// Whether `path` names an object (`s3://`, `gs://`).
pub fn is_remote(path: &Path) -> bool {
    Location::of(path).is_remote()
}

/// The object path of a plain `/`-separated key (`ks/tablé/_SUCCESS`), for inputs and for
/// `export`'s destination alike.
///
/// `ObjectPath::from` percent-encodes every byte outside ASCII, so `tablé` became the key (and
/// local directory) `tabl%C3%A9`, and an encoded path passed to it again `tabl%25C3%25A9`
/// (issue 11.9). Here a segment is kept as it is when it is a valid part
/// (`PathPart::parse`: no control character, not `.` or `..`): keys and directories carry
/// the names as written, and Hive's own escapes (`%3A`) are not escaped twice. Only an invalid
/// segment is percent-encoded.
pub fn object_path(plain: impl AsRef<str>) -> ObjectPath {
    use object_store::path::PathPart;
    ObjectPath::from_iter(
        plain
            .as_ref()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| PathPart::parse(s).unwrap_or_else(|_| PathPart::from(s))),
    )
}

/// The URL of an object.
fn url(store: RemoteStore, bucket: &str, key: &str) -> String {
    let scheme = match store {
        RemoteStore::S3 => "s3",
        RemoteStore::Gcs => "gs",
    };
    if key.is_empty() {
        format!("{scheme}://{bucket}")
    } else {
        format!("{scheme}://{bucket}/{key}")
    }
}

/// The I/O of one run: how object stores are reached and read, their clients (built on
/// first use, one per bucket), the sizes and modification times seen in listings, and the
/// async runtime their requests run on. Cheap to clone (shared).
#[derive(Clone)]
pub struct Io {
    shared: Arc<Shared>,
}

struct Shared {
    store: StoreOptions,
    read: ReadOptions,
    state: Mutex<State>,
    runtime: OnceLock<std::io::Result<tokio::runtime::Runtime>>,
}

#[derive(Default)]
struct State {
    clients: HashMap<(RemoteStore, String), Arc<dyn ObjectStore>>,
    /// Size and modification time of objects seen in listings.
    meta: HashMap<String, (u64, Option<SystemTime>)>,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("store", &self.shared.store)
            .field("read", &self.shared.read)
            .finish_non_exhaustive()
    }
}

impl Default for Io {
    /// Local files, and object stores reached through the standard environment only.
    fn default() -> Self {
        Io::new(StoreOptions::default(), ReadOptions::default())
    }
}

impl Io {
    /// The I/O of a run with these store and read options.
    pub fn new(store: StoreOptions, read: ReadOptions) -> Io {
        Io {
            shared: Arc::new(Shared {
                store,
                read,
                state: Mutex::new(State::default()),
                runtime: OnceLock::new(),
            }),
        }
    }

    /// How `Data.db` objects are read.
    pub fn read_options(&self) -> ReadOptions {
        self.shared.read
    }

    /// How object stores are reached.
    pub fn store_options(&self) -> &StoreOptions {
        &self.shared.store
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The runtime the object-store requests run on (built on first use): two worker
    /// threads, which also run the read-ahead while the caller decodes. Several threads may
    /// block on it at once.
    pub fn runtime(&self) -> Result<&tokio::runtime::Runtime, Error> {
        self.shared
            .runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("sstable-lake-io")
                    .enable_all()
                    .build()
            })
            .as_ref()
            .map_err(|e| Error::Store {
                path: "object store".into(),
                message: format!("async runtime: {e}"),
            })
    }

    /// A bucket's client (built on first use).
    fn client(&self, store: RemoteStore, bucket: &str) -> Result<Arc<dyn ObjectStore>, Error> {
        let mut r = self.lock();
        if let Some(c) = r.clients.get(&(store, bucket.to_string())) {
            return Ok(Arc::clone(c));
        }
        let c = build_store(
            store,
            bucket,
            &self.shared.store,
            retry_config(self.shared.read.retries),
        )
        .map_err(|e| Error::Store {
            path: url(store, bucket, ""),
            message: e.to_string(),
        })?;
        r.clients
            .insert((store, bucket.to_string()), Arc::clone(&c));
        Ok(c)
    }

    fn object(&self, path: &Path) -> Result<Option<Object>, Error> {
        match Location::of(path) {
            Location::Local(_) => Ok(None),
            Location::Object { store, bucket, key } => Ok(Some(Object {
                client: self.client(store, bucket)?,
                path: object_path(key),
                url: url(store, bucket, key),
            })),
        }
    }

    /// Every object under the prefix `path` (`s3://bucket/prefix`), as `(path, size)` in key
    /// order. The sizes and modification times are remembered for [`Io::metadata`].
    pub fn list(&self, path: &Path) -> Result<Vec<(PathBuf, u64)>, Error> {
        let Location::Object { store, bucket, key } = Location::of(path) else {
            return Err(Error::Discovery {
                path: path.to_path_buf(),
                message: "not an s3:// or gs:// URL".into(),
            });
        };
        let c = self.client(store, bucket)?;
        let prefix = (!key.is_empty()).then(|| object_path(key));
        let metas = self
            .runtime()?
            .block_on(c.list(prefix.as_ref()).try_collect::<Vec<_>>())
            .map_err(|e| store_err(&url(store, bucket, key), e))?;
        let mut out = Vec::with_capacity(metas.len());
        let mut r = self.lock();
        for m in metas {
            let u = url(store, bucket, m.location.as_ref());
            r.meta
                .insert(u.clone(), (m.size, Some(SystemTime::from(m.last_modified))));
            out.push((PathBuf::from(u), m.size));
        }
        out.sort();
        Ok(out)
    }

    /// Size and modification time of a file or object (from the listing, else a HEAD request).
    pub fn metadata(&self, path: &Path) -> Option<(u64, Option<SystemTime>)> {
        match Location::of(path) {
            Location::Local(p) => {
                let m = std::fs::metadata(p).ok()?;
                Some((m.len(), m.modified().ok()))
            }
            Location::Object { .. } => {
                let cached = self.lock().meta.get(path.to_str()?).copied();
                if cached.is_some() {
                    return cached;
                }
                let o = self.object(path).ok()??;
                let m = self.runtime().ok()?.block_on(o.client.head(&o.path)).ok()?;
                let v = (m.size, Some(SystemTime::from(m.last_modified)));
                self.lock().meta.insert(o.url, v);
                Some(v)
            }
        }
    }

    /// The whole content of a small file or object.
    pub fn read_whole(&self, path: &Path) -> Result<Vec<u8>, Error> {
        match self.object(path)? {
            None => std::fs::read(path).map_err(|e| Error::io(path, e)),
            Some(o) => self
                .runtime()?
                .block_on(async { o.client.get(&o.path).await?.bytes().await })
                .map(|b| b.to_vec())
                .map_err(|e| store_err(&o.url, e)),
        }
    }

    /// Opens the object `path` (`s3://…`, `gs://…`) for reading in place: its size from the
    /// listing, else a HEAD.
    pub fn remote_file(&self, path: &Path) -> Result<RemoteFile, Error> {
        let object = self.object(path)?.ok_or_else(|| Error::Discovery {
            path: path.to_path_buf(),
            message: "not an s3:// or gs:// URL".into(),
        })?;
        let cached = self.lock().meta.get(&object.url).map(|m| m.0);
        let size = match cached {
            Some(s) => s,
            None => {
                self.runtime()?
                    .block_on(object.client.head(&object.path))
                    .map_err(|e| store_err(&object.url, e))?
                    .size
            }
        };
        Ok(RemoteFile::new(
            object,
            size,
            self.shared.read,
            self.runtime()?.handle().clone(),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::of(Path::new("s3://b/k/x/")),
            Location::Object {
                store: RemoteStore::S3,
                bucket: "b",
                key: "k/x"
            }
        );
        assert_eq!(
            Location::of(Path::new("gs://b")),
            Location::Object {
                store: RemoteStore::Gcs,
                bucket: "b",
                key: ""
            }
        );
        assert_eq!(
            Location::of(Path::new("/data/s3://x")),
            Location::Local(Path::new("/data/s3://x"))
        );
        let p = Path::new("s3://b/ks/t-1/nb-1-big-Data.db");
        assert_eq!(p.parent(), Some(Path::new("s3://b/ks/t-1")));
        assert_eq!(
            p.parent().unwrap().join("x").to_str(),
            Some("s3://b/ks/t-1/x")
        );
    }
}
