// The subjects' data keys (ledger format 3), in a RocksDB database of their
// own under <data_dir>/keys: outside the chain, never folded from the log,
// copied by backups and replays with the ledger.
//
// Why a database of its own: erasing a subject destroys its data key, and
// no file may keep it afterwards. In the ledger's database the key would
// also sit in the WAL and in SST files shared with every event; here
// Destroy deletes it, flushes (the WAL that held it becomes obsolete and is
// deleted, as none is recycled or archived) and compacts every level (the
// SST files that held it are rewritten without it and deleted).
//
// Layout: key = SubjectId (32 bytes), value = u8 version 1 ‖ data key (32).
#pragma once

#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "tacet/core/hash.h"
#include "tacet/core/sealed.h"
#include "tacet/core/status.h"
#include "tacet/core/subject_id.h"

namespace tacet {

struct KeyStoreOptions {
  bool create_if_missing = false;
  bool read_only = false;
};

class KeyStore {
 public:
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& dir,
                                                const KeyStoreOptions& options);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // The subject's data key; nullopt when it has none (never made, or
  // destroyed).
  Result<std::optional<DataKey>> Get(const SubjectId& id) const;
  // Get for many subjects at once: out[i] is ids[i]'s key. `ids` sorted
  // (duplicates allowed): one forward walk of the store, stepping when the
  // next id is near and seeking when it is far. Where the ids are a fair
  // share of the store (an audit's tens of thousands), that reads each
  // block once and costs a fraction of a lookup per id.
  Status GetSorted(std::span<const SubjectId> ids, std::vector<std::optional<DataKey>>* out) const;
  // The data key of each subject, made for those that have none; the new
  // ones are written (one write for all) and, with `sync`, synced before
  // this returns. Without it, Sync() must run before any event sealed under
  // a new key is made durable (a daemon's group commit syncs both).
  Result<std::vector<DataKey>> GetOrCreate(std::span<const SubjectId> ids, bool sync = true);
  // Makes every key written so far durable.
  Status Sync();

  // GetOrCreate for a batch of a million subjects (a contact import): the
  // new keys are held in memory and written together by Finish, as one
  // sorted table file ingested into the store (durable when Finish
  // returns) when they are many, as one write otherwise, instead of a
  // million memtable inserts and their log. Holds the store's write lock
  // from StartBulk to Finish or destruction: the same thread must not call
  // GetOrCreate or Destroy meanwhile. An unfinished bulk writes nothing, so
  // nothing sealed under its keys may be committed.
  class Bulk {
   public:
    ~Bulk();
    Bulk(const Bulk&) = delete;
    Bulk& operator=(const Bulk&) = delete;
    Result<std::vector<DataKey>> GetOrCreate(std::span<const SubjectId> ids);
    // Writes the keys made. Over afterwards, whether or not it succeeded (a
    // failed one wrote nothing): GetOrCreate then refuses.
    Status Finish();

   private:
    friend class KeyStore;
    explicit Bulk(KeyStore& store);
    Status Write() const;  // the sorted keys, into the store
    struct IdHash {
      size_t operator()(const SubjectId& id) const {  // an HMAC: any 8 bytes are uniform
        size_t h;
        std::memcpy(&h, id.data(), sizeof h);
        return h;
      }
    };
    KeyStore& store_;
    std::unique_lock<std::mutex> lock_;
    // The keys made, in the order made (contiguous: Finish sorts them in
    // place instead of chasing a hash table's nodes), and where each is.
    std::vector<std::pair<SubjectId, DataKey>> made_;
    std::unordered_map<SubjectId, uint32_t, IdHash> made_at_;
  };
  Result<std::unique_ptr<Bulk>> StartBulk();
  // Destroys the subject's data key: when this returns, no file under the
  // store's directory holds it. NotFound when it has none.
  Status Destroy(const SubjectId& id);
  // Writes every key to a new store at `dir` (absent), synced: a replayed
  // copy's keys.
  Status CopyTo(const std::string& dir) const;
  // How many subjects have a key.
  Result<uint64_t> Count() const;

  const std::string& dir() const { return dir_; }

 private:
  struct Impl;
  KeyStore(std::string dir, std::unique_ptr<Impl> impl);
  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tacet
