//! Where input files live and how their bytes are read: local paths (memory-mapped), or
//! objects under `s3://BUCKET/PREFIX` and `gs://BUCKET/PREFIX` read in place.
//!
//! * Paths stay [`PathBuf`]s everywhere (discovery, sets, error messages): an object is the
//!   path `s3://bucket/key` or `gs://bucket/key`, and [`Location::of`] tells the two apart by
//!   the scheme. `Path::parent`, `file_name` and `join` work on such paths as on local ones,
//!   so discovery classifies an object listing with the same rules as a directory walk.
//! * The object stores are built once per bucket ([`build_store`], shared with `export`'s
//!   destinations) from the options [`configure`] was given (the `--endpoint`, `--region`,
//!   `--allow-http`, `--s3-url-style`, `--gcs-service-account` flags) and each cloud's
//!   standard credential chain. Requests are retried by object_store ([`retry_config`]).
//! * Small components (TOC, Statistics, CompressionInfo, CRC, Digest, Index, Summary,
//!   Partitions, Rows, `schema.cql`, `manifest.json`, transaction logs) are fetched whole
//!   into memory ([`read_whole`]): Index.db and Partitions.db are therefore held in memory.
//! * `Data.db` is never downloaded whole: a [`BlockReader`] reads it with ranged GETs of
//!   `--read-block-size` bytes, `--read-ahead` further blocks being fetched on the runtime's
//!   worker threads while the current one is decoded. Memory per open reader is at most
//!   block size x (1 + read-ahead), plus one chunk when a chunk straddles two blocks.
//!
//! The process-wide configuration is set by `cli::run` before any I/O; without it the
//! defaults apply (standard environment, 8 MiB blocks, read-ahead 2).

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, RetryConfig};
use sstable_format::{ByteRanges, Component, FileOffset};

use crate::cli::{RemoteStore, S3UrlStyle, StoreOptions};
use crate::error::Error;

/// How `Data.db` objects are read (`--read-block-size`, `--read-ahead`, `--read-retries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ReadOptions {
    /// Bytes per ranged GET.
    pub block_size: u64,
    /// Blocks fetched ahead of the one being decoded.
    pub read_ahead: usize,
    /// Retries of a failed request (with exponential backoff).
    pub retries: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            block_size: 8 << 20,
            read_ahead: 2,
            retries: 10,
        }
    }
}

/// The retry policy of every store: `retries` attempts with exponential backoff from 100 ms
/// up to 15 s, giving up after 3 minutes.
pub fn retry_config(retries: usize) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(15),
            base: 2.0,
        },
        max_retries: retries,
        retry_timeout: Duration::from_secs(180),
    }
}

/// Builds the client of one bucket from the flags and the cloud's standard environment.
pub fn build_store(
    store: RemoteStore,
    bucket: &str,
    opts: &StoreOptions,
    retry: RetryConfig,
) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    Ok(match store {
        RemoteStore::S3 => {
            let mut b = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry);
            if let Some(e) = &opts.endpoint {
                b = b.with_endpoint(e);
            }
            if let Some(r) = &opts.region {
                b = b.with_region(r);
            }
            if opts.allow_http {
                b = b.with_allow_http(true);
            }
            if let Some(style) = opts.s3_url_style {
                b = b.with_virtual_hosted_style_request(style == S3UrlStyle::Virtual);
            }
            Arc::new(b.build()?)
        }
        RemoteStore::Gcs => {
            let mut b = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry);
            if let Some(e) = &opts.endpoint {
                b = b.with_base_url(e);
            }
            if let Some(f) = &opts.gcs_service_account {
                b = b.with_service_account_path(f.display().to_string());
            }
            if opts.allow_http {
                b = b.with_config(GoogleConfigKey::Client(ClientConfigKey::AllowHttp), "true");
            }
            Arc::new(b.build()?)
        }
    })
}

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

/// The process-wide configuration, clients and listing cache.
struct Registry {
    store: StoreOptions,
    read: ReadOptions,
    clients: HashMap<(RemoteStore, String), Arc<dyn ObjectStore>>,
    /// Size and modification time of objects seen in listings.
    meta: HashMap<String, (u64, Option<SystemTime>)>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Mutex::new(Registry {
            store: StoreOptions {
                endpoint: None,
                region: None,
                allow_http: false,
                s3_url_style: None,
                gcs_service_account: None,
                upload_part_size: 8 << 20,
            },
            read: ReadOptions::default(),
            clients: HashMap::new(),
            meta: HashMap::new(),
        })
    })
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    registry().lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets how object stores are reached and read (before any input is read).
pub fn configure(store: &StoreOptions, read: ReadOptions) {
    let mut r = lock();
    r.store = store.clone();
    r.read = read;
    r.clients.clear();
}

/// The current read options.
pub fn read_options() -> ReadOptions {
    lock().read
}

/// The runtime the object-store requests run on: two worker threads, which also run the
/// read-ahead while the caller decodes.
fn runtime() -> Result<&'static tokio::runtime::Runtime, Error> {
    static RT: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
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
fn client(store: RemoteStore, bucket: &str) -> Result<Arc<dyn ObjectStore>, Error> {
    let mut r = lock();
    if let Some(c) = r.clients.get(&(store, bucket.to_string())) {
        return Ok(Arc::clone(c));
    }
    let c = build_store(store, bucket, &r.store, retry_config(r.read.retries)).map_err(|e| {
        Error::Store {
            path: url(store, bucket, ""),
            message: e.to_string(),
        }
    })?;
    r.clients
        .insert((store, bucket.to_string()), Arc::clone(&c));
    Ok(c)
}

fn store_err(path: &str, e: object_store::Error) -> Error {
    Error::Store {
        path: path.to_string(),
        message: e.to_string(),
    }
}

/// An object and its client.
#[derive(Clone)]
struct Object {
    client: Arc<dyn ObjectStore>,
    path: ObjectPath,
    url: String,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

fn object(path: &Path) -> Result<Option<Object>, Error> {
    match Location::of(path) {
        Location::Local(_) => Ok(None),
        Location::Object { store, bucket, key } => Ok(Some(Object {
            client: client(store, bucket)?,
            path: ObjectPath::from(key),
            url: url(store, bucket, key),
        })),
    }
}

/// Every object under the prefix `path` (`s3://bucket/prefix`), as `(path, size)` in key
/// order. The sizes and modification times are remembered for [`metadata`].
pub fn list(path: &Path) -> Result<Vec<(PathBuf, u64)>, Error> {
    let Location::Object { store, bucket, key } = Location::of(path) else {
        return Err(Error::Discovery {
            path: path.to_path_buf(),
            message: "not an s3:// or gs:// URL".into(),
        });
    };
    let c = client(store, bucket)?;
    let prefix = (!key.is_empty()).then(|| ObjectPath::from(key));
    let metas = runtime()?
        .block_on(c.list(prefix.as_ref()).try_collect::<Vec<_>>())
        .map_err(|e| store_err(&url(store, bucket, key), e))?;
    let mut out = Vec::with_capacity(metas.len());
    let mut r = lock();
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
pub fn metadata(path: &Path) -> Option<(u64, Option<SystemTime>)> {
    match Location::of(path) {
        Location::Local(p) => {
            let m = std::fs::metadata(p).ok()?;
            Some((m.len(), m.modified().ok()))
        }
        Location::Object { .. } => {
            let cached = lock().meta.get(path.to_str()?).copied();
            if cached.is_some() {
                return cached;
            }
            let o = object(path).ok()??;
            let m = runtime().ok()?.block_on(o.client.head(&o.path)).ok()?;
            let v = (m.size, Some(SystemTime::from(m.last_modified)));
            lock().meta.insert(o.url, v);
            Some(v)
        }
    }
}

/// The whole content of a small file or object.
pub fn read_whole(path: &Path) -> Result<Vec<u8>, Error> {
    match object(path)? {
        None => std::fs::read(path).map_err(|e| Error::io(path, e)),
        Some(o) => runtime()?
            .block_on(async { o.client.get(&o.path).await?.bytes().await })
            .map(|b| b.to_vec())
            .map_err(|e| store_err(&o.url, e)),
    }
}

/// An object read in place: its size, and readers of byte windows.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    object: Object,
    size: u64,
    read: ReadOptions,
}

impl RemoteFile {
    /// Opens the object `path` (`s3://…`, `gs://…`): its size from the listing, else a HEAD.
    pub fn open(path: &Path) -> Result<RemoteFile, Error> {
        let object = object(path)?.ok_or_else(|| Error::Discovery {
            path: path.to_path_buf(),
            message: "not an s3:// or gs:// URL".into(),
        })?;
        let cached = lock().meta.get(&object.url).map(|m| m.0);
        let size = match cached {
            Some(s) => s,
            None => {
                runtime()?
                    .block_on(object.client.head(&object.path))
                    .map_err(|e| store_err(&object.url, e))?
                    .size
            }
        };
        Ok(RemoteFile {
            object,
            size,
            read: read_options(),
        })
    }

    /// The object's size.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the object is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The object's URL.
    pub fn url(&self) -> &str {
        &self.object.url
    }

    /// A reader expected to read `window` of the object, in order, with read-ahead: blocks
    /// are fetched from where the first read starts and never past the window's end.
    pub fn reader(&self, window: Range<u64>) -> Result<BlockReader, Error> {
        BlockReader::new(
            Arc::new(ObjectFetcher {
                object: self.object.clone(),
                rt: runtime()?.handle().clone(),
            }),
            self.size,
            window,
            self.read.block_size,
            self.read.read_ahead,
        )
    }

    /// A reader for scattered small reads (partition keys looked up by offset): blocks of
    /// `block` bytes, no read-ahead.
    pub fn probe_reader(&self, block: u64) -> Result<BlockReader, Error> {
        BlockReader::new(
            Arc::new(ObjectFetcher {
                object: self.object.clone(),
                rt: runtime()?.handle().clone(),
            }),
            self.size,
            0..self.size,
            block.min(self.read.block_size),
            0,
        )
    }
}

/// Fetches byte ranges of one object, in the background.
pub trait Fetch: Send + Sync + std::fmt::Debug {
    /// The object's name in messages.
    fn name(&self) -> &str;
    /// Starts fetching `range`.
    fn start(&self, range: Range<u64>) -> Pending;
    /// Waits for a fetch started by [`Fetch::start`].
    fn wait(&self, pending: Pending) -> Result<Bytes, String>;
}

/// A fetch under way.
#[derive(Debug)]
pub enum Pending {
    /// A task on the runtime.
    Task(tokio::task::JoinHandle<object_store::Result<Bytes>>),
    /// Already done (tests, and fetchers without background work).
    Done(Result<Bytes, String>),
}

impl Pending {
    fn abort(&self) {
        if let Pending::Task(t) = self {
            t.abort();
        }
    }
}

#[derive(Debug)]
struct ObjectFetcher {
    object: Object,
    rt: tokio::runtime::Handle,
}

impl Fetch for ObjectFetcher {
    fn name(&self) -> &str {
        &self.object.url
    }

    fn start(&self, range: Range<u64>) -> Pending {
        let client = Arc::clone(&self.object.client);
        let path = self.object.path.clone();
        Pending::Task(
            self.rt
                .spawn(async move { client.get_range(&path, range).await }),
        )
    }

    fn wait(&self, pending: Pending) -> Result<Bytes, String> {
        match pending {
            Pending::Done(r) => r,
            Pending::Task(t) => match self.rt.block_on(t) {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(e) => Err(format!("fetch task failed: {e}")),
            },
        }
    }
}

/// Hands out byte ranges of an object from blocks fetched with ranged requests, reading ahead
/// (see the module documentation). A range that straddles blocks is copied into a scratch
/// buffer.
#[derive(Debug)]
pub struct BlockReader {
    fetch: Arc<dyn Fetch>,
    size: u64,
    /// Read-ahead never goes past this.
    window_end: u64,
    block: u64,
    ahead: usize,
    /// The current block and where it starts.
    cur: Bytes,
    cur_start: u64,
    /// Blocks being fetched, in order, contiguous from the current block's end.
    pending: VecDeque<(Range<u64>, Pending)>,
    /// Where the next fetch starts.
    next_fetch: u64,
    scratch: Vec<u8>,
}

impl BlockReader {
    /// A reader of an object of `size` bytes through `fetch` (see [`RemoteFile::reader`]).
    pub fn new(
        fetch: Arc<dyn Fetch>,
        size: u64,
        window: Range<u64>,
        block: u64,
        ahead: usize,
    ) -> Result<BlockReader, Error> {
        Ok(BlockReader {
            fetch,
            size,
            window_end: window.end.min(size),
            block: block.max(1),
            ahead,
            cur: Bytes::new(),
            cur_start: window.start,
            pending: VecDeque::new(),
            next_fetch: window.start,
            scratch: Vec::new(),
        })
    }

    fn cur_end(&self) -> u64 {
        self.cur_start + self.cur.len() as u64
    }

    fn source_error(&self, range: &Range<u64>, message: String) -> sstable_format::Error {
        sstable_format::Error::Source {
            component: Component::Data,
            name: self.fetch.name().to_string(),
            offset: range.start,
            len: range.end - range.start,
            message,
        }
    }

    /// Starts fetches until `ahead` blocks (at least `min` ones) are pending.
    fn top_up(&mut self, min: usize) {
        while self.pending.len() < self.ahead.max(min) && self.next_fetch < self.size {
            // Read-ahead stays inside the window; a read past it fetches on demand.
            if self.pending.len() >= min && self.next_fetch >= self.window_end {
                break;
            }
            let limit = if self.next_fetch < self.window_end {
                self.window_end
            } else {
                self.size
            };
            let end = self.next_fetch.saturating_add(self.block).min(limit);
            let range = self.next_fetch..end;
            let p = self.fetch.start(range.clone());
            self.pending.push_back((range, p));
            self.next_fetch = end;
        }
    }

    /// Makes the next pending block current (starting it if none is pending).
    fn advance(&mut self) -> sstable_format::Result<()> {
        self.top_up(1);
        let Some((range, p)) = self.pending.pop_front() else {
            let at = self.next_fetch;
            return Err(self.source_error(&(at..at), "read past the end".into()));
        };
        // Release the old block before waiting, then keep the pipeline full.
        self.cur = Bytes::new();
        let bytes = self
            .fetch
            .wait(p)
            .map_err(|m| self.source_error(&range, m))?;
        if bytes.len() as u64 != range.end - range.start {
            return Err(self.source_error(
                &range,
                format!(
                    "got {} bytes, expected {}",
                    bytes.len(),
                    range.end - range.start
                ),
            ));
        }
        self.cur = bytes;
        self.cur_start = range.start;
        self.top_up(0);
        Ok(())
    }

    /// Positions the current block on `at`, dropping blocks before it; restarts the fetches
    /// at `at` when it is not in the current or a pending block.
    fn seek(&mut self, at: u64) -> sstable_format::Result<()> {
        if (self.cur_start..self.cur_end()).contains(&at) {
            return Ok(());
        }
        let in_pipeline = at >= self.cur_end()
            && self.pending.back().is_some_and(|(r, _)| {
                at < r.end && self.pending.front().is_some_and(|(f, _)| f.start <= at)
            });
        if !in_pipeline {
            for (_, p) in self.pending.drain(..) {
                p.abort();
            }
            self.cur = Bytes::new();
            self.cur_start = at;
            self.next_fetch = at;
        }
        loop {
            self.advance()?;
            if at < self.cur_end() {
                return Ok(());
            }
        }
    }
}

impl Drop for BlockReader {
    fn drop(&mut self) {
        for (_, p) in &self.pending {
            p.abort();
        }
    }
}

impl ByteRanges for BlockReader {
    fn len(&self) -> u64 {
        self.size
    }

    fn get(&mut self, at: FileOffset, len: u64) -> sstable_format::Result<&[u8]> {
        let at = at.0;
        let end = at.saturating_add(len);
        if end > self.size {
            return Err(sstable_format::Error::Truncated {
                component: Component::Data,
                offset: at,
                needed: end - self.size,
                what: "stored bytes",
            });
        }
        if len == 0 {
            return Ok(&[]);
        }
        self.seek(at)?;
        let from = (at - self.cur_start) as usize;
        if end <= self.cur_end() {
            let to = (end - self.cur_start) as usize;
            return self
                .cur
                .get(from..to)
                .ok_or_else(|| self.source_error(&(at..end), "block bookkeeping".into()));
        }
        // Straddles blocks: gather into the scratch buffer.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(self.cur.get(from..).unwrap_or(&[]));
        while (scratch.len() as u64) < len {
            self.advance()?;
            let want = (len - scratch.len() as u64).min(self.cur.len() as u64) as usize;
            scratch.extend_from_slice(self.cur.get(..want).unwrap_or(&[]));
        }
        self.scratch = scratch;
        Ok(&self.scratch)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;

    /// Serves ranges of a byte vector, recording them; fails on ranges holding `fail_at`.
    #[derive(Debug)]
    struct Fake {
        data: Vec<u8>,
        asked: Mutex<Vec<Range<u64>>>,
        fail_at: Option<u64>,
    }

    impl Fetch for Fake {
        fn name(&self) -> &str {
            "s3://bucket/ks/t-0123/nb-1-big-Data.db"
        }

        fn start(&self, range: Range<u64>) -> Pending {
            self.asked.lock().unwrap().push(range.clone());
            if self.fail_at.is_some_and(|f| range.contains(&f)) {
                return Pending::Done(Err("503 Slow Down (after 10 retries)".into()));
            }
            Pending::Done(Ok(Bytes::copy_from_slice(
                &self.data[range.start as usize..range.end as usize],
            )))
        }

        fn wait(&self, pending: Pending) -> Result<Bytes, String> {
            match pending {
                Pending::Done(r) => r,
                Pending::Task(_) => Err("no tasks here".into()),
            }
        }
    }

    fn fake(len: usize, fail_at: Option<u64>) -> Arc<Fake> {
        Arc::new(Fake {
            data: (0..len).map(|i| (i * 7 % 251) as u8).collect(),
            asked: Mutex::new(Vec::new()),
            fail_at,
        })
    }

    #[test]
    fn straddling_ranges_and_read_ahead() {
        let f = fake(10_000, None);
        let mut r = BlockReader::new(f.clone(), 10_000, 100..9_000, 1000, 2).unwrap();
        // Inside the first block: the fetches start at the window, two more ahead.
        assert_eq!(r.get(FileOffset(100), 50).unwrap(), &f.data[100..150]);
        assert_eq!(
            *f.asked.lock().unwrap(),
            vec![100..1100, 1100..2100, 2100..3100]
        );
        // Across three blocks.
        assert_eq!(r.get(FileOffset(1000), 1500).unwrap(), &f.data[1000..2500]);
        // Up to the window end, never past it.
        let mut at = 2500;
        while at < 9000 {
            assert_eq!(
                r.get(FileOffset(at), 650).unwrap(),
                &f.data[at as usize..at as usize + 650]
            );
            at += 650;
        }
        let asked = f.asked.lock().unwrap().clone();
        assert!(asked.iter().all(|a| a.end <= 9000), "{asked:?}");
        // Contiguous, each byte fetched once.
        for w in asked.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        // Past the window (e.g. a trailing checksum) still works, and the end of the file.
        assert_eq!(r.get(FileOffset(9990), 10).unwrap(), &f.data[9990..]);
        assert!(matches!(
            r.get(FileOffset(9995), 10),
            Err(sstable_format::Error::Truncated { offset: 9995, .. })
        ));
        // Backwards: refetched from there.
        assert_eq!(r.get(FileOffset(5), 3000).unwrap(), &f.data[5..3005]);
        assert_eq!(r.get(FileOffset(0), 0).unwrap(), &[] as &[u8]);
    }

    #[test]
    fn memory_is_bounded_by_block_times_read_ahead() {
        let f = fake(100_000, None);
        let mut r = BlockReader::new(f.clone(), 100_000, 0..100_000, 4096, 2).unwrap();
        let mut at = 0;
        while at < 100_000 {
            let n = 3000.min(100_000 - at);
            assert_eq!(
                r.get(FileOffset(at), n).unwrap(),
                &f.data[at as usize..(at + n) as usize]
            );
            assert!(r.pending.len() <= 2);
            assert!(r.cur.len() <= 4096);
            at += n;
        }
        assert_eq!(f.asked.lock().unwrap().len(), 100_000_usize.div_ceil(4096));
    }

    #[test]
    fn failed_fetch_names_the_object_and_offset() {
        let f = fake(10_000, Some(2500));
        let mut r = BlockReader::new(f, 10_000, 0..10_000, 1000, 1).unwrap();
        assert!(r.get(FileOffset(0), 2000).is_ok());
        let e = r.get(FileOffset(1900), 700).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Data.db: reading 1000 byte(s) at byte 2000 of s3://bucket/ks/t-0123/nb-1-big-Data.db: \
             503 Slow Down (after 10 retries)"
        );
    }

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
