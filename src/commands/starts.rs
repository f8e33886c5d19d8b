//! The partition starts of a 2.x set read from its `Data.db`: what planning falls back to when
//! the set's `Index.db` is unusable ([`crate::plan::ScanStarts`]). A 2.x `Data.db` can only be
//! walked with its table's schema, which the commands know and the planner does not.

use sstable_format::legacy::{LegacyLayout, LegacyReader};
use sstable_format::schema::Schema;
use sstable_format::DataOffset;

use crate::discover::opened::OpenedSet;
use crate::discover::SstableSet;
use crate::error::Error;
use crate::read::open::legacy_schema;

/// The partitions (key, `Data.db` offset) of set `i` of a table (`opened[i]` of `sets[i]`),
/// read sequentially from its `Data.db`.
pub fn legacy_starts(
    opened: &[OpenedSet],
    sets: &[&SstableSet],
    user_schema: Option<&Schema>,
    i: usize,
) -> Result<Vec<(Vec<u8>, DataOffset)>, Error> {
    let (Some(o), Some(set)) = (opened.get(i), sets.get(i)) else {
        return Err(Error::Schema(format!("no SSTable set {i} in the table")));
    };
    let table = legacy_schema(set, o, user_schema)?;
    let layout = LegacyLayout::from_schema(&table, o.version)
        .map_err(|e| Error::Schema(format!("{}: {e}", o.data_path.display())))?;
    let mut reader = LegacyReader::new(o.source()?, layout);
    let wrap = |source| Error::Format {
        path: o.data_path.clone(),
        source,
    };
    let mut starts = Vec::new();
    while let Some(p) = reader.next_partition().map_err(wrap)? {
        starts.push((p.key.to_vec(), p.offset));
    }
    Ok(starts)
}
