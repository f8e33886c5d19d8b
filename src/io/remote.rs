//! Object stores: the client of one bucket, and `Data.db` objects read in place with ranged
//! GETs and read-ahead ([`BlockReader`]).

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, RetryConfig};
use sstable_format::{ByteRanges, Component, FileOffset};

use crate::config::{ReadOptions, RemoteStore, S3UrlStyle, StoreOptions};
use crate::error::Error;

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

pub(crate) fn store_err(path: &str, e: object_store::Error) -> Error {
    Error::Store {
        path: super::secrets::redact_url(path),
        message: super::secrets::redact(&e.to_string()),
    }
}

/// An object and its client.
#[derive(Clone)]
pub(crate) struct Object {
    pub(crate) client: Arc<dyn ObjectStore>,
    pub(crate) path: ObjectPath,
    pub(crate) url: String,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// An object read in place: its size, and readers of byte windows.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    object: Object,
    size: u64,
    read: ReadOptions,
    rt: tokio::runtime::Handle,
}

impl RemoteFile {
    /// An object of `size` bytes, read with `read`'s blocks on `rt`.
    pub(crate) fn new(
        object: Object,
        size: u64,
        read: ReadOptions,
        rt: tokio::runtime::Handle,
    ) -> RemoteFile {
        RemoteFile {
            object,
            size,
            read,
            rt,
        }
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
                rt: self.rt.clone(),
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
                rt: self.rt.clone(),
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
    use std::sync::Mutex;

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
}
