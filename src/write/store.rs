//! The destination of `export`: a local directory, or a bucket (and key prefix) of S3 or GCS,
//! behind one `object_store` interface, and [`UploadWriter`], a `Write` that streams a file
//! into a multipart upload (visible only once complete). Requests run on the run's one async
//! runtime, the [`Io`]'s.

use std::io::Write;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::{Destination, StoreOptions};
use crate::error::Error;
use crate::io::remote::{build_store, retry_config, store_err};
use crate::io::Io;

pub use crate::io::object_path;

/// The destination store of an export.
pub struct OutputStore {
    store: Arc<dyn ObjectStore>,
    io: Io,
    /// The destination as the user gave it (for messages and reports).
    pub display: String,
    /// Bytes per multipart upload part.
    part_size: usize,
    /// The directory of a local destination.
    local: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for OutputStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl OutputStore {
    /// Opens `out` (creating a local directory), reached with `opts`; requests retry as the
    /// inputs' do.
    pub fn open(io: &Io, out: &Destination, opts: &StoreOptions) -> Result<OutputStore, Error> {
        let (store, display): (Arc<dyn ObjectStore>, String) = match out {
            Destination::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let store = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| store_err(&dir.display().to_string(), e))?
                    .with_automatic_cleanup(true);
                (Arc::new(store), dir.display().to_string())
            }
            Destination::Remote {
                store,
                bucket,
                prefix,
            } => {
                let display = out.to_string();
                let inner = build_store(
                    *store,
                    bucket,
                    opts,
                    retry_config(io.read_options().retries),
                )
                .map_err(|e| store_err(&display, e))?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    inner
                } else {
                    Arc::new(PrefixStore::new(inner, prefix.as_str()))
                };
                (store, display)
            }
        };
        // Fail now rather than at the first upload when no runtime can be built.
        io.runtime()?;
        Ok(OutputStore {
            store,
            io: io.clone(),
            display,
            part_size: opts.upload_part_size,
            local: match out {
                Destination::Local(dir) => Some(dir.clone()),
                Destination::Remote { .. } => None,
            },
        })
    }

    /// Runs `f` to completion on the run's runtime (several export threads may wait at once).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> Result<F::Output, Error> {
        Ok(self.io.runtime()?.block_on(f))
    }

    /// Every object under `prefix`.
    pub fn list(&self, prefix: &ObjectPath) -> Result<Vec<ObjectPath>, Error> {
        self.block_on(self.store.list(Some(prefix)).try_collect::<Vec<_>>())?
            .map(|v| v.into_iter().map(|m| m.location).collect())
            .map_err(|e| store_err(prefix.as_ref(), e))
    }

    /// Deletes `path` (done when it is not there).
    pub fn delete(&self, path: &ObjectPath) -> Result<(), Error> {
        match self.block_on(self.store.delete(path))? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_err(path.as_ref(), e)),
        }
    }

    /// Removes everything under `prefix`: every object, and on a local destination the
    /// directory itself, with the files of uploads that a killed run left unfinished
    /// (`object_store` keeps them as `<part>#<n>` beside the part and lists them not). An
    /// unfinished multipart upload to S3 or GCS is not listed either, and cannot be removed
    /// through `object_store`: a bucket lifecycle rule (`AbortIncompleteMultipartUpload`)
    /// removes those.
    pub fn clear(&self, prefix: &str) -> Result<(), Error> {
        for old in self.list(&object_path(prefix))? {
            self.delete(&old)?;
        }
        if let Some(dir) = &self.local {
            let path = dir.join(prefix);
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(path, e)),
            }
        }
        Ok(())
    }

    /// Writes a small object whole; its size.
    pub fn put(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<u64, Error> {
        let n = bytes.len() as u64;
        self.block_on(self.store.put(path, PutPayload::from(bytes)))?
            .map_err(|e| store_err(path.as_ref(), e))?;
        Ok(n)
    }

    /// The content of a small object, `None` when it is not there.
    pub fn get(&self, path: &ObjectPath) -> Result<Option<bytes::Bytes>, Error> {
        let got = self.block_on(async {
            match self.store.get(path).await {
                Ok(r) => r.bytes().await,
                Err(e) => Err(e),
            }
        })?;
        match got {
            Ok(b) => Ok(Some(b)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_err(path.as_ref(), e)),
        }
    }

    /// Moves `from` to `to` (on object stores a copy, then a delete). Done when `from` is gone
    /// and `to` is there: a move repeated after an interruption.
    pub fn rename(&self, from: &ObjectPath, to: &ObjectPath) -> Result<(), Error> {
        match self.block_on(self.store.rename(from, to))? {
            Ok(()) => Ok(()),
            Err(object_store::Error::NotFound { .. })
                if self.block_on(self.store.head(to))?.is_ok() =>
            {
                Ok(())
            }
            Err(e) => Err(store_err(from.as_ref(), e)),
        }
    }
}

/// A `Write` that streams into a multipart upload (visible only once completed).
pub struct UploadWriter<'d> {
    dest: &'d OutputStore,
    path: ObjectPath,
    upload: Box<dyn MultipartUpload>,
    buf: Vec<u8>,
    part_size: usize,
    written: u64,
    completed: bool,
}

impl std::fmt::Debug for UploadWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UploadWriter({})", self.path)
    }
}

impl<'d> UploadWriter<'d> {
    /// Starts the upload of `path`.
    pub fn new(dest: &'d OutputStore, path: ObjectPath) -> Result<Self, Error> {
        let upload = dest
            .block_on(dest.store.put_multipart(&path))?
            .map_err(|e| store_err(path.as_ref(), e))?;
        Ok(UploadWriter {
            dest,
            path,
            upload,
            buf: Vec::with_capacity(dest.part_size),
            part_size: dest.part_size,
            written: 0,
            completed: false,
        })
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(self.part_size));
        let part = self.upload.put_part(PutPayload::from(chunk));
        self.dest
            .block_on(part)
            .map_err(std::io::Error::other)?
            .map_err(std::io::Error::other)
    }

    /// Sends the last part and completes the upload; the file's size.
    pub fn complete(mut self) -> Result<u64, Error> {
        self.send().map_err(|e| Error::Store {
            path: self.path.to_string(),
            message: e.to_string(),
        })?;
        self.dest
            .block_on(self.upload.complete())?
            .map_err(|e| store_err(self.path.as_ref(), e))?;
        self.completed = true;
        Ok(self.written)
    }
}

impl Drop for UploadWriter<'_> {
    /// An upload abandoned on an error is aborted (best effort), so that S3/GCS do not keep
    /// (and bill) its parts.
    fn drop(&mut self) {
        if !self.completed {
            let _ = self.dest.block_on(self.upload.abort());
        }
    }
}

impl Write for UploadWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        self.written += data.len() as u64;
        if self.buf.len() >= self.part_size {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
