// The bulk path of a commit: a large batch goes to RocksDB as sorted SST
// files, one per column family, ingested atomically across the families
// (SstFileWriter + IngestExternalFiles), instead of through the WAL and the
// memtables. A million-event import inserts three million keys, most of them
// in random order (SubjectIds): into a skiplist that costs a search each and
// the WAL writes every byte once more; a sorted file is written once, its
// MANIFEST edit either lands or not, so the batch stays all or nothing.
// A bulk batch's events and tree records, whose keys only ascend, are
// written as they are made (SortedFile); its other puts are sorted at the
// commit (IngestPuts); a large WriteBatch is taken apart (IngestBatch).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chunk_worker.h"
#include "tacet/core/status.h"

namespace tacet::internal {

// Batches with at least this many entries take the bulk path.
inline constexpr uint32_t kIngestMinEntries = 1u << 16;
// A batch announced with at least this many events (NewBatch's hint) is a
// bulk batch from its start: its events and tree records, whose keys only
// ever ascend, go into sorted files as they are made (SortedFile), while
// they are still in the cache, instead of into the WriteBatch.
inline constexpr size_t kStreamMinEvents = 1u << 14;

// One column family's SST file, written as its keys come: each key must be
// greater than the last. Opened at the first Put; no file when none came.
//
// In the background mode the entries are copied into chunks of about a
// megabyte that a thread of the file's own (a ChunkWorker) writes out while
// the caller makes the next ones (an import's events: the file's blocks,
// index and checksums cost as much as making the events), and syncs every
// few megabytes. A failure of the thread is reported by a later Put or by
// Finish.
class SortedFile {
 public:
  SortedFile(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::string path,
             bool background = false);
  ~SortedFile();
  SortedFile(const SortedFile&) = delete;
  SortedFile& operator=(const SortedFile&) = delete;

  // `tail`, when given, is the rest of the value: stored after `value`.
  Status Put(std::string_view key, std::string_view value, std::string_view tail = {});
  // Completes the file (a no-op without entries).
  Status Finish();
  // Completes the file, appends its entries to `records` (AppendRecord), in
  // order, and deletes it: a writer whose keys stopped ascending takes them
  // back to sort them with the rest. Nothing is ingested of it afterwards.
  Status TakeBack(std::string& records);
  uint64_t entries() const { return entries_; }
  // Its smallest and largest keys so far (empty without entries).
  std::string_view first_key() const { return first_key_; }
  std::string_view last_key() const;
  rocksdb::ColumnFamilyHandle* family() const { return family_; }
  const std::string& path() const { return path_; }

 private:
  Status Open();
  Status Write(std::string_view key, std::string_view value);
  Status WriteChunk(std::string_view chunk);  // on the worker's thread
  Status SyncWritten();                       // what the writer wrote so far, to the disk

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  std::string path_;
  rocksdb::Options options_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  uint64_t entries_ = 0;
  std::string first_key_, last_key_;
  bool finished_ = false;

  const bool background_;
  std::string chunk_;                    // being filled by the caller
  size_t last_at_ = 0;                   // where its last record begins
  size_t unsynced_ = 0;                  // bytes written since the last sync (worker's)
  std::unique_ptr<ChunkWorker> worker_;  // last: stops before the rest goes
};

// One put of a batch: views into memory the caller keeps until ingested.
struct Put {
  rocksdb::Slice key;
  rocksdb::Slice value;
};
// Puts held in a byte buffer, one record after another: u32 key size (host
// order), key, u32 value size, value. Memory only, never stored.
void AppendRecord(std::string& buffer, std::string_view key, std::string_view value,
                  std::string_view value_tail = {});
// The record at `at` (views into `buffer`); moves `at` past it.
Put RecordAt(std::string_view buffer, size_t& at);

// A batch's puts to one column family, in batch order (of a key put twice,
// the last wins).
struct FamilyPuts {
  rocksdb::ColumnFamilyHandle* family = nullptr;
  std::vector<Put> puts;
};

// Writes each family's puts, sorted, into a file of its own (the puts are
// sorted in place) and ingests them, and `streamed` (finished here after
// the others are written: a background file keeps writing meanwhile), with
// one IngestExternalFiles call: all of it or nothing. A family may have
// both puts and a streamed file when their key ranges do not overlap. Files are written
// under `scratch_dir` (created; emptied afterwards). Durable when it
// returns: the files and the MANIFEST are synced.
Status IngestPuts(rocksdb::DB* db, std::vector<FamilyPuts>& families,
                  const std::string& scratch_dir, const std::vector<SortedFile*>& streamed = {});

// IngestPuts of the puts of `wb` (`families`: every open handle, to map a
// batch's column family ids). False, with nothing written, when the batch
// holds anything but puts.
Result<bool> IngestBatch(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                         const rocksdb::WriteBatch& wb, const std::string& scratch_dir);

}  // namespace tacet::internal
