// The bulk path of a commit: a large WriteBatch goes to RocksDB as sorted
// SST files, one per column family, ingested atomically across the families
// (SstFileWriter + IngestExternalFiles), instead of through the WAL and the
// memtables. A million-event import inserts three million keys, most of them
// in random order (SubjectIds): into a skiplist that costs a search each and
// the WAL writes every byte once more; a sorted file is written once, its
// MANIFEST edit either lands or not, so the batch stays all or nothing.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <string>
#include <vector>

#include "tacet/core/status.h"

namespace tacet::internal {

// Batches with at least this many entries take the bulk path.
inline constexpr uint32_t kIngestMinEntries = 1u << 16;

// Ingests the puts of `wb` into `db` (`families`: every open handle, to map
// a batch's column family ids). Files are written under `scratch_dir`
// (created; emptied afterwards). False, with nothing written, when the
// batch holds anything but puts. Durable when it returns true: the files
// and the MANIFEST are synced.
Result<bool> IngestBatch(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                         const rocksdb::WriteBatch& wb, const std::string& scratch_dir);

}  // namespace tacet::internal
